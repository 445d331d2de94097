/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bql-poll-cycle on a hand-built analysis and a real BQL: the runtime's
 * qemu_global_mutex (g5), locked by this thread, whose tid is then the
 * owner the rule reads through the DWARF.  The hand threads say what each
 * thread does.  The holder asleep in aio_poll while the main thread waits
 * in the BQL lock path is the finding (high when the main context has work
 * queued, medium when none is seen).  The BQL free or held by the main
 * thread, the holder running or not in aio_poll, the main thread not
 * waiting for the BQL, and no main thread are near-misses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "qemu/main-loop.h"   /* the runtime's BQL */
#include "rules/rule.h"
#include "hand-program.h"

#define MAIN_TID 600

static const char *const main_waits[HAND_MAX_FRAMES] = {
	"__lll_lock_wait@libc.so.6", "__pthread_mutex_lock@libc.so.6", "qemu_mutex_lock_impl",
	"qemu_mutex_lock_iothread", "os_host_main_loop_wait", "main_loop_wait", "main",
};
static const char *const holder_sleeps[HAND_MAX_FRAMES] = {
	"ppoll@libc.so.6", "qemu_poll_ns", "aio_poll", "bdrv_drain_all_begin", "job_exit",
	"aio_bh_poll", "aio_poll", "iothread_run",
};

/* threads[0] the main thread, threads[1] this thread (the BQL owner). */
static void threads_init(struct hand_thread *t, const char *const *main_frames,
			 const char *const *holder_frames)
{
	t[0] = (struct hand_thread){ .tid = MAIN_TID, .name = "qemu-system-x86" };
	t[1] = (struct hand_thread){ .tid = gettid(), .name = "IO iothread1" };
	memcpy(t[0].frames, main_frames, sizeof(t[0].frames));
	memcpy(t[1].frames, holder_frames, sizeof(t[1].frames));
}

struct scene {
	struct ac_aio_context ctx[2];
	struct ac_bh bh;
	struct ac_bh_list bhs[2];
	struct ac_analysis a;
};

static void scene_init(struct scene *s)
{
	*s = (struct scene){
		.ctx = {
			{ .obj = { .address = 0x5611bb001000 }, .is_main = true },
			{ .obj = { .address = 0x5611bb002000 }, .is_iothread = true },
		},
		.bh = { .address = 0x5611bb003000, .cb_name = "job_exit", .has_flags = true,
			.flags = 3, .pending = true, .scheduled = true, .runnable = true },
	};
	s->bhs[0] = (struct ac_bh_list){ .items = &s->bh, .n = 1 };
	s->a = (struct ac_analysis){ .contexts = { s->ctx, 2 }, .bhs = s->bhs };
}

static size_t run(const struct hand_thread *threads, const struct scene *s,
		  struct ac_findings *f)
{
	return hand_run_rule(ac_rule_bql_poll_cycle, threads, 2, &s->a, f);
}

static void test_fires(void **state)
{
	(void)state;
	struct hand_thread t[2];
	threads_init(t, main_waits, holder_sleeps);
	struct scene s;
	scene_init(&s);
	struct ac_findings f;
	run(t, &s, &f);
	const struct ac_finding *x = hand_finding(&f, "bql-poll-cycle", AC_CONFIDENCE_HIGH);
	char want[160];
	snprintf(want, sizeof(want), "thread %d holds the BQL (qemu_global_mutex)", gettid());
	assert_non_null(strstr(x->summary, want));
	assert_non_null(strstr(x->summary, "the main thread 600 waits for the BQL, so"));
	snprintf(want, sizeof(want), "%d \"IO iothread1\", not the main thread 600", gettid());
	assert_string_equal(hand_evidence(x, "qemu_global_mutex.lock.__data.__owner")->value, want);
	const struct ac_evidence *e = hand_evidence(x, "BQL holder");
	assert_int_equal(e->tid, gettid());
	assert_string_equal(e->frame, "#2 aio_poll");
	assert_non_null(strstr(e->value, "asleep in ppoll <- qemu_poll_ns <- aio_poll on AioContext"));
	e = hand_evidence(x, "polling under");
	assert_string_equal(e->frame, "#4 job_exit");
	assert_string_equal(e->value, "job_exit (aio_poll at #2)");
	e = hand_evidence(x, "main thread");
	assert_int_equal(e->tid, MAIN_TID);
	assert_string_equal(e->frame, "#3 qemu_mutex_lock_iothread");
	assert_string_equal(e->value, "waits for the BQL: lll_lock_wait <- pthread_mutex_lock "
			    "<- qemu_mutex_lock_impl <- qemu_mutex_lock_iothread");
	assert_string_equal(hand_evidence(x, "runnable BH on qemu_aio_context")->value,
			    "cb=job_exit [pending scheduled] runnable");
	ac_findings_deinit(&f);
}

/* Nothing seen queued on the main context: the cycle is only likely. */
static void test_no_waited_work(void **state)
{
	(void)state;
	struct hand_thread t[2];
	threads_init(t, main_waits, holder_sleeps);
	struct scene s;
	scene_init(&s);
	s.bh.runnable = false;
	struct ac_findings f;
	assert_int_equal(run(t, &s, &f), 1);
	assert_int_equal(f.items[0].confidence, AC_CONFIDENCE_MEDIUM);
	hand_evidence(&f.items[0], "waited-for work");
	ac_findings_deinit(&f);
	s.ctx[0].scheduled_coroutines = 0x5611bb004000;
	assert_int_equal(run(t, &s, &f), 1);
	assert_int_equal(f.items[0].confidence, AC_CONFIDENCE_HIGH);
	assert_string_equal(hand_evidence(&f.items[0], "qemu_aio_context.scheduled_coroutines")->value,
			    "first 0x5611bb004000 (entered only by the main loop)");
	ac_findings_deinit(&f);
}

