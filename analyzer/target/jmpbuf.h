/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A glibc sigjmp_buf as a register set.  A suspended ucontext coroutine
 * (CoroutineUContext.env) is nothing but a jmp_buf that sigsetjmp() filled
 * in qemu_coroutine_switch(); turned into registers it can be unwound like
 * a thread.  glibc mangles some of the saved pointers with the process's
 * pointer guard (PTR_MANGLE); this file undoes that per architecture.
 *
 * Layouts, verified against glibc (bminor/glibc):
 *
 * x86_64, sysdeps/x86_64/setjmp.S and jmpbuf-offsets.h: __jmpbuf[8] =
 *   rbx, rbp*, r12, r13, r14, r15, rsp*, pc*.  rsp is the stack pointer as
 *   it is after __sigsetjmp returns (lea 8(%rsp)), pc the return address.
 *   PTR_MANGLE (sysdeps/unix/sysv/linux/x86_64/pointer_guard.h):
 *   xor with tcbhead_t.pointer_guard (%fs:0x30), then rol 0x11.
 *
 * aarch64, sysdeps/aarch64/setjmp.S and jmpbuf-offsets.h: __jmpbuf[22] =
 *   x19..x28 (0-9), x29 (10, NOT mangled), lr* (11), 12 unused, sp* (13),
 *   d8..d15 (14-21).  PTR_MANGLE (sysdeps/unix/sysv/linux/aarch64/
 *   pointer_guard.h): eor with __pointer_chk_guard (exported by ld.so) in
 *   dynamic programs, __pointer_chk_guard_local in static ones; no rotate.
 *
 * (* = mangled.)
 */
#ifndef AIOCORE_JMPBUF_H
#define AIOCORE_JMPBUF_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"
#include "target-types.h"

/* x86_64 __jmpbuf indexes (glibc jmpbuf-offsets.h). */
enum ac_jmpbuf_x86_64 {
	AC_JB_X86_64_RBX = 0,
	AC_JB_X86_64_RBP = 1,
	AC_JB_X86_64_R12 = 2,
	AC_JB_X86_64_R13 = 3,
	AC_JB_X86_64_R14 = 4,
	AC_JB_X86_64_R15 = 5,
	AC_JB_X86_64_RSP = 6,
	AC_JB_X86_64_PC = 7,
	AC_JB_X86_64_WORDS = 8,
};

/* aarch64 __jmpbuf indexes (glibc jmpbuf-offsets.h); only x19..sp used. */
enum ac_jmpbuf_aarch64 {
	AC_JB_AARCH64_X19 = 0,    /* x19..x28 at 0..9 */
	AC_JB_AARCH64_X29 = 10,
	AC_JB_AARCH64_LR = 11,
	AC_JB_AARCH64_SP = 13,
	AC_JB_AARCH64_WORDS = 14,
};

/* Register indexes in struct ac_thread.gregs (prstatus order). */
enum {
	AC_X86_64_R15 = 0, AC_X86_64_R14 = 1, AC_X86_64_R13 = 2,
	AC_X86_64_R12 = 3, AC_X86_64_RBP = 4, AC_X86_64_RBX = 5,
	AC_X86_64_RIP = 16, AC_X86_64_RSP = 19, AC_X86_64_FS_BASE = 21,
	AC_X86_64_NGREGS = 27,
	AC_AARCH64_X19 = 19, AC_AARCH64_X29 = 29, AC_AARCH64_LR = 30,
	AC_AARCH64_SP = 31, AC_AARCH64_PC = 32, AC_AARCH64_NGREGS = 34,
};

/* How many leading __jmpbuf words ac_jmpbuf_to_registers() reads. */
size_t ac_jmpbuf_words(enum ac_arch arch);

/* PTR_MANGLE / PTR_DEMANGLE of one pointer-sized value. */
uint64_t ac_jmpbuf_mangle(enum ac_arch arch, uint64_t value, uint64_t guard);
uint64_t ac_jmpbuf_demangle(enum ac_arch arch, uint64_t value, uint64_t guard);

/*
 * The register set a longjmp to these words would resume with: callee-saved
 * registers, frame pointer, stack pointer and pc (the return address of the
 * sigsetjmp() call); every other register is 0.  words holds
 * ac_jmpbuf_words(arch) values in host order.  tls_base is copied into the
 * result (fs_base on x86_64) so that the set is complete.
 */
void ac_jmpbuf_to_registers(enum ac_arch arch, const uint64_t *words,
			    uint64_t guard, uint64_t tls_base,
			    struct ac_thread *ret);

/* The saved sp, pc and frame pointer of a register set (messages, checks). */
uint64_t ac_registers_sp(enum ac_arch arch, const struct ac_thread *regs);
uint64_t ac_registers_pc(enum ac_arch arch, const struct ac_thread *regs);
uint64_t ac_registers_fp(enum ac_arch arch, const struct ac_thread *regs);

/*
 * The target's pointer guard: on x86_64 tcbhead_t.pointer_guard of the
 * given thread (any thread: every TCB holds the same copy); on aarch64 the
 * global __pointer_chk_guard / __pointer_chk_guard_local found by symbol
 * in any module.  AC_ERR_LOOKUP when it cannot be found.
 */
struct ac_error *ac_jmpbuf_pointer_guard(struct ac_target *target,
					 const struct ac_thread *thread,
					 uint64_t *ret);

/* Read the jmp_buf at address and turn it into registers. */
struct ac_error *ac_jmpbuf_read(struct ac_target *target, uint64_t address,
				uint64_t guard, uint64_t tls_base,
				struct ac_thread *ret);

#endif
