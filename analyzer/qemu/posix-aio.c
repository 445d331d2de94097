/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "posix-aio.h"

/* A function of block/file-posix.c: its CU has RawPosixAIOData. */
#define AIO_HINT "handle_aiocb_rw"

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
				     bool with_node, struct ac_posix_aio *ret)
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
	/*
	 * Not a program note: the caller knows whether the thread was running,
	 * when a request read from its stack may be half-written.
	 */
	if (r.bs && with_node) {
		err = ac_block_node_decode(prog, r.bs, &r.node);
		if (err && asprintf(&r.node_problem, "RawPosixAIOData 0x%" PRIx64 ".bs: %s",
				    address, err->message) < 0)
			r.node_problem = NULL;
		ac_error_destroy(err);
	}
	*ret = r;
	return NULL;
}

void ac_posix_aio_deinit(struct ac_posix_aio *aio)
{
	ac_block_node_deinit(&aio->node);
	free(aio->node_problem);
	*aio = (struct ac_posix_aio){ 0 };
}
