/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The coroutine decoder (analyzer/qemu/coroutine.c) on real coroutines of
 * the reference runtime (g2, g5, g10: `current`, then co_tls_current) in
 * a snapshot of this process: one suspended in qemu_coroutine_yield(),
 * one scheduled on qemu_aio_context (5.x+), one waiting for a thread-pool
 * request (5.x+), one waiting for a disk read (2.x: CoroutineIOCompletion,
 * 5.x+: ThreadPoolCo), and the one running when the snapshot was taken.  The
 * suspended one's sigjmp_buf is demangled with glibc's pointer guard and
 * unwound back into its entry.  The running one is also found from a
 * thread's stack pointer alone (coroutine-stack.c: QEMU 2.1, no thread
 * pointer), and `current` is checked against the stack.  Hostile: a wild
 * seed, a zeroed "Coroutine", and threads with no thread pointer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "block/aio.h"        /* the runtime's */
#include "block/block.h"
#include "qemu/main-loop.h"
#include "qemu/qemu.h"
#include "hand-program.h"

#define ADDR(p) ((uint64_t)(uintptr_t)(p))

static int arg_a;
static Coroutine *suspended, *running;
static Coroutine *reader;
static BlockDriverState *disk;
static pid_t snapshot;
static char zeroes[4096];

/* Stack pointers inside suspended's and running's stacks. */
static uint64_t suspended_sp, running_sp;

static void __attribute__((noinline)) entry_suspends(void *opaque)
{
	int here;
	if (opaque == &arg_a)
		suspended_sp = ADDR(&here);
	qemu_coroutine_yield();
	__asm__ volatile("" ::: "memory");   /* no tail call: keep this frame */
}

/* A disk read: its request waits on the pool, queued (no worker runs). */
static void entry_reads(void *opaque)
{
	(void)opaque;
	bdrv_co_preadv(disk, 0, 512);
}

/* Freezes the process while this coroutine is the thread's current one. */
static void entry_snapshots(void *opaque)
{
	(void)opaque;
	int here;
	running_sp = ADDR(&here);
	snapshot = hand_snapshot();
	qemu_coroutine_yield();
}

#if AIOCORE_PROFILE >= 5
static int arg_b;
static Coroutine *scheduled, *pool_waiter;
static volatile int release;

static int blocking_job(void *arg)
{
	(void)arg;
	while (!release)
		usleep(1000);
	return 0;
}

static void entry_waits_for_pool(void *opaque)
{
	(void)opaque;
	thread_pool_submit_co(aio_get_thread_pool(qemu_get_aio_context()), blocking_job, NULL);
}
#endif

static int setup(void **state)
{
	(void)state;
	assert_int_equal(qemu_init_main_loop(), 0);
	suspended = qemu_coroutine_create(entry_suspends, &arg_a);
	qemu_coroutine_enter(suspended);
	int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	disk = bdrv_open_raw("disk0", fd);
	reader = qemu_coroutine_create(entry_reads, NULL);
	qemu_coroutine_enter(reader);
#if AIOCORE_PROFILE >= 5
	scheduled = qemu_coroutine_create(entry_suspends, &arg_b);
	qemu_coroutine_enter(scheduled);
	aio_co_schedule(qemu_get_aio_context(), scheduled);
	pool_waiter = qemu_coroutine_create(entry_waits_for_pool, NULL);
	qemu_coroutine_enter(pool_waiter);
#endif
	running = qemu_coroutine_create(entry_snapshots, NULL);
	qemu_coroutine_enter(running);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hand_snapshot_end(snapshot);
#if AIOCORE_PROFILE >= 5
	release = 1;
#endif
	return 0;
}

static const struct hand_thread main_thread[] = {
	{ 800, "qemu-io", { "ppoll@libc.so.6", "aio_poll", "main" } },
};

static const struct ac_coroutine *find(const struct ac_coroutine_list *list, const void *co)
{
	for (size_t i = 0; i < list->n; i++)
		if (list->items[i].address == ADDR(co))
			return &list->items[i];
	fail_msg("coroutine %p not decoded", co);
	return NULL;
}

static void test_seeds(void **state)
{
	(void)state;
	struct ac_program *prog = hand_program_open_pid(snapshot, main_thread, 1, 0);
	struct ac_coroutine_seed *seeds;
	size_t n;
	assert_null(ac_coroutine_seeds_collect(prog, &seeds, &n));
	/* The read's waiter: 2.x through CoroutineIOCompletion, then ThreadPoolCo. */
	bool read = false;
	for (size_t i = 0; i < n; i++)
		if (seeds[i].address == ADDR(reader))
			read = strstr(seeds[i].source, "ThreadPoolElement") != NULL;
	assert_true(read);
#if AIOCORE_PROFILE >= 5
	assert_int_equal(n, 3);
	char want[64];
	snprintf(want, sizeof(want), "scheduled on ctx 0x%" PRIx64, ADDR(qemu_get_aio_context()));
	bool sched = false, pool = false;
	for (size_t i = 0; i < n; i++) {
		if (seeds[i].address == ADDR(scheduled))
			sched = !strcmp(seeds[i].source, want);
		if (seeds[i].address == ADDR(pool_waiter))
			pool = strstr(seeds[i].source, "ThreadPoolElement") != NULL;
	}
	assert_true(sched);
	assert_true(pool);
#else
	assert_int_equal(n, 1);   /* 2.x: no scheduled_coroutines */
#endif
	ac_coroutine_seeds_free(seeds, n);
	hand_program_close(prog);
}

