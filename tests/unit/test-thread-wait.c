/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What each thread is blocked in (analyzer/qemu/thread-wait.c), from hand
 * threads' frames and x86_64 syscall registers that point into this
 * process's memory: poll fds and timeouts, ppoll's timespec, epoll, an
 * I/O call's fd/offset/length (pread64 from registers, preadv from its
 * iovecs, io_submit from its first iocb), another syscall, and a wait on
 * the runtime's (g5) BQL through its taker's frame.  Hostile: a poll whose
 * fds cannot be read, a QemuCond whose variable cannot be.  A lock in the
 * .bss past the last file page (mapped anonymously, outside the module's
 * range in /proc/PID/maps) is still named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <inttypes.h>
#include <stdio.h>

#include "qemu/main-loop.h"   /* the runtime's */
#include "hand-program.h"

#define ADDR(p) ((uint64_t)(uintptr_t)(p))
enum { R10 = 7, RDX = 12, RSI = 13, RDI = 14, ORIG_RAX = 15, NREGS = 27 };

static struct pollfd fds[3] = { { .fd = 4 }, { .fd = 7 }, { .fd = 12 } };
static struct timespec two_and_a_half = { 2, 500000000 };
static struct iovec iov[2] = { { NULL, 512 }, { NULL, 4096 } };
static unsigned char iocb[64];
static uint64_t iocbs[1];

/* Registers of a thread in syscall nr with these first four arguments. */
static uint64_t regs[12][NREGS];
static void call(size_t i, int64_t nr, uint64_t a0, uint64_t a1, uint64_t a2,
			    uint64_t a3)
{
	memset(regs[i], 0, sizeof(regs[i]));
	regs[i][ORIG_RAX] = (uint64_t)nr;
	regs[i][RDI] = a0;
	regs[i][RSI] = a1;
	regs[i][RDX] = a2;
	regs[i][R10] = a3;
}

static struct hand_thread threads[10];

static void setup_threads(void)
{
	uint32_t fd = 13;
	uint64_t nbytes = 65536, offset = 1 << 20;
	memcpy(iocb + 20, &fd, 4);           /* struct iocb: aio_fildes, aio_nbytes, aio_offset */
	memcpy(iocb + 32, &nbytes, 8);
	memcpy(iocb + 40, &offset, 8);
	iocbs[0] = ADDR(iocb);
	call(0, 7, ADDR(fds), 3, 5000, 0);
	call(1, 271, ADDR(fds), 2, ADDR(&two_and_a_half), 0);
	call(2, 271, ADDR(fds), 1, 0, 0);
	call(3, 17, 9, 0x1000, 4096, 1048576);
	call(4, 295, 9, ADDR(iov), 2, 8192);
	call(5, 209, 0x7000, 1, ADDR(iocbs), 0);
	call(6, 202, 0, 0, 0, 0);
	call(7, 232, 5, 0x1000, 128, (uint64_t)-1);
	call(8, 202, 0, 0, 0, 0);
	call(9, 7, 0x10, 2, 0, 0);
	struct hand_thread t[] = {
		{ 10, "main", { "poll@libc.so.6", "qemu_poll_ns", "main_loop_wait", "main" } },
		{ 11, "iothread", { "ppoll@libc.so.6", "qemu_poll_ns", "aio_poll" } },
		{ 12, "iothread2", { "ppoll@libc.so.6", "aio_poll" } },
		{ 13, "worker", { "pread64@libc.so.6", "handle_aiocb_rw", "worker_thread" } },
		{ 14, "worker", { "preadv@libc.so.6", "qemu_preadv", "worker_thread" } },
		{ 15, "linux-aio", { "io_submit@libc.so.6", "laio_do_submit" } },
		{ 16, "sleeper", { "syscall@libc.so.6", "qemu_futex_wait" } },
		{ 17, "epoll", { "epoll_wait@libc.so.6", "fdmon_epoll_wait" } },
		{ 18, "vcpu", { "qemu_mutex_lock_impl", "qemu_mutex_lock_iothread_impl", "qemu_wait_io_event" } },
		{ 19, "broken", { "poll@libc.so.6", "qemu_poll_ns" } },
	};
	memcpy(threads, t, sizeof(t));
}

