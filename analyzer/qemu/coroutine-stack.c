/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>

#include "coroutine-stack.h"
#include "dwarf/dwarf.h"
#include "target/target.h"

/* A function of each backend's file, (util/)coroutine-BACKEND.c, whose CU
 * has the backend's struct. */
#define BACKEND_HINT "qemu_coroutine_new"

static const struct ac_coroutine_backend backends[] = {
	{ "CoroutineUContext", "coroutine_trampoline", NULL },
	{ "CoroutineSigAltStack", "coroutine_bootstrap", "coroutine_trampoline" },
};

struct ac_error *ac_coroutine_backend(struct ac_program *prog,
				      const struct ac_coroutine_backend **ret,
				      struct ac_type *type)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		struct ac_error *err = ac_dwarf_find_type(prog->dwarf, backends[i].type,
							  BACKEND_HINT, type);
		if (!err) {
			*ret = &backends[i];
			return NULL;
		}
		if (!ac_error_catch(&err, AC_ERR_LOOKUP))
			return err;
	}
	return ac_error_create(AC_ERR_LOOKUP, "no CoroutineUContext or CoroutineSigAltStack "
			       "(near function '" BACKEND_HINT "'): a coroutine backend "
			       "aiocore does not know (gthread, windows, or 4.x's shadow stacks)");
}

/* Offset of .base in the backend's struct (type): the Coroutine inside it. */
static struct ac_error *base_offset(struct ac_program *prog, struct ac_type *type,
				    uint64_t *ret)
{
	struct ac_member base;
	struct ac_error *err = ac_dwarf_member(prog->dwarf, type, "base", &base, NULL);
	if (err)
		return err;
	*ret = base.offset;
	return NULL;
}

struct ac_error *ac_coroutine_stack_of(struct ac_program *prog, uint64_t co_address,
				       struct ac_coroutine_stack *ret)
{
	uint64_t offset, base, size = AC_COROUTINE_STACK_SIZE_2X;
	const struct ac_coroutine_backend *backend;
	struct ac_type type;
	struct ac_object obj;
	struct ac_error *err = ac_coroutine_backend(prog, &backend, &type);
	if (!err)
		err = base_offset(prog, &type, &offset);
	if (!err)
		err = ac_object_at(prog, backend->type, BACKEND_HINT,
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
					  "%s: no stack (0x%" PRIx64 ", %" PRIu64 " bytes)",
					  backend->type, base, size);
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
	const struct ac_coroutine_backend *backend;
	struct ac_type type;
	*ret = 0;
	struct ac_error *err = ac_coroutine_backend(prog, &backend, &type);
	if (err)
		return err;
	long frame = bt ? ac_backtrace_find_function(bt, backend->first_frame) : -1;
	if (frame < 0)
		return NULL;
	uint64_t co, self, offset;
	err = ac_frame_variable_uint(prog, thread_index, (size_t)frame, "co", &co);
	if (!err) {
		*ret = co;
		return NULL;
	}
	if (!ac_error_catch(&err, AC_ERR_LOOKUP))
		return err;
	/* gcc may keep only self, the backend's struct around it. */
	err = ac_frame_variable_uint(prog, thread_index, (size_t)frame, "self", &self);
	if (!err)
		err = base_offset(prog, &type, &offset);
	if (err)
		return err;
	*ret = self + offset;
	return NULL;
}
