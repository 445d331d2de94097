/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The wait-for graph (analyzer/qemu/waits.c) of hand threads in this
 * process, linked with the reference runtime (g5): its BQL
 * (qemu_global_mutex, held by the main thread) and the test's own `bql`
 * (QEMU 9.0's name for it, held by a helper thread) are real QemuMutexes,
 * so the owners are glibc's.  Two hand threads each waiting for the lock
 * the other holds are a cycle; one waiting on a lock whose owner waits on
 * nothing is not.  A request's coroutine and its completing thread are
 * chained.  A hostile pool of 10001 requests is cut at the node cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qemu/main-loop.h"   /* the runtime's */
#include "qemu/thread.h"
#include "hand-program.h"

#define ADDR(p) ((uint64_t)(uintptr_t)(p))

/* QEMU 9.0+'s name for the BQL: thread-wait.c finds it under bql_lock_impl. */
QemuMutex bql;

static pid_t main_tid, helper_tid;
static pthread_t helper;
static int go[2], held[2];

static void *hold_bql(void *arg)
{
	(void)arg;
	char c = 0;
	qemu_mutex_lock(&bql);
	helper_tid = gettid();
	if (write(held[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
		return NULL;
	qemu_mutex_unlock(&bql);
	return NULL;
}

static int setup(void **state)
{
	(void)state;
	char c;
	main_tid = gettid();
	qemu_mutex_init(&bql);
	qemu_mutex_lock_iothread();
	if (pipe(go) || pipe(held) || pthread_create(&helper, NULL, hold_bql, NULL) ||
	    read(held[0], &c, 1) != 1)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char c = 0;
	qemu_mutex_unlock_iothread();
	if (write(go[1], &c, 1) != 1)
		return -1;
	return pthread_join(helper, NULL);
}

struct graph {
	struct hand_thread threads[3];
	size_t n_threads;
	struct ac_program *prog;
	struct ac_waits w;
};

/* Hand thread i: tid, waiting for the BQL under one of its two names. */
static struct hand_thread bql_waiter(pid_t tid, const char *taker)
{
	return (struct hand_thread){ tid, "hand", { "qemu_mutex_lock_impl", taker, "main" } };
}

static void build(struct graph *g, const struct ac_analysis *a)
{
	g->prog = hand_program_open(g->threads, g->n_threads);
	assert_null(ac_waits_build(g->prog, a, &g->w));
	assert_int_equal(g->w.threads.n, g->n_threads);
}

static void graph_end(struct graph *g)
{
	ac_waits_deinit(&g->w);
	hand_program_close(g->prog);
}

static long node_of(const struct ac_waits *w, enum ac_wait_node_type type, uint64_t address)
{
	for (size_t i = 0; i < w->n_nodes; i++)
		if (w->nodes[i].type == type && w->nodes[i].address == address)
			return (long)i;
	return -1;
}

static bool has_edge(const struct ac_waits *w, long from, long to, const char *label)
{
	for (size_t i = 0; i < w->n_edges; i++)
		if ((long)w->edges[i].from == from && (long)w->edges[i].to == to)
			return !strcmp(w->edges[i].label, label);
	return false;
}

static const struct ac_analysis no_contexts;

static void test_lock_cycle(void **state)
{
	(void)state;
	struct graph g = { .n_threads = 2 };
	/* The helper waits for the BQL the main thread holds, and the other way round. */
	g.threads[0] = bql_waiter(helper_tid, "qemu_mutex_lock_iothread_impl");
	g.threads[1] = bql_waiter(main_tid, "bql_lock_impl");
	build(&g, &no_contexts);
	const struct ac_thread_wait *t = g.w.threads.items;
	assert_int_equal(t[0].kind, AC_WAIT_MUTEX);
	assert_string_equal(t[0].object_name, "qemu_global_mutex");
	assert_true(t[0].has_owner);
	assert_int_equal(t[0].owner_tid, main_tid);
	assert_string_equal(t[1].object_name, "bql");
	assert_int_equal(t[1].object, ADDR(&bql));
	assert_int_equal(t[1].owner_tid, helper_tid);

	long bql_node = node_of(&g.w, AC_NODE_LOCK, ADDR(&bql));
	long global = node_of(&g.w, AC_NODE_LOCK, t[0].object);
	assert_true(bql_node >= 0 && global >= 0);
	assert_int_equal(g.w.n_nodes, 4);
	assert_true(has_edge(&g.w, 0, global, "waits for"));
	assert_true(has_edge(&g.w, global, 1, "held by"));
	assert_true(has_edge(&g.w, 1, bql_node, "waits for"));
	assert_true(has_edge(&g.w, bql_node, 0, "held by"));
	/* The cycle: all four nodes, each waiting on the next. */
	assert_non_null(g.w.cycle);
	assert_int_equal(g.w.n_cycle, 4);
	for (size_t i = 0; i < 4; i++) {
		size_t from = g.w.cycle[i], to = g.w.cycle[(i + 1) % 4];
		assert_true(has_edge(&g.w, (long)from, (long)to, "waits for") ||
			    has_edge(&g.w, (long)from, (long)to, "held by"));
	}
	char id[32];
	snprintf(id, sizeof(id), "thread:%d", main_tid);
	assert_string_equal(g.w.nodes[ac_waits_thread_node(&g.w, 1)].id, id);
	graph_end(&g);
}

/* The owner of the lock waits on nothing: a chain, not a cycle. */
static void test_no_cycle(void **state)
{
	(void)state;
	struct graph g = { .n_threads = 2 };
	g.threads[0] = bql_waiter(helper_tid, "qemu_mutex_lock_iothread_impl");
	g.threads[1] = (struct hand_thread){ main_tid, "main",
					     { "ppoll@libc.so.6", "qemu_poll_ns", "main_loop_wait" } };
	build(&g, &no_contexts);
	assert_null(g.w.cycle);
	assert_int_equal(g.w.n_cycle, 0);
	long global = node_of(&g.w, AC_NODE_LOCK, g.w.threads.items[0].object);
	assert_true(has_edge(&g.w, global, 1, "held by"));
	assert_int_equal(ac_waits_in_degree(&g.w, 1), 1);
	assert_int_equal(ac_waits_out_degree(&g.w, 1), 0);
	size_t path[4];
	assert_int_equal(ac_waits_waiters(&g.w, 1, path, 4), 2);
	assert_int_equal(path[0], (size_t)global);
	assert_int_equal(path[1], 0);
	graph_end(&g);
}

/* A done request: its coroutine waits for it, the context's home thread completes it. */
static void test_request_chain(void **state)
{
	(void)state;
	struct graph g = { .n_threads = 1 };
	g.threads[0] = (struct hand_thread){ main_tid, "main", { "ppoll@libc.so.6", "main" } };
	struct ac_aio_context ctx = { .home_tid = main_tid, .home_thread_index = 0 };
	struct ac_pool_element e = { .address = 0x555500003000, .done = true, .kind = "read",
				     .state_name = "THREAD_DONE", .coroutine = 0x555500006000,
				     .co_entry_name = "blk_co_preadv" };
	struct ac_pool_element bad = { .address = 0x555500003100, .problem = "unreadable" };
	struct ac_pool_element two[2] = { e, bad };
	struct ac_thread_pool pool = { .address = 0x555500002000, .type_name = "ThreadPool",
				       .elements = two, .n_elements = 2 };
	struct ac_analysis a = { .contexts = { &ctx, 1 }, .pools = &pool };
	build(&g, &a);
	long req = node_of(&g.w, AC_NODE_REQUEST, 0x555500003000);
	long co = node_of(&g.w, AC_NODE_COROUTINE, 0x555500006000);
	assert_true(req >= 0 && co >= 0);
	assert_int_equal(node_of(&g.w, AC_NODE_REQUEST, 0x555500003100), -1);
	assert_string_equal(g.w.nodes[req].label, "read request 0x555500003000 THREAD_DONE "
			    "(ThreadPool 0x555500002000)");
	assert_string_equal(g.w.nodes[co].id, "coroutine:0x555500006000");
	assert_true(has_edge(&g.w, co, req, "waits for"));
	assert_true(has_edge(&g.w, req, 0, "completed by"));
	size_t path[4];
	assert_int_equal(ac_waits_waiters(&g.w, 0, path, 4), 2);
	assert_int_equal(path[0], (size_t)req);
	assert_int_equal(path[1], (size_t)co);
	assert_null(g.w.cycle);
	graph_end(&g);
}

/* A hostile pool list: the graph stops at its cap and says so. */
static void test_cap(void **state)
{
	(void)state;
	enum { N = 10001 };
	struct ac_pool_element *many = calloc(N, sizeof(*many));
	assert_non_null(many);
	for (size_t i = 0; i < N; i++)
		many[i] = (struct ac_pool_element){ .address = 0x7000000000 + 0x100 * i,
						    .kind = "read", .queued = true };
	struct ac_aio_context ctx = { 0 };
	struct ac_thread_pool pool = { .address = 0x555500002000, .type_name = "ThreadPool",
				       .elements = many, .n_elements = N };
	struct ac_analysis a = { .contexts = { &ctx, 1 }, .pools = &pool };
	struct graph g = { .n_threads = 1 };
	g.threads[0] = (struct hand_thread){ main_tid, "main", { "ppoll@libc.so.6", "main" } };
	build(&g, &a);
	assert_int_equal(g.w.n_nodes, 10000);
	assert_true(hand_noted(g.prog, "wait-for graph cut at 10000 nodes or edges"));
	graph_end(&g);
	free(many);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_cycle),
		cmocka_unit_test(test_no_cycle),
		cmocka_unit_test(test_request_chain),
		cmocka_unit_test(test_cap),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
