/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A module's symbols by name: their names and table indexes sorted by the
 * names' first two bytes, built in one pass that reads no more of a name
 * (a system emulator has 40,000 symbols; a run looks up about twenty
 * names).  A lookup compares the names of its prefix.  Symbols of one
 * name (hundreds of statics share one) come back in symbol-table order,
 * so callers keep libdwfl's "first one wins" among same-named locals.
 */
#ifndef AIOCORE_SYMBOL_NAMES_H
#define AIOCORE_SYMBOL_NAMES_H

#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdint.h>

struct ac_symbol_names;

/* Defined functions, objects and thread-locals with a name; NULL: no memory. */
struct ac_symbol_names *ac_symbol_names_build(Dwfl_Module *mod);
/*
 * The same in steps, for a caller that reads the symbols anyway (the
 * sorted table): create for n_symbols (dwfl_module_getsymtab's count),
 * offer every symbol in table order, then finish before the first lookup
 * (names offered after it are ignored; lookups before it find nothing).
 */
struct ac_symbol_names *ac_symbol_names_create(Dwfl_Module *mod, int n_symbols);
void ac_symbol_names_add(struct ac_symbol_names *names, int index, const char *name,
			 const GElf_Sym *sym);
void ac_symbol_names_finish(struct ac_symbol_names *names);
void ac_symbol_names_destroy(struct ac_symbol_names *names);
/* Whether the table has local symbols (.symtab, not .dynsym alone). */
bool ac_symbol_names_has_locals(const struct ac_symbol_names *names);

struct ac_symbol_iter {
	const struct ac_symbol_names *names;
	const char *name;
	uint16_t prefix;
	int32_t next, end;      /* the sorted items left to look at */
};

void ac_symbol_iter_init(struct ac_symbol_iter *it, const struct ac_symbol_names *names,
			 const char *name);
/* The next symbol named it->name: its index (0 at the end), entry and address. */
int ac_symbol_iter_next(struct ac_symbol_iter *it, GElf_Sym *sym, GElf_Addr *addr);

#endif
