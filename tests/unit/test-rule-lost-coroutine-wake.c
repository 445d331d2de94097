/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lost-coroutine-wake on a hand-built analysis: a coroutine on
 * ctx->scheduled_coroutines while co_schedule_bh is idle and the home
 * thread sleeps is the finding; its evidence reads the Coroutine itself,
 * a real one (runtime g5 layout) in this process's memory.  The BH
 * pending, an empty list, a thread inside aio_co_schedule or
 * co_schedule_bh_cb, the home thread running, or a context without
 * co_schedule_bh (before 2.9) are near-misses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <string.h>

#include "qemu/coroutine.h"   /* the runtime's, not the analyzer's */
#include "rules/rule.h"
#include "hand-program.h"

static void request_entry(void *opaque)
{
	(void)opaque;
}

static const struct hand_thread sleeping[] = {
	{ 400, "qemu-storage-da", { "ppoll@libc.so.6", "qemu_poll_ns", "aio_poll", "main" } },
};

static Coroutine co;

struct scene {
	struct ac_aio_context ctx;
	struct ac_bh bh;
	struct ac_bh_list bhs;
	struct ac_analysis a;
};

static void scene_init(struct scene *s)
{
	co = (Coroutine){ .entry = request_entry, .scheduled = "aio_co_schedule_test" };
	*s = (struct scene){
		.ctx = {
			.obj = { .address = 0x560000001000 }, .is_main = true,
			.co_schedule_bh = 0x560000002000,
			.scheduled_coroutines = (uint64_t)(uintptr_t)&co,
			.home_tid = 400, .home_thread_index = 0, .anchor_frame = 2,
			.home_how = "qemu_aio_context: aio_poll",
			.blocked_in = "ppoll <- qemu_poll_ns <- aio_poll",
			.sleeping_in_poll = true,
		},
		.bh = { .address = 0x560000002000, .cb_name = "co_schedule_bh_cb",
			.has_flags = true },
	};
	s->bhs = (struct ac_bh_list){ .items = &s->bh, .n = 1 };
	s->a = (struct ac_analysis){ .contexts = { &s->ctx, 1 }, .bhs = &s->bhs };
}

static size_t run(const struct hand_thread *threads, size_t n, const struct scene *s,
		  struct ac_findings *f)
{
	return hand_run_rule(ac_rule_lost_coroutine_wake, threads, n, &s->a, f);
}

static void test_fires(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	struct ac_findings f;
	run(sleeping, 1, &s, &f);
	const struct ac_finding *x = hand_finding(&f, "lost-coroutine-wake", AC_CONFIDENCE_HIGH);
	char want[160];
	snprintf(want, sizeof(want), "coroutine 0x%" PRIxPTR " is scheduled on AioContext 0x560000001000",
		 (uintptr_t)&co);
	assert_non_null(strstr(x->summary, want));
	/* Read from the Coroutine in memory, through the DWARF. */
	snprintf(want, sizeof(want), "first 0x%" PRIxPTR ", scheduled by aio_co_schedule_test",
		 (uintptr_t)&co);
	assert_string_equal(hand_evidence(x, "AioContext.scheduled_coroutines")->value, want);
	const struct ac_evidence *e = hand_evidence(x, "Coroutine.entry");
	assert_int_equal(e->address, (uintptr_t)&co);
	assert_string_equal(e->value, "request_entry (caller NULL: not running)");
	assert_string_equal(hand_evidence(x, "AioContext.co_schedule_bh")->value,
			    "cb=co_schedule_bh_cb [-] not scheduled");
	assert_string_equal(hand_evidence(x, "home thread")->frame, "#2 aio_poll");
	ac_findings_deinit(&f);
}

/* A wild list head: the finding stands, the unreadable details are left out. */
static void test_wild_coroutine(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	s.ctx.scheduled_coroutines = 0x10;
	struct ac_findings f;
	assert_int_equal(run(sleeping, 1, &s, &f), 1);
	assert_string_equal(hand_evidence(&f.items[0], "AioContext.scheduled_coroutines")->value,
			    "first 0x10");
	for (size_t i = 0; i < f.items[0].n_evidence; i++)
		assert_string_not_equal(f.items[0].evidence[i].what, "Coroutine.entry");
	ac_findings_deinit(&f);
}

static void test_bh_pending(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	s.bh.flags = 3;
	s.bh.pending = s.bh.scheduled = s.bh.runnable = true;
	struct ac_findings f;
	assert_int_equal(run(sleeping, 1, &s, &f), 0);
	assert_true(hand_checked(&f, "scheduled_coroutines not empty"));
	ac_findings_deinit(&f);
}

static void test_empty_or_old(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	s.ctx.scheduled_coroutines = 0;
	struct ac_findings f;
	assert_int_equal(run(sleeping, 1, &s, &f), 0);
	assert_true(hand_checked(&f, "scheduled_coroutines empty"));
	ac_findings_deinit(&f);
	scene_init(&s);
	s.ctx.co_schedule_bh = 0;   /* before 2.9 */
	assert_int_equal(run(sleeping, 1, &s, &f), 0);
	assert_int_equal(f.n_checked, 0);
	ac_findings_deinit(&f);
}

static void test_mid_schedule(void **state)
{
	(void)state;
	static const char *const busy[] = { "aio_co_schedule", "co_schedule_bh_cb" };
	for (size_t i = 0; i < 2; i++) {
		struct hand_thread threads[2] = { sleeping[0],
			{ 401, "iothread", { "qemu_bh_schedule", busy[i], "iothread_run" } } };
		struct scene s;
		scene_init(&s);
		struct ac_findings f;
		assert_int_equal(run(threads, 2, &s, &f), 0);
		char want[96];
		snprintf(want, sizeof(want), "thread 401 is inside %s (mid-schedule)", busy[i]);
		assert_true(hand_checked(&f, want));
		ac_findings_deinit(&f);
	}
}

static void test_home_running(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	s.ctx.sleeping_in_poll = false;
	struct ac_findings f;
	assert_int_equal(run(sleeping, 1, &s, &f), 0);
	ac_findings_deinit(&f);
}

int main(void)
{
	/* Links qemu-coroutine.c: its CU describes Coroutine for the rule. */
	void (*volatile keep)(Coroutine *) = qemu_coroutine_enter;
	(void)keep;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fires),
		cmocka_unit_test(test_wild_coroutine),
		cmocka_unit_test(test_bh_pending),
		cmocka_unit_test(test_empty_or_old),
		cmocka_unit_test(test_mid_schedule),
		cmocka_unit_test(test_home_running),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