static void test_decode(void **state)
{
	(void)state;
	/* Links the runtime's cpus.c (qemu_global_mutex) and initializes the BQL, free. */
	qemu_mutex_lock_iothread();
	qemu_mutex_unlock_iothread();
	setup_threads();
	struct ac_program *prog = hand_program_open_regs(threads, 10, (const uint64_t (*)[NREGS])regs);
	struct ac_thread_waits ws;
	assert_null(ac_thread_waits_decode(prog, &ws));
	assert_int_equal(ws.n, 10);
	char text[256];
	const struct ac_thread_wait *w = ws.items;

	assert_int_equal(w[0].kind, AC_WAIT_POLL);
	assert_int_equal(w[0].n_fds, 3);
	assert_int_equal(w[0].fds[2], 12);
	assert_string_equal(ac_thread_wait_text(&w[0], text, sizeof(text)),
			    "asleep in poll (3 fds, timeout 5000 ms)");
	assert_string_equal(w[0].frame_text, "#1 qemu_poll_ns");
	assert_string_equal(w[0].blocked_in, "poll");

	assert_string_equal(ac_thread_wait_text(&w[1], text, sizeof(text)),
			    "asleep in ppoll (2 fds, timeout 2500 ms)");
	assert_string_equal(ac_thread_wait_text(&w[2], text, sizeof(text)),
			    "asleep in ppoll (1 fd, no timeout)");

	assert_int_equal(w[3].kind, AC_WAIT_IO);
	assert_string_equal(w[3].args_from, "syscall registers");
	assert_string_equal(ac_thread_wait_text(&w[3], text, sizeof(text)),
			    "pread64(fd 9, offset 1048576, 4096 bytes) not returned");

	assert_string_equal(ac_thread_wait_text(&w[4], text, sizeof(text)),
			    "preadv(fd 9, offset 8192, 4608 bytes) not returned");
	assert_string_equal(ac_thread_wait_text(&w[5], text, sizeof(text)),
			    "io_submit(fd 13, offset 1048576, 65536 bytes) not returned");

	assert_int_equal(w[6].kind, AC_WAIT_SYSCALL);
	assert_string_equal(ac_thread_wait_text(&w[6], text, sizeof(text)), "in futex");

	assert_int_equal(w[7].n_fds, 1);
	assert_int_equal(w[7].fds[0], 5);
	assert_false(w[7].has_timeout);

	/* The BQL, named through its taker's frame; free: the wakeup is pending. */
	assert_int_equal(w[8].kind, AC_WAIT_MUTEX);
	struct ac_variable bql;
	assert_null(ac_dwarf_find_variable(prog->dwarf, "qemu_global_mutex",
					   "qemu_mutex_lock_iothread_impl", &bql));
	assert_int_equal(w[8].object, bql.address);
	/*
	 * Named when a symbol covers it: a live process's modules are their
	 * file mappings, so a static past them in .bss may stay nameless.
	 */
	const char *name = w[8].object_name;
	if (name)
		assert_string_equal(name, "qemu_global_mutex");
	assert_string_equal(w[8].frame_text, "#0 qemu_mutex_lock_impl");
	assert_true(w[8].has_owner);
	assert_int_equal(w[8].owner_tid, 0);
	snprintf(text, sizeof(text), "waits for QemuMutex%s%s 0x%" PRIx64
		 " (free: the wakeup is pending)", name ? " " : "", name ? name : "", w[8].object);
	char got[256];
	assert_string_equal(ac_thread_wait_text(&w[8], got, sizeof(got)), text);

	/* fds at 0x10: said, not guessed. */
	assert_int_equal(w[9].kind, AC_WAIT_POLL);
	assert_non_null(w[9].problem);
	assert_non_null(strstr(w[9].problem, "poll: "));
	for (size_t i = 0; i < 9; i++)
		assert_null(w[i].problem);
	ac_thread_waits_deinit(&ws);
	hand_program_close(prog);
}

/* No syscall registers (orig_rax -1): frame 0's name tells a poll; a cond's variable is missing. */
static void test_without_registers(void **state)
{
	(void)state;
	static uint64_t none[3][NREGS];
	for (size_t i = 0; i < 3; i++)
		none[i][ORIG_RAX] = (uint64_t)-1;
	struct hand_thread t[] = {
		{ 20, "main", { "ppoll@libc.so.6", "qemu_poll_ns", "main" } },
		{ 21, "worker", { "futex_wait@libc.so.6", "qemu_cond_timedwait_impl", "worker_thread" } },
		{ 22, "running", { "memcpy@libc.so.6", "main" } },
	};
	struct ac_program *prog = hand_program_open_regs(t, 3, (const uint64_t (*)[NREGS])none);
	struct ac_thread_waits ws;
	assert_null(ac_thread_waits_decode(prog, &ws));
	char text[256];
	assert_false(ws.items[0].in_syscall);
	assert_int_equal(ws.items[0].kind, AC_WAIT_POLL);
	assert_string_equal(ac_thread_wait_text(&ws.items[0], text, sizeof(text)), "asleep in ppoll");
	assert_int_equal(ws.items[1].kind, AC_WAIT_COND);
	assert_string_equal(ws.items[1].object_type, "QemuCond");
	assert_non_null(ws.items[1].problem);
	assert_non_null(strstr(ws.items[1].problem, "cond: "));
	assert_int_equal(ws.items[2].kind, AC_WAIT_NONE);
	assert_string_equal(ac_thread_wait_text(&ws.items[2], text, sizeof(text)),
			    "running (in memcpy)");
	assert_string_equal(ac_wait_kind_name(AC_WAIT_SEMAPHORE), "semaphore");
	assert_string_equal(ac_wait_kind_name((enum ac_wait_kind)99), "?");
	ac_thread_waits_deinit(&ws);
	hand_program_close(prog);
}

/* Far past the file-backed pages of the executable's data segment. */
static char bss_tail[8 << 20];

static void test_bss_tail_named(void **state)
{
	(void)state;
	struct ac_program *prog = hand_program_self();
	const char *name;
	uint64_t offset;
	struct ac_error *err = ac_program_symbol(prog, ADDR(&bss_tail[6 << 20]), &name, &offset);
	assert_null(err);
	assert_string_equal(name, "bss_tail");
	assert_int_equal(offset, 6 << 20);
	/* Past every segment: still no symbol. */
	err = ac_program_symbol(prog, UINT64_C(0x10), &name, &offset);
	assert_non_null(err);
	ac_error_destroy(err);
	hand_program_close(prog);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_without_registers),
		cmocka_unit_test(test_bss_tail_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
