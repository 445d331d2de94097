/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "drain.h"

/* Frames between aio_poll and the drain: inlined poll helpers, a BH. */
#define MAX_ABOVE 8

/* Functions whose BDRV_POLL_WHILE / AIO_WAIT_WHILE waits for in_flight. */
static const char *const drainers[] = {
	"bdrv_do_drained_begin", "bdrv_drained_begin", "bdrv_subtree_drained_begin",
	"bdrv_do_drain_begin", "bdrv_drain_recurse", "bdrv_drain", "bdrv_drain_all_begin",
	"bdrv_drain_all", "bdrv_co_drain_bh_cb", "blk_drain", "blk_drain_all",
	"bdrv_parent_drained_begin_single", "bdrv_do_drained_begin_quiesce",
	"bdrv_drain_poll_top_level", "bdrv_poll_co",
};

static bool is_drainer(const char *fn)
{
	/* "bdrv_do_drained_begin.constprop.0" is the same function. */
	for (size_t i = 0; fn && i < sizeof(drainers) / sizeof(drainers[0]); i++) {
		size_t len = strlen(drainers[i]);
		if (!strncmp(fn, drainers[i], len) && (fn[len] == '\0' || fn[len] == '.'))
			return true;
	}
	return false;
}

bool ac_drain_find(struct ac_program *prog, size_t thread_index, struct ac_drain *ret)
{
	const struct ac_backtrace *bt = ac_program_backtrace(prog, thread_index);
	if (!bt)
		return false;
	long poll = ac_backtrace_find_function(bt, "aio_poll");
	if (poll < 0)
		return false;
	long n = (long)bt->n_frames;
	for (long i = poll + 1; i < n && i <= poll + MAX_ABOVE; i++) {
		if (!is_drainer(bt->frames[i].function))
			continue;
		*ret = (struct ac_drain){ .thread_index = thread_index, .poll_frame = poll,
					  .drain_frame = i, .caller_frame = -1,
					  .function = bt->frames[i].function };
		/* The outermost drain function of this loop, and who called it. */
		long top = i;
		while (top + 1 < n && top + 1 <= i + MAX_ABOVE &&
		       is_drainer(bt->frames[top + 1].function))
			top++;
		if (top + 1 < n)
			ret->caller_frame = top + 1;
		/* The drained node, where a frame has it; a drain_all's `bs` is
		 * only its loop variable. */
		bool all = strstr(bt->frames[top].function, "_all") != NULL;
		for (long f = i; f <= top && !all && !ret->bs; f++) {
			struct ac_error *err = ac_frame_variable_uint(prog, thread_index,
								      (size_t)f, "bs", &ret->bs);
			if (err) {
				ac_error_destroy(err);
				ret->bs = 0;
			}
		}
		return true;
	}
	return false;
}
