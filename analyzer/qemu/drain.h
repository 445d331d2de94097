/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Drain loops (drain.c): a thread whose aio_poll() is called from a drain
 * (bdrv_drained_begin, bdrv_drain_all_begin, blk_drain, ... through
 * BDRV_POLL_WHILE / AIO_WAIT_WHILE), which polls until the nodes' in_flight
 * is 0.  Found by the functions on the thread's stack, per generation: 2.x
 * has bdrv_drain_recurse, 5.2 to 10.0 bdrv_do_drained_begin.
 */
#ifndef AIOCORE_DRAIN_H
#define AIOCORE_DRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dwarf/dwarf.h"

struct ac_drain {
	size_t thread_index;
	long poll_frame;         /* the aio_poll frame */
	long drain_frame;        /* the nearest drain function above it */
	long caller_frame;       /* the first frame above the drain functions, or -1 */
	const char *function;    /* its name (the backtrace's string) */
	uint64_t bs;             /* the drained node (its `bs`), 0 if unknown or all */
};

/* Whether thread_index sits in a drain loop; fills *ret when it does. */
bool ac_drain_find(struct ac_program *prog, size_t thread_index, struct ac_drain *ret);

#endif