/* x86_64 prstatus with only %rsp set (index 19). */
static void regs_with_sp(uint64_t (*regs)[27], size_t n, const uint64_t *sps)
{
	memset(regs, 0, n * sizeof(*regs));
	for (size_t i = 0; i < n; i++)
		regs[i][19] = sps[i];
}

static void test_decode(void **state)
{
	(void)state;
	uint64_t regs[1][27];
	regs_with_sp(regs, 1, &running_sp);
	struct ac_program *prog = hand_program_open_pid_regs(snapshot, main_thread, 1, 0, regs);
#if AIOCORE_PROFILE >= 5
	struct ac_coroutine_seed seeds[] = {
		{ ADDR(suspended), "by hand" },
		{ ADDR(scheduled), "by hand too" },
	};
	const char *running_source = "current in thread 800";
#else
	/* 2.1: no thread-local, so the running one is found among the seeds. */
	struct ac_coroutine_seed seeds[] = {
		{ ADDR(suspended), "by hand" },
		{ ADDR(running), "by hand too" },
	};
	const char *running_source = "by hand too, current in thread 800";
#endif
	struct ac_coroutine_list list;
	assert_null(ac_coroutines_decode(prog, seeds, 2, true, &list));
	assert_int_equal(list.n, AIOCORE_PROFILE >= 5 ? 3 : 2);

	const struct ac_coroutine *co = find(&list, suspended);
	assert_null(co->problem);
	assert_string_equal(co->source, "by hand");
	assert_string_equal(co->entry_name, "entry_suspends");
	assert_int_equal(co->entry_arg, ADDR(&arg_a));
	assert_false(co->running);
	assert_int_equal(co->current_in_tid, 0);
	assert_null(co->scheduled);
	/* Its sigjmp_buf, demangled, unwinds back into its entry. */
	assert_true(co->has_context);
	assert_non_null(co->bt);
	assert_true(ac_backtrace_find_function(co->bt, "qemu_coroutine_switch") >= 0);
	long entry = ac_backtrace_find_function(co->bt, "entry_suspends");
	assert_true(entry > ac_backtrace_find_function(co->bt, "qemu_coroutine_switch"));
	assert_true(ac_backtrace_find_function(co->bt, "coroutine_trampoline") > entry);

#if AIOCORE_PROFILE >= 5
	co = find(&list, scheduled);
	assert_string_equal(co->scheduled, "aio_co_schedule");
	assert_true(co->has_context);
#endif
	/* The thread's current coroutine: its thread-local, or 2.1 its sp. */
	co = find(&list, running);
	assert_int_equal(co->current_in_tid, 800);
	assert_true(co->running);
	assert_string_equal(co->entry_name, "entry_snapshots");
	assert_null(co->bt);
	assert_string_equal(co->source, running_source);
	/* The thread-local and the stack agree: nothing to say. */
	assert_false(hand_noted(prog, "stack"));
	ac_coroutine_list_deinit(&list);
	hand_program_close(prog);
}

/*
 * No thread pointer (QEMU 2.1's pthread-specific current is the same
 * case): the seed whose stack holds a thread's sp is its current one; a
 * thread in coroutine_trampoline whose coroutine no seed reaches is said.
 */
static void test_current_by_stack(void **state)
{
	(void)state;
	static const struct hand_thread threads[] = {
		{ 800, "qemu-io", { "entry_snapshots", "coroutine_trampoline" } },
		{ 801, "worker", { "entry_snapshots", "coroutine_trampoline" } },
		{ 802, "idle", { "ppoll@libc.so.6", "aio_poll", "main" } },
	};
	uint64_t regs[3][27];
	regs_with_sp(regs, 3, (const uint64_t[]){ running_sp, 0, 0 });
	struct ac_program *prog = hand_program_open_pid_regs(snapshot, threads, 3,
							     HAND_NO_THREAD, regs);
	struct ac_coroutine_seed seeds[] = {
		{ ADDR(running), "by hand" },
		{ ADDR(suspended), "by hand too" },
	};
	struct ac_coroutine_list list;
	assert_null(ac_coroutines_decode(prog, seeds, 2, false, &list));
	assert_int_equal(list.n, 2);
	const struct ac_coroutine *co = find(&list, running);
	assert_int_equal(co->current_in_tid, 800);
	assert_string_equal(co->source, "by hand, current in thread 800");
	assert_int_equal(find(&list, suspended)->current_in_tid, 0);
	/* Hand frames have no variables: trampoline's `co` cannot be read. */
	assert_true(hand_noted(prog, "thread 801 runs a coroutine no seed reaches"));
	assert_false(hand_noted(prog, "thread 802"));
	assert_false(hand_noted(prog, "thread 800"));
	ac_coroutine_list_deinit(&list);
	hand_program_close(prog);
}

