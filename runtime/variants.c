/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The variant table and inject mode's handshakes.
 *
 * Inject mode makes a race lose on purpose, on any CPU: where the old code
 * lacked a barrier, one thread's store is held back (as a store buffer
 * would) until the other thread has made the load that should have seen it.
 * The hooks below are the only places that wait; each wait is bounded, and
 * a trap that times out is simply set again by the workload.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "block/block.h"
#include "qemu/atomic.h"
#include "qemu/main-loop.h"
#include "qemu/rcu.h"
#include "aiocore-rt.h"

enum rt_variant rt_variant;
enum rt_mode rt_mode;
struct rt_trap rt_trap;
struct rt_options rt_opts;
static struct rt_shared local_shared;
struct rt_shared *rt_shared = &local_shared;

static const struct rt_variant_info variants[RT_VARIANT_COUNT] = {
	[RT_FIXED] = { "fixed",
		"today's orderings; must never hang (--out: a healthy core mid-flight)",
		"-", "completed request" },
	[RT_LOST_COMPLETION] = { "lost-completion",
		"qemu_bh_schedule/aio_bh_poll without full barriers: a DONE flush whose completion BH never runs",
		"e8d3b1a25f28", "completed request" },
	[RT_LOST_NOTIFY] = { "lost-notify",
		"notify_me as a seq-cst RMW before relaxed BH-flag loads: home thread sleeps with a runnable BH",
		"5710a3e09f9b", "completed request" },
	[RT_EVENT_LOST_WAKEUP] = { "event-lost-wakeup",
		"QemuEvent set/reset without the 8.0 barriers: call_rcu asleep on BUSY with callbacks queued",
		"QEMU 8.0 QemuEvent series", "call_rcu callback" },
	[RT_NESTED_POLL] = { "nested-poll",
		"completion callback polls for a request that completed in the same BH run",
		"3c80ca158c96", "stop/drain cycle" },
	[RT_IOHANDLER_RACE] = { "iohandler-race",
		"guest request from iohandler_ctx slips into a drained node before mirror_exit",
		"ab27c3b5e740", "block-job completion" },
	[RT_LOST_COROUTINE_WAKE] = { "lost-coroutine-wake",
		"aio_co_schedule checks co_schedule_bh before its push (a model): a coroutine left on scheduled_coroutines (g5, g10)",
		"none (invariant of aio_co_schedule, 0c330a734b51)", "cross-context wake" },
	[RT_BQL_POLL_CYCLE] = { "bql-poll-cycle",
		"the BQL holder (IOThread) runs a job exit and polls its own context for a flush BH only the main loop runs",
		"none (GitLab #780)", "job exit under the BQL" },
	[RT_LOCK_CYCLE] = { "lock-cycle",
		"two threads take two QemuMutexes in opposite orders (a model): each holds one and waits for the other",
		"none (a lock-order inversion)", "lock round" },
	[RT_BQL_CTX_CYCLE] = { "bql-ctx-cycle",
		"the main thread holds the BQL and acquires an IOThread's AioContext, which holds it and waits for the BQL (g2, g5)",
		"none (a lock-order inversion)", "lock round" },
};

const struct rt_variant_info *rt_variant_info(enum rt_variant v)
{
	return v < RT_VARIANT_COUNT ? &variants[v] : NULL;
}

int rt_variant_lookup(const char *name)
{
	int i;

#if AIOCORE_PROFILE >= 10
	/* refused here, not in main(): main's code is what the golden cores show */
	if (!strcmp(name, "bql-ctx-cycle")) {
		fprintf(stderr, "aiocore-runtime: bql-ctx-cycle needs the AioContext lock "
			"(aio_context_acquire), which QEMU 9.0 removed: use the g2 or g5 profile\n");
		return -1;
	}
#endif
	for (i = 0; i < RT_VARIANT_COUNT; i++)
		if (!strcmp(variants[i].name, name))
			return i;
	return -1;
}

void rt_shared_init(struct rt_shared *shm)
{
	rt_shared = shm;
}

uint64_t rt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- gates ---- */

void rt_gate_reset(struct rt_gate *g)
{
	qatomic_set(&g->open, 0);
}

void rt_gate_open(struct rt_gate *g)
{
	qatomic_store_release(&g->open, 1);
}

bool rt_gate_is_open(struct rt_gate *g)
{
	return qatomic_load_acquire(&g->open);
}

bool rt_gate_wait(struct rt_gate *g, unsigned ms)
{
	uint64_t deadline = rt_now_ns() + ms * 1000000ULL;
	struct timespec nap = { 0, 20000 };

	while (!rt_gate_is_open(g)) {
		if (rt_now_ns() > deadline)
			return false;
		nanosleep(&nap, NULL);
	}
	return true;
}

/* ---- the trap ---- */

