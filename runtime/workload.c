/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest and its disk: a driver that keeps queue_depth requests in
 * flight (read, write, read, write, flush, ...), plus whatever the variant
 * needs around it.  Not QEMU code; everything QEMU-shaped it drives lives in
 * the files named after QEMU's.
 *
 * inject mode: warm up, let the guest go idle, then set the variant's trap
 * (variants.c) and issue the few requests that walk into it.  If a trap
 * attempt does not hang, it is set again.
 * stress mode: keep going; the variant's racy path runs at full speed.
 * fixed --out: at capture_ms, freeze with requests queued, active and done.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "hw/virtio-blk.h"
#include "qemu/atomic.h"
#include "qemu/main-loop.h"
#include "qemu/rcu.h"
#include "sysemu/iothread.h"
#include "aiocore-rt.h"

void mirror_start(BlockDriverState *bs);
void mirror_complete_bh(void *opaque);
bool mirror_job_busy(void);
void mirror_set_aio_context(AioContext *ctx);
void rt_capture_begin(void);
void rt_capture_iothread(void);

#define WARMUP_COMPLETIONS 64

enum workload_state {
	WL_RUN,
	WL_DRAIN,          /* guest idles before a trap or the capture */
	WL_TRAP,
	WL_CAPTURE,
};

static enum workload_state wl_state;
static VirtIOBlock *vdev;
static BlockDriverState *disk_bs;
static BlockDriverState *broken_bs;   /* fdatasync fails: an I/O error */
static IOThread *iothread0;
static bool error_cycle_running;
static unsigned completions;

static struct rcu_head trap_rcu_wake, trap_rcu_node;

static bool want_error_cycles(void)
{
	return rt_mode == RT_MODE_STRESS &&
	       (rt_variant == RT_NESTED_POLL || rt_variant == RT_FIXED);
}

static bool want_job_cycles(void)
{
	return rt_mode == RT_MODE_STRESS &&
	       (rt_variant == RT_IOHANDLER_RACE || rt_variant == RT_FIXED ||
		rt_variant == RT_BQL_POLL_CYCLE);
}

int guest_next_type(VirtIOBlock *s)
{
	static const int pattern[] = {
		QEMU_AIO_READ, QEMU_AIO_WRITE, QEMU_AIO_READ, QEMU_AIO_WRITE, QEMU_AIO_FLUSH,
	};

	return pattern[s->seq % 5];
}

static void guest_refill(VirtIOBlock *s)
{
	int want = rt_opts.queue_depth - (int)s->inflight - (int)s->avail;

	if (wl_state != WL_RUN || !runstate_is_running() || want <= 0)
		return;
	s->avail += want;
	/* the guest's kick: an ioeventfd write */
	event_notifier_set(&s->host_notifier);
}

static void trap_bh(void *opaque);
static void capture_bh(void *opaque);

static void trap_again(void)
{
	rt_trap_disarm();
	__atomic_fetch_add(&rt_shared->trap_attempts, 1, __ATOMIC_RELAXED);
	aio_bh_schedule_oneshot(qemu_get_aio_context(), trap_bh, NULL);
}

/* nested-poll and fixed, stress mode: a write plus a failing flush, at once */
static void error_cycle_bh(void *opaque)
{
	(void)opaque;
	virtio_blk_submit_direct(vdev, disk_bs, QEMU_AIO_WRITE);
	virtio_blk_submit_direct(vdev, broken_bs, QEMU_AIO_FLUSH);
}

