/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared evidence lines (analyzer/rules/evidence.c): a BH line with and
 * without QEMUBH.name, g2 booleans and g5 flags, and the home-thread line
 * known, unknown, and without an anchor frame.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "rules/rule.h"
#include "hand-program.h"

static void test_bh(void **state)
{
	(void)state;
	struct ac_findings f = { 0 };
	struct ac_finding *x = ac_findings_add(&f, "lost-notify", AC_CONFIDENCE_HIGH, "s");
	struct ac_bh named = { .address = 0x1000, .cb_name = "aio_wait_bh", .name = "aio_wait",
			       .has_flags = true, .pending = true, .scheduled = true,
			       .oneshot = true, .runnable = true };
	/* 2.x: booleans only; no callback symbol */
	struct ac_bh old = { .address = 0x2000, .scheduled = false, .idle = true,
			     .deleted = true };
	ac_evidence_bh(x, "a", &named);
	ac_evidence_bh(x, "b", &old);
	assert_string_equal(x->evidence[0].value,
			    "\"aio_wait\" cb=aio_wait_bh [pending scheduled oneshot] runnable");
	assert_true(x->evidence[0].has_address);
	assert_int_equal(x->evidence[0].address, 0x1000);
	assert_string_equal(x->evidence[1].value, "cb=? [idle deleted] not scheduled");
	ac_findings_deinit(&f);
}

static void test_home(void **state)
{
	(void)state;
	static const struct hand_thread threads[] = {
		{ 10, "main", { "ppoll@libc.so.6", "qemu_poll_ns", "main_loop_wait", "main" } },
		{ 11, "iothread", { "epoll_wait@libc.so.6", "aio_poll", "iothread_run" } },
	};
	struct ac_program *prog = hand_program_open(threads, 2);
	struct ac_findings f = { 0 };
	struct ac_finding *x = ac_findings_add(&f, "lost-notify", AC_CONFIDENCE_HIGH, "s");
	struct ac_aio_context ctx = {
		.home_tid = 11, .home_thread_index = 1, .anchor_frame = 1,
		.home_how = "IOThread.ctx of iothread_run", .blocked_in = "epoll_wait <- aio_poll",
		.sleeping_in_poll = true,
	};
	ac_evidence_home(prog, x, &ctx);
	ctx.anchor_frame = -1;
	ctx.sleeping_in_poll = false;
	ctx.blocked_in = NULL;
	ac_evidence_home(prog, x, &ctx);
	ctx.home_tid = 0;
	ac_evidence_home(prog, x, &ctx);
	assert_int_equal(x->n_evidence, 3);
	assert_int_equal(x->evidence[0].tid, 11);
	assert_string_equal(x->evidence[0].frame, "#1 aio_poll");
	assert_string_equal(x->evidence[0].value,
			    "asleep in epoll_wait <- aio_poll (IOThread.ctx of iothread_run)");
	assert_null(x->evidence[1].frame);
	assert_string_equal(x->evidence[1].value, "running in ? (IOThread.ctx of iothread_run)");
	assert_int_equal(x->evidence[2].tid, 0);
	assert_string_equal(x->evidence[2].value,
			    "unknown (no thread could be tied to this AioContext)");
	ac_findings_deinit(&f);
	hand_program_close(prog);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bh),
		cmocka_unit_test(test_home),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