void rt_trap_arm(int type0, int type1)
{
	int i;

	rt_gate_reset(&rt_trap.parked);
	rt_gate_reset(&rt_trap.go);
	rt_gate_reset(&rt_trap.raced);
	rt_gate_reset(&rt_trap.loaded);
	rt_gate_reset(&rt_trap.others_done);
	for (i = 0; i < 2; i++) {
		rt_gate_reset(&rt_trap.done[i]);
		qatomic_set(&rt_trap.arg[i], NULL);
	}
	rt_trap.want_type[0] = type0;
	rt_trap.want_type[1] = type1;
	qatomic_store_release(&rt_trap.armed, 1);
}

void rt_trap_disarm(void)
{
	qatomic_store_release(&rt_trap.armed, 0);
}

bool rt_trap_armed(void)
{
	return rt_mode == RT_MODE_INJECT && qatomic_load_acquire(&rt_trap.armed);
}

/*
 * Only once the write that runs the BH has completed: the lost completion is
 * then the flush alone, as in seed 003.  (Buffering earlier would drop the
 * write's schedule as well, which the bug can also do.)
 */
bool rt_trap_buffer_bh_clear(void)
{
	return rt_inject(RT_LOST_COMPLETION) && rt_trap_armed() &&
	       qatomic_read(&rt_trap.arg[0]) && rt_gate_is_open(&rt_trap.others_done);
}

int rt_trap_index(const void *arg)
{
	int i;

	for (i = 0; i < 2; i++)
		if (arg && qatomic_read(&rt_trap.arg[i]) == arg)
			return i;
	return -1;
}

/* ---- fixed --out: the capture arrangement ---- */

static struct {
	unsigned hold;         /* workers block in handle_aiocb_* */
	void *fast_arg;        /* ... except for this flush */
	struct rt_gate bql_taken, fast_done;
} capture;

void rt_capture_begin(void)
{
	__atomic_store_n(&rt_shared->phase, RT_PHASE_CAPTURE_SETUP, __ATOMIC_RELAXED);
	qatomic_store_release(&capture.hold, 1);
}

AioContext *workload_iothread_ctx(void);

/*
 * On the IOThread: take the BQL so that the main thread, woken by the
 * completed flush, blocks in qemu_mutex_lock_iothread() before it can run
 * the completion BH.  A healthy, transient state: nothing is lost.
 */
static void iothread_capture_bh(void *opaque)
{
	struct timespec nap = { 0, 1000000 };

	(void)opaque;
	qemu_mutex_lock_iothread();
	rt_gate_open(&capture.bql_taken);
	rt_gate_wait(&capture.fast_done, RT_INJECT_WAIT_MS);
	/* let the main thread reach the BQL */
	nanosleep(&nap, NULL);
	__atomic_store_n(&rt_shared->phase, RT_PHASE_CAPTURE_READY, __ATOMIC_RELEASE);
	for (;;)
		nanosleep(&nap, NULL);
}

void rt_capture_iothread(void)
{
	aio_bh_schedule_oneshot(workload_iothread_ctx(), iothread_capture_bh, NULL);
}

/* ---- hooks ---- */

void rt_hook_submit(void *arg, int type)
{
	int i;

	if (qatomic_read(&capture.hold) && !capture.fast_arg && type == QEMU_AIO_FLUSH) {
		qatomic_store_release(&capture.fast_arg, arg);
		return;
	}
	if (!rt_trap_armed())
		return;
	for (i = 0; i < 2; i++) {
		if (rt_trap.want_type[i] == type && !rt_trap.arg[i]) {
			qatomic_store_release(&rt_trap.arg[i], arg);
			return;
		}
	}
}

void rt_hook_io(void *arg)
{
	struct timespec nap = { 0, 1000000 };

	if (!qatomic_load_acquire(&capture.hold))
		return;
	if (arg == qatomic_load_acquire(&capture.fast_arg)) {
		rt_gate_wait(&capture.bql_taken, RT_INJECT_WAIT_MS);
		return;
	}
	/* a slow disk: held until the process is killed after the capture */
	while (qatomic_load_acquire(&capture.hold))
		nanosleep(&nap, NULL);
}

/* worker: ret is stored; the store of THREAD_DONE comes next */
void rt_hook_worker_before_done(void *arg)
{
	if (!rt_trap_armed() || rt_trap_index(arg) != 0)
		return;
	if (rt_variant == RT_LOST_COMPLETION || rt_variant == RT_LOST_NOTIFY) {
		rt_gate_open(&rt_trap.parked);
		rt_gate_wait(&rt_trap.go, RT_INJECT_WAIT_MS);
	}
}

/* worker: state is DONE and qemu_bh_schedule() returned */
void rt_hook_worker_after_schedule(void *arg)
{
	int idx;

	if (arg && arg == qatomic_load_acquire(&capture.fast_arg))
		rt_gate_open(&capture.fast_done);
	if (!rt_trap_armed())
		return;
	idx = rt_trap_index(arg);
	if (idx < 0)
		return;
	if (rt_variant == RT_NESTED_POLL)
		rt_gate_open(&rt_trap.done[idx]);
	else if (idx == 0)
		rt_gate_open(&rt_trap.raced);
}

/*
 * lost-completion: the completion BH walked pool->head and found the trapped
 * flush not DONE, while aio_bh_poll()'s clear of the BH is still buffered.
 * Now let the worker store DONE and make its (stale) check of the BH.
 */
