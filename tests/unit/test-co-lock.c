/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Coroutine locks (analyzer/qemu/co-lock.c) on CoMutexes and CoQueues this
 * test defines with QEMU's member names: the 2.9+ CoMutex (locked, holder,
 * the CoWaitRecord lists to_pop and from_push) and, built with
 * -DCO_LOCK_2X, the 2.5-2.8 one (locked, holder, a CoQueue).  Found from a
 * qcow2 node's BDRVQcow2State.lock and from qemu-img convert's
 * ImgConvertState.lock, reached through a holder's entry argument; the
 * waiters and holder become edges of the wait-for graph.  Hostile: a
 * cycle, a wild pointer, 100000 waiters cut at the cap with a note.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hand-program.h"

#define ADDR(p) ((uint64_t)(uintptr_t)(p))

typedef struct Coroutine {
	void (*entry)(void *);
	void *entry_arg;
	struct Coroutine *caller;
	struct { struct Coroutine *sqe_next; } co_queue_next;
} Coroutine;
typedef struct CoQueue { struct { Coroutine *sqh_first, **sqh_last; } entries; } CoQueue;
#ifdef CO_LOCK_2X
typedef struct CoMutex { bool locked; Coroutine *holder; CoQueue queue; } CoMutex;
#else
typedef struct CoWaitRecord {
	Coroutine *co;
	struct { struct CoWaitRecord *sle_next; } next;
} CoWaitRecord;
typedef struct CoMutex {
	unsigned locked;
	void *ctx;
	struct { CoWaitRecord *slh_first; } from_push, to_pop;
	unsigned handoff, sequence;
	Coroutine *holder;
} CoMutex;
#endif
typedef struct BDRVQcow2State { int cluster_bits; CoMutex lock; } BDRVQcow2State;
typedef struct ImgConvertState { long sector_num; CoMutex lock; } ImgConvertState;
typedef struct BlockDriver { const char *format_name; } BlockDriver;
typedef struct BlockDriverState {
	BlockDriver *drv;
	void *opaque;
	char node_name[32];
	char filename[64];
	struct { struct BlockDriverState *tqe_next, **tqe_prev; } bs_list;
} BlockDriverState;

/* Not static: only the analyzer reads them, the compiler must keep them. */
struct { BlockDriverState *tqh_first, **tqh_last; } all_bdrv_states;
BlockDriverState node;
BlockDriver qcow2_driver = { "qcow2" };
BDRVQcow2State qcow2;
ImgConvertState convert;
Coroutine co[6];
#ifndef CO_LOCK_2X
CoWaitRecord rec[6];
#endif
CoQueue queue;

/* qemu-img's entry, by name: the analyzer looks up ImgConvertState.lock from it. */
__attribute__((noinline, used)) void convert_co_do_copy(void *opaque)
{
	__asm__ volatile("" : : "r"(opaque) : "memory");
}

/* waiters[0..n) wait on m, in wake-up order. */
static void wait_on(CoMutex *m, Coroutine *const *waiters, size_t n)
{
#ifdef CO_LOCK_2X
	m->queue.entries.sqh_first = n ? waiters[0] : NULL;
	for (size_t i = 0; i < n; i++)
		waiters[i]->co_queue_next.sqe_next = i + 1 < n ? waiters[i + 1] : NULL;
#else
	/* The first half on to_pop in order, the rest pushed newest first. */
	size_t half = n / 2;
	m->to_pop.slh_first = half ? &rec[0] : NULL;
	for (size_t i = 0; i < half; i++)
		rec[i] = (CoWaitRecord){ waiters[i], { i + 1 < half ? &rec[i + 1] : NULL } };
	m->from_push.slh_first = n > half ? &rec[n - 1] : NULL;
	for (size_t i = n; i-- > half;)
		rec[i] = (CoWaitRecord){ waiters[i], { i > half ? &rec[i - 1] : NULL } };
#endif
}

static void scene(void)
{
	memset(co, 0, sizeof(co));
	memset(&qcow2, 0, sizeof(qcow2));
	memset(&convert, 0, sizeof(convert));
	memset(&queue, 0, sizeof(queue));
	node = (BlockDriverState){ .drv = &qcow2_driver, .opaque = &qcow2, .node_name = "disk",
				   .filename = "/images/disk.qcow2" };
	all_bdrv_states.tqh_first = &node;
	for (size_t i = 0; i < 6; i++) {
		co[i].entry = convert_co_do_copy;
		co[i].entry_arg = &convert;
	}
	/* co[0] holds qcow2's lock (nobody waits) and convert's, co[1..4] wait on the latter. */
	qcow2.lock.locked = 1;
	qcow2.lock.holder = &co[0];
	convert.lock.locked = 5;
	convert.lock.holder = &co[0];
	Coroutine *const waiters[] = { &co[1], &co[2], &co[3], &co[4] };
	wait_on(&convert.lock, waiters, 4);
}

