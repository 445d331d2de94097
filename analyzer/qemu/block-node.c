/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "block-node.h"

/*
 * Functions of block/file-posix.c: its CU has both types, and is indexed
 * once for both (block.c's CU is several times larger).
 */
#define BDS_HINT "handle_aiocb_rw"
#define AIO_HINT "handle_aiocb_rw"
#define NAME_MAX_READ 4096

/* A char array member (node_name[32], filename[4096]) as a string. */
static struct ac_error *array_string(struct ac_program *prog, const struct ac_object *obj,
				     const char *member, char **ret)
{
	struct ac_object m;
	uint64_t size = NAME_MAX_READ;
	struct ac_error *err = ac_object_member(prog, obj, member, &m, NULL);
	if (err)
		return err;
	struct ac_error *serr = ac_object_size(&m, &size);
	ac_error_destroy(serr);
	if (size == 0 || size > NAME_MAX_READ)
		size = NAME_MAX_READ;
	return ac_target_read_string(prog->target, m.address, size - 1, ret);
}

struct ac_error *ac_block_node_decode(struct ac_program *prog, uint64_t address,
				      struct ac_block_node *ret)
{
	struct ac_block_node n = { .address = address };
	struct ac_object bds, drv;
	bool no_drv = true;
	struct ac_error *err = ac_object_at(prog, "BlockDriverState", BDS_HINT, address, &bds);
	if (!err)
		err = array_string(prog, &bds, "filename", &n.filename);
	/* node_name arrived in 2.0; a node without one is still a node. */
	if (!err)
		err = array_string(prog, &bds, "node_name", &n.node_name);
	ac_error_catch(&err, AC_ERR_LOOKUP);
	if (err) {
		ac_block_node_deinit(&n);
		return ac_error_prefix(err, "BlockDriverState 0x%" PRIx64, address);
	}
	err = ac_object_member_uint(prog, &bds, "in_flight", &n.in_flight);
	n.has_in_flight = !err;
	ac_error_destroy(err);
	uint64_t name = 0;
	err = ac_object_member_deref(prog, &bds, "drv", &drv, &no_drv);
	if (!err && !no_drv)
		err = ac_object_member_uint(prog, &drv, "format_name", &name);
	if (!err && name)
		err = ac_target_read_string(prog->target, name, 64, &n.driver);
	/* A layout without drv (the reference runtime's) has no driver to name. */
	ac_error_catch(&err, AC_ERR_LOOKUP);
	if (err)
		ac_program_note_error(prog, err, "BlockDriverState 0x%" PRIx64 ".drv", address);
	*ret = n;
	return NULL;
}

void ac_block_node_deinit(struct ac_block_node *node)
{
	free(node->node_name);
	free(node->filename);
	free(node->driver);
	*node = (struct ac_block_node){ 0 };
}

/*
 * QEMU_AIO_* are #defines in block/raw-aio.h, absent from DWARF: the
 * values have been stable since they were introduced.
 */
const char *ac_posix_aio_kind(uint64_t aio_type)
{
	static const char *const kinds[] = {
		"read", "write", "ioctl", "flush", "discard", "write-zeroes",
		"copy-range", "truncate",
	};
	for (unsigned bit = 0; bit < 8; bit++)
		if ((aio_type & 0xff) == (1u << bit))
			return kinds[bit];
	return "other";
}

struct ac_error *ac_posix_aio_decode(struct ac_program *prog, uint64_t address,
				     struct ac_posix_aio *ret)
{
	struct ac_posix_aio r = { .address = address };
	struct ac_object aio;
	uint64_t type;
	struct ac_error *err = ac_object_at(prog, "RawPosixAIOData", AIO_HINT, address, &aio);
	if (!err)
		err = ac_object_member_int(prog, &aio, "aio_fildes", &r.fd);
	if (!err)
		err = ac_object_member_int(prog, &aio, "aio_offset", &r.offset);
	if (!err)
		err = ac_object_member_uint(prog, &aio, "aio_nbytes", &r.length);
	if (!err)
		err = ac_object_member_uint(prog, &aio, "aio_type", &type);
	if (!err)
		err = ac_object_member_uint(prog, &aio, "bs", &r.bs);
	if (err)
		return ac_error_prefix(err, "RawPosixAIOData 0x%" PRIx64, address);
	r.kind = ac_posix_aio_kind(type);
	if (r.bs) {
		err = ac_block_node_decode(prog, r.bs, &r.node);
		if (err)
			ac_program_note_error(prog, err, "RawPosixAIOData 0x%" PRIx64 ".bs", address);
	}
	*ret = r;
	return NULL;
}

void ac_posix_aio_deinit(struct ac_posix_aio *aio)
{
	ac_block_node_deinit(&aio->node);
	*aio = (struct ac_posix_aio){ 0 };
}
