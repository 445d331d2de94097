/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The system call a thread sits in, from its registers: the number and the
 * six arguments as the kernel saw them at entry.  x86_64: orig_rax holds
 * the number (-1 outside a syscall), arguments in rdi rsi rdx r10 r8 r9.
 * aarch64: the pc follows an `svc #0`, the number is in x8 and the
 * arguments in x0-x5 (x0 is only overwritten when the call returns).
 * Knows no program above libc: QEMU-independent.
 */
#ifndef AIOCORE_SYSCALL_H
#define AIOCORE_SYSCALL_H

#include <stdbool.h>
#include <stdint.h>

#include "target-types.h"
#include "util/util.h"

struct ac_syscall {
	int64_t number;
	const char *name;       /* "pread64", ... or NULL when not in the table */
	uint64_t args[6];
};

/*
 * *ret when the thread is inside a syscall; AC_ERR_LOOKUP when its
 * registers say it is not (or cannot say).
 */
struct ac_error *ac_syscall_of_thread(struct ac_target *target,
				      const struct ac_thread *thread,
				      struct ac_syscall *ret);

#endif
