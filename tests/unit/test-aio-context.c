/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The AioContext decoder (analyzer/qemu/aio-context.c) on real contexts:
 * the reference runtime (g2, g5, g10) runs in this process, whose
 * qemu_init_main_loop() sets the statics qemu_aio_context and
 * iohandler_ctx, a block node on all_bdrv_states names one more (a root),
 * and one lives only in the heap (found by the memory scan, which runs
 * only when asked).  The decoder reads a snapshot of this process (a
 * paused fork), so that it meets no copies of its own earlier scans; hand
 * threads decide the homes.  Hostile: heap words
 * equal to &aio_source_funcs that are not AioContexts (wild eventfds, a
 * pool that does not point back) must not be taken for one.
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
#include "qemu/qemu.h"
#include "hand-program.h"

#define ADDR(p) ((uint64_t)(uintptr_t)(p))

static AioContext *heap_ctx, *node_ctx;
static pid_t snapshot;
static AioContext *fake_fds, *fake_pool;

static int setup(void **state)
{
	(void)state;
	assert_int_equal(qemu_init_main_loop(), 0);
	AioContext *main_ctx = qemu_get_aio_context();
	main_ctx->notify_me = 5;
	main_ctx->notified = true;
	aio_disable_external(iohandler_get_aio_context());
	aio_disable_external(iohandler_get_aio_context());
	heap_ctx = aio_context_new();
	aio_get_thread_pool(heap_ctx);
	/* A node in another context, as an IOThread's disk has. */
	node_ctx = aio_context_new();
	BlockDriverState *bs = calloc(1, sizeof(*bs));
	bdrv_register(bs);
	bs->aio_context = node_ctx;
	/* Look like a GSource of aio_source_funcs, but are no AioContext. */
	fake_fds = calloc(1, sizeof(*fake_fds));
	fake_fds->source.source_funcs = &aio_source_funcs;
	fake_fds->notifier.rfd = -7;
	fake_pool = calloc(1, sizeof(*fake_pool));
	fake_pool->source.source_funcs = &aio_source_funcs;
	fake_pool->notifier.rfd = fake_pool->notifier.wfd = 3;
	fake_pool->thread_pool = heap_ctx->thread_pool;   /* whose ctx is heap_ctx */
	snapshot = hand_snapshot();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hand_snapshot_end(snapshot);
	return 0;
}

static const struct hand_thread qemu_threads[] = {
	{ 700, "qemu-system-x86", { "ppoll@libc.so.6", "qemu_poll_ns", "os_host_main_loop_wait",
				    "main_loop_wait", "qemu_main_loop", "main" } },
	{ 701, "IO iothread0", { "epoll_wait@libc.so.6", "fdmon_epoll_wait", "aio_poll",
				 "iothread_run", "qemu_thread_start" } },
};

static void find_scan(const struct hand_thread *threads, size_t n, bool scan,
		      struct ac_program **prog, struct ac_context_list *list)
{
	*prog = hand_program_open_pid(snapshot, threads, n, HAND_NO_THREAD);
	(*prog)->scan_memory = scan;
	assert_null(ac_aio_contexts_find(*prog, list));
}

/* Roots only, as aiocore runs without --scan-memory. */
static void find(const struct hand_thread *threads, size_t n, struct ac_program **prog,
		 struct ac_context_list *list)
{
	find_scan(threads, n, false, prog, list);
}

static bool has_note(const struct ac_program *prog, const char *start)
{
	for (size_t i = 0; i < prog->n_notes; i++)
		if (!strncmp(prog->notes[i], start, strlen(start)))
			return true;
	return false;
}

static const struct ac_aio_context *context(const struct ac_context_list *list,
					    const void *address)
{
	const struct ac_aio_context *c = ac_context_list_find(list, ADDR(address));
	if (!c)
		fail_msg("AioContext %p not found", address);
	return c;
}

