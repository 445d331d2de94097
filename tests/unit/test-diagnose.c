/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * diagnose (analyzer/rules/diagnose.c): the findings' order (most
 * confident first, stable among equals), the signature that groups cores,
 * and ac_diagnose() end to end on a snapshot of the reference runtime (g5)
 * in which two patterns hold at once: a BH runnable on an IOThread's
 * context whose wakeup was lost (lost-notify), while that thread holds the
 * BQL the main thread waits for (bql-poll-cycle).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/aio.h"        /* the runtime's */
#include "block/block.h"
#include "qemu/main-loop.h"
#include "rules/rules.h"
#include "hand-program.h"

static void test_sort(void **state)
{
	(void)state;
	static const struct { const char *id; enum ac_confidence c; } added[] = {
		{ "bql-poll-cycle", AC_CONFIDENCE_MEDIUM },
		{ "lost-notify", AC_CONFIDENCE_HIGH },
		{ "nested-poll", AC_CONFIDENCE_LOW },
		{ "lost-completion", AC_CONFIDENCE_HIGH },
		{ "event-lost-wakeup", AC_CONFIDENCE_MEDIUM },
	};
	static const char *const sorted[] = { "lost-notify", "lost-completion", "bql-poll-cycle",
					      "event-lost-wakeup", "nested-poll" };
	struct ac_findings f = { 0 };
	for (size_t i = 0; i < 5; i++)
		ac_findings_add(&f, added[i].id, added[i].c, "%zu", i);
	ac_findings_sort(&f);
	assert_int_equal(f.n, 5);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(f.items[i].pattern->id, sorted[i]);
	ac_findings_deinit(&f);
	ac_findings_sort(&f);   /* none: nothing to do */
}

static void test_signature(void **state)
{
	(void)state;
	struct ac_analysis a = { 0 };
	struct ac_findings f = { 0 };
	char *sig = ac_diagnose_signature(&a, &f);
	assert_string_equal(sig, "none");
	free(sig);
	struct ac_finding *x = ac_findings_add(&f, "lost-notify", AC_CONFIDENCE_HIGH, "s");
	ac_finding_evidence(x, "runnable BH", ac_evidence_at(AC_ADDRESS(0x1000)), "cb=x");
	sig = ac_diagnose_signature(&a, &f);
	assert_string_equal(sig, "lost-notify");   /* no thread's frame yet */
	free(sig);
	ac_finding_evidence(x, "not a thread", ac_evidence_at(.frame = "#7 elsewhere"),
			    "frame, no tid");
	ac_finding_evidence(x, "home thread",
			    ac_evidence_at(.tid = 42, .frame = "#12 main_loop_wait"),
			    "asleep");
	ac_finding_evidence(x, "later thread", ac_evidence_at(.tid = 43, .frame = "#1 aio_poll"),
			    "asleep");
	struct ac_finding *y = ac_findings_add(&f, "bql-poll-cycle", AC_CONFIDENCE_LOW, "s");
	ac_finding_evidence(y, "BQL holder", ac_evidence_at(.tid = 44, .frame = "#2 aio_poll"),
			    "asleep");
	/* The first finding's first thread frame, without its number. */
	sig = ac_diagnose_signature(&a, &f);
	assert_string_equal(sig, "lost-notify @ main_loop_wait");
	free(sig);
	free(f.items[0].evidence[2].frame);   /* x moved with the second add */
	f.items[0].evidence[2].frame = strdup("?");
	sig = ac_diagnose_signature(&a, &f);
	assert_string_equal(sig, "lost-notify @ ?");
	free(sig);
	ac_findings_deinit(&f);
}

static pid_t snapshot;
static AioContext *iothread_ctx;

static void work(void *opaque)
{
	(void)opaque;
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(qemu_init_main_loop(), 0);
	iothread_ctx = aio_context_new();
	/* Its disk's node names it, as aiocore finds contexts from roots. */
	BlockDriverState *bs = calloc(1, sizeof(*bs));
	bdrv_register(bs);
	bs->aio_context = iothread_ctx;
	qemu_bh_schedule(aio_bh_new(iothread_ctx, work, NULL));
	iothread_ctx->notified = false;   /* the wakeup that got lost */
	qemu_mutex_lock_iothread();       /* this thread holds the BQL */
	snapshot = hand_snapshot();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hand_snapshot_end(snapshot);
	qemu_mutex_unlock_iothread();
	return 0;
}

static void test_diagnose(void **state)
{
	(void)state;
	struct hand_thread threads[2] = {
		{ 1000, "qemu-system-x86", { "__lll_lock_wait@libc.so.6", "qemu_mutex_lock_impl",
					     "qemu_mutex_lock_iothread", "main_loop_wait", "main" } },
		{ gettid(), "IO iothread0", { "ppoll@libc.so.6", "aio_poll", "iothread_run",
					      "qemu_thread_start" } },
	};
	struct ac_program *prog = hand_program_open_pid(snapshot, threads, 2, HAND_NO_THREAD);
	struct ac_analysis a;
	struct ac_findings f;
	assert_null(ac_diagnose(prog, &a, &f));
	assert_int_equal(f.n, 2);
	assert_string_equal(f.items[0].pattern->id, "lost-notify");
	assert_int_equal(f.items[0].confidence, AC_CONFIDENCE_HIGH);
	assert_string_equal(f.items[1].pattern->id, "bql-poll-cycle");
	/* Nothing queued on qemu_aio_context: the cycle is only likely. */
	assert_int_equal(f.items[1].confidence, AC_CONFIDENCE_MEDIUM);
	char *sig = ac_diagnose_signature(&a, &f);
	assert_string_equal(sig, "lost-notify @ aio_poll");
	free(sig);
	ac_findings_deinit(&f);
	ac_analysis_deinit(&a);
	hand_program_close(prog);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sort),
		cmocka_unit_test(test_signature),
		cmocka_unit_test_setup_teardown(test_diagnose, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
