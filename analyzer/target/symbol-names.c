/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "symbol-names.h"
#include "util/hash-map.h"

/* A named symbol: its table index under its name's hash. */
struct named {
	uint32_t hash;
	int32_t index;
};

struct ac_symbol_names {
	Dwfl_Module *mod;
	struct named *items;    /* by hash, ties in table order, once finished */
	struct named *spare;    /* the radix sort's other half */
	int32_t n_items;
	int n;                  /* symbols in the table */
	bool locals, finished;
};

static uint32_t hash_name(const char *s)
{
	return (uint32_t)(ac_hash_string(s) >> 32);
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
	if (!(names->items = calloc((size_t)n_symbols, sizeof(*names->items))) ||
	    !(names->spare = calloc((size_t)n_symbols, sizeof(*names->spare)))) {
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
	names->items[names->n_items++] = (struct named){ hash_name(name), index };
}

/*
 * Sorts by hash, stably (offered in table order, so ties stay in it): an
 * LSD radix sort, a pass per byte, sequential where a hash table would
 * miss the cache on every one of 40,000 inserts.
 */
void ac_symbol_names_finish(struct ac_symbol_names *names)
{
	if (names->finished)
		return;
	names->finished = true;
	struct named *from = names->items, *to = names->spare;
	for (unsigned shift = 0; from && shift < 32; shift += 8) {
		size_t count[256] = { 0 };
		for (int32_t i = 0; i < names->n_items; i++)
			count[(from[i].hash >> shift) & 0xff]++;
		size_t sum = 0;
		for (unsigned d = 0; d < 256; d++) {
			size_t c = count[d];
			count[d] = sum;
			sum += c;
		}
		for (int32_t i = 0; i < names->n_items; i++)
			to[count[(from[i].hash >> shift) & 0xff]++] = from[i];
		struct named *swap = from;
		from = to;
		to = swap;
	}
	/* Four passes: the sorted half is items again. */
	free(names->spare);
	names->spare = NULL;
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
	free(names->spare);
	free(names);
}

bool ac_symbol_names_has_locals(const struct ac_symbol_names *names)
{
	return names->locals;
}

void ac_symbol_iter_init(struct ac_symbol_iter *it, const struct ac_symbol_names *names,
			 const char *name)
{
	*it = (struct ac_symbol_iter){ .names = names, .name = name, .hash = hash_name(name) };
	/* The first item of the name's hash. */
	int32_t lo = 0, hi = names->finished && names->items ? names->n_items : 0;
	while (lo < hi) {
		int32_t mid = lo + (hi - lo) / 2;
		if (names->items[mid].hash < it->hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	it->next = lo;
	it->end = names->finished && names->items ? names->n_items : 0;
}

int ac_symbol_iter_next(struct ac_symbol_iter *it, GElf_Sym *sym, GElf_Addr *addr)
{
	const struct ac_symbol_names *names = it->names;
	/* Same hash, other names: skipped (a hostile table costs a walk, not more). */
	for (; it->next < it->end && names->items[it->next].hash == it->hash; it->next++) {
		int32_t index = names->items[it->next].index;
		const char *n = dwfl_module_getsym_info(names->mod, index, sym, addr,
							NULL, NULL, NULL);
		if (n && !strcmp(n, it->name)) {
			it->next++;
			return index;
		}
	}
	it->next = it->end;
	return 0;
}
