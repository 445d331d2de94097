/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of analyzer/target/unit-headers.c on the DWARF of the aiocore
 * executable (a hundred units over more than a MiB), opened through
 * libdwfl as the analyzer opens an executable.  Page residency is read
 * from /proc/self/pagemap.
 *
 * usage: test-unit-headers PATH-TO-aiocore
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>

#include "target/unit-headers.h"

#define PM_PRESENT (1ULL << 63)
#define PM_FILE (1ULL << 61)

static char *debuginfo_path;
static const char *program;
static const Dwfl_Callbacks offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

struct fixture {
	Dwfl *dwfl;
	Dwfl_Module *mod;
	Dwarf *dbg;
	char *info;        /* .debug_info as libdw sees it */
	size_t info_size;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	Dwarf_Addr bias;
	if (!f || !(f->dwfl = dwfl_begin(&offline_callbacks)))
		return -1;
	dwfl_report_begin(f->dwfl);
	f->mod = dwfl_report_offline(f->dwfl, "aiocore", program, -1);
	if (!f->mod || dwfl_report_end(f->dwfl, NULL, NULL) != 0 ||
	    !(f->dbg = dwfl_module_getdwarf(f->mod, &bias))) {
		fprintf(stderr, "%s: %s\n", program, dwfl_errmsg(-1));
		return -1;
	}
	/* The first unit's DIE lies in the section: its start is before it. */
	Elf *elf = dwarf_getelf(f->dbg);
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	elf_getshdrstrndx(elf, &shstrndx);
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		gelf_getshdr(scn, &shdr);
		if (!strcmp(elf_strptr(elf, shstrndx, shdr.sh_name), ".debug_info")) {
			Elf_Data *d = elf_rawdata(scn, NULL);
			f->info = d->d_buf;
			f->info_size = d->d_size;
		}
	}
	if (!f->info)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	dwfl_end(f->dwfl);
	free(f);
	return 0;
}

/* Counts the pages wholly inside [p, p + size) that are mapped, and of
 * those the ones copied on write. */
static void resident(const char *p, size_t size, size_t *mapped, size_t *copied)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t lo = ((uintptr_t)p + page - 1) & ~(page - 1);
	uintptr_t hi = ((uintptr_t)p + size) & ~(page - 1);
	int fd = open("/proc/self/pagemap", O_RDONLY);
	assert_true(fd >= 0);
	*mapped = *copied = 0;
	for (uintptr_t at = lo; at < hi; at += page) {
		uint64_t e;
		assert_int_equal(pread(fd, &e, sizeof(e), (off_t)(at / page * sizeof(e))),
				 sizeof(e));
		if (e & PM_PRESENT) {
			(*mapped)++;
			*copied += !(e & PM_FILE);
		}
	}
	close(fd);
}

/* The units libdw walks, counted on a Dwarf of its own. */
static size_t count_units(void)
{
	int fd = open(program, O_RDONLY);
	Dwarf *dbg = dwarf_begin(fd, DWARF_C_READ);
	Dwarf_Off off = 0, next;
	size_t header, n = 0;
	assert_non_null(dbg);
	while (dwarf_nextcu(dbg, off, &next, &header, NULL, NULL, NULL) == 0) {
		n++;
		off = next;
	}
	dwarf_end(dbg);
	close(fd);
	return n;
}

/* Every header read, and no page of the section left mapped. */
static void test_walk_leaves_nothing_mapped(void **state)
{
	struct fixture *f = *state;
	size_t mapped, copied, total = f->info_size / (size_t)sysconf(_SC_PAGESIZE);
	/* Touch the whole section, as a late lookup used to. */
	volatile char sum = 0;
	for (size_t i = 0; i < f->info_size; i += 512)
		sum += f->info[i];
	resident(f->info, f->info_size, &mapped, &copied);
	assert_true(total >= 64); /* the test means something only on a big section */
	assert_true(mapped > total / 2);
	size_t n = ac_unit_headers_read(f->dbg);
	assert_int_equal(n, count_units());
	assert_true(n > 64); /* more than one window between two drops */
	resident(f->info, f->info_size, &mapped, &copied);
	assert_int_equal(mapped, 0);
}

/* A page copied on write keeps its copy; lookups still find their unit. */
static void test_copied_page_kept_and_lookups_work(void **state)
{
	struct fixture *f = *state;
	size_t mapped, copied;
	/* Rewrite one byte with itself: the page becomes a private copy. */
	volatile char *p = f->info + f->info_size / 2;
	*p = *p;
	ac_unit_headers_read(f->dbg);
	resident(f->info, f->info_size, &mapped, &copied);
	assert_int_equal(copied, 1);
	assert_int_equal(mapped, 1);
	/* A function of a late unit: its CU is found and named. */
	Dwarf_Addr bias;
	GElf_Sym sym;
	GElf_Addr addr;
	int nsyms = dwfl_module_getsymtab(f->mod);
	const char *name = NULL;
	for (int i = 0; i < nsyms && !name; i++) {
		const char *s = dwfl_module_getsym_info(f->mod, i, &sym, &addr, NULL, NULL, NULL);
		if (s && !strcmp(s, "ac_unit_headers_read"))
			name = s;
	}
	assert_non_null(name);
	Dwarf_Die *cu = dwfl_module_addrdie(f->mod, addr, &bias);
	assert_non_null(cu);
	const char *file = dwarf_diename(cu);
	assert_non_null(file);
	assert_non_null(strstr(file, "unit-headers.c"));
}

/* No Dwarf: nothing to walk, no crash. */
static void test_null(void **state)
{
	(void)state;
	assert_int_equal(ac_unit_headers_read(NULL), 0);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-aiocore\n", argv[0]);
		return 64;
	}
	program = argv[1];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_walk_leaves_nothing_mapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copied_page_kept_and_lookups_work, setup, teardown),
		cmocka_unit_test(test_null),
	};
	return cmocka_run_group_tests_name("unit-headers", tests, NULL, NULL);
}