/* `current` says one thing, the stack pointer another: notes, no crash. */
static void test_current_disagrees_with_stack(void **state)
{
	(void)state;
#if AIOCORE_PROFILE == 2
	skip();   /* 2.1 has no `current` to disagree with */
#endif
	uint64_t regs[1][27];
	regs_with_sp(regs, 1, &suspended_sp);
	struct ac_program *prog = hand_program_open_pid_regs(snapshot, main_thread, 1, 0, regs);
	struct ac_coroutine_seed seed = { ADDR(suspended), "by hand" };
	struct ac_coroutine_list list;
	assert_null(ac_coroutines_decode(prog, &seed, 1, false, &list));
	char want[128];
	snprintf(want, sizeof(want), "thread 800: sp 0x%" PRIx64 " is on coroutine 0x%" PRIx64
		 "'s stack, but ", suspended_sp, ADDR(suspended));
	assert_true(hand_noted(prog, want));
	/* The thread-local still names the current one. */
	assert_int_equal(find(&list, running)->current_in_tid, 800);
	assert_int_equal(find(&list, suspended)->current_in_tid, 0);
	ac_coroutine_list_deinit(&list);
	hand_program_close(prog);

	/* On the thread's own stack while `current` is a coroutine. */
	prog = hand_program_open_pid(snapshot, main_thread, 1, 0);
	assert_null(ac_coroutines_decode(prog, NULL, 0, false, &list));
	snprintf(want, sizeof(want), "is coroutine 0x%" PRIx64 ", but sp ", ADDR(running));
	assert_true(hand_noted(prog, want));
	assert_true(hand_noted(prog, "is not on its stack"));
	ac_coroutine_list_deinit(&list);
	hand_program_close(prog);
}

static void test_hostile_seeds(void **state)
{
	(void)state;
	struct ac_program *prog = hand_program_open_pid(snapshot, main_thread, 1, 0);
	struct ac_coroutine_seed seeds[] = {
		{ 0x10, "wild" },
		{ ADDR(zeroes), "zeroes" },
	};
	struct ac_coroutine_list list;
	assert_null(ac_coroutines_decode(prog, seeds, 2, true, &list));
	const struct ac_coroutine *co = &list.items[0];
	assert_int_equal(co->address, 0x10);
	assert_non_null(co->problem);
	assert_null(co->bt);
	/* Nobody called it: its zero env "demangles" to a wild sp, said so. */
	co = find(&list, zeroes);
	assert_false(co->running);
	assert_int_equal(co->entry, 0);
	char want[96];
	snprintf(want, sizeof(want), "Coroutine 0x%" PRIx64 ": saved sp", ADDR(zeroes));
	assert_true(hand_noted(prog, want));
	assert_true(hand_noted(prog, "is not readable stack"));
	assert_true(hand_noted(prog, "Coroutine 0x10"));
	ac_coroutine_list_deinit(&list);
	hand_program_close(prog);
}

/* A core without thread pointers: no current coroutines, no guard. */
static void test_no_thread_pointer(void **state)
{
	(void)state;
	static const struct hand_thread no_tp[] = {
		{ 800, "qemu-io", { "ppoll@libc.so.6", "aio_poll", "main" } },
	};
	struct ac_program *prog = hand_program_open_pid(snapshot, no_tp, 1, HAND_NO_THREAD);
	struct ac_coroutine_seed seed = { ADDR(suspended), "by hand" };
	struct ac_coroutine_list list;
	assert_null(ac_coroutines_decode(prog, &seed, 1, true, &list));
	assert_int_equal(list.n, 1);
	assert_string_equal(list.items[0].entry_name, "entry_suspends");
	assert_false(list.items[0].has_context);
	assert_non_null(strstr(list.items[0].problem, "saved context"));
#if AIOCORE_PROFILE >= 5
	assert_true(hand_noted(prog, "1 thread without a known thread pointer"));
#endif
	assert_true(hand_noted(prog, "coroutine contexts cannot be read"));
	ac_coroutine_list_deinit(&list);
	hand_program_close(prog);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seeds),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_current_by_stack),
		cmocka_unit_test(test_current_disagrees_with_stack),
		cmocka_unit_test(test_hostile_seeds),
		cmocka_unit_test(test_no_thread_pointer),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
