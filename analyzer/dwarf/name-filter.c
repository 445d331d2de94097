/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "name-filter.h"

/* .debug_str and .debug_line_str of the module and of its dwz file. */
#define MAX_SECTIONS 4

/*
 * GCC inlines a name (DW_FORM_string) when it is no longer than the
 * offset that would point to it: 4 bytes, 8 in 64-bit DWARF.
 */
#define INLINE_MAX 8

struct ac_name_filter {
	struct {
		const char *data;
		size_t size;
	} sections[MAX_SECTIONS];
	size_t n;
};

/* Adds dbg's string sections; false if one cannot be searched as it is. */
static bool add_strings(struct ac_name_filter *f, Dwarf *dbg)
{
	Elf *elf = dwarf_getelf(dbg);
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	bool have_str = false;
	if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		const char *name;
		if (!gelf_getshdr(scn, &shdr) ||
		    !(name = elf_strptr(elf, shstrndx, shdr.sh_name)))
			return false;
		if (!strcmp(name, ".zdebug_str") || !strcmp(name, ".debug_str.dwo"))
			return false;
		if (strcmp(name, ".debug_str") && strcmp(name, ".debug_line_str"))
			continue;
		/* Still compressed (libdw inflates on open), or not merged:
		 * a producer may then have inlined long names. */
		if ((shdr.sh_flags & SHF_COMPRESSED) ||
		    (shdr.sh_flags & (SHF_MERGE | SHF_STRINGS)) != (SHF_MERGE | SHF_STRINGS) ||
		    shdr.sh_type == SHT_NOBITS || f->n == MAX_SECTIONS)
			return false;
		Elf_Data *data = elf_getdata(scn, NULL);
		if (!data || (!data->d_buf && data->d_size))
			return false;
		f->sections[f->n].data = data->d_buf;
		f->sections[f->n].size = data->d_size;
		f->n++;
		have_str |= !strcmp(name, ".debug_str");
	}
	return have_str;
}

/* Split DWARF keeps the names in .dwo files: the first unit tells. */
static bool is_split(Dwarf *dbg)
{
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie;
	uint8_t unit_type;
	if (dwarf_get_units(dbg, NULL, &cu, NULL, &unit_type, &cudie, NULL) != 0)
		return true; /* no units: nothing to prove */
	return unit_type == DW_UT_skeleton || unit_type == DW_UT_split_compile ||
	       dwarf_hasattr(&cudie, DW_AT_GNU_dwo_name) ||
	       dwarf_hasattr(&cudie, DW_AT_dwo_name);
}

struct ac_name_filter *ac_name_filter_create(Dwarf *dbg)
{
	struct ac_name_filter *f = calloc(1, sizeof(*f));
	Dwarf *alt = dbg ? dwarf_getalt(dbg) : NULL;
	if (!f || !dbg || is_split(dbg) || !add_strings(f, dbg) ||
	    (alt && !add_strings(f, alt))) {
		free(f);
		return NULL;
	}
	return f;
}

void ac_name_filter_destroy(struct ac_name_filter *filter)
{
	free(filter);
}

bool ac_name_filter_may_hold(const struct ac_name_filter *filter, const char *name)
{
	size_t len = strlen(name);
	if (!filter || len <= INLINE_MAX)
		return true;
	/* With its NUL: the string, or the tail of a longer one (merged). */
	for (size_t i = 0; i < filter->n; i++)
		if (memmem(filter->sections[i].data, filter->sections[i].size, name, len + 1))
			return true;
	return false;
}
