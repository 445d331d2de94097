/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <string.h>

#include "co-poll.h"

/* Frames between aio_poll and the wrapper: inlined helpers, BDRV_POLL_WHILE. */
#define MAX_ABOVE 12
/* Callers named in the text after the owner. */
#define MAX_CALLERS 3

/* The stack pointer's DWARF register number. */
static unsigned sp_register(struct ac_program *prog)
{
	return ac_target_arch(prog->target) == AC_ARCH_AARCH64 ? 31 : 7;
}

static bool frame_sp(const struct ac_frame *f, unsigned reg, uint64_t *sp)
{
	if (!(f->regs_valid & (UINT64_C(1) << reg)))
		return false;
	*sp = f->regs[reg];
	return true;
}

bool ac_co_poll_find(struct ac_program *prog, size_t thread_index, uint64_t arg,
		     struct ac_co_poll *ret)
{
	const struct ac_backtrace *bt = ac_program_backtrace(prog, thread_index);
	if (!bt || !arg)
		return false;
	long poll = ac_backtrace_find_function(bt, "aio_poll");
	if (poll < 0)
		return false;
	unsigned reg = sp_register(prog);
	long n = (long)bt->n_frames;
	/* Physical frames above the poll: [first, last] share their registers. */
	for (long first = poll + 1; first < n && first <= poll + MAX_ABOVE;) {
		long last = first;
		while (last + 1 < n && bt->frames[last].inlined)
			last++;
		uint64_t low, high;
		if (last + 1 >= n || !frame_sp(&bt->frames[first], reg, &low) ||
		    !frame_sp(&bt->frames[last + 1], reg, &high))
			return false;
		if (low <= arg && arg < high) {
			*ret = (struct ac_co_poll){ .thread_index = thread_index,
						    .poll_frame = poll, .owner_frame = last,
						    .caller_frame = last + 1 };
			return true;
		}
		first = last + 1;
	}
	return false;
}

const char *ac_co_poll_text(struct ac_program *prog, const struct ac_co_poll *poll,
			    char *buf, size_t size)
{
	const struct ac_backtrace *bt = ac_program_backtrace(prog, poll->thread_index);
	if (!size)
		return "";
	if (!bt || poll->owner_frame < 0 || (size_t)poll->owner_frame >= bt->n_frames) {
		snprintf(buf, size, "?");
		return buf;
	}
	const char *owner = bt->frames[poll->owner_frame].function;
	size_t len = (size_t)snprintf(buf, size, "%s", owner ? owner : "??");
	for (long i = poll->caller_frame, k = 0;
	     i >= 0 && (size_t)i < bt->n_frames && k < MAX_CALLERS && len < size; i++, k++) {
		const char *fn = bt->frames[i].function;
		len += (size_t)snprintf(buf + len, size - len, "%s%s", k ? " <- " : " (from ",
					fn ? fn : "??");
		if (len < size && (k + 1 == MAX_CALLERS || (size_t)i + 1 >= bt->n_frames))
			len += (size_t)snprintf(buf + len, size - len, ")");
	}
	return buf;
}
