/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * drain-wait on hand-built analyses: the main thread's aio_poll called from
 * bdrv_drain_all_begin (qmp_transaction) while a node has a read in flight
 * and a worker sits in its preadv: the finding (medium) names the thread,
 * its drain frame, the node with in_flight and quiesce_counter, the tracked
 * request, the worker and the job asked to pause.  ac_drain_find reads the
 * drain from the hand thread's frames, also through bdrv_do_drained_begin.
 * Near-misses: nothing in flight, a drain of another node, no drain.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "rules/rule.h"
#include "hand-program.h"

static const struct hand_thread threads[] = {
	{ 500, "qemu-storage-da", { "ppoll@libc.so.6", "fdmon_poll_wait", "aio_poll",
				    "bdrv_drain_all_begin", "qmp_transaction",
				    "qmp_blockdev_snapshot_sync", "aio_bh_poll", "main" } },
	{ 501, "worker", { "preadv@libc.so.6", "qemu_preadv", "handle_aiocb_rw",
			   "worker_thread" } },
	{ 502, "iothread", { "ppoll@libc.so.6", "qemu_poll_ns", "aio_poll",
			     "bdrv_do_drained_begin", "bdrv_drained_begin", "blk_drain",
			     "iothread_run" } },
	{ 503, "plain", { "ppoll@libc.so.6", "qemu_poll_ns", "aio_poll", "iothread_run" } },
};

struct scene {
	struct ac_thread_wait tw[2];
	struct ac_tracked_request req;
	struct ac_block_node node;
	struct ac_job job;
	struct ac_drain drain;
	struct ac_analysis a;
};

static void scene_init(struct scene *s)
{
	*s = (struct scene){
		.tw = {
			{ .thread_index = 0, .tid = 500, .kind = AC_WAIT_POLL, .blocked_in = "ppoll",
			  .frame = 1, .in_syscall = true, .n_fds = 1 },
			{ .thread_index = 1, .tid = 501, .kind = AC_WAIT_IO, .blocked_in = "preadv",
			  .frame = 1, .frame_text = "#1 qemu_preadv", .in_syscall = true,
			  .syscall = { .number = 295, .name = "preadv" }, .io_call = "preadv",
			  .fd = 9, .has_offset = true, .has_length = true, .length = 1048576,
			  .args_from = "syscall registers",
			  .aio = { .address = 0x5555000a0000, .fd = 9, .length = 1048576,
				   .kind = "read", .node = { .address = 0x5555000b0000 } } },
		},
		.req = { .address = 0x7fff00001000, .offset = 0, .bytes = 1048576,
			 .type_name = "BDRV_TRACKED_READ", .co = 0x5555000d0000 },
		.node = { .address = 0x5555000b0000, .name = "src", .node_name = "src",
			  .driver = "file", .filename = "/srv/src.raw", .has_in_flight = true,
			  .in_flight = 1, .has_quiesce_counter = true, .quiesce_counter = 1,
			  .n_requests = 1 },
		.job = { .address = 0x5555000e0000, .id = "m0", .status = "JOB_STATUS_RUNNING",
			 .pause_count = 3 },
		.drain = { .thread_index = 0, .poll_frame = 2, .drain_frame = 3, .caller_frame = 4,
			   .function = "bdrv_drain_all_begin" },
	};
	s->node.requests = &s->req;
	s->a = (struct ac_analysis){
		.blocks = { .nodes = &s->node, .n_nodes = 1, .has_nodes = true },
		.jobs = { &s->job, 1 },
		.drains = &s->drain, .n_drains = 1,
		.waits = { .threads = { s->tw, 2 } },
	};
}

static size_t run(const struct scene *s, struct ac_findings *f)
{
	return hand_run_rule(ac_rule_drain_wait, threads, 2, &s->a, f);
}

