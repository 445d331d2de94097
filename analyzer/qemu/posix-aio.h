/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * file-posix's request record (RawPosixAIOData, the arg of a thread-pool
 * request): fd, offset, length, kind and the block node it is for.  A core
 * has no fd table: a request's node (block-node.h) is where a path comes
 * from.
 */
#ifndef AIOCORE_POSIX_AIO_H
#define AIOCORE_POSIX_AIO_H

#include <stdbool.h>
#include <stdint.h>

#include "dwarf/dwarf.h"
#include "block-node.h"

struct ac_posix_aio {
	uint64_t address;
	int64_t fd;
	int64_t offset;
	uint64_t length;
	const char *kind;        /* "read", "write", "flush", ... (static) */
	uint64_t bs;
	struct ac_block_node node;  /* node.address == 0: not decoded */
	char *node_problem;         /* why node is not decoded, or NULL */
};

/*
 * with_node: decode the block node bs points to as well (not for a running
 * worker, whose request may be half-written: its bs could be anything).
 */
struct ac_error *ac_posix_aio_decode(struct ac_program *prog, uint64_t address,
				     bool with_node, struct ac_posix_aio *ret);
void ac_posix_aio_deinit(struct ac_posix_aio *aio);

/* QEMU_AIO_READ, _WRITE, ...: "read", "write", ... (static). */
const char *ac_posix_aio_kind(uint64_t aio_type);

#endif
