/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which names a module's DWARF cannot hold, without reading its DIEs.
 * Decoders try one QEMU generation's names, then the next; a name missing
 * from its hint CU would otherwise index every CU of the module to learn
 * that it is nowhere (a fifth of a second on a system emulator).  GCC (with
 * a mergeable .debug_str) and clang keep every name longer than a DWARF
 * offset in the string sections, so a name absent from them is absent from
 * the DIEs.  Anything this cannot prove answers "may hold".
 */
#ifndef AIOCORE_NAME_FILTER_H
#define AIOCORE_NAME_FILTER_H

#include <elfutils/libdw.h>
#include <stdbool.h>

struct ac_name_filter;

/* NULL where the proof does not hold (compressed or unmergeable strings,
 * split DWARF, no memory): then every name may be there. */
struct ac_name_filter *ac_name_filter_create(Dwarf *dbg);
void ac_name_filter_destroy(struct ac_name_filter *filter);

/* false only if no DIE of the module can be named name.  filter may be NULL. */
bool ac_name_filter_may_hold(const struct ac_name_filter *filter, const char *name);

#endif
