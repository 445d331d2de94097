/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * remote-not-answering on hand-built NBD client nodes whose requests'
 * coroutines are real ones of the reference runtime (g5), suspended in
 * qemu_coroutine_yield() in a snapshot of this process: requests in flight
 * with parked coroutines are the finding (medium: one core cannot tell a
 * stalled server from a slow one).  No request in flight, a request whose
 * coroutine is running (being worked on), or one whose coroutine cannot be
 * read are near-misses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "block/aio.h"        /* the runtime's */
#include "qemu/main-loop.h"
#include "rules/rule.h"
#include "hand-program.h"

#define ADDR(p) ((uint64_t)(uintptr_t)(p))

static Coroutine *parked[2], *conn, *running;
static pid_t snapshot;

static void __attribute__((noinline)) entry_waits_for_reply(void *opaque)
{
	(void)opaque;
	qemu_coroutine_yield();
	__asm__ volatile("" ::: "memory");   /* no tail call: keep this frame */
}

static void entry_snapshots(void *opaque)
{
	(void)opaque;
	snapshot = hand_snapshot();
	qemu_coroutine_yield();
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(qemu_init_main_loop(), 0);
	for (int i = 0; i < 2; i++) {
		parked[i] = qemu_coroutine_create(entry_waits_for_reply, NULL);
		qemu_coroutine_enter(parked[i]);
	}
	conn = qemu_coroutine_create(entry_waits_for_reply, NULL);
	qemu_coroutine_enter(conn);
	running = qemu_coroutine_create(entry_snapshots, NULL);
	qemu_coroutine_enter(running);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hand_snapshot_end(snapshot);
	return 0;
}

static const struct hand_thread main_thread[] = {
	{ 900, "qemu-img", { "ppoll@libc.so.6", "aio_poll", "main" } },
};

struct scene {
	struct ac_nbd_request req[2];
	struct ac_nbd_client client;
	struct ac_analysis a;
};

static void scene_init(struct scene *s)
{
	*s = (struct scene){
		.req = {
			{ .index = 0, .address = 0x5555000e0000, .coroutine = ADDR(parked[0]),
			  .offset = 0, .has_receiving = true, .receiving = true },
			{ .index = 3, .address = 0x5555000e0060, .coroutine = ADDR(parked[1]),
			  .offset = 65536, .has_receiving = true, .receiving = false },
		},
		.client = {
			.bs = 0x5555000f0000, .node_name = "nbd0",
			.state_address = 0x555500100000, .state_type = "BDRVNBDState",
			.has_state = true, .state = 0, .state_name = "NBD_CLIENT_CONNECTED",
			.has_in_flight = true, .in_flight = 2,
			.server = "unix:/run/nbd.sock", .server_field = 0x555500110000,
			.export_name = "disk", .fd = 11, .n_slots = 16,
		},
	};
	s->client.requests = s->req;
	s->client.n_requests = 2;
	s->a = (struct ac_analysis){ .nbd = { &s->client, 1, NULL } };
}

static size_t run(const struct scene *s, struct ac_findings *f)
{
	struct ac_program *prog = hand_program_open_pid(snapshot, main_thread, 1, 0);
	*f = (struct ac_findings){ 0 };
	ac_rule_remote_not_answering(prog, &s->a, f);
	hand_program_close(prog);
	return f->n;
}

