/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The innermost inlined subroutine at a pc: what dwarf_getscopes() gives
 * the unwinder, from a per-CU table of its functions' address ranges read
 * once, instead of a walk of the whole CU for every frame (threads'
 * stacks meet in the same few CUs).  Where the table cannot answer as
 * dwarf_getscopes() would (imported units, a DIE libdw cannot range, an
 * abstract origin outside the CU), it says so and the caller asks libdw.
 */
#ifndef AIOCORE_INLINE_SCOPE_H
#define AIOCORE_INLINE_SCOPE_H

#include <elfutils/libdw.h>

struct ac_inline_scopes;

struct ac_inline_scopes *ac_inline_scopes_create(void);
void ac_inline_scopes_destroy(struct ac_inline_scopes *scopes);

/*
 * pc is relative to the CU's module (as dwarf_getscopes() takes it).
 * 1: *ret is the innermost DW_TAG_inlined_subroutine at pc; 0: there is
 * none; -1: unknown here, ask dwarf_getscopes().
 */
int ac_inline_scopes_innermost(struct ac_inline_scopes *scopes, Dwarf_Die *cudie,
			       Dwarf_Addr pc, Dwarf_Die *ret);

#endif
