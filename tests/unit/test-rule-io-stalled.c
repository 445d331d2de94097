/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * io-stalled on a hand-built wait-for graph: a pool worker in pwritev on a
 * RawPosixAIOData whose block node names the file, with a request and a
 * coroutine waiting above it, is the finding (medium: one core cannot tell
 * stalled from slow).  An offset call without a request record is one too.
 * A read on an eventfd (no offset), a poll, a futex, or no thread waiting at
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
	{ 300, "qemu-img", { "ppoll@libc.so.6", "qemu_poll_ns", "aio_poll", "main" } },
	{ 301, "worker", { "pwritev@libc.so.6", "qemu_pwritev", "handle_aiocb_rw",
			   "worker_thread" } },
};

struct scene {
	struct ac_thread_wait tw[2];
	struct ac_wait_node nodes[4];
	struct ac_wait_edge edges[3];
	struct ac_analysis a;
};

static void scene_init(struct scene *s)
{
	*s = (struct scene){
		.tw = {
			{ .thread_index = 0, .tid = 300, .kind = AC_WAIT_POLL,
			  .blocked_in = "ppoll", .frame = 2, .in_syscall = true,
			  .syscall = { .number = 271, .name = "ppoll" }, .n_fds = 3 },
			{ .thread_index = 1, .tid = 301, .kind = AC_WAIT_IO,
			  .blocked_in = "pwritev", .frame = 1, .frame_text = "#1 qemu_pwritev",
			  .in_syscall = true, .syscall = { .number = 296, .name = "pwritev" },
			  .io_call = "pwritev", .fd = 9, .has_offset = true, .offset = 1048576,
			  .has_length = true, .length = 65536, .args_from = "syscall registers",
			  .aio = { .address = 0x5555000a0000, .fd = 9, .offset = 1048576,
				   .length = 65536, .kind = "write", .bs = 0x5555000b0000,
				   .node = { .address = 0x5555000b0000, .name = "disk0",
					     .node_name = "disk0", .driver = "file",
					     .filename = "/var/lib/images/disk0.raw",
					     .has_in_flight = true, .in_flight = 1 } } },
		},
		.nodes = {
			{ .type = AC_NODE_THREAD, .tid = 300, .id = "thread:300",
			  .label = "thread 300 asleep in ppoll" },
			{ .type = AC_NODE_THREAD, .tid = 301, .id = "thread:301",
			  .label = "thread 301 pwritev" },
			{ .type = AC_NODE_REQUEST, .address = 0x5555000c0000,
			  .id = "request:0x5555000c0000", .label = "ThreadPoolElement write" },
			{ .type = AC_NODE_COROUTINE, .address = 0x5555000d0000,
			  .id = "coroutine:0x5555000d0000", .label = "coroutine blk_co_pwritev" },
		},
		/* coroutine -> request -> worker thread 301 */
		.edges = { { 3, 2, "waits for" }, { 2, 1, "served by" } },
	};
	s->a = (struct ac_analysis){ .waits = {
		.threads = { s->tw, 2 }, .nodes = s->nodes, .n_nodes = 4,
		.edges = s->edges, .n_edges = 2,
	} };
}

static size_t run(const struct scene *s, struct ac_findings *f)
{
	return hand_run_rule(ac_rule_io_stalled, threads, 2, &s->a, f);
}

static void test_fires(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	struct ac_findings f;
	run(&s, &f);
	const struct ac_finding *x = hand_finding(&f, "io-stalled", AC_CONFIDENCE_MEDIUM);
	assert_string_equal(x->summary, "write of /var/lib/images/disk0.raw: pwritev(fd 9, "
			    "offset 1048576, 65536 bytes) not returned in thread 301, in flight; "
			    "a single core cannot tell stalled from slow");
	const struct ac_evidence *e = hand_evidence(x, "system call");
	assert_int_equal(e->tid, 301);
	assert_string_equal(e->frame, "#1 qemu_pwritev");
	assert_non_null(strstr(e->value, "(from syscall registers)"));
	e = hand_evidence(x, "RawPosixAIOData");
	assert_int_equal(e->address, 0x5555000a0000);
	assert_string_equal(e->value, "write fd 9 offset 1048576 length 65536");
	e = hand_evidence(x, "file");
	assert_int_equal(e->address, 0x5555000b0000);
	assert_string_equal(e->value, "/var/lib/images/disk0.raw (block node \"disk0\", "
			    "driver file, in_flight 1)");
	/* The waiters above the thread, nearest first. */
	assert_string_equal(hand_evidence(x, "waiting request")->value, "ThreadPoolElement write");
	assert_int_equal(hand_evidence(x, "waiting coroutine")->address, 0x5555000d0000);
	size_t request = 0, coroutine = 0;
	for (size_t i = 0; i < x->n_evidence; i++) {
		if (!strcmp(x->evidence[i].what, "waiting request"))
			request = i;
		if (!strcmp(x->evidence[i].what, "waiting coroutine"))
			coroutine = i;
	}
	assert_true(request && request < coroutine);
	ac_findings_deinit(&f);
}

