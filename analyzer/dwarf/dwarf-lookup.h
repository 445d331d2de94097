/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The DWARF layer: globals and statics by name, types by name (preferring the
 * CU that defines a given function, since QEMU keeps QEMUBH,
 * ThreadPoolElement and CoroutineUContext private to one .c file), members
 * by dotted path with ordered alternatives, enumerators, sizes, symbols.
 * Lookups are cached.  A name that is not there is an AC_ERR_LOOKUP error,
 * which callers catch to fall back to another QEMU generation's layout.
 */
#ifndef AIOCORE_DWARF_LOOKUP_H
#define AIOCORE_DWARF_LOOKUP_H

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stdint.h>

#include "target/target.h"
#include "util/util.h"

struct ac_dwarf;

/* A type: a DIE and the module it lives in.  A plain value; copy freely. */
struct ac_type {
	Dwfl_Module *module;
	Dwarf_Die die;
};

struct ac_variable {
	uint64_t address;       /* run-time address in the target */
	struct ac_type type;
};

struct ac_member {
	uint64_t offset;        /* bytes from the start of the outer type */
	struct ac_type type;
	unsigned bit_size;      /* 0 unless a bit-field */
	unsigned bit_offset;    /* bits from offset, little-endian numbering */
};

enum ac_type_kind {
	AC_TYPE_OTHER,
	AC_TYPE_BASE,
	AC_TYPE_POINTER,
	AC_TYPE_STRUCT,
	AC_TYPE_UNION,
	AC_TYPE_ENUM,
	AC_TYPE_ARRAY,
	AC_TYPE_FUNCTION,
};

/*
 * The layer needs only the Dwfl session (the target's, or one made offline
 * from an executable in tests).  main_module, if not NULL, is searched first.
 */
struct ac_error *ac_dwarf_create(Dwfl *dwfl, Dwfl_Module *main_module,
				 struct ac_dwarf **ret);
void ac_dwarf_destroy(struct ac_dwarf *dw);
/*
 * Symbols by name from the target's per-module tables, which unwinding
 * reads anyway, instead of a second read of every symbol table here.
 */
void ac_dwarf_use_target_symbols(struct ac_dwarf *dw, struct ac_target *target);

/*
 * A global or static variable.  hint_function, if not NULL, names a function
 * defined in the same CU; it picks the right one among several statics of
 * the same name and avoids scanning every CU.
 */
struct ac_error *ac_dwarf_find_variable(struct ac_dwarf *dw, const char *name,
					const char *hint_function,
					struct ac_variable *ret);

/*
 * A type by name: "struct QEMUBH", "union X", "enum ThreadState", or a bare
 * name matching a typedef, struct, union, enum or base type (typedefs are
 * resolved to what they name).  hint_function as above.
 */
struct ac_error *ac_dwarf_find_type(struct ac_dwarf *dw, const char *name,
				    const char *hint_function,
				    struct ac_type *ret);

/*
 * A member by dotted path ("bh_list.slh_first"), through typedefs and
 * qualifiers and through anonymous structs/unions.  The path may list
 * alternatives separated by '|' ("first_bh|bh_list.slh_first"): the first
 * that exists wins, and *which (if not NULL) tells its index.
 */
struct ac_error *ac_dwarf_member(struct ac_dwarf *dw, const struct ac_type *type,
				 const char *path, struct ac_member *ret,
				 unsigned *which);
bool ac_dwarf_has_member(struct ac_dwarf *dw, const struct ac_type *type,
			 const char *path);

/*
 * An enumerator's value.  enum_name may be NULL ("any enum"); with a
 * hint_function the defining CU is searched first.
 */
struct ac_error *ac_dwarf_enumerator(struct ac_dwarf *dw, const char *enum_name,
				     const char *enumerator,
				     const char *hint_function, int64_t *ret);
/* The name of the enumerator of an enum type with this value, or NULL. */
const char *ac_dwarf_enumerator_name(struct ac_dwarf *dw,
				     const struct ac_type *enum_type,
				     int64_t value);

/*
 * The complete definition of a struct, union or enum that is only declared
 * where type comes from (a pointer to a type private to another .c file),
 * with typedefs and qualifiers removed.  A type defined nowhere is returned
 * as it is (stripped).  ac_dwarf_member() does this by itself; use it before
 * ac_type_size() on a pointer's target.
 */
struct ac_error *ac_dwarf_complete_type(struct ac_dwarf *dw,
					const struct ac_type *type,
					struct ac_type *ret);

/* Type helpers.  The returned types have typedefs and qualifiers removed. */
struct ac_type ac_type_strip(const struct ac_type *type);
enum ac_type_kind ac_type_kind(const struct ac_type *type);
struct ac_error *ac_type_size(const struct ac_type *type, uint64_t *ret);
/*
 * Whether type is a scalar (base, enum or pointer, through typedefs and
 * qualifiers) and, if so, its size: remembered per type DIE, since list
 * walks read the same members thousands of times.
 */
struct ac_error *ac_dwarf_scalar_size(struct ac_dwarf *dw, const struct ac_type *type,
				      bool *scalar, uint64_t *size);
/* What a pointer or array points to / holds. */
struct ac_error *ac_type_target(const struct ac_type *type, struct ac_type *ret);
/* "struct QEMUBH", "int", "QEMUBH *"; malloc'd. */
char *ac_type_name(const struct ac_type *type);

/* Functions and symbols. */
struct ac_error *ac_dwarf_function_address(struct ac_dwarf *dw, const char *name,
					   uint64_t *ret);
/*
 * The thread-local symbols named name in module mod: *count of them, the
 * offset of the last into the module's TLS block (st_value), and whether
 * their offsets differ.
 */
struct ac_error *ac_dwarf_tls_symbols(struct ac_dwarf *dw, Dwfl_Module *mod,
				      const char *name, size_t *count,
				      uint64_t *offset, bool *differ);
/*
 * The symbol covering address: name and offset into it.  *name points into
 * libdwfl's tables and lives as long as the target.
 */
struct ac_error *ac_dwarf_symbolize(struct ac_dwarf *dw, uint64_t address,
				    const char **name, uint64_t *offset);

#endif
