/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ac_waits_leaves on hand-built graphs (diagnose's wait summary): the
 * nodes something waits on that wait on nothing, each with its nearest
 * waiter (a thread in I/O before a thread in a poll before a coroutine)
 * and the count of nodes above it; no edge at all is idle (no leaf); a
 * cycle has no leaf and does not loop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "qemu/qemu.h"

static struct ac_thread_wait io = { .kind = AC_WAIT_IO }, poll_wait = { .kind = AC_WAIT_POLL };

static struct ac_wait_node nodes[] = {
	{ .type = AC_NODE_JOB, .label = "job m0" },                           /* 0 */
	{ .type = AC_NODE_COROUTINE, .label = "job's coroutine" },            /* 1 */
	{ .type = AC_NODE_REQUEST, .label = "read request" },                 /* 2 */
	{ .type = AC_NODE_THREAD, .label = "worker in preadv", .wait = &io }, /* 3 */
	{ .type = AC_NODE_BLOCK, .label = "block node src" },                 /* 4 */
	{ .type = AC_NODE_THREAD, .label = "main, draining", .wait = &poll_wait }, /* 5 */
	{ .type = AC_NODE_THREAD, .label = "idle thread", .wait = &poll_wait },    /* 6 */
};

static void test_leaves(void **state)
{
	(void)state;
	/* The drainer's edge comes first: the worker must still be the nearest. */
	struct ac_wait_edge edges[] = {
		{ 5, 4, "drains" }, { 0, 1, "runs in" }, { 1, 2, "waits for" },
		{ 2, 3, "served by" }, { 3, 4, "in I/O on" },
	};
	struct ac_waits w = { .nodes = nodes, .n_nodes = 7, .edges = edges, .n_edges = 5 };
	struct ac_wait_leaf leaves[4];
	assert_int_equal(ac_waits_leaves(&w, leaves, 4), 1);
	assert_int_equal(leaves[0].node, 4);
	assert_int_equal(leaves[0].nearest, 3);
	assert_int_equal(leaves[0].n_waiters, 5);   /* job, coroutine, request, worker, main */
	assert_int_equal(ac_waits_leaves(&w, leaves, 0), 0);
}

static void test_idle_and_cycle(void **state)
{
	(void)state;
	struct ac_waits w = { .nodes = nodes, .n_nodes = 7 };
	struct ac_wait_leaf leaves[4];
	assert_int_equal(ac_waits_leaves(&w, leaves, 4), 0);     /* idle */
	struct ac_wait_edge cycle[] = { { 5, 6, "waits for" }, { 6, 5, "waits for" } };
	w.edges = cycle;
	w.n_edges = 2;
	assert_int_equal(ac_waits_leaves(&w, leaves, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leaves),
		cmocka_unit_test(test_idle_and_cycle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
