/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the DWARF layer against tests/programs/dwarf-sample, opened
 * offline.  The expected layouts come from compiling dwarf-sample.h here;
 * expected addresses are checked against the initial values in the file.
 *
 * usage: test-dwarf PATH-TO-dwarf-sample [PATH-TO-ANOTHER-BUILD-OF-IT]
 * The second program, if given, is reported as a second module for the
 * multi-module test.  AIOCORE_TEST_FILTER selects tests by name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>

#include "dwarf/dwarf-lookup.h"
#include "dwarf/dwarf-lookup-internal.h"
#include "dwarf/name-filter.h"
#include "dwarf-sample.h"

/* Both private layouts, under tags of their own. */
struct BH_A SAMPLE_BH_A_BODY;
struct BH_B SAMPLE_BH_B_BODY;
struct ElemT SAMPLE_ELEM_BODY;
struct OpaqueT SAMPLE_OPAQUE_BODY;

static const char *sample_path;
static const char *other_path;

struct fixture {
	Dwfl *dwfl;
	Dwfl_Module *mod;
	struct ac_dwarf *dw;
};

static char *debuginfo_path;
static const Dwfl_Callbacks offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

#define assert_ok(expr) do {                                            \
	struct ac_error *err_ = (expr);                                 \
	if (err_)                                                       \
		fail_msg("%s: %s", #expr, err_->message);               \
} while (0)

