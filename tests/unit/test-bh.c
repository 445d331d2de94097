/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The QEMUBH decoder (analyzer/qemu/bh.c) on real BHs: the reference
 * runtime, built for one profile (g2: first_bh and booleans, g5 and g10:
 * bh_list and BH_* flags from DWARF), runs in this process; the test makes
 * an AioContext and BHs through its API and decodes them from this
 * process's memory.  Hostile shapes (a cycle, a wild next pointer) are
 * stored into the private QEMUBH through its DWARF member.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "block/aio.h"        /* the runtime's */
#include "qemu/qemu.h"
#include "hand-program.h"

#define ADDR(p) ((uint64_t)(uintptr_t)(p))

static int some_object;

/* The runtime never frees a context: keep each reachable (LeakSanitizer). */
static AioContext *contexts[8];

static AioContext *new_context(void)
{
	static size_t n;
	assert_true(n < sizeof(contexts) / sizeof(contexts[0]));
	return contexts[n++] = aio_context_new();
}

static void cb_a(void *opaque)
{
	(void)opaque;
}

static void cb_b(void *opaque)
{
	(void)opaque;
}

/* Decodes ctx's BHs, ctx->co_schedule_bh (2.9+) and ctx->thread_pool included. */
static void decode(struct ac_program *prog, AioContext *ctx, struct ac_bh_list *list)
{
	struct ac_aio_context c;
	hand_context(prog, ADDR(ctx), &c);
#if AIOCORE_PROFILE >= 5
	c.co_schedule_bh = ADDR(ctx->co_schedule_bh);
#endif
	c.thread_pool = ADDR(ctx->thread_pool);
	assert_null(ac_bhs_decode(prog, &c, list));
}

static const struct ac_bh *find(const struct ac_bh_list *list, QEMUBH *bh)
{
	const struct ac_bh *found = ac_bh_list_find(list, ADDR(bh));
	if (!found)
		fail_msg("BH %p not decoded", (void *)bh);
	return found;
}

static void test_scheduled(void **state)
{
	(void)state;
	AioContext *ctx = new_context();
	QEMUBH *a = aio_bh_new(ctx, cb_a, &some_object);
	static QEMUBH *idle;   /* on no list from 5.0: kept reachable here */
	idle = aio_bh_new(ctx, cb_b, NULL);
	qemu_bh_schedule(a);
	struct ac_program *prog = hand_program_self();
	struct ac_bh_list list;
	decode(prog, ctx, &list);
	assert_null(list.walk_problem);
	const struct ac_bh *bh = find(&list, a);
	assert_null(bh->problem);
	assert_int_equal(bh->ctx, ADDR(ctx));
	assert_int_equal(bh->cb, ADDR(cb_a));
	assert_string_equal(bh->cb_name, "cb_a");
	assert_string_equal(bh->opaque_name, "some_object");
	assert_true(bh->scheduled);
	assert_true(bh->runnable);
	assert_false(bh->deleted);
	assert_false(bh->oneshot);
	char flags[64];
#if AIOCORE_PROFILE == 2
	assert_false(bh->has_flags);
	assert_null(bh->name);
	assert_string_equal(bh->where, "first_bh");
	assert_string_equal(ac_bh_flags_text(bh, flags, sizeof(flags)), "scheduled");
	/* 2.x keeps idle BHs on first_bh too */
	assert_false(find(&list, idle)->runnable);
	/* before 2.9 no co_schedule_bh: these two are all there is */
	assert_int_equal(list.n, 2);
#else
	assert_true(bh->has_flags);
	assert_true(bh->pending);
	assert_string_equal(bh->name, "cb_a");
	assert_string_equal(bh->where, "bh_list");
	assert_string_equal(ac_bh_flags_text(bh, flags, sizeof(flags)), "pending scheduled");
	/* 5.0+: a BH that is not pending is on no list */
	assert_null(ac_bh_list_find(&list, ADDR(idle)));
	assert_string_equal(find(&list, ctx->co_schedule_bh)->where, "AioContext.co_schedule_bh");
	assert_false(find(&list, ctx->co_schedule_bh)->runnable);
#endif
	ac_bh_list_deinit(&list);
	hand_program_close(prog);
}

static void test_oneshot_and_deleted(void **state)
{
	(void)state;
	AioContext *ctx = new_context();
	aio_bh_schedule_oneshot(ctx, cb_a, NULL);
	QEMUBH *gone = aio_bh_new(ctx, cb_b, NULL);
	qemu_bh_schedule(gone);
	qemu_bh_delete(gone);
	struct ac_program *prog = hand_program_self();
	struct ac_bh_list list;
	decode(prog, ctx, &list);
	const struct ac_bh *oneshot = NULL;
	for (size_t i = 0; i < list.n; i++)
		if (list.items[i].cb == ADDR(cb_a))
			oneshot = &list.items[i];
	assert_non_null(oneshot);
	assert_true(oneshot->oneshot);
	assert_true(oneshot->runnable);
	const struct ac_bh *bh = find(&list, gone);
	assert_true(bh->deleted);
	assert_false(bh->runnable);
	ac_bh_list_deinit(&list);
	hand_program_close(prog);
}