static void test_fires(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	struct ac_findings f;
	run(&s, &f);
	const struct ac_finding *x = hand_finding(&f, "remote-not-answering", AC_CONFIDENCE_MEDIUM);
	assert_string_equal(x->summary, "NBD server unix:/run/nbd.sock has not replied to node "
			    "\"nbd0\": 2 requests in flight, 2 coroutines parked waiting for "
			    "replies; a single core cannot tell stalled from slow");
	const struct ac_evidence *e = hand_evidence(x, "NBD server");
	assert_int_equal(e->address, 0x555500110000);
	assert_string_equal(e->value, "unix:/run/nbd.sock (export \"disk\", socket fd 11)");
	assert_string_equal(hand_evidence(x, "BDRVNBDState.state")->value,
			    "NBD_CLIENT_CONNECTED (0)");
	assert_string_equal(hand_evidence(x, "BDRVNBDState.in_flight")->value, "2");
	char want[160];
	snprintf(want, sizeof(want), "offset 0, coroutine 0x%" PRIx64
		 ", receiving (parked until its reply)", ADDR(parked[0]));
	assert_string_equal(hand_evidence(x, "requests[0]")->value, want);
	snprintf(want, sizeof(want), "offset 65536, coroutine 0x%" PRIx64
		 ", not receiving (sending, or reading the reply header)", ADDR(parked[1]));
	assert_string_equal(hand_evidence(x, "requests[3]")->value, want);
	/* Both coroutines, unwound: parked in the entry, the switch skipped. */
	size_t n_co = 0;
	for (size_t i = 0; i < x->n_evidence; i++) {
		if (strcmp(x->evidence[i].what, "waiting coroutine"))
			continue;
		n_co++;
		assert_true(x->evidence[i].address == ADDR(parked[0]) ||
			    x->evidence[i].address == ADDR(parked[1]));
		assert_non_null(strstr(x->evidence[i].value,
				       "entry=entry_waits_for_reply suspended in entry_waits_for_reply"));
	}
	assert_int_equal(n_co, 2);
	assert_non_null(strstr(hand_evidence(x, "next step")->value,
			       "check the NBD server at unix:/run/nbd.sock"));
	assert_true(hand_checked(&f, "NBD node \"nbd0\" (unix:/run/nbd.sock): 2 requests in "
				 "flight, 2 waiting for replies"));
	ac_findings_deinit(&f);
}

/* 5.2: connection_co reads replies; an unknown server is said so. */
static void test_connection_co(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	s.client.connection_co = ADDR(conn);
	s.client.server = NULL;
	s.client.server_field = 0;
	s.client.has_state = s.client.has_in_flight = false;
	s.client.n_requests = 1;
	struct ac_findings f;
	run(&s, &f);
	const struct ac_finding *x = hand_finding(&f, "remote-not-answering", AC_CONFIDENCE_MEDIUM);
	assert_non_null(strstr(x->summary, "NBD server (address unknown) has not replied to node "
			       "\"nbd0\": 1 request in flight, 1 coroutine parked"));
	const struct ac_evidence *e = hand_evidence(x, "connection_co");
	assert_int_equal(e->address, ADDR(conn));
	assert_false(hand_evidence(x, "NBD server")->has_address);
	for (size_t i = 0; i < x->n_evidence; i++)
		assert_null(strstr(x->evidence[i].what, ".state"));
	ac_findings_deinit(&f);
}

static void test_no_request(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	s.client.n_requests = 0;
	struct ac_findings f;
	assert_int_equal(run(&s, &f), 0);
	assert_true(hand_checked(&f, "NBD node \"nbd0\" (unix:/run/nbd.sock): no request in flight"));
	ac_findings_deinit(&f);
}

/* The request's coroutine runs: it is being worked on, not parked. */
static void test_coroutine_running(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	s.req[0].coroutine = ADDR(running);
	s.client.n_requests = 1;
	struct ac_findings f;
	assert_int_equal(run(&s, &f), 0);
	assert_true(hand_checked(&f, "1 request in flight, 0 waiting for replies"));
	ac_findings_deinit(&f);
}

/* A coroutine that cannot be read is no proof of a parked request. */
static void test_coroutine_unreadable(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	s.req[0].coroutine = 0x10;
	s.req[1].coroutine = 0x18;
	struct ac_findings f;
	assert_int_equal(run(&s, &f), 0);
	assert_true(hand_checked(&f, "2 requests in flight, 0 waiting for replies"));
	ac_findings_deinit(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fires),
		cmocka_unit_test(test_connection_co),
		cmocka_unit_test(test_no_request),
		cmocka_unit_test(test_coroutine_running),
		cmocka_unit_test(test_coroutine_unreadable),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
