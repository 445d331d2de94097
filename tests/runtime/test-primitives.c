/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the reference runtime's primitives, linked against the same
 * static library as aiocore-runtime-gN: bottom halves, aio_notify and
 * notify_me accounting, thread-pool state transitions, QemuEvent values,
 * coroutine switching.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "block/block.h"
#include "qemu/atomic.h"
#include "qemu/main-loop.h"
#include "aiocore-rt.h"

static AioContext *ctx;

static int setup_main_loop(void **state)
{
	(void)state;
	if (!qemu_get_aio_context()) {
		qemu_mutex_lock_iothread();
		if (qemu_init_main_loop() < 0)
			return -1;
	}
	ctx = aio_context_new();
	return ctx ? 0 : -1;
}

static void count_cb(void *opaque)
{
	(*(int *)opaque)++;
}

/* ---- bottom halves ---- */

static void test_bh_schedule_poll(void **state)
{
	int count = 0;
	QEMUBH *bh = aio_bh_new(ctx, count_cb, &count);

	(void)state;
	assert_false(aio_bh_is_runnable(bh));
	assert_int_equal(aio_compute_timeout(ctx), -1);
	qemu_bh_schedule(bh);
	assert_true(aio_bh_is_runnable(bh));
	assert_int_equal(aio_compute_timeout(ctx), 0);
	qemu_bh_schedule(bh);          /* twice: still one run */
	assert_int_equal(aio_bh_poll(ctx), 1);
	assert_int_equal(count, 1);
	assert_false(aio_bh_is_runnable(bh));
	assert_int_equal(aio_bh_poll(ctx), 0);
	assert_int_equal(count, 1);
	qemu_bh_delete(bh);
	aio_bh_poll(ctx);
}

static void test_bh_cancel(void **state)
{
	int count = 0;
	QEMUBH *bh = aio_bh_new(ctx, count_cb, &count);

	(void)state;
	qemu_bh_schedule(bh);
	qemu_bh_cancel(bh);
	assert_false(aio_bh_is_runnable(bh));
	aio_bh_poll(ctx);
	assert_int_equal(count, 0);
	/* can be scheduled again after a cancel */
	qemu_bh_schedule(bh);
	aio_bh_poll(ctx);
	assert_int_equal(count, 1);
	qemu_bh_delete(bh);
	aio_bh_poll(ctx);
}

static void test_bh_oneshot(void **state)
{
	int count = 0;

	(void)state;
	aio_bh_schedule_oneshot(ctx, count_cb, &count);
	assert_int_equal(aio_compute_timeout(ctx), 0);
	aio_bh_poll(ctx);
	assert_int_equal(count, 1);
	aio_bh_poll(ctx);
	assert_int_equal(count, 1);
}

struct resched {
	QEMUBH *bh;
	int runs;
};

static void resched_cb(void *opaque)
{
	struct resched *r = opaque;

	/* a BH that schedules itself runs again on the next poll, not now */
	if (++r->runs == 1)
		qemu_bh_schedule(r->bh);
}

static void test_bh_reschedule_from_callback(void **state)
{
	struct resched r = { 0 };

	(void)state;
	r.bh = aio_bh_new(ctx, resched_cb, &r);
	qemu_bh_schedule(r.bh);
	aio_bh_poll(ctx);
	assert_int_equal(r.runs, 1);
	assert_true(aio_bh_is_runnable(r.bh));
	aio_bh_poll(ctx);
	assert_int_equal(r.runs, 2);
	assert_false(aio_bh_is_runnable(r.bh));
	qemu_bh_delete(r.bh);
	aio_bh_poll(ctx);
}

/* ---- aio_notify and notify_me ---- */

static void test_notify_accept(void **state)
{
	(void)state;
	assert_int_equal(ctx->notify_me, 0);
	aio_notify(ctx);
#if AIOCORE_PROFILE >= 5
	assert_true(ctx->notified);     /* 5.2+: recorded unconditionally */
#else
	assert_false(ctx->notified);    /* <= 5.1: only if someone listens */
#endif
	aio_notify_accept(ctx);
	assert_false(ctx->notified);
}