static void test_found(void **state)
{
	(void)state;
	struct ac_program *prog;
	struct ac_context_list list;
	/* Roots only, the default: no scan, no heap-only context. */
	find(qemu_threads, 2, &prog, &list);
	assert_int_equal(list.n, 3);
	assert_null(ac_context_list_find(&list, ADDR(heap_ctx)));
	assert_string_equal(context(&list, qemu_get_aio_context())->found_as,
			    "qemu_aio_context");
	assert_string_equal(context(&list, iohandler_get_aio_context())->found_as,
			    "iohandler_ctx");
	const struct ac_aio_context *n = context(&list, node_ctx);
	assert_string_equal(n->found_as, "all_bdrv_states");
	assert_false(n->is_main || n->is_iohandler || n->is_iothread);
	assert_false(list.scan_ran);
	assert_false(has_note(prog, "no root named"));
	ac_context_list_deinit(&list);
	hand_program_close(prog);

	find_scan(qemu_threads, 2, true, &prog, &list);
	/* Exactly these four: the fakes are rejected. */
	assert_int_equal(list.n, 4);
	assert_true(list.scan_ran && list.scan_asked);
	assert_true(list.scan_bytes > 0);
	assert_int_equal(list.scan_only, 1);   /* heap_ctx */
	assert_false(has_note(prog, "no root named"));
	assert_null(ac_context_list_find(&list, ADDR(fake_fds)));
	assert_null(ac_context_list_find(&list, ADDR(fake_pool)));

	const struct ac_aio_context *m = context(&list, qemu_get_aio_context());
	assert_true(m->is_main);
	assert_false(m->is_iohandler);
	/* Found by its static and again by the scan. */
	assert_string_equal(m->found_as, "qemu_aio_context; memory scan");
	assert_string_equal(ac_aio_context_role(m), "main loop (qemu_aio_context)");
	assert_true(m->has_notify_me);
	assert_int_equal(m->notify_me, 5);
	assert_true(m->has_notified);
	assert_true(m->notified);
	assert_false(m->has_dispatching);   /* 2.1 only */
	assert_int_equal(m->notifier_rfd, qemu_get_aio_context()->notifier.rfd);
#if AIOCORE_PROFILE == 2
	/* 2.8: walking counters and bh_lock, no QemuLockCnt, no aio_co_schedule() */
	assert_false(m->has_list_lock);
	assert_int_equal(m->co_schedule_bh, 0);
#else
	assert_true(m->has_list_lock);
	assert_int_equal(m->co_schedule_bh, ADDR(qemu_get_aio_context()->co_schedule_bh));
#endif
	assert_int_equal(m->thread_pool, 0);
	assert_int_equal(m->scheduled_coroutines, 0);

	const struct ac_aio_context *ioh = context(&list, iohandler_get_aio_context());
	assert_true(ioh->is_iohandler);
	assert_string_equal(ac_aio_context_role(ioh), "iohandler_ctx");
	assert_true(ioh->has_external_disable_cnt);
	assert_int_equal(ioh->external_disable_cnt, 2);

	const struct ac_aio_context *h = context(&list, heap_ctx);
	assert_string_equal(h->found_as, "memory scan");
	assert_false(h->is_main || h->is_iohandler);
	assert_int_equal(h->thread_pool, ADDR(heap_ctx->thread_pool));
	ac_context_list_deinit(&list);
	hand_program_close(prog);
}

static void test_homes(void **state)
{
	(void)state;
	struct ac_program *prog;
	struct ac_context_list list;
	find(qemu_threads, 2, &prog, &list);
	const struct ac_aio_context *m = context(&list, qemu_get_aio_context());
	assert_int_equal(m->home_tid, 700);
	assert_int_equal(m->home_thread_index, 0);
	assert_string_equal(m->home_how, "runs main_loop_wait");
	assert_int_equal(m->anchor_frame, 3);
	assert_string_equal(m->blocked_in,
			    "ppoll <- qemu_poll_ns <- os_host_main_loop_wait <- main_loop_wait");
	assert_true(m->sleeping_in_poll);
	assert_false(m->in_aio_poll);
	assert_int_equal(context(&list, iohandler_get_aio_context())->home_tid, 700);
	/* One IOThread, one context without a known owner: paired. */
	const struct ac_aio_context *h = context(&list, node_ctx);
	assert_int_equal(h->home_tid, 701);
	assert_string_equal(h->home_how, "the only thread in iothread_run");
	assert_string_equal(h->blocked_in, "epoll_wait <- fdmon_epoll_wait <- aio_poll");
	assert_true(h->sleeping_in_poll);
	assert_true(h->in_aio_poll);
	ac_context_list_deinit(&list);
	hand_program_close(prog);
}

/* Fallbacks: main() without main_loop_wait, then the process's thread. */
static void test_home_fallbacks(void **state)
{
	(void)state;
	static const struct hand_thread tool[] = {
		{ 710, "worker", { "futex_wait@libc.so.6", "qemu_cond_timedwait", "worker_thread" } },
		{ 711, "qemu-img", { "write@libc.so.6", "bdrv_pwrite", "img_convert", "main" } },
	};
	struct hand_thread coroutine[2] = {
		{ 720, "worker", { "futex_wait@libc.so.6", "worker_thread" } },
		{ snapshot, "qemu-io", { "qemu_coroutine_switch", "blk_co_preadv" } },
	};
	struct ac_program *prog;
	struct ac_context_list list;
	find(tool, 2, &prog, &list);
	const struct ac_aio_context *m = context(&list, qemu_get_aio_context());
	assert_int_equal(m->home_tid, 711);
	assert_string_equal(m->home_how, "runs main()");
	assert_false(m->sleeping_in_poll);
	assert_int_equal(m->anchor_frame, -1);
	/* No anchor: the innermost four frames. */
	assert_string_equal(m->blocked_in, "write <- bdrv_pwrite <- img_convert <- main");
	/* No iothread_run: the node's context has no known home. */
	assert_int_equal(context(&list, node_ctx)->home_tid, 0);
	ac_context_list_deinit(&list);
	hand_program_close(prog);

	find(coroutine, 2, &prog, &list);
	m = context(&list, qemu_get_aio_context());
	assert_int_equal(m->home_tid, snapshot);
	assert_string_equal(m->home_how, "the process's main thread");
	ac_context_list_deinit(&list);
	hand_program_close(prog);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_found),
		cmocka_unit_test(test_homes),
		cmocka_unit_test(test_home_fallbacks),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
