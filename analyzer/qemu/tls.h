/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Static-TLS variables of the main executable (QEMU's `current`,
 * `co_tls_my_aiocontext`, `my_iothread`): the symbol is found once, then
 * placed in each thread from its thread pointer.  x86_64 (variant II):
 * tp - round_up(PT_TLS p_memsz, p_align) + st_value; aarch64 (variant I):
 * tp + round_up(16, p_align) + st_value.
 */
#ifndef AIOCORE_TLS_H
#define AIOCORE_TLS_H

#include <stdint.h>

#include "dwarf/dwarf.h"

struct ac_tls_variable {
	const char *name;        /* the name found, one of those asked */
	uint64_t offset;         /* STT_TLS st_value */
	uint64_t memsz, align, firstbyte;   /* the PT_TLS segment */
};

/*
 * The first of names[0..n) that is an STT_TLS symbol of the executable, in
 * one walk of its symbol table.  AC_ERR_LOOKUP if none is.
 */
struct ac_error *ac_tls_variable_find(struct ac_program *prog, const char *const *names,
				      size_t n, struct ac_tls_variable *ret);
/* Its run-time address in one thread; AC_ERR_BAD_DATA without a thread pointer. */
struct ac_error *ac_tls_variable_at(struct ac_program *prog, const struct ac_tls_variable *var,
				    const struct ac_thread *thread, uint64_t *ret);

#endif
