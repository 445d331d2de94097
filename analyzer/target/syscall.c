/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "syscall.h"
#include "target.h"

/* The calls a hung QEMU thread sits in, by architecture (asm/unistd.h). */
static const struct {
	const char *name;
	int64_t x86_64, aarch64;    /* -1: the arch has no such call */
} calls[] = {
	{ "read", 0, 63 },          { "write", 1, 64 },
	{ "pread64", 17, 67 },      { "pwrite64", 18, 68 },
	{ "readv", 19, 65 },        { "writev", 20, 66 },
	{ "preadv", 295, 69 },      { "pwritev", 296, 70 },
	{ "preadv2", 327, 286 },    { "pwritev2", 328, 287 },
	{ "fsync", 74, 82 },        { "fdatasync", 75, 83 },
	{ "io_submit", 209, 2 },    { "io_getevents", 208, 4 },
	{ "io_pgetevents", 333, 292 },
	{ "io_uring_enter", 426, 426 },
	{ "poll", 7, -1 },          { "ppoll", 271, 73 },
	{ "epoll_wait", 232, -1 },  { "epoll_pwait", 281, 22 },
	{ "futex", 202, 98 },
	{ "nanosleep", 35, 101 },   { "clock_nanosleep", 230, 115 },
	{ "recvfrom", 45, 207 },    { "sendto", 44, 206 },
	{ "recvmsg", 47, 212 },     { "sendmsg", 46, 211 },
	{ "connect", 42, 203 },     { "accept4", 288, 242 },
	{ "ioctl", 16, 29 },        { "fallocate", 285, 47 },
	{ "openat", 257, 56 },      { "close", 3, 57 },
};

/* x86_64 pr_reg order (user_regs_struct). */
enum { RDI = 14, RSI = 13, RDX = 12, R10 = 7, R8 = 9, R9 = 8, ORIG_RAX = 15, RIP = 16 };
/* aarch64: x0..x30, sp, pc, pstate. */
enum { A64_X8 = 8, A64_PC = 32 };
#define A64_SVC_0 0xd4000001u

struct ac_error *ac_syscall_of_thread(struct ac_target *target,
				      const struct ac_thread *thread,
				      struct ac_syscall *ret)
{
	enum ac_arch arch = ac_target_arch(target);
	struct ac_syscall s = { .number = -1 };
	if (arch == AC_ARCH_X86_64 && thread->n_gregs > RIP) {
		static const int regs[6] = { RDI, RSI, RDX, R10, R8, R9 };
		s.number = (int64_t)thread->gregs[ORIG_RAX];
		for (int i = 0; i < 6; i++)
			s.args[i] = thread->gregs[regs[i]];
	} else if (arch == AC_ARCH_AARCH64 && thread->n_gregs > A64_PC) {
		uint32_t insn;
		struct ac_error *err = ac_target_read_u32(target, thread->gregs[A64_PC] - 4,
							  &insn);
		if (err)
			return ac_error_prefix(err, "thread %d: the instruction before its pc",
					       thread->tid);
		if (insn == A64_SVC_0)
			s.number = (int64_t)thread->gregs[A64_X8];
		for (int i = 0; i < 6; i++)
			s.args[i] = thread->gregs[i];
	}
	if (s.number < 0)
		return ac_error_create(AC_ERR_LOOKUP, "thread %d is not in a system call",
				    thread->tid);
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if ((arch == AC_ARCH_X86_64 ? calls[i].x86_64 : calls[i].aarch64) == s.number)
			s.name = calls[i].name;
	*ret = s;
	return NULL;
}
