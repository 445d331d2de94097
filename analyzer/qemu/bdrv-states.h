/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Every BlockDriverState of the process (block.c): all_bdrv_states (2.6+),
 * else 2.x's two partial lists, graph_bdrv_states (named nodes) and
 * bdrv_states (nodes with a device name), and below each the children no
 * list holds (a format node's `file`, `backing_hd`/`backing`), which is
 * where 2.1's protocol nodes (an NBD client, a file) live.
 */
#ifndef AIOCORE_BDRV_STATES_H
#define AIOCORE_BDRV_STATES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dwarf/dwarf.h"

struct ac_bdrv_states {
	uint64_t *items;         /* BlockDriverState addresses, list order */
	size_t n;
	bool present;            /* the program has a node list at all */
	char *problem;           /* a walk stopped early: "cycle at 0x..." (noted too) */
};

/* No list in the program: present false, no error. */
struct ac_error *ac_bdrv_states_find(struct ac_program *prog, struct ac_bdrv_states *ret);
void ac_bdrv_states_deinit(struct ac_bdrv_states *states);

#endif
