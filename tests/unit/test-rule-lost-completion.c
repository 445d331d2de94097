/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lost-completion on a hand-built analysis: a THREAD_DONE request whose
 * completion BH is idle while the home thread sleeps in poll and every
 * worker waits for work is the finding; the BH scheduled, the home thread
 * running or inside the completion BH, a busy worker, no THREAD_DONE
 * element, or an unreadable BH are near-misses that must not fire.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "rules/rule.h"
#include "hand-program.h"

static const struct hand_thread sleeping[] = {
	{ 100, "qemu-img", { "ppoll@libc.so.6", "qemu_poll_ns", "aio_poll", "main" } },
	{ 101, "worker", { "futex_wait@libc.so.6", "qemu_sem_timedwait", "worker_thread" } },
};

struct scene {
	struct ac_aio_context ctx;
	struct ac_bh bh;
	struct ac_bh_list bhs;
	struct ac_pool_element el;
	struct ac_thread_pool pool;
	struct ac_analysis a;
};

/* The lost completion itself: every near-miss changes one thing. */
static void scene_init(struct scene *s)
{
	*s = (struct scene){
		.ctx = {
			.obj = { .address = 0x55550000a000 },
			.is_main = true, .thread_pool = 0x55550000b000,
			.home_tid = 100, .home_thread_index = 0, .anchor_frame = 2,
			.home_how = "qemu_aio_context, polled by main()",
			.blocked_in = "ppoll <- qemu_poll_ns <- aio_poll",
			.sleeping_in_poll = true, .in_aio_poll = true,
		},
		.bh = {
			.address = 0x55550000c000, .ctx = 0x55550000a000,
			.cb_name = "thread_pool_completion_bh", .has_flags = true,
			.where = "ThreadPool.completion_bh",
		},
		.el = {
			.address = 0x55550000d000, .state = 2, .state_name = "THREAD_DONE",
			.done = true, .func_name = "handle_aiocb_flush", .kind = "flush",
			.coroutine = 0x55550000e000, .co_entry_name = "bdrv_flush_co_entry",
		},
		.pool = {
			.address = 0x55550000b000, .type_name = "ThreadPool",
			.ctx = 0x55550000a000, .completion_bh = 0x55550000c000,
			.n_elements = 1,
		},
	};
	s->bhs = (struct ac_bh_list){ .items = &s->bh, .n = 1 };
	s->pool.elements = &s->el;
	s->a = (struct ac_analysis){ .contexts = { &s->ctx, 1 }, .bhs = &s->bhs,
				     .pools = &s->pool };
}

static size_t run(const struct hand_thread *threads, size_t n, const struct scene *s,
		  struct ac_findings *f)
{
	return hand_run_rule(ac_rule_lost_completion, threads, n, &s->a, f);
}

static void test_fires(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	struct ac_findings f;
	run(sleeping, 2, &s, &f);
	const struct ac_finding *x = hand_finding(&f, "lost-completion", AC_CONFIDENCE_HIGH);
	assert_non_null(strstr(x->summary, "1 request is THREAD_DONE on ThreadPool 0x55550000b000"));
	assert_non_null(strstr(x->summary, "thread 100 sleeps in ppoll <- qemu_poll_ns <- aio_poll"));
	const struct ac_evidence *e = hand_evidence(x, "ThreadPoolElement.state");
	assert_string_equal(e->value, "THREAD_DONE (2)");
	assert_int_equal(e->address, 0x55550000d000);
	assert_string_equal(hand_evidence(x, "ThreadPoolElement.func")->value,
			    "handle_aiocb_flush (flush request, ret 0)");
	assert_string_equal(hand_evidence(x, "waiting coroutine")->value,
			    "entry bdrv_flush_co_entry");
	assert_string_equal(hand_evidence(x, "ThreadPool.completion_bh")->value,
			    "cb=thread_pool_completion_bh [-] not scheduled");
	e = hand_evidence(x, "home thread");
	assert_int_equal(e->tid, 100);
	assert_string_equal(e->frame, "#2 aio_poll");
	assert_string_equal(e->value, "asleep in ppoll <- qemu_poll_ns <- aio_poll "
			    "(qemu_aio_context, polled by main())");
	assert_string_equal(hand_evidence(x, "pool workers")->value,
			    "1, all idle waiting for work");
	assert_true(hand_checked(&f, "ThreadPool 0x55550000b000: 1 request, 1 THREAD_DONE"));
	ac_findings_deinit(&f);
}

