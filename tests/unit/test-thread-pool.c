/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The thread-pool decoder (analyzer/qemu/thread-pool.c) on a real pool:
 * the reference runtime (g2, g5, g10: ThreadPool, then ThreadPoolAio from
 * 10.0) runs in this process with one worker; the test leaves one request
 * THREAD_DONE (its completion BH never runs), one THREAD_ACTIVE (blocked
 * in its function) and one THREAD_QUEUED behind it, and on g5/g10 a
 * coroutine waiting in thread_pool_submit_co(); on qemu_aio_context's
 * pool, a read and a flush of the runtime's file-posix, each waited for
 * by a coroutine (2.x: CoroutineIOCompletion; 5.x+: ThreadPoolCo).
 * Hostile shapes: a cycle and a wild pointer stored into
 * ThreadPoolElement.all.le_next through the DWARF.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "block/aio.h"        /* the runtime's */
#include "block/block.h"
#include "qemu/main-loop.h"
#include "qemu/qemu.h"
#include "hand-program.h"

#define ADDR(p) ((uint64_t)(uintptr_t)(p))

static AioContext *ctx;
static ThreadPool *pool;
static BlockAIOCB *done_req, *active_req, *queued_req;
static volatile int release;
static int job_arg;
#if AIOCORE_PROFILE >= 5
static Coroutine *waiting_co;
#endif

static int quick_job(void *arg)
{
	(void)arg;
	return 42;
}

static int blocking_job(void *arg)
{
	(void)arg;
	while (!release)
		usleep(1000);
	return 0;
}

static void request_done(void *opaque, int ret)
{
	(void)opaque;
	(void)ret;
}

/* Polls p's counters until cond holds (at most 10 s). */
static void wait_for(ThreadPool *p, int (*cond)(const struct thread_pool_stats *))
{
	for (int i = 0; i < 10000; i++) {
		struct thread_pool_stats st;
		thread_pool_get_stats(p, &st);
		if (cond(&st))
			return;
		usleep(1000);
	}
	fail_msg("the runtime's pool did not get there in 10 s");
}

static int one_done(const struct thread_pool_stats *st) { return st->done == 1; }
static int one_active(const struct thread_pool_stats *st) { return st->active == 1; }
static int two_done(const struct thread_pool_stats *st) { return st->done == 2; }

/*
 * Block requests of the runtime's file-posix on qemu_aio_context's pool: a
 * read and a flush, each from a coroutine that waits for it (2.x through
 * bdrv_co_io_em()'s CoroutineIOCompletion, 5.x+ through ThreadPoolCo).
 */
static BlockDriverState *disk;
static Coroutine *reader, *flusher;

static void read_entry(void *opaque)
{
	(void)opaque;
	bdrv_co_preadv(disk, 0, 512);
}

static void flush_entry(void *opaque)
{
	(void)opaque;
	bdrv_co_flush(disk);
}

static void block_requests(void)
{
	assert_int_equal(qemu_init_main_loop(), 0);
	int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	disk = bdrv_open_raw("disk0", fd);
	reader = qemu_coroutine_create(read_entry, NULL);
	qemu_coroutine_enter(reader);
	flusher = qemu_coroutine_create(flush_entry, NULL);
	qemu_coroutine_enter(flusher);
	aio_bh_poll(qemu_get_aio_context());   /* starts the worker */
	wait_for(aio_get_thread_pool(qemu_get_aio_context()), two_done);
}

#if AIOCORE_PROFILE >= 5
static void co_request(void *opaque)
{
	(void)opaque;
	thread_pool_submit_co(pool, blocking_job, NULL);
}
#endif

static int setup(void **state)
{
	(void)state;
	thread_pool_max_threads = 1;
	block_requests();
	ctx = aio_context_new();
	pool = aio_get_thread_pool(ctx);
	done_req = thread_pool_submit_aio(pool, quick_job, &job_arg, request_done, NULL);
	aio_bh_poll(ctx);   /* runs new_thread_bh: the worker starts */
	wait_for(pool, one_done);
	active_req = thread_pool_submit_aio(pool, blocking_job, NULL, request_done, NULL);
	wait_for(pool, one_active);
	queued_req = thread_pool_submit_aio(pool, quick_job, NULL, request_done, NULL);
#if AIOCORE_PROFILE >= 5
	waiting_co = qemu_coroutine_create(co_request, NULL);
	qemu_coroutine_enter(waiting_co);   /* yields, waiting for its request */
#endif
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	release = 1;
	return 0;
}

