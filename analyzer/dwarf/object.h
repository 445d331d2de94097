/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An object: a typed address in the target.  Decoders walk QEMU's
 * structures with these, by member name, never by offset, so one decoder
 * serves every QEMU generation: member paths take '|' alternatives
 * ("first_bh|bh_list.slh_first") and a missing member is a catchable
 * AC_ERR_LOOKUP.
 */
#ifndef AIOCORE_OBJECT_H
#define AIOCORE_OBJECT_H

#include <stdbool.h>
#include <stdint.h>

#include "program.h"

struct ac_object {
	uint64_t address;
	struct ac_type type;
	unsigned bit_size;      /* a bit-field member; 0 otherwise */
	unsigned bit_offset;
};

/* An object of the named type at address (hint: a function of its CU). */
struct ac_error *ac_object_at(struct ac_program *prog, const char *type_name,
			      const char *hint, uint64_t address,
			      struct ac_object *ret);
/* A global or static variable as an object. */
struct ac_error *ac_object_variable(struct ac_program *prog, const char *name,
				    const char *hint, struct ac_object *ret);
/* A member by path; *which tells which alternative matched (may be NULL). */
struct ac_error *ac_object_member(struct ac_program *prog,
				  const struct ac_object *obj, const char *path,
				  struct ac_object *ret, unsigned *which);
bool ac_object_has_member(struct ac_program *prog, const struct ac_object *obj,
			  const char *path);

/* Integers, enums, bools and pointers, by their DWARF size. */
struct ac_error *ac_object_read_uint(struct ac_program *prog,
				     const struct ac_object *obj, uint64_t *ret);
struct ac_error *ac_object_read_int(struct ac_program *prog,
				    const struct ac_object *obj, int64_t *ret);
/* The object a pointer points to (its struct type completed). */
struct ac_error *ac_object_deref(struct ac_program *prog,
				 const struct ac_object *ptr, struct ac_object *ret);

/* Shorthands for a member's value. */
struct ac_error *ac_object_member_uint(struct ac_program *prog,
				       const struct ac_object *obj,
				       const char *path, uint64_t *ret);
struct ac_error *ac_object_member_int(struct ac_program *prog,
				      const struct ac_object *obj,
				      const char *path, int64_t *ret);
/* Follow a pointer member: *ret is the pointee; NULL pointer -> *is_null. */
struct ac_error *ac_object_member_deref(struct ac_program *prog,
					const struct ac_object *obj,
					const char *path, struct ac_object *ret,
					bool *is_null);
/* Name of the enumerator an enum-typed object holds, or NULL. */
const char *ac_object_enum_name(struct ac_program *prog,
				const struct ac_object *obj, int64_t value);
/* Size of the object's type. */
struct ac_error *ac_object_size(const struct ac_object *obj, uint64_t *ret);

#endif
