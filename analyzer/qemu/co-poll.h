/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Synchronous wrappers (co-poll.c): a thread that created a coroutine with
 * an argument on its own stack and polls until the coroutine is done
 * (2.x bdrv_prwv_co's RwCo, 2.7-5.1 blk_prw's BlkRwCo, 5.2+ generated
 * wrappers' BdrvPollCo).  The coroutine's entry argument lies in a frame
 * above the thread's aio_poll: that thread waits for that coroutine.
 * Found from the stack pointers libdwfl recovered per frame, not from
 * optimized-out locals.
 */
#ifndef AIOCORE_CO_POLL_H
#define AIOCORE_CO_POLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dwarf/dwarf.h"

struct ac_co_poll {
	size_t thread_index;
	uint64_t coroutine;
	long poll_frame;         /* the aio_poll frame */
	long owner_frame;        /* the frame whose stack holds the argument */
	long caller_frame;       /* the frame above the owner's, or -1 */
};

/*
 * Whether thread_index polls in aio_poll below a frame whose stack holds
 * arg (a coroutine's entry_arg); fills *ret (coroutine left 0) when it does.
 */
bool ac_co_poll_find(struct ac_program *prog, size_t thread_index, uint64_t arg,
		     struct ac_co_poll *ret);

/* "bdrv_prwv_co (from bdrv_rw_co <- bdrv_read <- img_convert)"; into buf. */
const char *ac_co_poll_text(struct ac_program *prog, const struct ac_co_poll *poll,
			    char *buf, size_t size);

#endif
