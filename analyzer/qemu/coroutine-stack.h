/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which coroutine a thread is running, from its stack pointer: the ucontext
 * backend runs each coroutine on its own stack (CoroutineUContext.stack,
 * stack_size bytes; before 2.8 a fixed 1 MiB), so a thread inside a
 * coroutine has its sp inside that coroutine's stack.  This needs no
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

/* QEMU 1.x-2.7: qemu_coroutine_new()'s `const size_t stack_size = 1 << 20`. */
#define AC_COROUTINE_STACK_SIZE_2X (1u << 20)

struct ac_coroutine_stack {
	uint64_t base;   /* CoroutineUContext.stack */
	uint64_t size;   /* .stack_size, or AC_COROUTINE_STACK_SIZE_2X */
};

/* The stack of the coroutine at co_address.  AC_ERR_LOOKUP without ucontext. */
struct ac_error *ac_coroutine_stack_of(struct ac_program *prog, uint64_t co_address,
				       struct ac_coroutine_stack *ret);
bool ac_coroutine_stack_contains(const struct ac_coroutine_stack *stack, uint64_t sp);

/*
 * The coroutine that thread thread_index's backtrace runs: the `co` (or
 * `self`) of its coroutine_trampoline frame.  For a running coroutine no
 * seed reaches.  *ret = 0 when the thread runs no coroutine; AC_ERR_LOOKUP
 * when the frame does not know the variable.
 */
struct ac_error *ac_coroutine_from_trampoline(struct ac_program *prog, size_t thread_index,
					      uint64_t *ret);

#endif
