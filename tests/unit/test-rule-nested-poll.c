/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nested-poll on a hand-built analysis: a thread in aio_poll under
 * thread_pool_completion_bh while a request is THREAD_DONE and the
 * completion BH is not scheduled again is the finding.  The ordinary
 * nesting (the BH called from aio_poll), the BH rescheduled, or no
 * THREAD_DONE request are near-misses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "rules/rule.h"
#include "hand-program.h"

static const struct hand_thread nested[] = {
	{ 300, "qemu-kvm", { "ppoll@libc.so.6", "qemu_poll_ns", "aio_poll", "bdrv_drain_all",
			     "ide_flush_cb", "thread_pool_completion_bh", "aio_bh_poll",
			     "aio_dispatch", "aio_ctx_dispatch", "main_loop_wait", "main" } },
	{ 301, "worker", { "futex_wait@libc.so.6", "qemu_cond_timedwait", "worker_thread" } },
};

/* aio_poll runs the BH: the usual order, nothing nested. */
static const struct hand_thread ordinary[] = {
	{ 300, "qemu-kvm", { "thread_pool_completion_bh", "aio_bh_poll", "aio_poll", "main" } },
};

struct scene {
	struct ac_aio_context ctx;
	struct ac_bh bh;
	struct ac_bh_list bhs;
	struct ac_pool_element el[2];
	struct ac_thread_pool pool;
	struct ac_analysis a;
};

static void scene_init(struct scene *s)
{
	*s = (struct scene){
		.ctx = { .obj = { .address = 0x7f0000001000 }, .is_main = true,
			 .thread_pool = 0x7f0000002000 },
		.bh = { .address = 0x7f0000003000, .cb_name = "thread_pool_completion_bh",
			.scheduled = false },
		.el = {
			{ .address = 0x7f0000004000, .state = 1, .state_name = "THREAD_ACTIVE",
			  .kind = "read" },
			{ .address = 0x7f0000005000, .state = 2, .state_name = "THREAD_DONE",
			  .done = true, .kind = "flush" },
		},
		.pool = { .address = 0x7f0000002000, .type_name = "ThreadPool",
			  .completion_bh = 0x7f0000003000, .n_elements = 2 },
	};
	s->bhs = (struct ac_bh_list){ .items = &s->bh, .n = 1 };
	s->pool.elements = s->el;
	s->a = (struct ac_analysis){ .contexts = { &s->ctx, 1 }, .bhs = &s->bhs,
				     .pools = &s->pool };
}

static size_t run(const struct hand_thread *threads, size_t n, const struct scene *s,
		  struct ac_findings *f)
{
	return hand_run_rule(ac_rule_nested_poll, threads, n, &s->a, f);
}

static void test_fires(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	struct ac_findings f;
	run(nested, 2, &s, &f);
	const struct ac_finding *x = hand_finding(&f, "nested-poll", AC_CONFIDENCE_HIGH);
	assert_non_null(strstr(x->summary, "thread 300 polls inside thread_pool_completion_bh"));
	const struct ac_evidence *e = hand_evidence(x, "nested aio_poll");
	assert_int_equal(e->tid, 300);
	assert_string_equal(e->frame, "#2 aio_poll");
	assert_string_equal(e->value, "under thread_pool_completion_bh (#5)");
	/* The THREAD_DONE one, not the first element. */
	e = hand_evidence(x, "ThreadPoolElement.state");
	assert_int_equal(e->address, 0x7f0000005000);
	assert_string_equal(e->value, "THREAD_DONE (flush request)");
	assert_string_equal(hand_evidence(x, "ThreadPool.completion_bh")->value,
			    "cb=thread_pool_completion_bh [-] not scheduled");
	assert_true(hand_checked(&f, "thread 300 polls inside thread_pool_completion_bh"));
	ac_findings_deinit(&f);
}

static void test_ordinary_nesting(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	struct ac_findings f;
	assert_int_equal(run(ordinary, 1, &s, &f), 0);
	assert_int_equal(f.n_checked, 0);
	ac_findings_deinit(&f);
}

static void test_bh_rescheduled(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	s.bh.scheduled = s.bh.runnable = true;
	struct ac_findings f;
	assert_int_equal(run(nested, 2, &s, &f), 0);
	assert_int_equal(f.n_checked, 1);   /* it did look */
	ac_findings_deinit(&f);
}

static void test_nothing_done(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	s.el[1].done = false;
	struct ac_findings f;
	assert_int_equal(run(nested, 2, &s, &f), 0);
	ac_findings_deinit(&f);
	scene_init(&s);
	s.pool.address = 0;
	assert_int_equal(run(nested, 2, &s, &f), 0);
	ac_findings_deinit(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fires),
		cmocka_unit_test(test_ordinary_nesting),
		cmocka_unit_test(test_bh_rescheduled),
		cmocka_unit_test(test_nothing_done),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
