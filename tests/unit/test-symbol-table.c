/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sorted symbol table (analyzer/target/symbol-table.c) against libdwfl
 * itself: for every symbol of real modules (this test, libc with its
 * Debian debug symbols, and any executables given as arguments, such as a
 * QEMU build with thousands of aliases), the addresses at its start,
 * middle, last byte and one past its end must get exactly the name, offset
 * and symbol that dwfl_module_addrinfo() gives.  The by-name index
 * (analyzer/target/symbol-names.c), built both ways, must give for a
 * sample of names exactly the symbols a scan of the table finds, in table
 * order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/symbol-table.h"

static char **paths;
static int n_paths;

static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

static size_t check(Dwfl_Module *mod, struct ac_symbol_table *t, uint64_t pc)
{
	GElf_Off want_off = 0, got_off = 0;
	GElf_Sym want_sym = { 0 }, got_sym = { 0 };
	const char *want = dwfl_module_addrinfo(mod, pc, &want_off, &want_sym, NULL, NULL, NULL);
	const char *got = ac_symbol_table_lookup(t, mod, pc, &got_off, &got_sym);
	if (!want || !got) {
		if (want != got)
			fail_msg("0x%llx: libdwfl %s, table %s", (unsigned long long)pc,
				 want ? want : "(none)", got ? got : "(none)");
		return 1;
	}
	if (strcmp(want, got) || want_off != got_off || want_sym.st_value != got_sym.st_value ||
	    want_sym.st_size != got_sym.st_size || want_sym.st_info != got_sym.st_info)
		fail_msg("0x%llx: libdwfl %s+0x%llx, table %s+0x%llx", (unsigned long long)pc,
			 want, (unsigned long long)want_off, got, (unsigned long long)got_off);
	return 1;
}

static void check_module(const char *path)
{
	Dwfl *dwfl = dwfl_begin(&callbacks);
	assert_non_null(dwfl);
	Dwfl_Module *mod = dwfl_report_offline(dwfl, path, path, -1);
	if (!mod)
		fail_msg("%s: %s", path, dwfl_errmsg(-1));
	assert_int_equal(dwfl_report_end(dwfl, NULL, NULL), 0);
	struct ac_symbol_table *t = ac_symbol_table_build(mod, NULL);
	assert_non_null(t);
	int n = dwfl_module_getsymtab(mod);
	/* Every symbol would take n^2 libdwfl walks: a stride keeps it seconds. */
	int stride = n > 4000 ? n / 4000 : 1;
	size_t checked = 0;
	for (int i = 1; i < n; i += stride) {
		GElf_Sym sym;
		GElf_Addr value;
		if (!dwfl_module_getsym_info(mod, i, &sym, &value, NULL, NULL, NULL) ||
		    sym.st_shndx == SHN_UNDEF)
			continue;
		checked += check(mod, t, value);
		checked += check(mod, t, value + sym.st_size / 2);
		checked += check(mod, t, value + sym.st_size);
		if (sym.st_size)
			checked += check(mod, t, value + sym.st_size - 1);
	}
	printf("# %s: %d symbols, %zu addresses agree\n", path, n, checked);
	assert_true(checked > 20);
	ac_symbol_table_destroy(t);
	dwfl_end(dwfl);
}

/* What the name index keeps: defined functions, objects and thread-locals. */
static bool indexed(const GElf_Sym *sym)
{
	int type = GELF_ST_TYPE(sym->st_info);
	return sym->st_shndx != SHN_UNDEF &&
	       (type == STT_FUNC || type == STT_GNU_IFUNC || type == STT_OBJECT ||
		type == STT_TLS || type == STT_COMMON);
}

static size_t check_names(Dwfl_Module *mod, const struct ac_symbol_names *names)
{
	int n = dwfl_module_getsymtab(mod);
	const char **all = calloc((size_t)n, sizeof(*all));
	assert_non_null(all);
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr value;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &value, NULL, NULL, NULL);
		all[i] = name && *name && indexed(&sym) ? name : NULL;
	}
	size_t found = 0;
	int stride = n > 300 ? n / 300 : 1;
	for (int i = 1; i < n; i += stride) {
		if (!all[i])
			continue;
		struct ac_symbol_iter it;
		ac_symbol_iter_init(&it, names, all[i]);
		int j = 0;
		for (;;) {
			while (++j < n && (!all[j] || strcmp(all[j], all[i])))
				;
			GElf_Sym sym;
			GElf_Addr addr;
			int got = ac_symbol_iter_next(&it, &sym, &addr);
			if (got != (j < n ? j : 0))
				fail_msg("%s: index gives %d, the scan %d", all[i], got, j < n ? j : 0);
			if (!got)
				break;
			found++;
		}
	}
	struct ac_symbol_iter it;
	ac_symbol_iter_init(&it, names, "no such symbol, surely");
	GElf_Sym sym;
	GElf_Addr addr;
	assert_int_equal(ac_symbol_iter_next(&it, &sym, &addr), 0);
	free(all);
	return found;
}

static void check_module_names(const char *path)
{
	Dwfl *dwfl = dwfl_begin(&callbacks);
	assert_non_null(dwfl);
	Dwfl_Module *mod = dwfl_report_offline(dwfl, path, path, -1);
	assert_non_null(mod);
	assert_int_equal(dwfl_report_end(dwfl, NULL, NULL), 0);
	struct ac_symbol_names *built = ac_symbol_names_build(mod);
	struct ac_symbol_names *offered = ac_symbol_names_create(mod, dwfl_module_getsymtab(mod));
	assert_non_null(built);
	assert_non_null(offered);
	struct ac_symbol_table *t = ac_symbol_table_build(mod, offered);
	assert_non_null(t);
	ac_symbol_names_finish(offered);
	size_t found = check_names(mod, built);
	assert_int_equal(check_names(mod, offered), found);
	printf("# %s: %zu symbols found by name, as a scan finds them\n", path, found);
	assert_true(found > 20);
	ac_symbol_table_destroy(t);
	ac_symbol_names_destroy(built);
	ac_symbol_names_destroy(offered);
	dwfl_end(dwfl);
}

static void test_names_as_a_scan(void **state)
{
	(void)state;
	for (int i = 0; i < n_paths; i++)
		check_module_names(paths[i]);
}

static void test_same_as_libdwfl(void **state)
{
	(void)state;
	for (int i = 0; i < n_paths; i++)
		check_module(paths[i]);
}

int main(int argc, char **argv)
{
	/* This program, libc, and the arguments. */
	static char *self_and_libc[2];
	self_and_libc[0] = argv[0];
	self_and_libc[1] = "/lib/x86_64-linux-gnu/libc.so.6";
	paths = calloc((size_t)argc + 1, sizeof(*paths));
	paths[n_paths++] = self_and_libc[0];
	FILE *f = fopen(self_and_libc[1], "r");
	if (f) {
		fclose(f);
		paths[n_paths++] = self_and_libc[1];
	}
	for (int i = 1; i < argc; i++)
		paths[n_paths++] = argv[i];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_as_libdwfl),
		cmocka_unit_test(test_names_as_a_scan),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(paths);
	return rc;
}