/* No request record (a direct pread64 in the main loop): the call names it. */
static void test_offset_call_without_request(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	s.tw[1].aio = (struct ac_posix_aio){ 0 };
	s.tw[1].io_call = "fdatasync";
	s.tw[1].has_offset = s.tw[1].has_length = false;
	s.a.waits.n_edges = 0;
	struct ac_findings f;
	run(&s, &f);
	const struct ac_finding *x = hand_finding(&f, "io-stalled", AC_CONFIDENCE_MEDIUM);
	assert_string_equal(x->summary, "fdatasync: fdatasync(fd 9) not returned in thread 301, "
			    "in flight; a single core cannot tell stalled from slow");
	for (size_t i = 0; i < x->n_evidence; i++) {
		assert_string_not_equal(x->evidence[i].what, "file");
		assert_string_not_equal(x->evidence[i].what, "waiting request");
	}
	ac_findings_deinit(&f);
}

/* A read on an eventfd or a socket is I/O but not a file's. */
static void test_read_is_not_file_io(void **state)
{
	(void)state;
	static const char *const calls[] = { "read", "readv", "write", "recvmsg" };
	for (size_t i = 0; i < 4; i++) {
		struct scene s;
		scene_init(&s);
		s.tw[1].aio = (struct ac_posix_aio){ 0 };
		s.tw[1].io_call = calls[i];
		struct ac_findings f;
		assert_int_equal(run(&s, &f), 0);
		assert_true(hand_checked(&f, "io-stalled: no thread in a file I/O system call"));
		ac_findings_deinit(&f);
	}
}

/* A worker that waits for a lock or a poll, even with a request record. */
static void test_not_in_io(void **state)
{
	(void)state;
	static const enum ac_wait_kind kinds[] = { AC_WAIT_MUTEX, AC_WAIT_POLL,
						   AC_WAIT_SYSCALL, AC_WAIT_NONE };
	for (size_t i = 0; i < 4; i++) {
		struct scene s;
		scene_init(&s);
		s.tw[1].kind = kinds[i];
		struct ac_findings f;
		assert_int_equal(run(&s, &f), 0);
		ac_findings_deinit(&f);
	}
	struct scene s;
	scene_init(&s);
	s.a.waits.threads.n = 0;
	struct ac_findings f;
	assert_int_equal(run(&s, &f), 0);
	assert_true(hand_checked(&f, "no thread in a file I/O system call"));
	ac_findings_deinit(&f);
}

/* A wait cycle above the thread: the waiters are listed once, no loop. */
static void test_cycle_above(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	s.edges[2] = (struct ac_wait_edge){ 2, 3, "waits for" };  /* request <-> coroutine */
	s.a.waits.n_edges = 3;
	struct ac_findings f;
	run(&s, &f);
	const struct ac_finding *x = hand_finding(&f, "io-stalled", AC_CONFIDENCE_MEDIUM);
	size_t waiters = 0;
	for (size_t i = 0; i < x->n_evidence; i++)
		waiters += !strncmp(x->evidence[i].what, "waiting ", 8);
	assert_int_equal(waiters, 2);
	ac_findings_deinit(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fires),
		cmocka_unit_test(test_offset_call_without_request),
		cmocka_unit_test(test_read_is_not_file_io),
		cmocka_unit_test(test_not_in_io),
		cmocka_unit_test(test_cycle_above),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