static void test_notify_old_semantics(void **state)
{
	(void)state;
	/* lost-notify runs the pre-5.2 aio_notify(): notified means "eventfd written" */
	rt_variant = RT_LOST_NOTIFY;
	aio_notify(ctx);
	assert_false(ctx->notified);
	ctx->notify_me = 2;
	aio_notify(ctx);
	assert_true(ctx->notified);
	ctx->notify_me = 0;
	aio_notify_accept(ctx);
	assert_false(ctx->notified);
	/* the eventfd was drained by the accept */
	assert_int_equal(event_notifier_test_and_clear(&ctx->notifier), 0);
	rt_variant = RT_FIXED;
}

static void test_gsource_prepare_check(void **state)
{
	int timeout = 7;
	int count = 0;
	QEMUBH *bh;

	(void)state;
	/* bit 0 of notify_me spans aio_ctx_prepare .. aio_ctx_check */
	assert_false(aio_source_funcs.prepare(&ctx->source, &timeout));
	assert_int_equal(timeout, -1);
	assert_int_equal(ctx->notify_me, 1);
	assert_false(aio_source_funcs.check(&ctx->source));
	assert_int_equal(ctx->notify_me, 0);

	bh = aio_bh_new(ctx, count_cb, &count);
	qemu_bh_schedule(bh);
	assert_true(aio_source_funcs.prepare(&ctx->source, &timeout));
	assert_int_equal(timeout, 0);
	assert_true(aio_source_funcs.check(&ctx->source));
	aio_source_funcs.dispatch(&ctx->source, NULL, NULL);
	assert_int_equal(count, 1);
	assert_int_equal(ctx->notify_me, 0);
	qemu_bh_delete(bh);
	aio_bh_poll(ctx);
	assert_ptr_equal(ctx->source.source_funcs, &aio_source_funcs);
}

static void *blocking_poll_thread(void *opaque)
{
	AioContext *c = opaque;

	aio_poll(c, true);
	return NULL;
}

static void test_blocking_poll_notify_me(void **state)
{
	pthread_t t;
	int i;

	(void)state;
	pthread_create(&t, NULL, blocking_poll_thread, ctx);
	/* each blocking aio_poll adds 2 while it sleeps */
	for (i = 0; i < 2000 && qatomic_read(&ctx->notify_me) != 2; i++)
		usleep(1000);
	assert_int_equal(qatomic_read(&ctx->notify_me), 2);
	aio_notify(ctx);
	pthread_join(t, NULL);
	assert_int_equal(ctx->notify_me, 0);
	aio_notify_accept(ctx);
	assert_false(ctx->notified);
}

/* ---- thread pool ---- */

static QemuEvent pool_release;
static int pool_cb_ret = 12345;
static int pool_cb_calls;

static int pool_func(void *arg)
{
	(void)arg;
	qemu_event_wait(&pool_release);
	return 42;
}

static void pool_cb(void *opaque, int ret)
{
	(void)opaque;
	pool_cb_ret = ret;
	pool_cb_calls++;
}

static void test_pool_states(void **state)
{
	AioContext *main_ctx = qemu_get_aio_context();
	ThreadPool *pool = aio_get_thread_pool(main_ctx);
	struct thread_pool_stats st;
	int i;

	(void)state;
	qemu_event_init(&pool_release, false);
	thread_pool_submit_aio(pool, pool_func, NULL, pool_cb, NULL);
	thread_pool_get_stats(pool, &st);
	assert_int_equal(st.queued, 1);
	/* workers are started from a BH on the pool's home context */
	for (i = 0; i < 2000; i++) {
		aio_poll(main_ctx, false);
		thread_pool_get_stats(pool, &st);
		if (st.active == 1)
			break;
		usleep(1000);
	}
	assert_int_equal(st.active, 1);
	assert_int_equal(st.queued, 0);
	assert_int_equal(pool_cb_calls, 0);

	qemu_event_set(&pool_release);
	for (i = 0; i < 2000 && pool_cb_calls == 0; i++)
		aio_poll(main_ctx, true);
	assert_int_equal(pool_cb_calls, 1);
	assert_int_equal(pool_cb_ret, 42);
	thread_pool_get_stats(pool, &st);
	assert_int_equal(st.queued + st.active + st.done, 0);
}