static const struct ac_pool_element *element(const struct ac_thread_pool *p, const void *req)
{
	for (size_t i = 0; i < p->n_elements; i++)
		if (p->elements[i].address == ADDR(req))
			return &p->elements[i];
	fail_msg("element %p not decoded", req);
	return NULL;
}

static void test_pool(void **state)
{
	(void)state;
	struct ac_program *prog = hand_program_self();
	struct ac_thread_pool p;
	assert_null(ac_thread_pool_decode(prog, ADDR(pool), &p));
#if AIOCORE_PROFILE >= 10
	assert_string_equal(p.type_name, "ThreadPoolAio");
#else
	assert_string_equal(p.type_name, "ThreadPool");
#endif
	assert_int_equal(p.ctx, ADDR(ctx));
	assert_null(p.walk_problem);
	assert_int_equal(p.n_elements, AIOCORE_PROFILE >= 5 ? 4 : 3);
	bool max_seen = false, min_seen = false;
	for (size_t i = 0; i < 7; i++) {
		if (!strcmp(p.counts[i].name, "max_threads")) {
			max_seen = p.counts[i].has;
			assert_int_equal(p.counts[i].value, 1);
		}
		if (!strcmp(p.counts[i].name, "min_threads"))
			min_seen = p.counts[i].has;
	}
	assert_true(max_seen);
	assert_true(min_seen == (AIOCORE_PROFILE >= 5));   /* 2.x has no min_threads */

	const struct ac_pool_element *e = element(&p, done_req);
	assert_true(e->done);
	assert_false(e->active || e->queued);
	assert_string_equal(e->state_name, "THREAD_DONE");
	assert_int_equal(e->ret, 42);
	assert_string_equal(e->func_name, "quick_job");
	assert_int_equal(e->arg, ADDR(&job_arg));
	assert_string_equal(e->cb_name, "request_done");
	assert_string_equal(e->kind, "other");
	assert_true(e->valid_aiocb_info);
	assert_int_equal(e->coroutine, 0);
	assert_null(e->problem);

	e = element(&p, active_req);
	assert_true(e->active);
	assert_string_equal(e->state_name, "THREAD_ACTIVE");
	assert_string_equal(e->func_name, "blocking_job");
	e = element(&p, queued_req);
	assert_true(e->queued);
	assert_string_equal(e->state_name, "THREAD_QUEUED");
	ac_thread_pool_deinit(&p);
	hand_program_close(prog);
}

#if AIOCORE_PROFILE >= 5
/* common.opaque -> ThreadPoolCo.co -> the Coroutine that waits. */
static void test_waiting_coroutine(void **state)
{
	(void)state;
	struct ac_program *prog = hand_program_self();
	struct ac_thread_pool p;
	assert_null(ac_thread_pool_decode(prog, ADDR(pool), &p));
	const struct ac_pool_element *e = &p.elements[0];   /* the newest */
	assert_true(e->queued);
	assert_string_equal(e->cb_name, "thread_pool_co_cb");
	assert_int_equal(e->coroutine, ADDR(waiting_co));
	assert_string_equal(e->co_entry_name, "co_request");
	assert_string_equal(e->chain, "common.opaque -> ThreadPoolCo.co -> Coroutine");
	ac_thread_pool_deinit(&p);
	hand_program_close(prog);
}
#endif

