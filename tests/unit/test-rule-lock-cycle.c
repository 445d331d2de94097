/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lock-cycle end to end on this process: helper threads really hold
 * QemuMutexes (the test's lock_x/y/z, the runtime's (g5) BQL and a real
 * AioContext's QemuRecMutex), and hand threads with the helpers' tids
 * sleep, by their futex registers, on the mutex another one holds.  The
 * decoders read the owners from glibc's __owner, the rule closes the
 * cycle: two threads, three, the BQL against an AioContext lock.  Near
 * misses: a chain whose last owner waits on nothing, an owner tid that is
 * no thread (a hostile core), a free mutex.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "block/aio.h"        /* the runtime's */
#include "qemu/main-loop.h"
#include "qemu/thread.h"
#include "rules/rule.h"
#include "hand-program.h"

#define ADDR(p) ((uint64_t)(uintptr_t)(p))
enum { RDI = 14, ORIG_RAX = 15, NREGS = 27, SYS_FUTEX = 202 };

QemuMutex lock_x, lock_y, lock_z, hostile_lock;
static AioContext *ctx;

/* Helper i takes its lock, says its tid, and holds the lock until released. */
struct helper {
	void (*take)(void), (*give)(void);
	pid_t tid;
	int said[2], go[2];
	pthread_t thread;
};
static void take_x(void) { qemu_mutex_lock(&lock_x); }
static void give_x(void) { qemu_mutex_unlock(&lock_x); }
static void take_y(void) { qemu_mutex_lock(&lock_y); }
static void give_y(void) { qemu_mutex_unlock(&lock_y); }
static void take_z(void) { qemu_mutex_lock(&lock_z); }
static void give_z(void) { qemu_mutex_unlock(&lock_z); }
static void take_bql(void) { qemu_mutex_lock_iothread(); }
static void give_bql(void) { qemu_mutex_unlock_iothread(); }
static void take_ctx(void) { aio_context_acquire(ctx); }
static void give_ctx(void) { aio_context_release(ctx); }

static struct helper helpers[5] = {
	{ .take = take_x, .give = give_x }, { .take = take_y, .give = give_y },
	{ .take = take_z, .give = give_z }, { .take = take_bql, .give = give_bql },
	{ .take = take_ctx, .give = give_ctx },
};
enum { HX, HY, HZ, HBQL, HCTX };

static void *helper_run(void *opaque)
{
	struct helper *h = opaque;
	char c = 0;
	h->take();
	h->tid = gettid();
	if (write(h->said[1], &c, 1) != 1 || read(h->go[0], &c, 1) != 1)
		return NULL;
	h->give();
	return NULL;
}

static int setup(void **state)
{
	(void)state;
	char c;
	qemu_mutex_init(&lock_x);
	qemu_mutex_init(&lock_y);
	qemu_mutex_init(&lock_z);
	qemu_mutex_init(&hostile_lock);
	ctx = aio_context_new();
	if (!ctx)
		return -1;
	for (size_t i = 0; i < 5; i++) {
		struct helper *h = &helpers[i];
		if (pipe(h->said) || pipe(h->go) ||
		    pthread_create(&h->thread, NULL, helper_run, h) || read(h->said[0], &c, 1) != 1)
			return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char c = 0;
	for (size_t i = 0; i < 5; i++)
		if (write(helpers[i].go[1], &c, 1) != 1 || pthread_join(helpers[i].thread, NULL))
			return -1;
	return 0;
}

/* Hand thread: tid, asleep in a futex on `mutex` (0: not in a syscall). */
static uint64_t regs[6][NREGS];
static struct hand_thread waiter(size_t i, pid_t tid, uint64_t mutex, const char *taker)
{
	memset(regs[i], 0, sizeof(regs[i]));
	regs[i][ORIG_RAX] = mutex ? SYS_FUTEX : (uint64_t)-1;
	regs[i][RDI] = mutex;
	return (struct hand_thread){ tid, "", { "futex_wait@libc.so.6", "qemu_mutex_lock",
						 taker, "helper_run", "start_thread@libc.so.6" } };
}

static struct hand_thread poller(size_t i, pid_t tid)
{
	memset(regs[i], 0, sizeof(regs[i]));
	regs[i][ORIG_RAX] = (uint64_t)-1;
	return (struct hand_thread){ tid, "", { "ppoll@libc.so.6", "aio_poll", "iothread_run" } };
}

struct run {
	struct ac_program *prog;
	struct ac_analysis a;
	struct ac_aio_context ctx;
	struct ac_thread_pool pool;      /* none: address 0 */
	struct ac_findings f;
};

/* Decodes the threads' waits, builds the graph and runs the rule. */
static size_t run(struct run *r, const struct hand_thread *threads, size_t n, bool with_ctx)
{
	*r = (struct run){ 0 };
	r->prog = hand_program_open_regs(threads, n, (const uint64_t (*)[NREGS])regs);
	if (with_ctx) {
		hand_context(r->prog, ADDR(ctx), &r->ctx);
		r->ctx.is_iothread = true;
		r->a.contexts.items = &r->ctx;
		r->a.contexts.n = 1;
		r->a.pools = &r->pool;
	}
	assert_null(ac_waits_build(r->prog, &r->a, &r->a.waits));
	ac_rule_lock_cycle(r->prog, &r->a, &r->f);
	return r->f.n;
}

static void run_end(struct run *r)
{
	ac_findings_deinit(&r->f);
	ac_waits_deinit(&r->a.waits);
	hand_program_close(r->prog);
}

/* The evidence line about a lock waited for by tid. */
static const struct ac_evidence *by_waiter(const struct ac_finding *f, pid_t tid)
{
	for (size_t i = 0; i < f->n_evidence; i++)
		if (f->evidence[i].tid == tid)
			return &f->evidence[i];
	fail_msg("no evidence from thread %d", tid);
	return NULL;
}

static void test_two_threads(void **state)
{
	(void)state;
	pid_t x = helpers[HX].tid, y = helpers[HY].tid;
	struct hand_thread t[] = {
		waiter(0, x, ADDR(&lock_y), "take_y"), waiter(1, y, ADDR(&lock_x), "take_x"),
	};
	struct run r;
	assert_int_equal(run(&r, t, 2, false), 1);
	const struct ac_finding *f = hand_finding(&r.f, "lock-cycle", AC_CONFIDENCE_HIGH);
	assert_int_equal(f->n_evidence, 2);
	const struct ac_evidence *e = by_waiter(f, x);
	assert_string_equal(e->what, "QemuMutex lock_y");
	assert_true(e->has_address);
	assert_int_equal(e->address, ADDR(&lock_y));
	char want[160];
	snprintf(want, sizeof(want), "held by thread %d (runs helper_run) (lock.__data.__owner), "
		 "waited for by thread %d (runs helper_run)", y, x);
	assert_string_equal(e->value, want);
	assert_string_equal(e->frame, "#1 qemu_mutex_lock");
	e = by_waiter(f, y);
	assert_string_equal(e->what, "QemuMutex lock_x");
	assert_int_equal(e->address, ADDR(&lock_x));
	snprintf(want, sizeof(want), "thread %d waits for QemuMutex lock_y held by thread %d, "
		 "thread %d waits for QemuMutex lock_x held by thread %d: 2 threads deadlocked",
		 x, y, y, x);
	assert_string_equal(f->summary, want);
	run_end(&r);
}

/* x -> y -> z -> x, and a fourth thread queued on lock_x: one cycle of three. */
static void test_three_threads(void **state)
{
	(void)state;
	pid_t x = helpers[HX].tid, y = helpers[HY].tid, z = helpers[HZ].tid;
	struct hand_thread t[] = {
		waiter(0, 4242, ADDR(&lock_x), "take_x"),
		waiter(1, x, ADDR(&lock_y), "take_y"), waiter(2, y, ADDR(&lock_z), "take_z"),
		waiter(3, z, ADDR(&lock_x), "take_x"),
	};
	struct run r;
	assert_int_equal(run(&r, t, 4, false), 1);
	const struct ac_finding *f = hand_finding(&r.f, "lock-cycle", AC_CONFIDENCE_HIGH);
	assert_int_equal(f->n_evidence, 3);
	assert_int_equal(by_waiter(f, x)->address, ADDR(&lock_y));
	assert_int_equal(by_waiter(f, y)->address, ADDR(&lock_z));
	assert_int_equal(by_waiter(f, z)->address, ADDR(&lock_x));
	for (size_t i = 0; i < f->n_evidence; i++)
		assert_int_not_equal(f->evidence[i].tid, 4242);
	assert_non_null(strstr(f->summary, ": 3 threads deadlocked"));
	run_end(&r);
}

/* The BQL's holder waits for an IOThread's AioContext lock, whose holder waits for the BQL. */
static void test_bql_against_context(void **state)
{
	(void)state;
	pid_t main_tid = helpers[HBQL].tid, io = helpers[HCTX].tid;
	struct hand_thread t[] = {
		waiter(0, main_tid, ADDR(&ctx->lock), "aio_context_acquire"),
		waiter(1, io, 0, "qemu_mutex_lock_iothread_impl"),
	};
	t[0].frames[1] = "qemu_rec_mutex_lock_impl";
	struct run r;
	assert_int_equal(run(&r, t, 2, true), 1);
	const struct ac_finding *f = hand_finding(&r.f, "lock-cycle", AC_CONFIDENCE_HIGH);
	const struct ac_evidence *e = by_waiter(f, main_tid);
	char want[160];
	snprintf(want, sizeof(want), "QemuRecMutex AioContext 0x%" PRIx64 " lock (an IOThread's)",
		 ADDR(ctx));
	assert_string_equal(e->what, want);
	assert_int_equal(e->address, ADDR(&ctx->lock));
	assert_non_null(strstr(e->value, "held by thread "));
	e = by_waiter(f, io);
	assert_string_equal(e->what, "QemuMutex qemu_global_mutex");
	snprintf(want, sizeof(want), "held by thread %d (runs helper_run)", main_tid);
	assert_true(!strncmp(e->value, want, strlen(want)));
	run_end(&r);
}

/* x waits for lock_y; lock_y's owner polls: a chain, no verdict. */
static void test_chain(void **state)
{
	(void)state;
	struct hand_thread t[] = {
		waiter(0, helpers[HX].tid, ADDR(&lock_y), "take_y"), poller(1, helpers[HY].tid),
	};
	struct run r;
	assert_int_equal(run(&r, t, 2, false), 0);
	assert_true(hand_checked(&r.f, "lock-cycle: 1 thread waits for a mutex, no owner chain closes"));
	/* the graph has the chain: x -> lock_y -> y */
	assert_null(r.a.waits.cycle);
	run_end(&r);
}

/* A hostile core: the owner tid is no thread of it; and a free mutex. */
static void test_owner_not_a_thread(void **state)
{
	(void)state;
	hostile_lock.lock.__data.__owner = 99999;
	struct hand_thread t[] = {
		waiter(0, helpers[HX].tid, ADDR(&hostile_lock), "take_y"),
		waiter(1, 99999 + 1, ADDR(&lock_x), "take_x"),
		waiter(2, helpers[HZ].tid, 0x10, "take_z"),
	};
	struct run r;
	assert_int_equal(run(&r, t, 3, false), 0);
	assert_true(hand_checked(&r.f, "lock-cycle: 3 threads wait for a mutex"));
	run_end(&r);
	hostile_lock.lock.__data.__owner = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_threads),
		cmocka_unit_test(test_three_threads),
		cmocka_unit_test(test_bql_against_context),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_owner_not_a_thread),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
