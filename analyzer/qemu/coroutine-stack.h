/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which coroutine a thread is running, from its stack pointer: the ucontext
 * and sigaltstack backends run each coroutine on its own stack
 * (CoroutineUContext.stack or CoroutineSigAltStack.stack, stack_size
 * bytes; before 2.8 a fixed 1 MiB), so a thread inside a coroutine has its
 * sp inside that coroutine's stack.  This needs no
 * thread-local and no glibc internals, so it works where QEMU 2.1 keeps the
 * current coroutine behind pthread_getspecific(), and checks `current`
 * where there is one.
 */
#ifndef AIOCORE_COROUTINE_STACK_H
#define AIOCORE_COROUTINE_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dwarf/dwarf.h"

/*
 * A coroutine backend whose Coroutine is `base` inside a struct that also
 * holds `stack`, (2.8 on) `stack_size` and `env`, the sigjmp_buf of a
 * suspended coroutine: ucontext, every distribution's choice, and
 * sigaltstack (configure --with-coroutine=sigaltstack, until 2.x's end).
 * first_frame is the backend's function at the bottom of a coroutine's
 * stack, with the Coroutine in `co` (or its struct in `self`).
 */
struct ac_coroutine_backend {
	const char *type;
	const char *first_frame;
	/* The signal handler under first_frame, where a backtrace ends: the
	 * signal frame under it returned long ago.  NULL: none. */
	const char *signal_handler;
};

/* The backend this program was built with; AC_ERR_LOOKUP for any other. */
struct ac_error *ac_coroutine_backend(struct ac_program *prog,
				      const struct ac_coroutine_backend **ret,
				      struct ac_type *type);

/* QEMU 1.x-2.7: qemu_coroutine_new()'s `const size_t stack_size = 1 << 20`. */
#define AC_COROUTINE_STACK_SIZE_2X (1u << 20)

struct ac_coroutine_stack {
	uint64_t base;   /* CoroutineUContext.stack (or CoroutineSigAltStack's) */
	uint64_t size;   /* .stack_size, or AC_COROUTINE_STACK_SIZE_2X */
};

/* The stack of the coroutine at co_address.  AC_ERR_LOOKUP for another backend. */
struct ac_error *ac_coroutine_stack_of(struct ac_program *prog, uint64_t co_address,
				       struct ac_coroutine_stack *ret);
bool ac_coroutine_stack_contains(const struct ac_coroutine_stack *stack, uint64_t sp);

/*
 * The coroutine that thread thread_index's backtrace runs: the `co` (or
 * `self`) of its backend's first frame (coroutine_trampoline for ucontext,
 * coroutine_bootstrap for sigaltstack).  For a running coroutine no
 * seed reaches.  *ret = 0 when the thread runs no coroutine; AC_ERR_LOOKUP
 * when the frame does not know the variable.
 */
struct ac_error *ac_coroutine_from_trampoline(struct ac_program *prog, size_t thread_index,
					      uint64_t *ret);

#endif