static void test_block_requests(void **state)
{
	(void)state;
	struct ac_program *prog = hand_program_self();
	struct ac_thread_pool p;
	assert_null(ac_thread_pool_decode(prog, ADDR(qemu_get_aio_context()->thread_pool), &p));
	assert_int_equal(p.n_elements, 2);
	/* Newest first: the flush, then the read. */
	static const char *const funcs[] = { "handle_aiocb_flush", "handle_aiocb_rw" };
	static const char *const kinds[] = { "flush", "read" };
	Coroutine *const waiters[] = { flusher, reader };
	static const char *const entries[] = { "flush_entry", "read_entry" };
	for (size_t i = 0; i < 2; i++) {
		const struct ac_pool_element *e = &p.elements[i];
		assert_true(e->done);
		assert_string_equal(e->func_name, funcs[i]);
		assert_string_equal(e->kind, kinds[i]);
		assert_int_equal(e->coroutine, ADDR(waiters[i]));
		assert_string_equal(e->co_entry_name, entries[i]);
#if AIOCORE_PROFILE == 2
		assert_string_equal(e->cb_name, "bdrv_co_io_em_complete");
		assert_string_equal(e->chain,
				    "common.opaque -> CoroutineIOCompletion.coroutine -> Coroutine");
#else
		assert_string_equal(e->cb_name, "thread_pool_co_cb");
		assert_string_equal(e->chain, "common.opaque -> ThreadPoolCo.co -> Coroutine");
#endif
	}
	ac_thread_pool_deinit(&p);
	hand_program_close(prog);
}

#define POOL_HINT "thread_pool_completion_bh"
#if AIOCORE_PROFILE >= 10
#define ELEMENT "ThreadPoolElementAio"
#else
#define ELEMENT "ThreadPoolElement"
#endif

/* The oldest element pointing back to the newest: the walk stops. */
static void test_cycle(void **state)
{
	(void)state;
	struct ac_program *prog = hand_program_self();
	struct ac_thread_pool p;
	assert_null(ac_thread_pool_decode(prog, ADDR(pool), &p));
	uint64_t newest = p.elements[0].address;
	size_t n = p.n_elements;
	ac_thread_pool_deinit(&p);
	uint64_t old = hand_poke(prog, ELEMENT, POOL_HINT, ADDR(done_req), "all.le_next", newest);
	assert_null(ac_thread_pool_decode(prog, ADDR(pool), &p));
	hand_poke(prog, ELEMENT, POOL_HINT, ADDR(done_req), "all.le_next", old);
	assert_non_null(p.walk_problem);
	assert_non_null(strstr(p.walk_problem, "cycle"));
	/*
	 * Brent's check notices the cycle within a lap or two, and unlike the
	 * BH list the pool's walk does not deduplicate: some elements are
	 * listed twice before it stops.  Bounded, and said.
	 */
	assert_true(p.n_elements >= n && p.n_elements <= 2 * n);
	assert_true(prog->n_notes > 0);
	ac_thread_pool_deinit(&p);
	hand_program_close(prog);
}

static void test_wild_pointer(void **state)
{
	(void)state;
	struct ac_program *prog = hand_program_self();
	uint64_t old = hand_poke(prog, ELEMENT, POOL_HINT, ADDR(done_req), "all.le_next",
				 0xdead0000);
	struct ac_thread_pool p;
	assert_null(ac_thread_pool_decode(prog, ADDR(pool), &p));
	hand_poke(prog, ELEMENT, POOL_HINT, ADDR(done_req), "all.le_next", old);
	const struct ac_pool_element *last = &p.elements[p.n_elements - 1];
	assert_int_equal(last->address, 0xdead0000);
	assert_non_null(last->problem);
	assert_non_null(strstr(last->problem, "unreadable"));
	assert_false(last->done);
	ac_thread_pool_deinit(&p);
	/* Not a pool at all: an error naming the address, no crash. */
	struct ac_error *err = ac_thread_pool_decode(prog, 0x10, &p);
	assert_non_null(err);
	assert_non_null(strstr(err->message, "0x10"));
	ac_error_destroy(err);
	hand_program_close(prog);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool),
#if AIOCORE_PROFILE >= 5
		cmocka_unit_test(test_waiting_coroutine),
#endif
		cmocka_unit_test(test_block_requests),
		cmocka_unit_test(test_cycle),
		cmocka_unit_test(test_wild_pointer),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
