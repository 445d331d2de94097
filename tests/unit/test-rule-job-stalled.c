/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * job-stalled on a hand-built wait-for graph: a running mirror job whose
 * coroutine waits for an operation's coroutine, whose request a worker
 * serves in a preadv, is the finding (medium), naming the job, its
 * coroutine and the worker's read once.  A paused job, a ready job without
 * operations, a job whose coroutine waits on nothing decoded and no job at
 * all are near-misses.
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
	{ 400, "qemu-system", { "ppoll@libc.so.6", "qemu_poll_ns", "main_loop_wait", "main" } },
	{ 401, "worker", { "preadv@libc.so.6", "qemu_preadv", "handle_aiocb_rw",
			   "worker_thread" } },
};

struct scene {
	struct ac_thread_wait tw[2];
	struct ac_job job;
	uint64_t ops[1];
	struct ac_wait_node nodes[6];
	struct ac_wait_edge edges[5];
	struct ac_analysis a;
};

static void scene_init(struct scene *s)
{
	*s = (struct scene){
		.tw = {
			{ .thread_index = 0, .tid = 400, .kind = AC_WAIT_POLL, .blocked_in = "ppoll",
			  .frame = 2, .n_fds = 4 },
			{ .thread_index = 1, .tid = 401, .kind = AC_WAIT_IO, .blocked_in = "preadv",
			  .frame = 1, .frame_text = "#1 qemu_preadv", .in_syscall = true,
			  .syscall = { .number = 295, .name = "preadv" }, .io_call = "preadv",
			  .fd = 10, .has_offset = true, .offset = 0, .has_length = true,
			  .length = 1048576, .args_from = "syscall registers",
			  .aio = { .address = 0x5555000a0000, .fd = 10, .length = 1048576,
				   .kind = "read", .node = { .address = 0x5555000b0000,
							     .filename = "/srv/src.raw" } } },
		},
		.ops = { 0x5555000d0000 },
		.job = { .address = 0x5555000e0000, .id = "m0", .type = "JOB_TYPE_MIRROR",
			 .status = "JOB_STATUS_RUNNING", .busy = true, .has_progress = true,
			 .current = 1048576, .total = 67108864, .co = 0x5555000f0000,
			 .n_ops = 1 },
		.nodes = {
			{ .type = AC_NODE_THREAD, .tid = 400, .id = "thread:400", .label = "main" },
			{ .type = AC_NODE_THREAD, .tid = 401, .id = "thread:401",
			  .label = "thread 401: preadv" },
			{ .type = AC_NODE_REQUEST, .address = 0x5555000c0000,
			  .id = "request:0x5555000c0000", .label = "read request THREAD_ACTIVE" },
			{ .type = AC_NODE_COROUTINE, .address = 0x5555000d0000,
			  .id = "coroutine:0x5555000d0000", .label = "coroutine (mirror_co_read)" },
			{ .type = AC_NODE_COROUTINE, .address = 0x5555000f0000,
			  .id = "coroutine:0x5555000f0000", .label = "coroutine (job \"m0\"'s)" },
			{ .type = AC_NODE_JOB, .address = 0x5555000e0000, .id = "job:0x5555000e0000",
			  .label = "job \"m0\" (mirror) running" },
		},
		/* job -> its coroutine -> operation -> request -> worker */
		.edges = { { 5, 4, "runs in" }, { 4, 3, "waits for" }, { 3, 2, "waits for" },
			   { 2, 1, "served by" } },
	};
	s->job.op_coroutines = s->ops;
	s->nodes[1].wait = &s->tw[1];
	s->nodes[0].wait = &s->tw[0];
	s->nodes[5].job = &s->job;
	s->a = (struct ac_analysis){
		.jobs = { &s->job, 1 },
		.waits = { .threads = { s->tw, 2 }, .nodes = s->nodes, .n_nodes = 6,
			   .edges = s->edges, .n_edges = 4 },
	};
}