/* An idle completion BH is on no list: found through its pool. */
static void test_completion_bh(void **state)
{
	(void)state;
	AioContext *ctx = new_context();
	aio_get_thread_pool(ctx);
	struct ac_program *prog = hand_program_self();
	struct ac_bh_list list;
	decode(prog, ctx, &list);
	const struct ac_bh *bh = NULL;
	for (size_t i = 0; i < list.n; i++)
		if (strstr(list.items[i].where, "ThreadPool.completion_bh"))
			bh = &list.items[i];
	assert_non_null(bh);
	assert_string_equal(bh->cb_name, "thread_pool_completion_bh");
	assert_false(bh->runnable);
	ac_bh_list_deinit(&list);
	hand_program_close(prog);
}

#if AIOCORE_PROFILE == 2
#define NEXT "next"
#else
#define NEXT "next.sle_next"
#endif

/* b -> a -> b: the walk stops, says so, and keeps both. */
static void test_cycle(void **state)
{
	(void)state;
	AioContext *ctx = new_context();
	QEMUBH *a = aio_bh_new(ctx, cb_a, NULL);
	QEMUBH *b = aio_bh_new(ctx, cb_b, NULL);
	qemu_bh_schedule(a);
	qemu_bh_schedule(b);
	struct ac_program *prog = hand_program_self();
	uint64_t old = hand_poke(prog, "QEMUBH", "aio_bh_poll", ADDR(a), NEXT, ADDR(b));
	struct ac_bh_list list;
	decode(prog, ctx, &list);
	hand_poke(prog, "QEMUBH", "aio_bh_poll", ADDR(a), NEXT, old);
	assert_non_null(list.walk_problem);
	assert_non_null(strstr(list.walk_problem, "cycle"));
	assert_true(find(&list, a)->runnable);
	assert_true(find(&list, b)->runnable);
	assert_true(prog->n_notes > 0);
	ac_bh_list_deinit(&list);
	hand_program_close(prog);
}

/* A wild next: that entry is unreadable, named so, and the walk ends. */
static void test_wild_next(void **state)
{
	(void)state;
	AioContext *ctx = new_context();
	QEMUBH *a = aio_bh_new(ctx, cb_a, NULL);
	qemu_bh_schedule(a);
	struct ac_program *prog = hand_program_self();
	uint64_t old = hand_poke(prog, "QEMUBH", "aio_bh_poll", ADDR(a), NEXT, 0x10);
	struct ac_bh_list list;
	decode(prog, ctx, &list);
	hand_poke(prog, "QEMUBH", "aio_bh_poll", ADDR(a), NEXT, old);
	assert_null(find(&list, a)->problem);
	const struct ac_bh *wild = ac_bh_list_find(&list, 0x10);
	assert_non_null(wild);
	assert_non_null(wild->problem);
	assert_non_null(strstr(wild->problem, "unreadable"));
	assert_false(wild->runnable);
	assert_true(prog->n_notes > 0);
	ac_bh_list_deinit(&list);
	hand_program_close(prog);
}

/*
 * A BH that runs past the end of a mapping (its first bytes readable, the
 * rest not): it is unreadable, and the problem names an address past the
 * mapping (the member read that failed), not the BH's start.
 */
static void test_bh_across_a_mapping_end(void **state)
{
	(void)state;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *pages = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(pages != MAP_FAILED);
	assert_int_equal(munmap(pages + page, page), 0);
	uint64_t at = ADDR(pages + page - 8);
	AioContext *ctx = new_context();
	QEMUBH *a = aio_bh_new(ctx, cb_a, NULL);
	qemu_bh_schedule(a);
	struct ac_program *prog = hand_program_self();
	uint64_t old = hand_poke(prog, "QEMUBH", "aio_bh_poll", ADDR(a), NEXT, at);
	struct ac_bh_list list;
	decode(prog, ctx, &list);
	hand_poke(prog, "QEMUBH", "aio_bh_poll", ADDR(a), NEXT, old);
	assert_null(find(&list, a)->problem);
	const struct ac_bh *cut = ac_bh_list_find(&list, at);
	assert_non_null(cut);
	assert_non_null(cut->problem);
	/* The member read that failed: past the mapping, inside the BH. */
	const char *named = strstr(cut->problem, "address 0x");
	assert_non_null(named);
	uint64_t bad = strtoull(named + strlen("address "), NULL, 16);
	if (bad < ADDR(pages + page) || bad >= at + 256)
		fail_msg("problem '%s' names 0x%" PRIx64 ", not a byte past 0x%" PRIx64,
			 cut->problem, bad, ADDR(pages + page));
	assert_false(cut->runnable);
	ac_bh_list_deinit(&list);
	hand_program_close(prog);
	assert_int_equal(munmap(pages, page), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scheduled),
		cmocka_unit_test(test_oneshot_and_deleted),
		cmocka_unit_test(test_completion_bh),
		cmocka_unit_test(test_cycle),
		cmocka_unit_test(test_wild_next),
		cmocka_unit_test(test_bh_across_a_mapping_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
