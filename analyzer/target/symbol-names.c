/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "symbol-names.h"

struct slot {
	uint32_t hash;
	int32_t first;          /* 0: empty (symbol 0 is the null symbol) */
	int32_t last;           /* of the chain, to append in table order */
};

struct ac_symbol_names {
	Dwfl_Module *mod;
	struct slot *slots;
	uint32_t mask;          /* slots - 1, a power of two minus one */
	int32_t *next;          /* per symbol: the next of its name, or 0 */
	int n;                  /* symbols in the table */
	bool locals;
};

/* FNV-1a; its low bits pick the slot, so fold the high ones in. */
static uint32_t hash_name(const char *s)
{
	uint32_t h = 2166136261u;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h ^ (h >> 15);
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

/* The slot of name: its own, or the empty one where it would go. */
static struct slot *find_slot(const struct ac_symbol_names *names, const char *name,
			      uint32_t hash, GElf_Sym *sym, GElf_Addr *addr)
{
	for (uint32_t pos = hash & names->mask;; pos = (pos + 1) & names->mask) {
		struct slot *s = &names->slots[pos];
		if (!s->first)
			return s;
		if (s->hash != hash)
			continue;
		const char *n = dwfl_module_getsym_info(names->mod, s->first, sym, addr,
							NULL, NULL, NULL);
		if (n && !strcmp(n, name))
			return s;
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
	/* At most two thirds full: short probe runs, few pages. */
	uint32_t size = 64, need = (uint32_t)n_symbols + (uint32_t)n_symbols / 2;
	while (size < need && size < (UINT32_C(1) << 30))
		size *= 2;
	if (size < need || !(names->slots = calloc(size, sizeof(*names->slots))) ||
	    !(names->next = calloc((size_t)n_symbols, sizeof(*names->next)))) {
		ac_symbol_names_destroy(names);
		return NULL;
	}
	names->mask = size - 1;
	names->n = n_symbols;
	return names;
}

void ac_symbol_names_add(struct ac_symbol_names *names, int index, const char *name,
			 const GElf_Sym *sym)
{
	if (!names->slots || index <= 0 || index >= names->n || !name || !*name || !wanted(sym))
		return;
	if (GELF_ST_BIND(sym->st_info) == STB_LOCAL)
		names->locals = true;
	GElf_Sym other;
	GElf_Addr addr;
	uint32_t h = hash_name(name);
	struct slot *s = find_slot(names, name, h, &other, &addr);
	if (s->first)
		names->next[s->last] = index;
	else
		*s = (struct slot){ .hash = h, .first = index };
	s->last = index;
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
	return names;
}

void ac_symbol_names_destroy(struct ac_symbol_names *names)
{
	if (!names)
		return;
	free(names->slots);
	free(names->next);
	free(names);
}

bool ac_symbol_names_has_locals(const struct ac_symbol_names *names)
{
	return names->locals;
}

void ac_symbol_iter_init(struct ac_symbol_iter *it, const struct ac_symbol_names *names,
			 const char *name)
{
	*it = (struct ac_symbol_iter){
		.names = names, .name = name, .next = names->slots ? -1 : 0,
	};
}

int ac_symbol_iter_next(struct ac_symbol_iter *it, GElf_Sym *sym, GElf_Addr *addr)
{
	const struct ac_symbol_names *names = it->names;
	int32_t index = it->next;
	if (index < 0) {
		index = find_slot(names, it->name, hash_name(it->name), sym, addr)->first;
	} else if (index > 0 &&
		   !dwfl_module_getsym_info(names->mod, index, sym, addr, NULL, NULL, NULL)) {
		index = 0;
	}
	it->next = index ? names->next[index] : 0;
	return index;
}
