/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The analysis (analyzer/qemu/analysis.c) of a snapshot of the reference
 * runtime (g2, g5, g10) in this process: qemu_aio_context with a
 * scheduled BH and a thread pool whose one request is THREAD_DONE (its
 * completion BH scheduled, never run), and iohandler_ctx.  Each context's
 * BHs and pool must sit at its index; worker threads are counted from the
 * hand threads' frames; frame texts name frames or say "?".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "block/aio.h"        /* the runtime's */
#include "qemu/main-loop.h"
#include "qemu/qemu.h"
#include "hand-program.h"

#define ADDR(p) ((uint64_t)(uintptr_t)(p))

static QEMUBH *bh;
static pid_t snapshot;

static void cb(void *opaque)
{
	(void)opaque;
}

static int quick_job(void *arg)
{
	(void)arg;
	return 0;
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(qemu_init_main_loop(), 0);
	AioContext *ctx = qemu_get_aio_context();
	ThreadPool *pool = aio_get_thread_pool(ctx);
	thread_pool_submit_aio(pool, quick_job, NULL, NULL, NULL);
	aio_bh_poll(ctx);   /* starts the worker */
	for (int i = 0; i < 10000; i++) {
		struct thread_pool_stats st;
		thread_pool_get_stats(pool, &st);
		if (st.done == 1)
			break;
		usleep(1000);
	}
	bh = aio_bh_new(ctx, cb, NULL);
	qemu_bh_schedule(bh);
	snapshot = hand_snapshot();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hand_snapshot_end(snapshot);
	return 0;
}

#if AIOCORE_PROFILE == 2
#define IDLE_WAIT "qemu_sem_timedwait"
#else
#define IDLE_WAIT "qemu_cond_timedwait"
#endif

static const struct hand_thread threads[] = {
	{ 900, "qemu-img", { "ppoll@libc.so.6", "qemu_poll_ns", "aio_poll", "?@qemu-img", "main" } },
	{ 901, "worker", { "futex_wait@libc.so.6", IDLE_WAIT, "worker_thread", "start_thread" } },
	{ 902, "worker", { "pwrite64@libc.so.6", "handle_aiocb_rw", "worker_thread" } },
	/* a wait outside the worker loop is not idleness */
	{ 903, "worker", { "write@libc.so.6", "worker_thread", IDLE_WAIT } },
};

static void test_build(void **state)
{
	(void)state;
	struct ac_program *prog = hand_program_open_pid(snapshot, threads, 4, HAND_NO_THREAD);
	struct ac_analysis a;
	assert_null(ac_analysis_build(prog, &a));
	assert_int_equal(a.contexts.n, 2);
	AioContext *main_ctx = qemu_get_aio_context();
	for (size_t i = 0; i < a.contexts.n; i++) {
		const struct ac_aio_context *c = &a.contexts.items[i];
		if (c->is_iohandler) {
			assert_int_equal(c->obj.address, ADDR(iohandler_get_aio_context()));
			assert_int_equal(a.pools[i].address, 0);
			continue;
		}
		assert_true(c->is_main);
		assert_int_equal(c->obj.address, ADDR(main_ctx));
		assert_int_equal(c->home_tid, 900);
		const struct ac_thread_pool *p = &a.pools[i];
		assert_int_equal(p->address, ADDR(main_ctx->thread_pool));
		assert_int_equal(p->n_elements, 1);
		assert_true(p->elements[0].done);
		const struct ac_bh *mine = ac_bh_list_find(&a.bhs[i], ADDR(bh));
		assert_non_null(mine);
		assert_true(mine->runnable);
		/* The worker scheduled the completion BH; nobody ran it. */
		const struct ac_bh *completion = ac_bh_list_find(&a.bhs[i], p->completion_bh);
		assert_non_null(completion);
		assert_true(completion->runnable);
		assert_non_null(strstr(completion->where, "ThreadPool.completion_bh"));
		assert_non_null(strstr(completion->where,
				       AIOCORE_PROFILE == 2 ? "first_bh" : "bh_list"));
	}
	ac_analysis_deinit(&a);
	assert_int_equal(a.contexts.n, 0);
	assert_null(a.bhs);
	assert_null(a.pools);
	hand_program_close(prog);
}

static void test_workers(void **state)
{
	(void)state;
	struct ac_program *prog = hand_program_open_pid(snapshot, threads, 4, HAND_NO_THREAD);
	size_t idle = 99;
	assert_int_equal(ac_analysis_workers(prog, &idle), 3);
	assert_int_equal(idle, 1);
	hand_program_close(prog);
	prog = hand_program_open_pid(snapshot, threads, 1, HAND_NO_THREAD);
	assert_int_equal(ac_analysis_workers(prog, &idle), 0);
	assert_int_equal(idle, 0);
	hand_program_close(prog);
}

static void test_frame_text(void **state)
{
	(void)state;
	struct ac_program *prog = hand_program_open_pid(snapshot, threads, 4, HAND_NO_THREAD);
	char buf[64];
	assert_string_equal(ac_frame_text(prog, 0, 2, buf, sizeof(buf)), "#2 aio_poll");
	assert_string_equal(ac_frame_text(prog, 0, 3, buf, sizeof(buf)), "#3 ??");
	assert_string_equal(ac_frame_text(prog, 0, 5, buf, sizeof(buf)), "?");
	assert_string_equal(ac_frame_text(prog, 0, -1, buf, sizeof(buf)), "?");
	assert_string_equal(ac_frame_text(prog, 7, 0, buf, sizeof(buf)), "?");
	char small[6];
	assert_string_equal(ac_frame_text(prog, 1, 2, small, sizeof(small)), "#2 wo");
	hand_program_close(prog);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_workers),
		cmocka_unit_test(test_frame_text),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