static void test_mutex(void **state)
{
	(void)state;
	scene();
	struct ac_program *prog = hand_program_self();
	struct ac_co_lock lock;
	assert_null(ac_co_lock_decode(prog, AC_CO_MUTEX, ADDR(&convert.lock), "convert", &lock));
	assert_true(lock.locked);
	assert_int_equal(lock.holder, ADDR(&co[0]));
	assert_int_equal(lock.n_waiters, 4);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(lock.waiters[i], ADDR(&co[i + 1]));
	assert_null(lock.problem);
	assert_string_equal(lock.name, "convert");
	ac_co_lock_deinit(&lock);
	hand_program_close(prog);
}

static void test_queue(void **state)
{
	(void)state;
	scene();
	queue.entries.sqh_first = &co[5];
	co[5].co_queue_next.sqe_next = &co[3];
	co[3].co_queue_next.sqe_next = NULL;
	struct ac_program *prog = hand_program_self();
	struct ac_co_lock lock;
	assert_null(ac_co_lock_decode(prog, AC_CO_QUEUE, ADDR(&queue), "q", &lock));
	assert_false(lock.locked);
	assert_int_equal(lock.holder, 0);
	assert_int_equal(lock.n_waiters, 2);
	assert_int_equal(lock.waiters[0], ADDR(&co[5]));
	assert_int_equal(lock.waiters[1], ADDR(&co[3]));
	ac_co_lock_deinit(&lock);
	hand_program_close(prog);
}

/* From the qcow2 node, then through the holder's entry argument. */
static void test_find(void **state)
{
	(void)state;
	scene();
	struct ac_program *prog = hand_program_self();
	struct ac_co_lock_list list;
	assert_null(ac_co_locks_find(prog, NULL, 0, &list));
	assert_int_equal(list.n, 2);
	assert_int_equal(list.items[0].address, ADDR(&qcow2.lock));
	assert_string_equal(list.items[0].name,
			    "BDRVQcow2State.lock of node disk (qcow2 disk.qcow2)");
	assert_int_equal(list.items[0].n_waiters, 0);
	assert_int_equal(list.items[1].address, ADDR(&convert.lock));
	assert_string_equal(list.items[1].name,
			    "ImgConvertState.lock (convert_co_do_copy's argument)");
	assert_int_equal(list.items[1].n_waiters, 4);
	assert_ptr_equal(ac_co_lock_waited_by(&list, ADDR(&co[2])), &list.items[1]);
	assert_null(ac_co_lock_waited_by(&list, ADDR(&co[0])));
	ac_co_lock_list_deinit(&list);

	/* A free qcow2 lock: convert's is still found from a known coroutine. */
	qcow2.lock = (CoMutex){ 0 };
	const uint64_t known[] = { ADDR(&co[3]) };
	assert_null(ac_co_locks_find(prog, known, 1, &list));
	assert_int_equal(list.n, 1);
	assert_int_equal(list.items[0].address, ADDR(&convert.lock));
	ac_co_lock_list_deinit(&list);
	hand_program_close(prog);
}

/* The graph links waiters -> lock -> holder (no AioContext here: a bare analysis). */
static void test_graph(void **state)
{
	(void)state;
	scene();
	struct ac_program *prog = hand_program_self();
	struct ac_analysis a = { 0 };
	assert_null(ac_co_locks_find(prog, NULL, 0, &a.co_locks));
	struct ac_waits waits;
	assert_null(ac_waits_build(prog, &a, &waits));
	const struct ac_waits *w = &waits;
	long lock = -1, holder = -1, waiter = -1;
	for (size_t i = 0; i < w->n_nodes; i++) {
		if (w->nodes[i].type == AC_NODE_CO_LOCK && w->nodes[i].address == ADDR(&convert.lock))
			lock = (long)i;
		if (w->nodes[i].type == AC_NODE_COROUTINE && w->nodes[i].address == ADDR(&co[0]))
			holder = (long)i;
		if (w->nodes[i].type == AC_NODE_COROUTINE && w->nodes[i].address == ADDR(&co[4]))
			waiter = (long)i;
	}
	assert_true(lock >= 0 && holder >= 0 && waiter >= 0);
	assert_non_null(strstr(w->nodes[lock].label, "held, 4 waiters"));
	assert_non_null(strstr(w->nodes[holder].label, "(convert_co_do_copy)"));
	bool held_by = false, waits_for = false;
	for (size_t e = 0; e < w->n_edges; e++) {
		held_by |= w->edges[e].from == (size_t)lock && w->edges[e].to == (size_t)holder &&
			   !strcmp(w->edges[e].label, "held by");
		waits_for |= w->edges[e].from == (size_t)waiter && w->edges[e].to == (size_t)lock &&
			     !strcmp(w->edges[e].label, "waits for");
	}
	assert_true(held_by && waits_for);
	ac_waits_deinit(&waits);
	ac_co_lock_list_deinit(&a.co_locks);
	hand_program_close(prog);
}