/* A lookup error whose message names what was missing. */
static void assert_lookup_error(struct ac_error *err, const char *needle1,
				const char *needle2)
{
	assert_non_null(err);
	assert_int_equal(err->code, AC_ERR_LOOKUP);
	if (needle1 && !strstr(err->message, needle1))
		fail_msg("'%s' not in error '%s'", needle1, err->message);
	if (needle2 && !strstr(err->message, needle2))
		fail_msg("'%s' not in error '%s'", needle2, err->message);
	ac_error_destroy(err);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->dwfl = dwfl_begin(&offline_callbacks);
	if (!f->dwfl)
		return -1;
	dwfl_report_begin(f->dwfl);
	f->mod = dwfl_report_offline(f->dwfl, "main", sample_path, -1);
	if (!f->mod || dwfl_report_end(f->dwfl, NULL, NULL) != 0) {
		fprintf(stderr, "%s: %s\n", sample_path, dwfl_errmsg(-1));
		return -1;
	}
	struct ac_error *err = ac_dwarf_create(f->dwfl, f->mod, &f->dw);
	if (err) {
		fprintf(stderr, "ac_dwarf_create: %s\n", err->message);
		ac_error_destroy(err);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	ac_dwarf_destroy(f->dw);
	dwfl_end(f->dwfl);
	free(f);
	return 0;
}

/* The initial value of a 32-bit object in the file's .data. */
static uint32_t file_u32(Dwfl_Module *mod, uint64_t address)
{
	Dwarf_Addr rel = address, bias;
	Elf_Scn *scn = dwfl_module_address_section(mod, &rel, &bias);
	assert_non_null(scn);
	Elf_Data *data = elf_getdata(scn, NULL);
	assert_non_null(data);
	assert_non_null(data->d_buf);
	assert_true(rel + 4 <= data->d_size);
	uint32_t v;
	memcpy(&v, (char *)data->d_buf + rel, sizeof(v));
	return v;
}

static void assert_type_name(const struct ac_type *t, const char *want)
{
	char *name = ac_type_name(t);
	assert_non_null(name);
	assert_string_equal(name, want);
	free(name);
}

static struct ac_member member(struct ac_dwarf *dw, const struct ac_type *t,
			       const char *path)
{
	struct ac_member m;
	assert_ok(ac_dwarf_member(dw, t, path, &m, NULL));
	return m;
}

/* ---- variables --------------------------------------------------------- */

static void test_static_variable_by_hint(void **state)
{
	struct fixture *f = *state;
	struct ac_variable a, b;
	assert_ok(ac_dwarf_find_variable(f->dw, "counter", "sample_a_func", &a));
	assert_ok(ac_dwarf_find_variable(f->dw, "counter", "sample_b_func", &b));
	assert_int_not_equal(a.address, b.address);
	assert_int_equal(file_u32(f->mod, a.address), SAMPLE_A_COUNTER);
	assert_int_equal(file_u32(f->mod, b.address), SAMPLE_B_COUNTER);
	assert_int_equal(ac_type_kind(&a.type), AC_TYPE_BASE);
	assert_type_name(&a.type, "int");
}

static void test_static_pointer_from_symbol(void **state)
{
	struct fixture *f = *state;
	struct ac_variable v, hinted;
	/* The LOCAL symbol leads to its CU: no whole-module scan. */
	assert_ok(ac_dwarf_find_variable(f->dw, "qemu_aio_context", NULL, &v));
	assert_int_equal(ac_dwarf_test_full_scans(f->dw), 0);
	assert_int_equal(ac_dwarf_test_cus_scanned(f->dw), 1);
	assert_type_name(&v.type, "struct Ctx *");
	assert_int_equal(ac_type_kind(&v.type), AC_TYPE_POINTER);
	assert_ok(ac_dwarf_find_variable(f->dw, "qemu_aio_context",
					 "sample_a_func", &hinted));
	assert_int_equal(v.address, hinted.address);

	const char *name;
	uint64_t offset;
	assert_ok(ac_dwarf_symbolize(f->dw, v.address, &name, &offset));
	assert_string_equal(name, "qemu_aio_context");
	assert_int_equal(offset, 0);
}

static void test_global_declared_in_hint_cu(void **state)
{
	struct fixture *f = *state;
	struct ac_variable v, plain;
	uint64_t size;
	/* CU a only declares global_ctx: the address comes from the symbol. */
	assert_ok(ac_dwarf_find_variable(f->dw, "global_ctx", "sample_a_func", &v));
	assert_int_equal(file_u32(f->mod, v.address), SAMPLE_GLOBAL_LOCK);
	assert_ok(ac_type_size(&v.type, &size));
	assert_int_equal(size, sizeof(struct Ctx));
	assert_ok(ac_dwarf_find_variable(f->dw, "global_ctx", NULL, &plain));
	assert_int_equal(plain.address, v.address);
}

static void test_variable_errors(void **state)
{
	struct fixture *f = *state;
	struct ac_variable v = { .address = 42 };
	assert_lookup_error(ac_dwarf_find_variable(f->dw, "no_such_var", NULL, &v),
			    "no_such_var", NULL);
	assert_lookup_error(ac_dwarf_find_variable(f->dw, "no_such_var",
						   "sample_b_func", &v),
			    "no_such_var", "sample_b_func");
	assert_lookup_error(ac_dwarf_find_variable(f->dw, "sample_tls", NULL, &v),
			    "sample_tls", "thread-local");
	assert_int_equal(v.address, 42); /* untouched on failure */
}

/* ---- types and members ------------------------------------------------- */

static void test_private_types_by_hint(void **state)
{
	struct fixture *f = *state;
	struct ac_type a, b;
	struct ac_member m;
	unsigned which = 99;
	uint64_t size;

	assert_ok(ac_dwarf_find_type(f->dw, "struct BH", "sample_a_func", &a));
	assert_ok(ac_dwarf_find_type(f->dw, "struct BH", "sample_b_func", &b));
	assert_ok(ac_type_size(&a, &size));
	assert_int_equal(size, sizeof(struct BH_A));
	assert_ok(ac_type_size(&b, &size));
	assert_int_equal(size, sizeof(struct BH_B));

	/* The same path list, a different layout per CU. */
	assert_ok(ac_dwarf_member(f->dw, &a, "next.sle_next|next", &m, &which));
	assert_int_equal(which, 0);
	assert_int_equal(m.offset, offsetof(struct BH_A, next.sle_next));
	assert_ok(ac_dwarf_member(f->dw, &b, "next.sle_next|next", &m, &which));
	assert_int_equal(which, 1);
	assert_int_equal(m.offset, offsetof(struct BH_B, next));

	assert_int_equal(member(f->dw, &a, "opaque").offset,
			 offsetof(struct BH_A, opaque));
	assert_int_equal(member(f->dw, &b, "opaque").offset,
			 offsetof(struct BH_B, opaque));
	assert_int_equal(member(f->dw, &b, "deleted").offset,
			 offsetof(struct BH_B, deleted));
	assert_true(ac_dwarf_has_member(f->dw, &a, "flags"));
	assert_false(ac_dwarf_has_member(f->dw, &b, "flags"));
}

static void test_typedef_struct(void **state)
{
	struct fixture *f = *state;
	struct ac_type elem, any;
	uint64_t size;
	assert_ok(ac_dwarf_find_type(f->dw, "Elem", "sample_a_func", &elem));
	assert_int_equal(ac_type_kind(&elem), AC_TYPE_STRUCT);
	assert_type_name(&elem, "struct Elem");
	assert_ok(ac_type_size(&elem, &size));
	assert_int_equal(size, sizeof(struct ElemT));
	struct ac_member state_m = member(f->dw, &elem, "state");
	assert_int_equal(state_m.offset, offsetof(struct ElemT, state));
	assert_type_name(&state_m.type, "ThreadState");
	assert_int_equal(ac_type_kind(&state_m.type), AC_TYPE_ENUM);
	assert_string_equal(ac_dwarf_enumerator_name(f->dw, &state_m.type,
						     THREAD_ACTIVE),
			    "THREAD_ACTIVE");

	/* No hint: the whole-module index finds it too. */
	assert_ok(ac_dwarf_find_type(f->dw, "Elem", NULL, &any));
	assert_int_equal(member(f->dw, &any, "ret").offset,
			 offsetof(struct ElemT, ret));
	assert_ok(ac_dwarf_find_type(f->dw, "int", NULL, &any));
	assert_int_equal(ac_type_kind(&any), AC_TYPE_BASE);
	assert_ok(ac_type_size(&any, &size));
	assert_int_equal(size, sizeof(int));
}

static void test_members(void **state)
{
	struct fixture *f = *state;
	struct ac_type ctx, target;
	uint64_t size;
	assert_ok(ac_dwarf_find_type(f->dw, "Ctx", NULL, &ctx));
	assert_type_name(&ctx, "struct Ctx");
	assert_ok(ac_type_size(&ctx, &size));
	assert_int_equal(size, sizeof(struct Ctx));

	struct ac_member m = member(f->dw, &ctx, "bh_list.slh_first");
	assert_int_equal(m.offset, offsetof(struct Ctx, bh_list.slh_first));
	assert_type_name(&m.type, "struct BH *");
	assert_int_equal(member(f->dw, &ctx, "nest.inner.depth").offset,
			 offsetof(struct Ctx, nest.inner.depth));
	/* Anonymous union, anonymous struct inside a named union. */
	assert_int_equal(member(f->dw, &ctx, "anon_word").offset,
			 offsetof(struct Ctx, anon_word));
	assert_int_equal(member(f->dw, &ctx, "u.hi").offset,
			 offsetof(struct Ctx, u.hi));
	assert_int_equal(member(f->dw, &ctx, "notifier.wfd").offset,
			 offsetof(struct Ctx, notifier.wfd));

	m = member(f->dw, &ctx, "arr");
	assert_int_equal(m.offset, offsetof(struct Ctx, arr));
	assert_int_equal(ac_type_kind(&m.type), AC_TYPE_ARRAY);
	assert_type_name(&m.type, "int [4]");
	assert_ok(ac_type_size(&m.type, &size));
	assert_int_equal(size, sizeof(((struct Ctx *)0)->arr));
	assert_ok(ac_type_target(&m.type, &target));
	assert_type_name(&target, "int");

	/* Qualifiers are kept in the member's type, stripped on demand. */
	m = member(f->dw, &ctx, "notify_me");
	assert_int_equal(m.offset, offsetof(struct Ctx, notify_me));
	assert_type_name(&m.type, "volatile unsigned int");
	struct ac_type stripped = ac_type_strip(&m.type);
	assert_type_name(&stripped, "unsigned int");
	m = member(f->dw, &ctx, "ro");
	assert_type_name(&m.type, "const int");
	m = member(f->dw, &ctx, "cv");
	assert_int_equal(m.offset, offsetof(struct Ctx, cv));
	char *cv = ac_type_name(&m.type);
	assert_true(strcmp(cv, "const volatile int") == 0 ||
		    strcmp(cv, "volatile const int") == 0);
	free(cv);
	m = member(f->dw, &ctx, "cb");
	assert_int_equal(ac_type_kind(&m.type), AC_TYPE_POINTER);
	assert_type_name(&m.type, "void (*)(void *)");
}

/* Where a bit-field's bits really are, found by setting them. */
static void bits_of(const unsigned char *buf, size_t size, unsigned *first,
		    unsigned *width)
{
	*first = 0;
	*width = 0;
	for (size_t i = 0; i < size * 8; i++) {
		if (!(buf[i / 8] & (1u << (i % 8))))
			continue;
		if (!*width)
			*first = (unsigned)i;
		(*width)++;
	}
}

static void test_bitfields(void **state)
{
	struct fixture *f = *state;
	struct ac_type ctx;
	static const char *const fields[] = { "enabled", "mode", "count" };
	assert_ok(ac_dwarf_find_type(f->dw, "struct Ctx", "sample_b_func", &ctx));
	for (size_t i = 0; i < 3; i++) {
		union {
			struct Ctx c;
			unsigned char bytes[sizeof(struct Ctx)];
		} u;
		unsigned first, width;
		memset(&u, 0, sizeof(u));
		if (i == 0)
			u.c.enabled = 1;
		else if (i == 1)
			u.c.mode = 7;
		else
			u.c.count = 0xfff;
		bits_of(u.bytes, sizeof(u.bytes), &first, &width);
		struct ac_member m = member(f->dw, &ctx, fields[i]);
		assert_int_equal(m.bit_size, width);
		assert_int_equal(m.offset * 8 + m.bit_offset, first);
		assert_true(m.bit_offset < 8);
	}
	assert_int_equal(member(f->dw, &ctx, "lock").bit_size, 0);
}

static void test_member_errors(void **state)
{
	struct fixture *f = *state;
	struct ac_type ctx;
	struct ac_member m = { .offset = 77 };
	unsigned which = 5;
	assert_ok(ac_dwarf_find_type(f->dw, "struct Ctx", NULL, &ctx));
	assert_lookup_error(ac_dwarf_member(f->dw, &ctx, "nope|bh_list.nope",
					    &m, &which),
			    "struct Ctx", "nope|bh_list.nope");
	assert_int_equal(m.offset, 77);
	assert_int_equal(which, 5);
	/* A path through a non-struct. */
	assert_lookup_error(ac_dwarf_member(f->dw, &ctx, "lock.x", &m, NULL),
			    "struct Ctx", "lock.x");
	/* Cached failures fail again, with the same message. */
	assert_lookup_error(ac_dwarf_member(f->dw, &ctx, "nope|bh_list.nope",
					    &m, NULL),
			    "struct Ctx", "nope|bh_list.nope");
	assert_false(ac_dwarf_has_member(f->dw, &ctx, "nope"));

	struct ac_type t;
	assert_lookup_error(ac_dwarf_find_type(f->dw, "struct NoSuchType",
					       "sample_a_func", &t),
			    "NoSuchType", NULL);
	assert_lookup_error(ac_dwarf_find_type(f->dw, "union Ctx", NULL, &t),
			    "union Ctx", NULL);
	struct ac_type target;
	assert_lookup_error(ac_type_target(&ctx, &target), "struct Ctx", NULL);
}

static void test_declaration_completed(void **state)
{
	struct fixture *f = *state;
	struct ac_variable v;
	struct ac_type decl;
	uint64_t size;
	/* CU b only declares struct Opaque; CU a defines it. */
	assert_ok(ac_dwarf_find_variable(f->dw, "b_opaque", "sample_b_func", &v));
	assert_ok(ac_type_target(&v.type, &decl));
	assert_type_name(&decl, "struct Opaque");
	assert_lookup_error(ac_type_size(&decl, &size), "struct Opaque",
			    "declared");
	assert_int_equal(member(f->dw, &decl, "y").offset,
			 offsetof(struct OpaqueT, y));
	struct ac_type full;
	assert_ok(ac_dwarf_complete_type(f->dw, &decl, &full));
	assert_ok(ac_type_size(&full, &size));
	assert_int_equal(size, sizeof(struct OpaqueT));
	assert_ok(ac_dwarf_find_type(f->dw, "struct Opaque", "sample_b_func",
				     &full));
	assert_ok(ac_type_size(&full, &size));
	assert_int_equal(size, sizeof(struct OpaqueT));
}

/* ---- enumerators ------------------------------------------------------- */

static void test_enumerators(void **state)
{
	struct fixture *f = *state;
	int64_t v = 0;
	assert_ok(ac_dwarf_enumerator(f->dw, "ThreadState", "THREAD_DONE", NULL, &v));
	assert_int_equal(v, THREAD_DONE);
	assert_ok(ac_dwarf_enumerator(f->dw, "enum ThreadState", "THREAD_ERROR",
				      "sample_b_func", &v));
	assert_true(v == THREAD_ERROR);
	assert_ok(ac_dwarf_enumerator(f->dw, NULL, "THREAD_QUEUED", NULL, &v));
	assert_int_equal(v, THREAD_QUEUED);

	/* Anonymous enums: the hint picks the CU. */
	assert_ok(ac_dwarf_enumerator(f->dw, NULL, "BH_PENDING", "sample_a_func", &v));
	assert_int_equal(v, SAMPLE_A_BH_PENDING);
	assert_ok(ac_dwarf_enumerator(f->dw, NULL, "BH_PENDING", "sample_b_func", &v));
	assert_int_equal(v, SAMPLE_B_BH_PENDING);
	assert_ok(ac_dwarf_enumerator(f->dw, NULL, "BH_ONESHOT", "sample_a_func", &v));
	assert_int_equal(v, SAMPLE_A_BH_ONESHOT);
	/* Defined only in CU a, asked near CU b: found in the module index. */
	assert_ok(ac_dwarf_enumerator(f->dw, NULL, "BH_DELETED", "sample_b_func", &v));
	assert_int_equal(v, SAMPLE_A_BH_DELETED);

	struct ac_type t;
	assert_ok(ac_dwarf_find_type(f->dw, "enum ThreadState", NULL, &t));
	assert_string_equal(ac_dwarf_enumerator_name(f->dw, &t, THREAD_DONE),
			    "THREAD_DONE");
	assert_string_equal(ac_dwarf_enumerator_name(f->dw, &t, -3),
			    "THREAD_ERROR");
	assert_null(ac_dwarf_enumerator_name(f->dw, &t, 99));

	v = 1234;
	assert_lookup_error(ac_dwarf_enumerator(f->dw, "ThreadState",
						"THREAD_GONE", NULL, &v),
			    "ThreadState", "THREAD_GONE");
	assert_lookup_error(ac_dwarf_enumerator(f->dw, NULL, "BH_NOPE",
						"sample_a_func", &v),
			    "BH_NOPE", NULL);
	assert_int_equal(v, 1234);
}

/* ---- caches ------------------------------------------------------------ */

static void test_cache(void **state)
{
	struct fixture *f = *state;
	struct ac_type bh, elem;
	struct ac_member m;
	int64_t v;

	assert_int_equal(ac_dwarf_test_cus_scanned(f->dw), 0);
	assert_ok(ac_dwarf_find_type(f->dw, "struct BH", "sample_a_func", &bh));
	/* The hint CU only. */
	assert_int_equal(ac_dwarf_test_cus_scanned(f->dw), 1);
	assert_int_equal(ac_dwarf_test_full_scans(f->dw), 0);
	assert_ok(ac_dwarf_find_type(f->dw, "struct BH", "sample_a_func", &bh));
	assert_ok(ac_dwarf_find_type(f->dw, "Elem", "sample_a_func", &elem));
	assert_ok(ac_dwarf_member(f->dw, &bh, "next.sle_next", &m, NULL));
	assert_ok(ac_dwarf_member(f->dw, &bh, "next.sle_next", &m, NULL));
	assert_ok(ac_dwarf_enumerator(f->dw, NULL, "BH_SCHEDULED",
				      "sample_a_func", &v));
	assert_int_equal(ac_dwarf_test_cus_scanned(f->dw), 1);

	/* No hint: one scan of the module, then none. */
	assert_ok(ac_dwarf_enumerator(f->dw, "ThreadState", "THREAD_ACTIVE",
				      NULL, &v));
	assert_int_equal(ac_dwarf_test_full_scans(f->dw), 1);
	unsigned long after_scan = ac_dwarf_test_cus_scanned(f->dw);
	assert_true(after_scan >= 3); /* the hint CU, then both CUs */
	assert_ok(ac_dwarf_enumerator(f->dw, "ThreadState", "THREAD_ACTIVE",
				      NULL, &v));
	struct ac_type t;
	struct ac_error *err = ac_dwarf_find_type(f->dw, "struct Missing", NULL, &t);
	assert_lookup_error(err, "Missing", NULL);
	err = ac_dwarf_find_type(f->dw, "struct Missing", NULL, &t);
	assert_lookup_error(err, "Missing", NULL);
	assert_ok(ac_dwarf_find_type(f->dw, "struct BH", "sample_b_func", &t));
	assert_int_equal(ac_dwarf_test_full_scans(f->dw), 1);
	/* CU b was looked at as a hint CU for the first time. */
	assert_int_equal(ac_dwarf_test_cus_scanned(f->dw), after_scan + 1);
	assert_ok(ac_dwarf_find_type(f->dw, "struct BH", "sample_b_func", &t));
	assert_int_equal(ac_dwarf_test_cus_scanned(f->dw), after_scan + 1);
}

/*
 * Another generation's name, absent from the module: its string sections
 * prove it, so no CU beyond the hint's is read.  Names that are there, long
 * or short, still are found.
 */
static void test_absent_name(void **state)
{
	struct fixture *f = *state;
	struct ac_type t;
	Dwarf_Addr bias;
	struct ac_name_filter *filter =
		ac_name_filter_create(dwfl_module_getdwarf(f->mod, &bias));
	assert_non_null(filter);
	assert_false(ac_name_filter_may_hold(filter, "ThreadPoolElementAio"));
	assert_true(ac_name_filter_may_hold(filter, "THREAD_ACTIVE"));
	assert_true(ac_name_filter_may_hold(filter, "sample_b_func"));
	assert_true(ac_name_filter_may_hold(filter, "NotThere")); /* may be inline */
	ac_name_filter_destroy(filter);
	assert_true(ac_name_filter_may_hold(NULL, "ThreadPoolElementAio"));

	assert_lookup_error(ac_dwarf_find_type(f->dw, "ThreadPoolElementAio",
					       "sample_a_func", &t),
			    "ThreadPoolElementAio", NULL);
	assert_int_equal(ac_dwarf_test_cus_scanned(f->dw), 1);
	assert_int_equal(ac_dwarf_test_full_scans(f->dw), 0);
	int64_t v;
	assert_lookup_error(ac_dwarf_enumerator(f->dw, NULL, "BH_NOT_IN_THIS_ONE",
						"sample_a_func", &v),
			    "BH_NOT_IN_THIS_ONE", NULL);
	assert_int_equal(ac_dwarf_test_full_scans(f->dw), 0);
	/* A long name outside the hint CU: the whole module is read. */
	assert_ok(ac_dwarf_enumerator(f->dw, "ThreadState", "THREAD_ACTIVE", NULL, &v));
	assert_int_equal(ac_dwarf_test_full_scans(f->dw), 1);
}

/* ---- functions and symbols --------------------------------------------- */

static void test_tls_symbols(void **state)
{
	struct fixture *f = *state;
	size_t count;
	uint64_t offset = 0;
	bool differ;
	assert_ok(ac_dwarf_tls_symbols(f->dw, f->mod, "sample_tls", &count, &offset, &differ));
	assert_int_equal(count, 1);
	assert_false(differ);
	assert_ok(ac_dwarf_tls_symbols(f->dw, f->mod, "tls_twice", &count, &offset, &differ));
	assert_int_equal(count, 2);
	assert_true(differ);
	/* Not thread-local, or not there. */
	assert_ok(ac_dwarf_tls_symbols(f->dw, f->mod, "global_ctx", &count, &offset, &differ));
	assert_int_equal(count, 0);
	assert_ok(ac_dwarf_tls_symbols(f->dw, f->mod, "no_such_tls", &count, &offset, &differ));
	assert_int_equal(count, 0);
}

static void test_functions_and_symbols(void **state)
{
	struct fixture *f = *state;
	uint64_t a, b, helper, offset;
	const char *name;
	assert_ok(ac_dwarf_function_address(f->dw, "sample_a_func", &a));
	assert_ok(ac_dwarf_function_address(f->dw, "sample_b_func", &b));
	assert_int_not_equal(a, b);
	assert_ok(ac_dwarf_symbolize(f->dw, b + 2, &name, &offset));
	assert_string_equal(name, "sample_b_func");
	assert_int_equal(offset, 2);
	/* A static function, from its LOCAL symbol. */
	assert_ok(ac_dwarf_function_address(f->dw, "a_helper", &helper));
	assert_ok(ac_dwarf_symbolize(f->dw, helper, &name, &offset));
	assert_string_equal(name, "a_helper");
	assert_int_equal(offset, 0);

	assert_lookup_error(ac_dwarf_function_address(f->dw, "no_such_func", &a),
			    "no_such_func", NULL);
	assert_lookup_error(ac_dwarf_symbolize(f->dw, UINT64_MAX - 16, &name,
					       &offset), NULL, NULL);
}

/* ---- several modules -------------------------------------------------- */

static void test_main_module_first(void **state)
{
	(void)state;
	if (!other_path)
		skip();
	Dwfl *dwfl = dwfl_begin(&offline_callbacks);
	assert_non_null(dwfl);
	dwfl_report_begin(dwfl);
	Dwfl_Module *first = dwfl_report_offline(dwfl, "first", sample_path, -1);
	Dwfl_Module *second = dwfl_report_offline(dwfl, "second", other_path, -1);
	assert_non_null(first);
	assert_non_null(second);
	assert_int_equal(dwfl_report_end(dwfl, NULL, NULL), 0);

	for (int round = 0; round < 2; round++) {
		Dwfl_Module *main_mod = round ? first : second;
		struct ac_dwarf *dw;
		struct ac_variable v;
		struct ac_type t;
		Dwarf_Addr start, end;
		uint64_t address, offset;
		const char *name;
		assert_ok(ac_dwarf_create(dwfl, main_mod, &dw));
		dwfl_module_info(main_mod, NULL, &start, &end, NULL, NULL,
				 NULL, NULL);
		assert_ok(ac_dwarf_find_variable(dw, "counter", "sample_b_func", &v));
		assert_true(v.address >= start && v.address < end);
		assert_int_equal(file_u32(main_mod, v.address), SAMPLE_B_COUNTER);
		assert_ptr_equal(v.type.module, main_mod);
		assert_ok(ac_dwarf_find_type(dw, "struct Ctx", NULL, &t));
		assert_ptr_equal(t.module, main_mod);
		assert_ok(ac_dwarf_function_address(dw, "sample_a_func", &address));
		assert_true(address >= start && address < end);
		/* Symbolizing goes by address, whatever the main module. */
		Dwfl_Module *other = round ? second : first;
		dwfl_module_info(other, NULL, &start, &end, NULL, NULL, NULL,
				 NULL);
		uint64_t other_address = 0;
		GElf_Sym sym;
		for (int i = 1; i < dwfl_module_getsymtab(other); i++) {
			GElf_Addr a;
			const char *n = dwfl_module_getsym_info(other, i, &sym, &a,
								NULL, NULL, NULL);
			if (n && strcmp(n, "sample_b_func") == 0)
				other_address = a;
		}
		assert_true(other_address >= start && other_address < end);
		assert_ok(ac_dwarf_symbolize(dw, other_address + 1, &name, &offset));
		assert_string_equal(name, "sample_b_func");
		assert_int_equal(offset, 1);
		ac_dwarf_destroy(dw);
	}
	dwfl_end(dwfl);
}

int main(int argc, char **argv)
{
	sample_path = argc > 1 ? argv[1] : getenv("AIOCORE_DWARF_SAMPLE");
	if (!sample_path) {
		fprintf(stderr, "usage: %s PATH-TO-dwarf-sample [ANOTHER]\n",
			argv[0]);
		return 2;
	}
	other_path = argc > 2 ? argv[2] : NULL;
	if (getenv("AIOCORE_TEST_FILTER"))
		cmocka_set_test_filter(getenv("AIOCORE_TEST_FILTER"));
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_static_variable_by_hint),
		T(test_static_pointer_from_symbol),
		T(test_global_declared_in_hint_cu),
		T(test_variable_errors),
		T(test_private_types_by_hint),
		T(test_typedef_struct),
		T(test_members),
		T(test_bitfields),
		T(test_member_errors),
		T(test_declaration_completed),
		T(test_enumerators),
		T(test_cache),
		T(test_absent_name),
		T(test_functions_and_symbols),
		T(test_tls_symbols),
		cmocka_unit_test(test_main_module_first),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
