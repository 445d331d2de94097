/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A module's symbol table sorted by address, built once, answering what
 * dwfl_module_addrinfo() answers without walking every symbol per lookup.
 * Among several symbols covering an address it keeps libdwfl's choice
 * (globals and weaks before locals, then closest start, then binding and
 * size, then table order); the rare answers that come from a sizeless
 * symbol (assembly labels), where libdwfl also compares sections, are
 * left to libdwfl itself.
 */
#ifndef AIOCORE_SYMBOL_TABLE_H
#define AIOCORE_SYMBOL_TABLE_H

#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <stdint.h>

#include "symbol-names.h"

struct ac_symbol_table;

/*
 * NULL without memory or a symbol table: then ask libdwfl.  names, if not
 * NULL, is offered every symbol on the way (one read of the table for both).
 */
struct ac_symbol_table *ac_symbol_table_build(Dwfl_Module *mod, struct ac_symbol_names *names);
void ac_symbol_table_destroy(struct ac_symbol_table *table);
/* As dwfl_module_addrinfo(mod, pc, offset, sym, NULL, NULL, NULL). */
const char *ac_symbol_table_lookup(const struct ac_symbol_table *table, Dwfl_Module *mod,
				   uint64_t pc, GElf_Off *offset, GElf_Sym *sym);

#endif