void guest_complete(VirtIOBlock *s, int type, int ret)
{
	(void)type;
	(void)ret;
	completions++;
	if (rt_variant == RT_LOST_COMPLETION || rt_variant == RT_LOST_NOTIFY ||
	    rt_variant == RT_FIXED)
		RT_COUNT(iterations);

	switch (wl_state) {
	case WL_RUN:
		if (rt_mode == RT_MODE_INJECT && rt_variant != RT_FIXED &&
		    completions >= WARMUP_COMPLETIONS) {
			wl_state = WL_DRAIN;
			break;
		}
		if (rt_variant == RT_FIXED && rt_opts.out &&
		    rt_now_ns() - rt_shared->start_ns >= rt_opts.capture_ms * 1000000ULL) {
			wl_state = WL_DRAIN;
			break;
		}
		if (want_error_cycles() && !error_cycle_running && completions % 8 == 0) {
			error_cycle_running = true;
			aio_bh_schedule_oneshot(qemu_get_aio_context(), error_cycle_bh, NULL);
		}
		guest_refill(s);
		break;
	case WL_DRAIN:
		break;
	case WL_TRAP:
		if (s->inflight == 1)
			rt_gate_open(&rt_trap.others_done);
		/* every trapped request completed: this attempt did not hang */
		if (s->inflight == 0 && s->avail == 0 && rt_variant != RT_NESTED_POLL &&
		    rt_variant != RT_EVENT_LOST_WAKEUP)
			trap_again();
		return;
	case WL_CAPTURE:
		return;
	}

	if (wl_state == WL_DRAIN && s->inflight == 0 && s->avail == 0 && !error_cycle_running)
		aio_bh_schedule_oneshot(qemu_get_aio_context(),
					rt_variant == RT_FIXED ? capture_bh : trap_bh, NULL);
}

static void vm_resume_bh(void *opaque)
{
	(void)opaque;
	vm_start();
	error_cycle_running = false;
	RT_COUNT(iterations);
	if (wl_state == WL_TRAP) {
		trap_again();
		return;
	}
	guest_refill(vdev);
}

/* after vm_stop() returned: the drain finished; management resumes the guest */
void guest_io_error(VirtIOBlock *s)
{
	(void)s;
	aio_bh_schedule_oneshot(qemu_get_aio_context(), vm_resume_bh, NULL);
}

static void trap_rcu_cb(struct rcu_head *head)
{
	(void)head;
	/* call_rcu thread: the trapped callback ran, so this attempt failed */
	if (rt_variant == RT_EVENT_LOST_WAKEUP && head == &trap_rcu_node)
		aio_bh_schedule_oneshot(qemu_get_aio_context(), trap_bh, NULL);
}

/*
 * lost-coroutine-wake, on the IOThread: end the drained section the main
 * thread began.  The requests queued meanwhile belong to the main context,
 * so aio_co_wake() hands each of them to aio_co_schedule().
 */
static void trap_drained_end_bh(void *opaque)
{
	(void)opaque;
	RT_COUNT(iterations);
	bdrv_drained_end(disk_bs);
}

static void trap_bh(void *opaque)
{
	int i;

	(void)opaque;
	wl_state = WL_TRAP;
	__atomic_store_n(&rt_shared->phase, RT_PHASE_TRAP, __ATOMIC_RELAXED);

	switch (rt_variant) {
	case RT_LOST_COMPLETION:
		/* a flush whose completion gets lost, and a write that runs the BH */
		rt_trap_arm(QEMU_AIO_FLUSH, 0);
		virtio_blk_handle_request(vdev, QEMU_AIO_FLUSH);
		virtio_blk_handle_request(vdev, QEMU_AIO_WRITE);
		break;
	case RT_LOST_NOTIFY:
		rt_trap_arm(QEMU_AIO_FLUSH, 0);
		virtio_blk_handle_request(vdev, QEMU_AIO_FLUSH);
		break;
	case RT_NESTED_POLL:
		/* submitted last, the failing flush is first on pool->head */
		rt_trap_arm(QEMU_AIO_WRITE, QEMU_AIO_FLUSH);
		virtio_blk_submit_direct(vdev, disk_bs, QEMU_AIO_WRITE);
		virtio_blk_submit_direct(vdev, broken_bs, QEMU_AIO_FLUSH);
		break;
	case RT_EVENT_LOST_WAKEUP:
		/*
		 * Wake the call_rcu thread from its sleep with a callback, so
		 * that its next reset finds the event SET; then queue the
		 * callback whose wakeup gets lost.
		 */
		for (i = 0; i < 1000 && !call_rcu_thread_sleeping(); i++)
			qemu_thread_naptime_us(1000);
		rt_trap_arm(0, 0);
		rt_trap.arg[0] = &trap_rcu_node;
		call_rcu1(&trap_rcu_wake, trap_rcu_cb);
		call_rcu1(&trap_rcu_node, trap_rcu_cb);
		break;
	case RT_IOHANDLER_RACE:
		/* a guest kick and block-job-complete land in the same main-loop turn */
		rt_trap_arm(0, 0);
		vdev->avail++;
		event_notifier_set(&vdev->host_notifier);
		aio_bh_schedule_oneshot(qemu_get_aio_context(), mirror_complete_bh, NULL);
		break;
	case RT_LOST_COROUTINE_WAKE:
		/*
		 * Two guest requests wait for a drained section to end; the
		 * IOThread ends it and wakes both across contexts.  The second
		 * aio_co_schedule() finds co_schedule_bh still scheduled.
		 */
		rt_trap_arm(0, 0);
		bdrv_drained_begin(disk_bs);
		virtio_blk_handle_request(vdev, QEMU_AIO_READ);
		virtio_blk_handle_request(vdev, QEMU_AIO_WRITE);
		aio_bh_schedule_oneshot(iothread_get_aio_context(iothread0),
					trap_drained_end_bh, NULL);
		break;
	case RT_BQL_POLL_CYCLE:
		/*
		 * block-job-complete of a job running in iothread0: its exit
		 * runs there under the BQL and polls for the main loop's flush.
		 * A lock cycle, not a race: it hangs every time.
		 */
		rt_trap_arm(0, 0);
		aio_bh_schedule_oneshot(qemu_get_aio_context(), mirror_complete_bh, NULL);
		break;
	case RT_LOCK_CYCLE:
		/* a lock-order inversion, not a race: it hangs every time */
		rt_trap_arm(0, 0);
		lock_order_abba_start();
		break;
	case RT_BQL_CTX_CYCLE:
		rt_trap_arm(0, 0);
		lock_order_bql_ctx_start();
		break;
	default:
		break;
	}
}