#ifdef CO_LOCK_2X
#define FIRST(m) ((m)->queue.entries.sqh_first)
#define LINK(c, n) ((c)->co_queue_next.sqe_next = (n))
#else
#define FIRST(m) ((m)->to_pop.slh_first)
#define LINK(c, n) ((c)->next.sle_next = (n))
#endif

static void test_cycle(void **state)
{
	(void)state;
	scene();
#ifdef CO_LOCK_2X
	LINK(&co[4], &co[2]);
#else
	convert.lock.from_push.slh_first = NULL;
	convert.lock.to_pop.slh_first = &rec[0];
	LINK(&rec[1], &rec[0]);
#endif
	struct ac_program *prog = hand_program_self();
	struct ac_co_lock lock;
	assert_null(ac_co_lock_decode(prog, AC_CO_MUTEX, ADDR(&convert.lock), "c", &lock));
	assert_non_null(lock.problem);
	assert_non_null(strstr(lock.problem, "waiter list: cycle at 0x"));
	assert_true(lock.n_waiters >= 2 && lock.n_waiters <= 8);
	ac_co_lock_deinit(&lock);
	hand_program_close(prog);
}

static void test_wild_pointer(void **state)
{
	(void)state;
	scene();
#ifdef CO_LOCK_2X
	LINK(&co[2], (Coroutine *)(uintptr_t)0x18);
#else
	convert.lock.from_push.slh_first = NULL;
	LINK(&rec[1], (CoWaitRecord *)(uintptr_t)0x18);
#endif
	struct ac_program *prog = hand_program_self();
	struct ac_co_lock lock;
	assert_null(ac_co_lock_decode(prog, AC_CO_MUTEX, ADDR(&convert.lock), "c", &lock));
	assert_int_equal(lock.n_waiters, 2);      /* co[1], co[2]; then unreadable */
	assert_non_null(lock.problem);
	assert_non_null(strstr(lock.problem, "at 0x18"));
	ac_co_lock_deinit(&lock);
	/* ac_co_locks_find says it in a note and keeps what it read. */
	struct ac_co_lock_list list;
	assert_null(ac_co_locks_find(prog, NULL, 0, &list));
	assert_true(hand_noted(prog, "(ImgConvertState.lock (convert_co_do_copy's argument)): "
				     "waiter list: "));
	ac_co_lock_list_deinit(&list);
	hand_program_close(prog);
}

/* 100000 waiters: more than a lock has; cut at the cap, with a note. */
static void test_long_list(void **state)
{
	(void)state;
	scene();
	enum { N = 100000 };
#ifdef CO_LOCK_2X
	Coroutine *many = calloc(N, sizeof(*many));
	assert_non_null(many);
	for (size_t i = 0; i < N; i++)
		LINK(&many[i], i + 1 < N ? &many[i + 1] : NULL);
	FIRST(&convert.lock) = &many[0];
#else
	CoWaitRecord *many = calloc(N, sizeof(*many));
	assert_non_null(many);
	for (size_t i = 0; i < N; i++)
		many[i] = (CoWaitRecord){ &co[1], { i + 1 < N ? &many[i + 1] : NULL } };
	FIRST(&convert.lock) = &many[0];
	convert.lock.from_push.slh_first = NULL;
#endif
	struct ac_program *prog = hand_program_self();
	struct ac_co_lock_list list;
	assert_null(ac_co_locks_find(prog, NULL, 0, &list));
	assert_int_equal(list.n, 2);
	assert_int_equal(list.items[1].n_waiters, AC_CO_LOCK_MAX_WAITERS);
	assert_non_null(list.items[1].problem);
	assert_true(hand_noted(prog, "waiter list: too long at 0x"));
	ac_co_lock_list_deinit(&list);
	hand_program_close(prog);
	FIRST(&convert.lock) = NULL;
	free(many);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutex),
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_graph),
		cmocka_unit_test(test_cycle),
		cmocka_unit_test(test_wild_pointer),
		cmocka_unit_test(test_long_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
