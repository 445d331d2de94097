/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdlib.h>

#include "object.h"

struct ac_error *ac_object_at(struct ac_program *prog, const char *type_name,
			      const char *hint, uint64_t address,
			      struct ac_object *ret)
{
	struct ac_type type;
	struct ac_error *err = ac_dwarf_find_type(prog->dwarf, type_name, hint, &type);
	if (err)
		return err;
	*ret = (struct ac_object){ .address = address, .type = type };
	return NULL;
}

struct ac_error *ac_object_variable(struct ac_program *prog, const char *name,
				    const char *hint, struct ac_object *ret)
{
	struct ac_variable var;
	struct ac_error *err = ac_dwarf_find_variable(prog->dwarf, name, hint, &var);
	if (err)
		return err;
	*ret = (struct ac_object){ .address = var.address, .type = var.type };
	return NULL;
}

struct ac_error *ac_object_member(struct ac_program *prog,
				  const struct ac_object *obj, const char *path,
				  struct ac_object *ret, unsigned *which)
{
	struct ac_member member;
	struct ac_error *err = ac_dwarf_member(prog->dwarf, &obj->type, path,
					       &member, which);
	if (err)
		return err;
	*ret = (struct ac_object){
		.address = obj->address + member.offset,
		.type = member.type,
		.bit_size = member.bit_size,
		.bit_offset = member.bit_offset,
	};
	return NULL;
}

bool ac_object_has_member(struct ac_program *prog, const struct ac_object *obj,
			  const char *path)
{
	return ac_dwarf_has_member(prog->dwarf, &obj->type, path);
}

struct ac_error *ac_object_size(const struct ac_object *obj, uint64_t *ret)
{
	struct ac_type stripped = ac_type_strip(&obj->type);
	return ac_type_size(&stripped, ret);
}

struct ac_error *ac_object_read_uint(struct ac_program *prog,
				     const struct ac_object *obj, uint64_t *ret)
{
	bool scalar;
	uint64_t size;
	struct ac_error *err = ac_dwarf_scalar_size(prog->dwarf, &obj->type, &scalar, &size);
	if (err)
		return err;
	if (!scalar)
		return ac_error_create_at(AC_ERR_USAGE, obj->address,
					  "object at 0x%" PRIx64 " is not a scalar",
					  obj->address);
	uint64_t value;
	err = ac_target_read_uint(prog->target, obj->address, size, &value);
	if (err)
		return err;
	if (obj->bit_size) {
		value >>= obj->bit_offset;
		if (obj->bit_size < 64)
			value &= (UINT64_C(1) << obj->bit_size) - 1;
	}
	*ret = value;
	return NULL;
}

struct ac_error *ac_object_read_int(struct ac_program *prog,
				    const struct ac_object *obj, int64_t *ret)
{
	uint64_t value, size;
	bool scalar;
	struct ac_error *err = ac_object_read_uint(prog, obj, &value);
	if (!err)
		err = ac_dwarf_scalar_size(prog->dwarf, &obj->type, &scalar, &size);
	if (err)
		return err;
	unsigned bits = obj->bit_size ? obj->bit_size : (unsigned)size * 8;
	if (bits < 64 && (value >> (bits - 1)) & 1)
		value |= ~UINT64_C(0) << bits;
	*ret = (int64_t)value;
	return NULL;
}

struct ac_error *ac_object_deref(struct ac_program *prog,
				 const struct ac_object *ptr, struct ac_object *ret)
{
	struct ac_type type = ac_type_strip(&ptr->type);
	if (ac_type_kind(&type) != AC_TYPE_POINTER)
		return ac_error_create_at(AC_ERR_USAGE, ptr->address,
					  "object at 0x%" PRIx64 " is not a pointer",
					  ptr->address);
	uint64_t address;
	struct ac_error *err = ac_target_read_pointer(prog->target, ptr->address,
						      &address);
	if (err)
		return err;
	struct ac_type pointee;
	err = ac_type_target(&type, &pointee);
	if (err)
		return err;
	/* A pointer to a struct declared but not defined in this CU. */
	struct ac_type complete;
	struct ac_error *cerr = ac_dwarf_complete_type(prog->dwarf, &pointee, &complete);
	if (!cerr)
		pointee = complete;
	ac_error_destroy(cerr);
	*ret = (struct ac_object){ .address = address, .type = pointee };
	return NULL;
}

struct ac_error *ac_object_member_uint(struct ac_program *prog,
				       const struct ac_object *obj,
				       const char *path, uint64_t *ret)
{
	struct ac_object member;
	struct ac_error *err = ac_object_member(prog, obj, path, &member, NULL);
	if (err)
		return err;
	return ac_object_read_uint(prog, &member, ret);
}

struct ac_error *ac_object_member_int(struct ac_program *prog,
				      const struct ac_object *obj,
				      const char *path, int64_t *ret)
{
	struct ac_object member;
	struct ac_error *err = ac_object_member(prog, obj, path, &member, NULL);
	if (err)
		return err;
	return ac_object_read_int(prog, &member, ret);
}

struct ac_error *ac_object_member_deref(struct ac_program *prog,
					const struct ac_object *obj,
					const char *path, struct ac_object *ret,
					bool *is_null)
{
	struct ac_object member, pointee;
	struct ac_error *err = ac_object_member(prog, obj, path, &member, NULL);
	if (!err)
		err = ac_object_deref(prog, &member, &pointee);
	if (err)
		return err;
	*is_null = pointee.address == 0;
	*ret = pointee;
	return NULL;
}

const char *ac_object_enum_name(struct ac_program *prog,
				const struct ac_object *obj, int64_t value)
{
	struct ac_type type = ac_type_strip(&obj->type);
	if (ac_type_kind(&type) != AC_TYPE_ENUM)
		return NULL;
	return ac_dwarf_enumerator_name(prog->dwarf, &type, value);
}
