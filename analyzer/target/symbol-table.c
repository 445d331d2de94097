/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdbool.h>
#include <stdlib.h>

#include "symbol-table.h"

struct entry {
	uint64_t value;           /* run-time address */
	uint64_t max_end;         /* the largest value + size up to here (sorted) */
	const char *name;
	GElf_Sym sym;
	int index;                /* in libdwfl's numbering: table order */
};

struct ac_symbol_table {
	struct entry *entries;
	size_t n;
	int first_global;         /* indices below: locals, searched second */
};

static int by_value(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	return x->index - y->index;
}

struct ac_symbol_table *ac_symbol_table_build(Dwfl_Module *mod)
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
		struct entry *e = &t->entries[t->n];
		GElf_Addr value;
		const char *name = dwfl_module_getsym_info(mod, i, &e->sym, &value, NULL, NULL, NULL);
		/* What libdwfl never answers with. */
		int type = GELF_ST_TYPE(e->sym.st_info);
		if (!name || !name[0] || e->sym.st_shndx == SHN_UNDEF || type == STT_SECTION ||
		    type == STT_FILE || type == STT_TLS)
			continue;
		e->value = value;
		e->name = name;
		e->index = i;
		t->n++;
	}
	qsort(t->entries, t->n, sizeof(*t->entries), by_value);
	uint64_t max_end = 0;
	for (size_t i = 0; i < t->n; i++) {
		struct entry *e = &t->entries[i];
		uint64_t end = e->value + e->sym.st_size;
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

static int binding_rank(const GElf_Sym *sym)
{
	switch (GELF_ST_BIND(sym->st_info)) {
	case STB_GLOBAL: return 3;
	case STB_WEAK: return 2;
	case STB_LOCAL: return 1;
	default: return 0;
	}
}

/* libdwfl's preference, applied in table order: does s beat the best c? */
static bool better(const struct entry *c, const struct entry *s)
{
	if (!c || c->value < s->value || binding_rank(&c->sym) < binding_rank(&s->sym))
		return true;
	return c->value == s->value &&
	       ((c->sym.st_size > s->sym.st_size &&
		 binding_rank(&c->sym) <= binding_rank(&s->sym)) ||
		(c->sym.st_size >= s->sym.st_size &&
		 binding_rank(&c->sym) < binding_rank(&s->sym)));
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
			if (!e->sym.st_size || pc - e->value >= e->sym.st_size ||
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
			if (!t->entries[j].sym.st_size && t->entries[j].index >= t->first_global)
				goto ask_libdwfl;
		best = best_covering(t, below, pc, false);
	}
	if (best) {
		*offset = pc - best->value;
		*sym = best->sym;
		return best->name;
	}
ask_libdwfl:
	/* Sizeless symbols only: libdwfl compares sections, which we do not. */
	return dwfl_module_addrinfo(mod, pc, offset, sym, NULL, NULL, NULL);
}
