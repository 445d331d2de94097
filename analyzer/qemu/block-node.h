/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Block nodes (block.c's BlockDriverState): node name, driver, filename
 * and in_flight, and file-posix's request record (RawPosixAIOData, the arg
 * of a thread-pool request): fd, offset, length, kind and the node it is
 * for.  A core has no fd table: a request's node is where a path comes
 * from.
 */
#ifndef AIOCORE_BLOCK_NODE_H
#define AIOCORE_BLOCK_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "dwarf/dwarf.h"

struct ac_block_node {
	uint64_t address;
	char *node_name;         /* "" for an unnamed node; NULL if unreadable */
	char *driver;            /* drv->format_name: "file", "qcow2", ... */
	char *filename;
	bool has_in_flight;
	uint64_t in_flight;
};

struct ac_error *ac_block_node_decode(struct ac_program *prog, uint64_t address,
				      struct ac_block_node *ret);
void ac_block_node_deinit(struct ac_block_node *node);

struct ac_posix_aio {
	uint64_t address;
	int64_t fd;
	int64_t offset;
	uint64_t length;
	const char *kind;        /* "read", "write", "flush", ... (static) */
	uint64_t bs;
	struct ac_block_node node;  /* node.address == 0: not decoded */
};

/* A RawPosixAIOData; its node when bs is readable (else a program note). */
struct ac_error *ac_posix_aio_decode(struct ac_program *prog, uint64_t address,
				     struct ac_posix_aio *ret);
void ac_posix_aio_deinit(struct ac_posix_aio *aio);

/* QEMU_AIO_* of block/raw-aio.h (not in DWARF) -> "read", ... or "other". */
const char *ac_posix_aio_kind(uint64_t aio_type);

#endif
