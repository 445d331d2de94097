/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>

#include "coroutine-stack.h"
#include "dwarf/dwarf.h"
#include "target/target.h"

/* A function of (util/)coroutine-ucontext.c, whose CU has CoroutineUContext. */
#define UCONTEXT_HINT "qemu_coroutine_new"

/* Offset of CoroutineUContext.base: the Coroutine inside it. */
static struct ac_error *base_offset(struct ac_program *prog, uint64_t *ret)
{
	struct ac_type type;
	struct ac_member base;
	struct ac_error *err = ac_dwarf_find_type(prog->dwarf, "CoroutineUContext",
						  UCONTEXT_HINT, &type);
	if (!err)
		err = ac_dwarf_member(prog->dwarf, &type, "base", &base, NULL);
	if (err)
		return err;
	*ret = base.offset;
	return NULL;
}

struct ac_error *ac_coroutine_stack_of(struct ac_program *prog, uint64_t co_address,
				       struct ac_coroutine_stack *ret)
{
	uint64_t offset, base, size = AC_COROUTINE_STACK_SIZE_2X;
	struct ac_object obj;
	struct ac_error *err = base_offset(prog, &offset);
	if (!err)
		err = ac_object_at(prog, "CoroutineUContext", UCONTEXT_HINT,
				   co_address - offset, &obj);
	if (!err)
		err = ac_object_member_uint(prog, &obj, "stack", &base);
	if (err)
		return err;
	/* 2.8 on: qemu_alloc_stack() may round it up, so it is recorded. */
	if (ac_object_has_member(prog, &obj, "stack_size") &&
	    (err = ac_object_member_uint(prog, &obj, "stack_size", &size)))
		return err;
	if (!base || !size || base + size < base)
		return ac_error_create_at(AC_ERR_BAD_DATA, co_address,
					  "CoroutineUContext: no stack (0x%" PRIx64
					  ", %" PRIu64 " bytes)", base, size);
	*ret = (struct ac_coroutine_stack){ base, size };
	return NULL;
}

bool ac_coroutine_stack_contains(const struct ac_coroutine_stack *stack, uint64_t sp)
{
	return sp >= stack->base && sp - stack->base < stack->size;
}

struct ac_error *ac_coroutine_from_trampoline(struct ac_program *prog, size_t thread_index,
					      uint64_t *ret)
{
	const struct ac_backtrace *bt = ac_program_backtrace(prog, thread_index);
	long frame = bt ? ac_backtrace_find_function(bt, "coroutine_trampoline") : -1;
	*ret = 0;
	if (frame < 0)
		return NULL;
	uint64_t co, self, offset;
	struct ac_error *err = ac_frame_variable_uint(prog, thread_index, (size_t)frame,
						      "co", &co);
	if (!err) {
		*ret = co;
		return NULL;
	}
	if (!ac_error_catch(&err, AC_ERR_LOOKUP))
		return err;
	/* gcc may keep only self, the CoroutineUContext around it. */
	err = ac_frame_variable_uint(prog, thread_index, (size_t)frame, "self", &self);
	if (!err)
		err = base_offset(prog, &offset);
	if (err)
		return err;
	*ret = self + offset;
	return NULL;
}
