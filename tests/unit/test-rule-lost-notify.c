/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lost-notify on a hand-built analysis: a runnable BH on a context whose
 * home thread sleeps in poll, notified == false and nobody notifying, is
 * the finding (high; medium on a layout without `notified`).  A wakeup
 * pending (notified == true), a thread inside qemu_bh_schedule or
 * aio_notify, the home thread running, or only BHs that are idle or
 * unreadable are near-misses.
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
	{ 200, "qemu-system-aar", { "ppoll@libc.so.6", "qemu_poll_ns", "os_host_main_loop_wait",
				    "main_loop_wait", "main" } },
	{ 201, "IO iothread0", { "ppoll@libc.so.6", "aio_poll", "iothread_run" } },
};

struct scene {
	struct ac_aio_context ctx;
	struct ac_bh bh[2];
	struct ac_bh_list bhs;
	struct ac_analysis a;
};

static void scene_init(struct scene *s)
{
	*s = (struct scene){
		.ctx = {
			.obj = { .address = 0xaaaa00001000 },
			.is_main = true,
			.has_notify_me = true, .notify_me = 1,
			.has_notified = true, .notified = false,
			.home_tid = 200, .home_thread_index = 0, .anchor_frame = 3,
			.home_how = "qemu_aio_context: main_loop_wait",
			.blocked_in = "ppoll <- qemu_poll_ns <- os_host_main_loop_wait",
			.sleeping_in_poll = true,
		},
		.bh = {
			{ .address = 0xaaaa00002000, .cb_name = "virtio_queue_notify_bh",
			  .name = "virtio-blk", .has_flags = true, .flags = 3,
			  .pending = true, .scheduled = true, .runnable = true },
			{ .address = 0xaaaa00003000, .cb_name = "co_schedule_bh_cb",
			  .has_flags = true },
		},
	};
	s->bhs = (struct ac_bh_list){ .items = s->bh, .n = 2 };
	s->a = (struct ac_analysis){ .contexts = { &s->ctx, 1 }, .bhs = &s->bhs };
}

static size_t run(const struct hand_thread *threads, size_t n, const struct scene *s,
		  struct ac_findings *f)
{
	return hand_run_rule(ac_rule_lost_notify, threads, n, &s->a, f);
}

static void test_fires(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	struct ac_findings f;
	run(sleeping, 2, &s, &f);
	const struct ac_finding *x = hand_finding(&f, "lost-notify", AC_CONFIDENCE_HIGH);
	assert_non_null(strstr(x->summary, "1 BH is runnable on AioContext 0xaaaa00001000 but thread 200 sleeps"));
	/* Only the runnable BH is evidence. */
	const struct ac_evidence *e = hand_evidence(x, "runnable BH");
	assert_int_equal(e->address, 0xaaaa00002000);
	assert_string_equal(e->value, "\"virtio-blk\" cb=virtio_queue_notify_bh [pending scheduled] runnable");
	size_t n_bh = 0;
	for (size_t i = 0; i < x->n_evidence; i++)
		n_bh += !strcmp(x->evidence[i].what, "runnable BH");
	assert_int_equal(n_bh, 1);
	assert_string_equal(hand_evidence(x, "AioContext.notified")->value,
			    "false (no wakeup pending)");
	assert_string_equal(hand_evidence(x, "AioContext.notify_me")->value,
			    "1 (glib prepare bit set, 0 blocking aio_poll)");
	assert_string_equal(hand_evidence(x, "home thread")->frame, "#3 main_loop_wait");
	assert_true(hand_checked(&f, "AioContext 0xaaaa00001000: 1 runnable BH, home thread asleep in poll"));
	ac_findings_deinit(&f);
}

/* 2.4-4.2 have no `notified`: the same picture, less certain. */
static void test_without_notified(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	s.ctx.has_notified = false;
	s.ctx.notified = true;   /* no such member: not a pending wakeup */
	s.ctx.notify_me = 4;
	struct ac_findings f;
	assert_int_equal(run(sleeping, 2, &s, &f), 1);
	assert_int_equal(f.items[0].confidence, AC_CONFIDENCE_MEDIUM);
	assert_string_equal(hand_evidence(&f.items[0], "AioContext.notify_me")->value,
			    "4 (glib prepare bit clear, 2 blocking aio_poll)");
	for (size_t i = 0; i < f.items[0].n_evidence; i++)
		assert_string_not_equal(f.items[0].evidence[i].what, "AioContext.notified");
	ac_findings_deinit(&f);
}

static void test_wakeup_pending(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	s.ctx.notified = true;
	struct ac_findings f;
	assert_int_equal(run(sleeping, 2, &s, &f), 0);
	ac_findings_deinit(&f);
}

static void test_someone_notifying(void **state)
{
	(void)state;
	static const char *const notifiers[] = { "qemu_bh_schedule", "aio_notify",
						 "aio_bh_enqueue", "event_notifier_set" };
	for (size_t i = 0; i < 4; i++) {
		struct hand_thread threads[3] = { sleeping[0], sleeping[1],
			{ 202, "worker", { notifiers[i], "thread_pool_worker_done", "worker_thread" } } };
		struct scene s;
		scene_init(&s);
		struct ac_findings f;
		assert_int_equal(run(threads, 3, &s, &f), 0);
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
	assert_int_equal(run(sleeping, 2, &s, &f), 0);
	assert_true(hand_checked(&f, "1 runnable BH, home thread running"));
	ac_findings_deinit(&f);
	scene_init(&s);
	s.ctx.home_tid = 0;
	assert_int_equal(run(sleeping, 2, &s, &f), 0);
	assert_true(hand_checked(&f, "home thread unknown"));
	ac_findings_deinit(&f);
}

static void test_nothing_runnable(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	s.bh[0].runnable = false;
	struct ac_findings f;
	assert_int_equal(run(sleeping, 2, &s, &f), 0);
	assert_true(hand_checked(&f, "0 runnable BHs"));
	ac_findings_deinit(&f);
	scene_init(&s);
	s.bh[0].problem = "flags: address 0x8 cannot be read";
	assert_int_equal(run(sleeping, 2, &s, &f), 0);
	ac_findings_deinit(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fires),
		cmocka_unit_test(test_without_notified),
		cmocka_unit_test(test_wakeup_pending),
		cmocka_unit_test(test_someone_notifying),
		cmocka_unit_test(test_home_running),
		cmocka_unit_test(test_nothing_runnable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
