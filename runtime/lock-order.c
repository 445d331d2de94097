/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Lock-order inversions (not QEMU code; QEMU-named locks and takers):
 *
 * lock-cycle: threads "abba-a" and "abba-b" take two QemuMutexes in
 * opposite orders, a round at a time.  inject mode makes each hold its
 * first lock before either asks for its second (a handshake, not a sleep),
 * so both block for good; stress mode just loops; fixed takes them in the
 * same order and never blocks for long.
 *
 * bql-ctx-cycle (profiles up to 9.x: QEMU 9.0 removed the AioContext
 * lock): the main thread, in a BH under the BQL, calls
 * aio_context_acquire() on the IOThread's context, while a BH on that
 * IOThread has acquired its own context and calls
 * qemu_mutex_lock_iothread().  fixed releases the context before taking
 * the BQL.
 *
 * Each round counts in lock_rounds / lock_rounds_done, so the watchdog
 * sees work outstanding that does not progress.
 */
#include "qemu/atomic.h"
#include "qemu/main-loop.h"
#include "qemu/thread.h"
#include "aiocore-rt.h"

AioContext *workload_iothread_ctx(void);

/* Named variables, so that a core names them: "QemuMutex abba_lock_a". */
QemuMutex abba_lock_a, abba_lock_b;

struct abba_side {
	const char *name;
	QemuMutex *first, *second;
	struct rt_gate holds_first;
	struct abba_side *other;
	QemuThread thread;
};

static struct abba_side abba[2];

static void *abba_run(void *opaque)
{
	struct abba_side *s = opaque;

	for (;;) {
		RT_COUNT(lock_rounds);
		qemu_mutex_lock(s->first);
		if (rt_inject(RT_LOCK_CYCLE)) {
			rt_gate_open(&s->holds_first);
			rt_gate_wait(&s->other->holds_first, RT_INJECT_WAIT_MS);
		} else {
			/* some work under the first lock: the window the other order needs */
			qemu_thread_naptime_us(20);
		}
		qemu_mutex_lock(s->second);
		RT_COUNT(iterations);
		qemu_mutex_unlock(s->second);
		qemu_mutex_unlock(s->first);
		RT_COUNT(lock_rounds_done);
		qemu_thread_naptime_us(20);
	}
	return NULL;
}

/* lock-cycle (opposite orders) and fixed (the same order): the two threads. */
void lock_order_abba_start(void)
{
	bool inverted = rt_buggy(RT_LOCK_CYCLE);

	qemu_mutex_init(&abba_lock_a);
	qemu_mutex_init(&abba_lock_b);
	abba[0] = (struct abba_side){ .name = "abba-a", .first = &abba_lock_a,
				      .second = &abba_lock_b };
	abba[1] = (struct abba_side){ .name = "abba-b",
				      .first = inverted ? &abba_lock_b : &abba_lock_a,
				      .second = inverted ? &abba_lock_a : &abba_lock_b };
	abba[0].other = &abba[1];
	abba[1].other = &abba[0];
	qemu_thread_create(&abba[0].thread, abba[0].name, abba_run, &abba[0],
			   QEMU_THREAD_DETACHED);
	qemu_thread_create(&abba[1].thread, abba[1].name, abba_run, &abba[1],
			   QEMU_THREAD_DETACHED);
}

#if AIOCORE_PROFILE < 10
static struct rt_gate ctx_held;

/* On the IOThread: a handler that needs the BQL while it holds its context. */
static void iothread_ctx_bql_bh(void *opaque)
{
	AioContext *ctx = opaque;

	aio_context_acquire(ctx);
	rt_gate_open(&ctx_held);
	if (!rt_buggy(RT_BQL_CTX_CYCLE))
		aio_context_release(ctx);      /* fixed: never hold both */
	qemu_mutex_lock_iothread();
	RT_COUNT(iterations);
	qemu_mutex_unlock_iothread();
	if (rt_buggy(RT_BQL_CTX_CYCLE))
		aio_context_release(ctx);
	RT_COUNT(lock_rounds_done);
}

/* On the main thread, under the BQL: a monitor command that takes the context. */
static void main_ctx_bh(void *opaque)
{
	AioContext *ctx = workload_iothread_ctx();

	(void)opaque;
	/* two rounds: this one and the IOThread's */
	RT_COUNT(lock_rounds);
	RT_COUNT(lock_rounds);
	rt_gate_reset(&ctx_held);
	aio_bh_schedule_oneshot(ctx, iothread_ctx_bql_bh, ctx);
	if (rt_inject(RT_BQL_CTX_CYCLE))
		rt_gate_wait(&ctx_held, RT_INJECT_WAIT_MS);
	aio_context_acquire(ctx);
	aio_context_release(ctx);
	RT_COUNT(lock_rounds_done);
	/* stress and fixed: again, once the IOThread's round is over */
	if (rt_mode == RT_MODE_STRESS) {
		qemu_thread_naptime_us(50);
		aio_bh_schedule_oneshot(qemu_get_aio_context(), main_ctx_bh, NULL);
	}
}

void lock_order_bql_ctx_start(void)
{
	aio_bh_schedule_oneshot(qemu_get_aio_context(), main_ctx_bh, NULL);
}
#else
void lock_order_bql_ctx_start(void)
{
}
#endif