/* Without libc's symbols its frames are nameless, in a library. */
static void test_nameless_libc(void **state)
{
	(void)state;
	static const char *const nameless[HAND_MAX_FRAMES] = {
		"?@libc.so.6", "?@libc.so.6", "qemu_mutex_lock_iothread", "main_loop_wait", "main",
	};
	static const char *const unnamed_in_exe[HAND_MAX_FRAMES] = {
		"?@test-executable", "qemu_mutex_lock_iothread", "main_loop_wait", "main",
	};
	struct hand_thread t[2];
	struct scene s;
	scene_init(&s);
	struct ac_findings f;
	threads_init(t, nameless, holder_sleeps);
	assert_int_equal(run(t, &s, &f), 1);
	ac_findings_deinit(&f);
	threads_init(t, unnamed_in_exe, holder_sleeps);
	assert_int_equal(run(t, &s, &f), 0);
	assert_true(hand_checked(&f, "the main thread does not wait for the BQL"));
	ac_findings_deinit(&f);
}

static void test_main_not_waiting(void **state)
{
	(void)state;
	static const char *const polling[HAND_MAX_FRAMES] = {
		"ppoll@libc.so.6", "qemu_poll_ns", "os_host_main_loop_wait", "main_loop_wait", "main",
	};
	static const char *const unlocked[HAND_MAX_FRAMES] = {
		"write@libc.so.6", "qemu_mutex_lock_iothread", "main_loop_wait", "main",
	};
	struct hand_thread t[2];
	struct scene s;
	scene_init(&s);
	struct ac_findings f;
	threads_init(t, polling, holder_sleeps);
	assert_int_equal(run(t, &s, &f), 0);
	assert_true(hand_checked(&f, "sleeps in aio_poll; the main thread does not wait for the BQL"));
	ac_findings_deinit(&f);
	threads_init(t, unlocked, holder_sleeps);
	assert_int_equal(run(t, &s, &f), 0);
	ac_findings_deinit(&f);
}

static void test_holder_not_asleep(void **state)
{
	(void)state;
	static const char *const running[HAND_MAX_FRAMES] = {
		"aio_bh_call", "aio_bh_poll", "aio_poll", "job_exit", "iothread_run",
	};
	static const char *const elsewhere[HAND_MAX_FRAMES] = {
		"ppoll@libc.so.6", "qemu_poll_ns", "iothread_run",
	};
	struct hand_thread t[2];
	struct scene s;
	scene_init(&s);
	struct ac_findings f;
	threads_init(t, main_waits, running);
	assert_int_equal(run(t, &s, &f), 0);
	assert_true(hand_checked(&f, "running (not asleep in aio_poll)"));
	ac_findings_deinit(&f);
	threads_init(t, main_waits, elsewhere);
	assert_int_equal(run(t, &s, &f), 0);
	assert_true(hand_checked(&f, "not in aio_poll"));
	ac_findings_deinit(&f);
	/* The owner is no thread of the core. */
	threads_init(t, main_waits, holder_sleeps);
	t[1].tid = gettid() + 1;
	assert_int_equal(run(t, &s, &f), 0);
	assert_true(hand_checked(&f, "not in the core"));
	ac_findings_deinit(&f);
}

static void test_owner_is_main(void **state)
{
	(void)state;
	struct hand_thread t[2];
	threads_init(t, main_waits, holder_sleeps);
	t[0].tid = gettid();   /* this thread is the main one */
	t[1].tid = MAIN_TID;
	struct scene s;
	scene_init(&s);
	struct ac_findings f;
	assert_int_equal(run(t, &s, &f), 0);
	char want[96];
	snprintf(want, sizeof(want), "qemu_global_mutex held by the main thread %d", gettid());
	assert_true(hand_checked(&f, want));
	ac_findings_deinit(&f);
}

static void test_no_main_thread(void **state)
{
	(void)state;
	static const char *const worker[HAND_MAX_FRAMES] = {
		"futex_wait@libc.so.6", "qemu_cond_timedwait", "worker_thread",
	};
	struct hand_thread t[2];
	threads_init(t, worker, holder_sleeps);
	struct scene s;
	scene_init(&s);
	struct ac_findings f;
	assert_int_equal(run(t, &s, &f), 0);
	assert_true(hand_checked(&f, "no main thread"));
	ac_findings_deinit(&f);
}

/* Last: unlocks the BQL. */
static void test_bql_free(void **state)
{
	(void)state;
	qemu_mutex_unlock_iothread();
	struct hand_thread t[2];
	threads_init(t, main_waits, holder_sleeps);
	struct scene s;
	scene_init(&s);
	struct ac_findings f;
	assert_int_equal(run(t, &s, &f), 0);
	assert_true(hand_checked(&f, "qemu_global_mutex is free"));
	ac_findings_deinit(&f);
}

int main(void)
{
	qemu_mutex_lock_iothread();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fires),
		cmocka_unit_test(test_no_waited_work),
		cmocka_unit_test(test_nameless_libc),
		cmocka_unit_test(test_main_not_waiting),
		cmocka_unit_test(test_holder_not_asleep),
		cmocka_unit_test(test_owner_is_main),
		cmocka_unit_test(test_no_main_thread),
		cmocka_unit_test(test_bql_free),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
