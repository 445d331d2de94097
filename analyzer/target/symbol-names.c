/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "symbol-names.h"

/* A named symbol: its name (in libelf's string table), index and prefix. */
struct named {
	const char *name;
	int32_t index;
	uint16_t prefix;
};

struct ac_symbol_names {
	Dwfl_Module *mod;
	struct named *items;    /* by prefix, ties in table order, once finished */
	int32_t n_items;
	int n;                  /* symbols in the table */
	bool locals, finished;
};

/*
 * A name's first two bytes, as a number that sorts as they do.  Reading
 * them, not the whole name, is what keeps the index cheap: a system
 * emulator has 40,000 names in 700 KiB and a run looks up about twenty.
 */
static uint16_t prefix_of(const char *name)
{
	unsigned char first = (unsigned char)name[0];
	return (uint16_t)(first << 8 | (first ? (unsigned char)name[1] : 0));
}

static bool wanted(const GElf_Sym *sym)
{
	if (sym->st_shndx == SHN_UNDEF)
		return false;
	switch (GELF_ST_TYPE(sym->st_info)) {
	case STT_FUNC:
	case STT_GNU_IFUNC:
	case STT_OBJECT:
	case STT_TLS:
	case STT_COMMON:
		return true;
	default:
		return false;
	}
}

struct ac_symbol_names *ac_symbol_names_create(Dwfl_Module *mod, int n_symbols)
{
	struct ac_symbol_names *names = calloc(1, sizeof(*names));
	if (!names)
		return NULL;
	names->mod = mod;
	if (n_symbols <= 1)
		return names;
	if (!(names->items = malloc((size_t)n_symbols * sizeof(*names->items)))) {
		ac_symbol_names_destroy(names);
		return NULL;
	}
	names->n = n_symbols;
	return names;
}

void ac_symbol_names_add(struct ac_symbol_names *names, int index, const char *name,
			 const GElf_Sym *sym)
{
	if (!names->items || names->finished || index <= 0 || index >= names->n || !name ||
	    !*name || !wanted(sym))
		return;
	if (GELF_ST_BIND(sym->st_info) == STB_LOCAL)
		names->locals = true;
	names->items[names->n_items++] = (struct named){ name, index, prefix_of(name) };
}

/*
 * Sorts by prefix, stably (offered in table order, so ties stay in it):
 * two passes of an LSD radix sort.  Without memory for the second half,
 * nothing is found by name (lookups then walk no items) and the caller's
 * names are simply missing, as with no symbol table.
 */
void ac_symbol_names_finish(struct ac_symbol_names *names)
{
	if (names->finished)
		return;
	names->finished = true;
	struct named *from = names->items;
	struct named *to = from ? malloc((size_t)names->n_items * sizeof(*to) + 1) : NULL;
	if (!to) {
		names->n_items = 0;
		return;
	}
	for (unsigned shift = 0; shift < 16; shift += 8) {
		size_t count[256] = { 0 };
		for (int32_t i = 0; i < names->n_items; i++)
			count[(from[i].prefix >> shift) & 0xff]++;
		size_t sum = 0;
		for (unsigned d = 0; d < 256; d++) {
			size_t c = count[d];
			count[d] = sum;
			sum += c;
		}
		for (int32_t i = 0; i < names->n_items; i++)
			to[count[(from[i].prefix >> shift) & 0xff]++] = from[i];
		struct named *swap = from;
		from = to;
		to = swap;
	}
	/* Two passes: the sorted half is items again. */
	free(to);
}

struct ac_symbol_names *ac_symbol_names_build(Dwfl_Module *mod)
{
	int n = dwfl_module_getsymtab(mod);
	struct ac_symbol_names *names = ac_symbol_names_create(mod, n);
	for (int i = 1; names && i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
		ac_symbol_names_add(names, i, name, &sym);
	}
	if (names)
		ac_symbol_names_finish(names);
	return names;
}

void ac_symbol_names_destroy(struct ac_symbol_names *names)
{
	if (!names)
		return;
	free(names->items);
	free(names);
}

bool ac_symbol_names_has_locals(const struct ac_symbol_names *names)
{
	return names->locals;
}

void ac_symbol_iter_init(struct ac_symbol_iter *it, const struct ac_symbol_names *names,
			 const char *name)
{
	*it = (struct ac_symbol_iter){ .names = names, .name = name, .prefix = prefix_of(name) };
	/* The first item of the name's prefix. */
	int32_t lo = 0, hi = names->finished && names->items ? names->n_items : 0;
	it->end = hi;
	while (lo < hi) {
		int32_t mid = lo + (hi - lo) / 2;
		if (names->items[mid].prefix < it->prefix)
			lo = mid + 1;
		else
			hi = mid;
	}
	it->next = lo;
}

int ac_symbol_iter_next(struct ac_symbol_iter *it, GElf_Sym *sym, GElf_Addr *addr)
{
	const struct ac_symbol_names *names = it->names;
	/* Same prefix, other names: skipped (a hostile table costs a walk, not more). */
	for (; it->next < it->end && names->items[it->next].prefix == it->prefix; it->next++) {
		const struct named *item = &names->items[it->next];
		if (strcmp(item->name, it->name) ||
		    !dwfl_module_getsym_info(names->mod, item->index, sym, addr, NULL, NULL, NULL))
			continue;
		it->next++;
		return item->index;
	}
	it->next = it->end;
	return 0;
}