static void test_bh_scheduled(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	s.bh.pending = s.bh.scheduled = s.bh.runnable = true;
	struct ac_findings f;
	assert_int_equal(run(sleeping, 2, &s, &f), 0);
	assert_true(hand_checked(&f, "1 THREAD_DONE"));
	ac_findings_deinit(&f);
}

static void test_nothing_done(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	s.el.done = false;
	s.el.state = 1;
	s.el.state_name = "THREAD_ACTIVE";
	struct ac_findings f;
	assert_int_equal(run(sleeping, 2, &s, &f), 0);
	assert_true(hand_checked(&f, "1 request, 0 THREAD_DONE"));
	ac_findings_deinit(&f);
}

static void test_home_running(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	s.ctx.sleeping_in_poll = false;
	struct ac_findings f;
	assert_int_equal(run(sleeping, 2, &s, &f), 0);
	ac_findings_deinit(&f);
	scene_init(&s);
	s.ctx.home_tid = 0;   /* no thread could be tied to it */
	assert_int_equal(run(sleeping, 2, &s, &f), 0);
	ac_findings_deinit(&f);
}

static void test_bh_unknown(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	s.bh.problem = "flags: cannot be read";
	struct ac_findings f;
	assert_int_equal(run(sleeping, 2, &s, &f), 0);
	ac_findings_deinit(&f);
	scene_init(&s);
	s.pool.completion_bh = 0x55550000c100;   /* not among the context's BHs */
	assert_int_equal(run(sleeping, 2, &s, &f), 0);
	ac_findings_deinit(&f);
}

static void test_worker_busy(void **state)
{
	(void)state;
	static const struct hand_thread busy[] = {
		{ 100, "qemu-img", { "ppoll@libc.so.6", "qemu_poll_ns", "aio_poll", "main" } },
		{ 101, "worker", { "fdatasync@libc.so.6", "handle_aiocb_flush", "worker_thread" } },
	};
	struct scene s;
	scene_init(&s);
	struct ac_findings f;
	assert_int_equal(run(busy, 2, &s, &f), 0);
	assert_true(hand_checked(&f, "1 of 1 workers busy"));
	ac_findings_deinit(&f);
}

/* Polling inside the completion BH is nested-poll, not this. */
static void test_inside_completion_bh(void **state)
{
	(void)state;
	static const struct hand_thread nested[] = {
		{ 100, "qemu-img", { "ppoll@libc.so.6", "qemu_poll_ns", "aio_poll",
				     "thread_pool_completion_bh", "aio_bh_poll", "aio_poll",
				     "main" } },
		{ 101, "worker", { "futex_wait@libc.so.6", "qemu_sem_timedwait", "worker_thread" } },
	};
	struct scene s;
	scene_init(&s);
	struct ac_findings f;
	assert_int_equal(run(nested, 2, &s, &f), 0);
	ac_findings_deinit(&f);
}

static void test_no_pool(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	s.pool.address = 0;
	struct ac_findings f;
	assert_int_equal(run(sleeping, 2, &s, &f), 0);
	assert_int_equal(f.n_checked, 0);
	ac_findings_deinit(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fires),
		cmocka_unit_test(test_bh_scheduled),
		cmocka_unit_test(test_nothing_done),
		cmocka_unit_test(test_home_running),
		cmocka_unit_test(test_bh_unknown),
		cmocka_unit_test(test_worker_busy),
		cmocka_unit_test(test_inside_completion_bh),
		cmocka_unit_test(test_no_pool),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