void rt_hook_completion_walk_done(ThreadPool *pool, QEMUBH *completion_bh)
{
	(void)pool;
	if (!rt_inject(RT_LOST_COMPLETION) || !rt_trap_armed())
		return;
	if (!aio_bh_clear_is_buffered(completion_bh) || !qatomic_read(&rt_trap.arg[0]))
		return;
	if (!rt_gate_wait(&rt_trap.parked, RT_INJECT_WAIT_MS))
		return;
	rt_gate_open(&rt_trap.go);
	if (rt_gate_wait(&rt_trap.raced, RT_INJECT_WAIT_MS))
		rt_trap_disarm();
}

/*
 * lost-notify: aio_ctx_prepare() has loaded the BH flags (nothing runnable)
 * but its notify_me store is not visible yet.  Let the worker complete now.
 */
void rt_hook_prepare_loaded(AioContext *ctx, int64_t timeout)
{
	(void)ctx;
	if (timeout != -1 || !qatomic_read(&rt_trap.arg[0]))
		return;
	if (!rt_gate_wait(&rt_trap.parked, RT_INJECT_WAIT_MS))
		return;
	rt_gate_open(&rt_trap.go);
	if (rt_gate_wait(&rt_trap.raced, RT_INJECT_WAIT_MS))
		rt_trap_disarm();
}

/*
 * nested-poll: before the home thread consumes the completion BH, let both
 * trapped requests finish, so that the second schedule finds it pending.
 */
void rt_hook_before_bh_poll(AioContext *ctx)
{
	/*
	 * lost-coroutine-wake: the home thread is about to run co_schedule_bh;
	 * hold it until the scheduling thread has made its early check.
	 */
#if AIOCORE_PROFILE >= 5
	if (rt_inject(RT_LOST_COROUTINE_WAKE) && rt_trap_armed() &&
	    ctx == qemu_get_aio_context() && aio_bh_is_runnable(ctx->co_schedule_bh)) {
		rt_gate_wait(&rt_trap.loaded, RT_INJECT_WAIT_MS);
		return;
	}
#endif
	if (!rt_inject(RT_NESTED_POLL) || !rt_trap_armed() || ctx != qemu_get_aio_context())
		return;
	if (!qatomic_read(&rt_trap.arg[0]) || !qatomic_read(&rt_trap.arg[1]))
		return;
	rt_gate_wait(&rt_trap.done[0], RT_INJECT_WAIT_MS);
	rt_gate_wait(&rt_trap.done[1], RT_INJECT_WAIT_MS);
	rt_trap_disarm();
}

/*
 * event-lost-wakeup, call_rcu thread: it reset the event (store buffered)
 * and read rcu_call_count == 0.  Let call_rcu1() increment and set now.
 */
void rt_hook_rcu_loaded_count(int n)
{
	if (!rt_inject(RT_EVENT_LOST_WAKEUP))
		return;
	/* the reset only matters if we are about to sleep: publish it now */
	if (n != 0 || !rt_trap_armed()) {
		qemu_event_sb_drain();
		return;
	}
	rt_gate_open(&rt_trap.loaded);
	rt_gate_wait(&rt_trap.raced, RT_INJECT_WAIT_MS);
}

void rt_hook_rcu_before_count(struct rcu_head *node)
{
	if (!rt_inject(RT_EVENT_LOST_WAKEUP) || !rt_trap_armed() ||
	    (void *)node != qatomic_read(&rt_trap.arg[0]))
		return;
	rt_gate_wait(&rt_trap.loaded, RT_INJECT_WAIT_MS);
}

void rt_hook_rcu_after_set(struct rcu_head *node)
{
	if (!rt_inject(RT_EVENT_LOST_WAKEUP) || !rt_trap_armed() ||
	    (void *)node != qatomic_read(&rt_trap.arg[0]))
		return;
	rt_gate_open(&rt_trap.raced);
	rt_trap_disarm();
}

/*
 * lost-coroutine-wake, scheduling thread: its check found co_schedule_bh
 * still scheduled and it has not pushed its coroutine yet.  Let the home
 * thread run co_schedule_bh_cb() and take the list first.
 */
void rt_hook_co_schedule_skip(AioContext *ctx)
{
	if (!rt_inject(RT_LOST_COROUTINE_WAKE) || !rt_trap_armed() ||
	    ctx != qemu_get_aio_context())
		return;
	rt_gate_open(&rt_trap.loaded);
	if (rt_gate_wait(&rt_trap.raced, RT_INJECT_WAIT_MS))
		rt_trap_disarm();
}

/* lost-coroutine-wake, home thread: co_schedule_bh_cb() moved the list out. */
void rt_hook_co_schedule_moved(AioContext *ctx)
{
	if (!rt_inject(RT_LOST_COROUTINE_WAKE) || !rt_trap_armed() ||
	    ctx != qemu_get_aio_context() || !rt_gate_is_open(&rt_trap.loaded))
		return;
	rt_gate_open(&rt_trap.raced);
}
