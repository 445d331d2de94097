/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A module's symbols by name: one flat hash of symbol-table indexes, built
 * in one pass (a system emulator has 40,000 symbols, read once per run).
 * A slot per name, its symbols chained (hundreds of statics share a name);
 * they come back in symbol-table order, so callers keep libdwfl's "first
 * one wins" among same-named locals.
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
 * then offer every symbol in table order.
 */
struct ac_symbol_names *ac_symbol_names_create(Dwfl_Module *mod, int n_symbols);
void ac_symbol_names_add(struct ac_symbol_names *names, int index, const char *name,
			 const GElf_Sym *sym);
void ac_symbol_names_destroy(struct ac_symbol_names *names);
/* Whether the table has local symbols (.symtab, not .dynsym alone). */
bool ac_symbol_names_has_locals(const struct ac_symbol_names *names);

struct ac_symbol_iter {
	const struct ac_symbol_names *names;
	const char *name;
	int32_t next;           /* the symbol to return next; 0: none, -1: look up */
};

void ac_symbol_iter_init(struct ac_symbol_iter *it, const struct ac_symbol_names *names,
			 const char *name);
/* The next symbol named it->name: its index (0 at the end), entry and address. */
int ac_symbol_iter_next(struct ac_symbol_iter *it, GElf_Sym *sym, GElf_Addr *addr);

#endif
