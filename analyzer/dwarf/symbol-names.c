/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "symbol-names.h"

struct slot {
	uint32_t hash;
	int32_t index;          /* 0: empty (symbol 0 is the null symbol) */
};

struct ac_symbol_names {
	Dwfl_Module *mod;
	struct slot *slots;
	uint32_t mask;          /* slots - 1, a power of two minus one */
	bool locals;
};

/* Bernstein's xor hash: symbol names are short. */
static uint32_t hash_name(const char *s)
{
	uint32_t h = 5381;
	while (*s)
		h = (h * 33) ^ (unsigned char)*s++;
	return h;
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

struct ac_symbol_names *ac_symbol_names_build(Dwfl_Module *mod)
{
	struct ac_symbol_names *names = calloc(1, sizeof(*names));
	if (!names)
		return NULL;
	names->mod = mod;
	int n = dwfl_module_getsymtab(mod);
	if (n <= 1)
		return names;
	/* At most half full: short probe runs. */
	uint32_t size = 64;
	while (size < 2 * (uint32_t)n && size < (UINT32_C(1) << 30))
		size *= 2;
	if (size < 2 * (uint32_t)n || !(names->slots = calloc(size, sizeof(*names->slots)))) {
		free(names);
		return NULL;
	}
	names->mask = size - 1;
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
		if (!name || !*name || !wanted(&sym))
			continue;
		if (GELF_ST_BIND(sym.st_info) == STB_LOCAL)
			names->locals = true;
		uint32_t h = hash_name(name), pos = h & names->mask;
		/* Linear probing, never a deletion: same-named symbols stay in
		 * table order along the probe run. */
		while (names->slots[pos].index)
			pos = (pos + 1) & names->mask;
		names->slots[pos] = (struct slot){ .hash = h, .index = i };
	}
	return names;
}

void ac_symbol_names_destroy(struct ac_symbol_names *names)
{
	if (!names)
		return;
	free(names->slots);
	free(names);
}

bool ac_symbol_names_has_locals(const struct ac_symbol_names *names)
{
	return names->locals;
}

void ac_symbol_iter_init(struct ac_symbol_iter *it, const struct ac_symbol_names *names,
			 const char *name)
{
	uint32_t h = hash_name(name);
	*it = (struct ac_symbol_iter){
		.names = names, .name = name, .hash = h, .pos = h & names->mask,
		.done = !names->slots,
	};
}

int ac_symbol_iter_next(struct ac_symbol_iter *it, GElf_Sym *sym, GElf_Addr *addr)
{
	const struct ac_symbol_names *names = it->names;
	while (!it->done) {
		struct slot s = names->slots[it->pos];
		it->pos = (it->pos + 1) & names->mask;
		if (!s.index) {
			it->done = true;
			break;
		}
		if (s.hash != it->hash)
			continue;
		const char *name = dwfl_module_getsym_info(names->mod, s.index, sym, addr,
							   NULL, NULL, NULL);
		if (name && !strcmp(name, it->name))
			return s.index;
	}
	return 0;
}