static size_t run(const struct scene *s, struct ac_findings *f)
{
	return hand_run_rule(ac_rule_job_stalled, threads, 2, &s->a, f);
}

static void test_fires(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	struct ac_findings f;
	run(&s, &f);
	const struct ac_finding *x = hand_finding(&f, "job-stalled", AC_CONFIDENCE_MEDIUM);
	assert_string_equal(x->summary, "job \"m0\" (mirror, running, progress 1048576 of 67108864 "
			    "bytes) waits on preadv(fd 10, offset 0, 1048576 bytes) not returned "
			    "of /srv/src.raw in thread 401; a single core cannot tell stalled from slow");
	const struct ac_evidence *e = hand_evidence(x, "job");
	assert_int_equal(e->address, 0x5555000e0000);
	assert_string_equal(e->value, "\"m0\" JOB_TYPE_MIRROR JOB_STATUS_RUNNING busy, "
			    "offset 1048576 of 67108864");
	e = hand_evidence(x, "job coroutine");
	assert_int_equal(e->address, 0x5555000f0000);
	assert_string_equal(e->value, "1 operation in flight");
	/* The path below the job's coroutine: operation, then request. */
	assert_int_equal(hand_evidence(x, "waits for")->address, 0x5555000d0000);
	e = hand_evidence(x, "leaf");
	assert_int_equal(e->tid, 401);
	assert_string_equal(e->frame, "#1 qemu_preadv");
	assert_non_null(strstr(e->value, "(io-stalled has its file, fd and request)"));
	/* The file's evidence stays io-stalled's. */
	for (size_t i = 0; i < x->n_evidence; i++)
		assert_string_not_equal(x->evidence[i].what, "file");
	ac_findings_deinit(&f);
}

/* A request no worker runs is the leaf when nothing deeper waits. */
static void test_queued_request_leaf(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	s.a.waits.n_edges = 3;                       /* no worker serves it */
	struct ac_findings f;
	run(&s, &f);
	const struct ac_finding *x = hand_finding(&f, "job-stalled", AC_CONFIDENCE_MEDIUM);
	const struct ac_evidence *e = hand_evidence(x, "leaf");
	assert_int_equal(e->address, 0x5555000c0000);
	assert_string_equal(e->value, "read request THREAD_ACTIVE");
	ac_findings_deinit(&f);
}

static void test_not_moving(void **state)
{
	(void)state;
	for (int k = 0; k < 4; k++) {
		struct scene s;
		scene_init(&s);
		if (k == 0)
			s.job.paused = true;
		if (k == 1) {                        /* ready and idle */
			s.job.status = "JOB_STATUS_READY";
			s.job.n_ops = 0;
		}
		if (k == 2)
			s.job.status = "JOB_STATUS_CONCLUDED";
		if (k == 3)
			s.a.waits.n_edges = 1;       /* the coroutine waits on nothing decoded */
		struct ac_findings f;
		assert_int_equal(run(&s, &f), 0);
		assert_true(hand_checked(&f, "job-stalled: 1 job, "));
		ac_findings_deinit(&f);
	}
	struct scene s;
	scene_init(&s);
	s.a.jobs.n = 0;
	struct ac_findings f;
	assert_int_equal(run(&s, &f), 0);
	assert_int_equal(f.n_checked, 0);            /* no job, no line */
	ac_findings_deinit(&f);
}

/* A ready mirror with operations in flight still copies: it may stall. */
static void test_ready_with_operations(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	s.job.status = "JOB_STATUS_READY";
	struct ac_findings f;
	run(&s, &f);
	hand_finding(&f, "job-stalled", AC_CONFIDENCE_MEDIUM);
	ac_findings_deinit(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fires),
		cmocka_unit_test(test_queued_request_leaf),
		cmocka_unit_test(test_not_moving),
		cmocka_unit_test(test_ready_with_operations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
