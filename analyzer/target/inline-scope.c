/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dwarf.h>
#include <stdbool.h>
#include <stdlib.h>

#include "inline-scope.h"
#include "util/util.h"

/* Deeper than this, a DIE tree is corrupt (or not worth it: ask libdw). */
#define MAX_DEPTH 64

struct range {
	Dwarf_Addr low, high;
	size_t die;             /* index in the CU's top-level DIEs */
};

struct cu {
	void *addr;             /* the CU DIE's, as its key */
	bool unknown;           /* answer -1 for every pc */
	Dwarf_Die *dies;        /* top-level DIEs with addresses, in DIE order */
	size_t n_dies;
	struct range *ranges;
	size_t n_ranges;
};

struct ac_inline_scopes {
	struct cu *cus;
	size_t n;
};

struct ac_inline_scopes *ac_inline_scopes_create(void)
{
	return calloc(1, sizeof(struct ac_inline_scopes));
}

void ac_inline_scopes_destroy(struct ac_inline_scopes *scopes)
{
	if (!scopes)
		return;
	for (size_t i = 0; i < scopes->n; i++) {
		free(scopes->cus[i].dies);
		free(scopes->cus[i].ranges);
	}
	free(scopes->cus);
	free(scopes);
}

static bool has_addresses(Dwarf_Die *die)
{
	return dwarf_hasattr(die, DW_AT_low_pc) || dwarf_hasattr(die, DW_AT_ranges) ||
	       dwarf_hasattr(die, DW_AT_entry_pc);
}

static bool add_range(struct cu *c, Dwarf_Addr low, Dwarf_Addr high, size_t die)
{
	struct range *r = ac_array_slot(c->ranges, c->n_ranges);
	if (!r)
		return false;
	*r = (struct range){ low, high, die };
	c->n_ranges++;
	return true;
}

/* The ranges of the CU's top-level DIEs, read once. */
static void read_cu(struct cu *c, Dwarf_Die *cudie)
{
	Dwarf_Die child;
	if (dwarf_child(cudie, &child) != 0)
		return;
	do {
		if (dwarf_tag(&child) == DW_TAG_imported_unit) {
			c->unknown = true;
			return;
		}
		if (!has_addresses(&child))
			continue;
		Dwarf_Die *slot = ac_array_slot(c->dies, c->n_dies);
		if (!slot) {
			c->unknown = true;
			return;
		}
		*slot = child;
		size_t index = c->n_dies++;
		Dwarf_Addr base, start, end;
		ptrdiff_t offset = 0;
		while ((offset = dwarf_ranges(&child, offset, &base, &start, &end)) > 0)
			if (!add_range(c, start, end, index)) {
				c->unknown = true;
				return;
			}
		if (offset < 0) {
			c->unknown = true;
			return;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
}

static struct cu *cu_of(struct ac_inline_scopes *scopes, Dwarf_Die *cudie)
{
	for (size_t i = 0; i < scopes->n; i++)
		if (scopes->cus[i].addr == cudie->addr)
			return &scopes->cus[i];
	struct cu *c = ac_array_slot(scopes->cus, scopes->n);
	if (!c)
		return NULL;
	scopes->n++;
	c->addr = cudie->addr;
	read_cu(c, cudie);
	return c;
}

/* The first child of die, in DIE order, that holds pc: 1, 0 or -1. */
static int child_at(Dwarf_Die *die, Dwarf_Addr pc, Dwarf_Die *ret)
{
	Dwarf_Die child;
	if (dwarf_child(die, &child) != 0)
		return 0;
	do {
		if (!has_addresses(&child))
			continue;
		int r = dwarf_haspc(&child, pc);
		if (r < 0)
			return -1;
		if (r > 0) {
			*ret = child;
			return 1;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return 0;
}

int ac_inline_scopes_innermost(struct ac_inline_scopes *scopes, Dwarf_Die *cudie,
			       Dwarf_Addr pc, Dwarf_Die *ret)
{
	struct cu *c = cu_of(scopes, cudie);
	if (!c || c->unknown)
		return -1;
	/* libdw takes the first top-level DIE in DIE order that holds pc. */
	size_t best = c->n_dies;
	for (size_t i = 0; i < c->n_ranges; i++)
		if (c->ranges[i].low <= pc && pc < c->ranges[i].high && c->ranges[i].die < best)
			best = c->ranges[i].die;
	if (best == c->n_dies)
		return -1;
	Dwarf_Die die = c->dies[best], inlined;
	bool found = false;
	for (int depth = 0;; depth++) {
		if (depth == MAX_DEPTH)
			return -1;
		int r = child_at(&die, pc, &die);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		if (dwarf_tag(&die) == DW_TAG_inlined_subroutine) {
			inlined = die;
			found = true;
		}
	}
	if (!found)
		return 0;
	/* libdw answers only if the abstract origin is in this CU. */
	Dwarf_Attribute attr;
	Dwarf_Die origin, origin_cu;
	if (!dwarf_formref_die(dwarf_attr(&inlined, DW_AT_abstract_origin, &attr), &origin) ||
	    !dwarf_diecu(&origin, &origin_cu, NULL, NULL) || origin_cu.addr != cudie->addr)
		return -1;
	*ret = inlined;
	return 1;
}