static void capture_bh(void *opaque)
{
	int i;

	(void)opaque;
	wl_state = WL_CAPTURE;
	rt_capture_begin();
	/* the first flush completes (and stays DONE), the rest are held */
	virtio_blk_handle_request(vdev, QEMU_AIO_FLUSH);
	for (i = 0; i < rt_opts.max_threads + 2; i++)
		virtio_blk_handle_request(vdev, i % 2 ? QEMU_AIO_WRITE : QEMU_AIO_READ);
	rt_capture_iothread();
}

/* The monitor: block-job-complete at random moments (stress job cycles). */
static void monitor_tick_bh(void *opaque)
{
	(void)opaque;
	qemu_thread_naptime_us(200 + (unsigned)(random() % 1800));
	if (!mirror_job_busy()) {
		aio_bh_schedule_oneshot(qemu_get_aio_context(), mirror_complete_bh, NULL);
		/*
		 * bql-poll-cycle: the job's exit runs on this thread and polls
		 * here; another tick would keep it running BHs, not asleep.
		 */
		if (rt_variant == RT_BQL_POLL_CYCLE)
			return;
	}
	aio_bh_schedule_oneshot(iothread_get_aio_context(iothread0), monitor_tick_bh, NULL);
}

AioContext *workload_iothread_ctx(void)
{
	return iothread_get_aio_context(iothread0);
}

void workload_start(void)
{
	int fd = memfd_create("aiocore-disk0", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, (1 << 20)) < 0) {
		perror("aiocore-runtime: memfd");
		exit(2);
	}
	disk_bs = bdrv_open_raw("disk0", fd);
	broken_bs = bdrv_open_raw("broken0", -1);
	vdev = virtio_blk_device_realize(blk_new("virtio0", disk_bs));
	mirror_start(disk_bs);
	iothread0 = iothread_create("iothread0");
	if (rt_variant == RT_BQL_POLL_CYCLE)
		mirror_set_aio_context(iothread_get_aio_context(iothread0));
	if (want_job_cycles())
		aio_bh_schedule_oneshot(iothread_get_aio_context(iothread0), monitor_tick_bh, NULL);
	/* lock orders: fixed takes them safely, the variants in stress for real */
	if (rt_mode == RT_MODE_STRESS && (rt_variant == RT_FIXED || rt_variant == RT_LOCK_CYCLE))
		lock_order_abba_start();
	if (rt_mode == RT_MODE_STRESS &&
	    (rt_variant == RT_FIXED || rt_variant == RT_BQL_CTX_CYCLE))
		lock_order_bql_ctx_start();

	wl_state = WL_RUN;
	__atomic_store_n(&rt_shared->phase, RT_PHASE_RUNNING, __ATOMIC_RELAXED);
	guest_refill(vdev);
}
