/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libdw finds the unit at an offset by reading every unit header before
 * it, once.  A QEMU system emulator has ~800 units spread over 16 MiB of
 * .debug_info, and the kernel maps up to 64 KiB of page cache around each
 * page touched, so the first lookup of a late unit made the whole section
 * resident (13.3 of aiocore's 27.7 MiB on a qemu-system core).  Here the
 * headers are read once, in order, and the pages behind the walk are
 * unmapped again as it goes: a unit that is then parsed maps its own pages
 * back from the page cache.
 *
 * libdwfl maps the file private and writable.  Only pages that still are
 * the file's (not present, or present and not copied on write, as
 * /proc/self/pagemap says) are dropped, so what comes back is what went.
 * A section libelf inflated or read into the heap is walked the same way,
 * and nothing of it is dropped.
 */
#include <dwarf.h>
#include <fcntl.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "unit-headers.h"

/* Units between two drops: few system calls, a window of ~1 MiB. */
#define UNITS_PER_DROP 32

struct section {
	const char *data;
	size_t size;
};

static bool find_debug_info(Dwarf *dbg, struct section *ret)
{
	Elf *elf = dwarf_getelf(dbg);
	GElf_Ehdr ehdr;
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	if (!elf || !gelf_getehdr(elf, &ehdr) || ehdr.e_type == ET_REL ||
	    elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		const char *name;
		if (!gelf_getshdr(scn, &shdr) ||
		    !(name = elf_strptr(elf, shstrndx, shdr.sh_name)) ||
		    strcmp(name, ".debug_info"))
			continue;
		if (shdr.sh_type == SHT_NOBITS || (shdr.sh_flags & SHF_COMPRESSED))
			return false;
		Elf_Data *data = elf_rawdata(scn, NULL);
		if (!data || !data->d_buf || data->d_size != shdr.sh_size)
			return false;
		ret->data = data->d_buf;
		ret->size = data->d_size;
		return true;
	}
	return false;
}

/* True if [p, p + size) lies in one mapping of a file. */
static bool in_file_mapping(const char *p, size_t size)
{
	FILE *maps = fopen("/proc/self/maps", "re");
	char line[512];
	bool ok = false;
	uintptr_t lo = (uintptr_t)p, hi = lo + size;
	if (!maps)
		return false;
	while (fgets(line, sizeof(line), maps)) {
		uintptr_t start, end;
		unsigned long long inode;
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %*s %*s %*s %llu",
			   &start, &end, &inode) != 3)
			continue;
		if (lo >= start && hi <= end) {
			ok = inode != 0;
			break;
		}
	}
	fclose(maps);
	return ok;
}

/* pagemap: bit 63 present, bit 61 a page of the file (not copied). */
#define PM_PRESENT (1ULL << 63)
#define PM_FILE (1ULL << 61)

/* Unmaps the pages of [lo, hi) (page-aligned) that still are the file's. */
static void drop_pages(int pagemap, uintptr_t lo, uintptr_t hi, uintptr_t page)
{
	uint64_t entries[512];
	uintptr_t run = lo; /* start of the current run of droppable pages */
	for (uintptr_t at = lo; at < hi;) {
		size_t n = (hi - at) / page;
		if (n > sizeof(entries) / sizeof(entries[0]))
			n = sizeof(entries) / sizeof(entries[0]);
		ssize_t got = pread(pagemap, entries, n * sizeof(entries[0]),
				    (off_t)(at / page * sizeof(entries[0])));
		if (got <= 0)
			return; /* cannot tell: keep the rest */
		n = (size_t)got / sizeof(entries[0]);
		for (size_t i = 0; i < n; i++, at += page) {
			uint64_t e = entries[i];
			if (!(e & PM_PRESENT) || (e & PM_FILE))
				continue;
			if (at > run)
				madvise((void *)run, at - run, MADV_DONTNEED);
			run = at + page;
		}
	}
	if (hi > run)
		madvise((void *)run, hi - run, MADV_DONTNEED);
}

/*
 * Drops the pages under [from, to) of the section.  The pages it shares
 * with its neighbours go too: a clean page of the file comes back on the
 * next touch.
 */
static void drop(int pagemap, const struct section *s, size_t from, size_t to)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t lo = ((uintptr_t)s->data + from) & ~(page - 1);
	uintptr_t hi = ((uintptr_t)s->data + to + page - 1) & ~(page - 1);
	if (hi > lo)
		drop_pages(pagemap, lo, hi, page);
}

size_t ac_unit_headers_read(Dwarf *dbg)
{
	if (!dbg)
		return 0;
	struct section s = { 0 };
	int pagemap = -1;
	if (find_debug_info(dbg, &s) && in_file_mapping(s.data, s.size))
		pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie;
	size_t n = 0, dropped_to = 0;
	while (dwarf_get_units(dbg, cu, &cu, NULL, NULL, &cudie, NULL) == 0) {
		if (++n % UNITS_PER_DROP || pagemap < 0)
			continue;
		/* Everything before the header just read goes. */
		uintptr_t die = (uintptr_t)cudie.addr, base = (uintptr_t)s.data;
		if (die < base || die - base > s.size)
			continue; /* libdw reads a copy: nothing of ours to drop */
		size_t at = die - base;
		drop(pagemap, &s, dropped_to, at);
		dropped_to = at;
	}
	if (pagemap >= 0) {
		drop(pagemap, &s, dropped_to, s.size);
		close(pagemap);
	}
	return n;
}
