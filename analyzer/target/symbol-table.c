/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdbool.h>
#include <stdlib.h>

#include "symbol-table.h"

/*
 * 32 bytes a symbol, 40,000 symbols: the name and the rest of the entry
 * are asked of libdwfl again for the one symbol an address resolves to.
 */
struct entry {
	uint64_t value;           /* run-time address */
	uint64_t max_end;         /* the largest value + size up to here (sorted) */
	uint64_t size;
	int32_t index;            /* in libdwfl's numbering: table order */
	uint8_t rank;             /* of its binding, see binding_rank */
};

struct ac_symbol_table {
	struct entry *entries;
	size_t n;
	int first_global;         /* indices below: locals, searched second */
};

/* Puts entries[order[i]] at i, following each cycle once; order is spent. */
static void permute(struct entry *entries, uint32_t *order, size_t n)
{
	const uint32_t done = UINT32_MAX;
	for (size_t i = 0; i < n; i++) {
		if (order[i] == done)
			continue;
		struct entry first = entries[i];
		size_t j = i;
		for (;;) {
			size_t k = order[j];
			order[j] = done;
			if (k == i) {
				entries[j] = first;
				break;
			}
			entries[j] = entries[k];
			j = k;
		}
	}
}

/*
 * Sorts entries by value, ties in table order (they come in table order):
 * a stable LSD radix sort of their positions, one pass per byte of the
 * values that differs.  A system emulator's 40,000 symbols cost a fifth of
 * what qsort did.
 */
static bool sort_by_value(struct entry *entries, size_t n)
{
	if (n < 2)
		return true;
	if (n >= UINT32_MAX)
		return false;
	uint32_t *order = malloc(n * sizeof(*order));
	uint32_t *tmp = malloc(n * sizeof(*tmp));
	size_t count[8][256] = { { 0 } };
	if (!order || !tmp) {
		free(order);
		free(tmp);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		order[i] = (uint32_t)i;
		for (unsigned b = 0; b < 8; b++)
			count[b][(entries[i].value >> (8 * b)) & 0xff]++;
	}
	for (unsigned b = 0; b < 8; b++) {
		size_t sum = 0;
		bool one_digit = false;
		for (unsigned d = 0; d < 256 && !one_digit; d++)
			one_digit = count[b][d] == n;
		if (one_digit)
			continue;
		for (unsigned d = 0; d < 256; d++) {
			size_t c = count[b][d];
			count[b][d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[count[b][(entries[order[i]].value >> (8 * b)) & 0xff]++] = order[i];
		uint32_t *swap = order;
		order = tmp;
		tmp = swap;
	}
	permute(entries, order, n);
	free(order);
	free(tmp);
	return true;
}

static int binding_rank(const GElf_Sym *sym)
{
	switch (GELF_ST_BIND(sym->st_info)) {
	case STB_GLOBAL: return 3;
	case STB_WEAK: return 2;
	case STB_LOCAL: return 1;
	default: return 0;
	}
}

struct ac_symbol_table *ac_symbol_table_build(Dwfl_Module *mod, struct ac_symbol_names *names)
{
	int n = dwfl_module_getsymtab(mod);
	int first_global = dwfl_module_getsymtab_first_global(mod);
	if (n <= 0 || first_global < 0)
		return NULL;
	struct ac_symbol_table *t = calloc(1, sizeof(*t));
	if (!t || !(t->entries = calloc((size_t)n, sizeof(*t->entries)))) {
		free(t);
		return NULL;
	}
	t->first_global = first_global == 0 ? 1 : first_global;
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr value;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &value, NULL, NULL, NULL);
		if (names)
			ac_symbol_names_add(names, i, name, &sym);
		/* What libdwfl never answers with. */
		int type = GELF_ST_TYPE(sym.st_info);
		if (!name || !name[0] || sym.st_shndx == SHN_UNDEF || type == STT_SECTION ||
		    type == STT_FILE || type == STT_TLS)
			continue;
		t->entries[t->n++] = (struct entry){
			.value = value, .size = sym.st_size, .index = i,
			.rank = (uint8_t)binding_rank(&sym),
		};
	}
	if (!sort_by_value(t->entries, t->n)) {
		ac_symbol_table_destroy(t);
		return NULL;
	}
	uint64_t max_end = 0;
	for (size_t i = 0; i < t->n; i++) {
		struct entry *e = &t->entries[i];
		uint64_t end = e->value + e->size;
		if (end > max_end)
			max_end = end;
		e->max_end = max_end;
	}
	return t;
}

void ac_symbol_table_destroy(struct ac_symbol_table *table)
{
	if (!table)
		return;
	free(table->entries);
	free(table);
}

/* libdwfl's preference, applied in table order: does s beat the best c? */
static bool better(const struct entry *c, const struct entry *s)
{
	if (!c || c->value < s->value || c->rank < s->rank)
		return true;
	return c->value == s->value &&
	       ((c->size > s->size && c->rank <= s->rank) ||
		(c->size >= s->size && c->rank < s->rank));
}

/* The best sized symbol covering pc among one binding class, or NULL. */
static const struct entry *best_covering(const struct ac_symbol_table *t, size_t below,
					 uint64_t pc, bool globals)
{
	const struct entry *best = NULL;
	int best_index = -1;
	/* Covering symbols are in table order for `better`: take them lowest
	 * index first by repeated passes over the (short) covering run. */
	for (;;) {
		const struct entry *next = NULL;
		for (size_t j = below; j-- > 0 && t->entries[j].max_end > pc;) {
			const struct entry *e = &t->entries[j];
			if (!e->size || pc - e->value >= e->size ||
			    (e->index >= t->first_global) != globals || e->index <= best_index)
				continue;
			if (!next || e->index < next->index)
				next = e;
		}
		if (!next)
			return best;
		best_index = next->index;
		if (better(best, next))
			best = next;
	}
}

const char *ac_symbol_table_lookup(const struct ac_symbol_table *t, Dwfl_Module *mod,
				   uint64_t pc, GElf_Off *offset, GElf_Sym *sym)
{
	/* below: the entries whose value <= pc. */
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->entries[mid].value <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t below = lo;
	const struct entry *best = best_covering(t, below, pc, true);
	if (!best) {
		/* A global label exactly at pc keeps libdwfl from the locals. */
		for (size_t j = below; j-- > 0 && t->entries[j].value == pc;)
			if (!t->entries[j].size && t->entries[j].index >= t->first_global)
				goto ask_libdwfl;
		best = best_covering(t, below, pc, false);
	}
	GElf_Addr value;
	const char *name = best ? dwfl_module_getsym_info(mod, best->index, sym, &value,
							  NULL, NULL, NULL) : NULL;
	if (name) {
		*offset = pc - best->value;
		return name;
	}
ask_libdwfl:
	/* Sizeless symbols only: libdwfl compares sections, which we do not. */
	return dwfl_module_addrinfo(mod, pc, offset, sym, NULL, NULL, NULL);
}