static void test_fires(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	struct ac_findings f;
	run(&s, &f);
	const struct ac_finding *x = hand_finding(&f, "drain-wait", AC_CONFIDENCE_MEDIUM);
	assert_string_equal(x->summary, "thread 500 in bdrv_drain_all_begin (from qmp_transaction) "
			    "waits for 1 request in flight on block node \"src\"; a single core "
			    "cannot tell stalled from slow");
	const struct ac_evidence *e = hand_evidence(x, "draining thread");
	assert_int_equal(e->tid, 500);
	assert_non_null(strstr(e->frame, "bdrv_drain_all_begin"));
	assert_string_equal(e->value, "bdrv_drain_all_begin called from qmp_transaction");
	e = hand_evidence(x, "block node");
	assert_int_equal(e->address, 0x5555000b0000);
	assert_string_equal(e->value, "\"src\" (file /srv/src.raw) in_flight 1, quiesce_counter 1");
	e = hand_evidence(x, "tracked request");
	assert_string_equal(e->value, "BDRV_TRACKED_READ offset 0 bytes 1048576, "
			    "coroutine 0x5555000d0000");
	e = hand_evidence(x, "worker");
	assert_int_equal(e->tid, 501);
	assert_string_equal(e->frame, "#1 qemu_preadv");
	e = hand_evidence(x, "job");
	assert_string_equal(e->value, "\"m0\" JOB_STATUS_RUNNING, pause requested "
			    "(pause_count 3) but not paused");
	ac_findings_deinit(&f);
}

static void test_near_misses(void **state)
{
	(void)state;
	for (int k = 0; k < 2; k++) {
		struct scene s;
		scene_init(&s);
		if (k == 0)
			s.node.in_flight = 0;
		else
			s.drain.bs = 0x5555000c0000;     /* drains another node */
		struct ac_findings f;
		assert_int_equal(run(&s, &f), 0);
		assert_true(hand_checked(&f, "drain-wait: 1 thread in a drain loop, no node"));
		ac_findings_deinit(&f);
	}
	struct scene s;
	scene_init(&s);
	s.a.n_drains = 0;
	struct ac_findings f;
	assert_int_equal(run(&s, &f), 0);
	assert_int_equal(f.n_checked, 0);            /* no drain, no line */
	ac_findings_deinit(&f);
}

/* A high-confidence finding about the thread (nested-poll) tells the story. */
static void test_explained(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	struct ac_findings f = { 0 };
	struct ac_finding *x = ac_findings_add(&f, "nested-poll", AC_CONFIDENCE_HIGH, "nested");
	ac_finding_evidence(x, "poller", ac_evidence_at(.tid = 500), "aio_poll");
	struct ac_program *prog = hand_program_open(threads, 2);
	ac_rule_drain_wait(prog, &s.a, &f);
	hand_program_close(prog);
	assert_int_equal(f.n, 1);
	assert_true(hand_checked(&f, "drain-wait: thread 500's drain loop is in the nested-poll finding"));
	ac_findings_deinit(&f);
}

/* The decoder: the drain above aio_poll, its outermost function's caller. */
static void test_drain_find(void **state)
{
	(void)state;
	struct ac_program *prog = hand_program_open(threads, 4);
	struct ac_drain d;
	assert_true(ac_drain_find(prog, 0, &d));
	assert_int_equal(d.poll_frame, 2);
	assert_int_equal(d.drain_frame, 3);
	assert_int_equal(d.caller_frame, 4);
	assert_string_equal(d.function, "bdrv_drain_all_begin");
	assert_int_equal(d.bs, 0);                   /* drain_all: every node */
	assert_false(ac_drain_find(prog, 1, &d));    /* a worker: no aio_poll */
	assert_true(ac_drain_find(prog, 2, &d));
	assert_string_equal(d.function, "bdrv_do_drained_begin");
	assert_int_equal(d.caller_frame, 6);         /* above blk_drain */
	assert_false(ac_drain_find(prog, 3, &d));    /* an IOThread's own loop */
	hand_program_close(prog);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fires),
		cmocka_unit_test(test_near_misses),
		cmocka_unit_test(test_drain_find),
		cmocka_unit_test(test_explained),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