#if AIOCORE_PROFILE >= 5
static int co_ret;

static void coroutine_fn pool_co_entry(void *opaque)
{
	(void)opaque;
	co_ret = thread_pool_submit_co(aio_get_thread_pool(qemu_get_aio_context()),
				       pool_func, NULL);
}

static void test_pool_submit_co(void **state)
{
	Coroutine *co = qemu_coroutine_create(pool_co_entry, NULL);
	int i;

	(void)state;
	co_ret = -1;
	qemu_event_set(&pool_release);
	qemu_coroutine_enter(co);
	for (i = 0; i < 2000 && co_ret == -1; i++)
		aio_poll(qemu_get_aio_context(), true);
	assert_int_equal(co_ret, 42);
}
#endif

/* ---- QemuEvent ---- */

static void *event_waiter(void *opaque)
{
	qemu_event_wait(opaque);
	return NULL;
}

static void test_event_values(void **state)
{
	QemuEvent ev;
	pthread_t t;
	int i;

	(void)state;
	qemu_event_init(&ev, false);
	assert_int_equal(ev.value, 1);            /* EV_FREE */
	qemu_event_set(&ev);
	assert_int_equal(ev.value, 0);            /* EV_SET */
	qemu_event_wait(&ev);                     /* returns at once */
	qemu_event_reset(&ev);
	assert_int_equal(ev.value, 1);

	pthread_create(&t, NULL, event_waiter, &ev);
	for (i = 0; i < 2000 && qatomic_read(&ev.value) != 0xFFFFFFFFu; i++)
		usleep(1000);
	/* a sleeping waiter: EV_BUSY, i.e. -1 in the unsigned field */
	assert_int_equal(qatomic_read(&ev.value), 0xFFFFFFFFu);
	qemu_event_set(&ev);
	pthread_join(t, NULL);
	assert_int_equal(ev.value, 0);
}

/* ---- coroutines ---- */

static int co_steps;

static void coroutine_fn yield_entry(void *opaque)
{
	Coroutine **self = opaque;

	*self = qemu_coroutine_self();
	assert_true(qemu_in_coroutine());
	co_steps++;
	qemu_coroutine_yield();
	co_steps++;
}

static void test_coroutine_enter_yield(void **state)
{
	Coroutine *inside = NULL;
	Coroutine *co = qemu_coroutine_create(yield_entry, &inside);

	(void)state;
	co_steps = 0;
	assert_false(qemu_in_coroutine());
	assert_ptr_equal(co->entry, (void *)yield_entry);
	qemu_coroutine_enter(co);
	assert_int_equal(co_steps, 1);
	assert_ptr_equal(inside, co);
	assert_null(co->caller);                  /* yielded: not running */
	assert_false(qemu_in_coroutine());
	qemu_coroutine_enter(co);
	assert_int_equal(co_steps, 2);
}

static void coroutine_fn nested_inner(void *opaque)
{
	(*(int *)opaque) += 10;
}

static void coroutine_fn nested_outer(void *opaque)
{
	Coroutine *inner = qemu_coroutine_create(nested_inner, opaque);

	qemu_coroutine_enter(inner);
	(*(int *)opaque) += 1;
}

static void test_coroutine_nested(void **state)
{
	int v = 0;

	(void)state;
	qemu_coroutine_enter(qemu_coroutine_create(nested_outer, &v));
	assert_int_equal(v, 11);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bh_schedule_poll),
		cmocka_unit_test(test_bh_cancel),
		cmocka_unit_test(test_bh_oneshot),
		cmocka_unit_test(test_bh_reschedule_from_callback),
		cmocka_unit_test(test_notify_accept),
		cmocka_unit_test(test_notify_old_semantics),
		cmocka_unit_test(test_gsource_prepare_check),
		cmocka_unit_test(test_blocking_poll_notify_me),
		cmocka_unit_test(test_pool_states),
#if AIOCORE_PROFILE >= 5
		cmocka_unit_test(test_pool_submit_co),
#endif
		cmocka_unit_test(test_event_values),
		cmocka_unit_test(test_coroutine_enter_yield),
		cmocka_unit_test(test_coroutine_nested),
	};

	return cmocka_run_group_tests(tests, setup_main_loop, NULL);
}
