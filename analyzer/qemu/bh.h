/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bottom halves (QEMUBH, private to util/async.c).  Up to 4.2 every BH
 * stays on ctx->first_bh with booleans scheduled/idle/deleted; from 5.0 a
 * BH is on ctx->bh_list only while BH_PENDING, with flags whose values come
 * from the binary's enumerators.  An idle BH is then on no list at all, so
 * BHs are also reached from their owners (ThreadPool.completion_bh,
 * AioContext.co_schedule_bh).
 */
#ifndef AIOCORE_BH_H
#define AIOCORE_BH_H

#include <stdbool.h>
#include <stdint.h>

#include "aio-context.h"
#include "dwarf/dwarf.h"

struct ac_bh {
	uint64_t address;
	uint64_t ctx;
	uint64_t cb;
	const char *cb_name;    /* symbol of cb, or "0x..."; the list's */
	uint64_t opaque;
	char *opaque_name;      /* symbol when opaque is a static object */
	char *name;             /* QEMUBH.name (6.1+), NULL before */
	bool has_flags;         /* 5.0+: flags; before: booleans */
	uint32_t flags;
	bool pending, scheduled, idle, deleted, oneshot;
	bool runnable;          /* the next aio_bh_poll() would run it */
	const char *where;      /* "bh_list", "ThreadPool.completion_bh", ...; the list's */
	char *problem;          /* unreadable part, NULL if none */
};

struct ac_bh_list {
	struct ac_bh *items;
	size_t n;
	char *walk_problem;     /* "bh_list: cycle at 0x..." */
	char **strings;         /* what cb_name and where point to, shared */
	size_t n_strings;
};

/* The BHs of one context: its list(s) and the BHs its owners hold. */
struct ac_error *ac_bhs_decode(struct ac_program *prog,
			       const struct ac_aio_context *ctx,
			       struct ac_bh_list *ret);
void ac_bh_list_deinit(struct ac_bh_list *list);
const struct ac_bh *ac_bh_list_find(const struct ac_bh_list *list, uint64_t address);
/* "pending scheduled oneshot" or "scheduled idle"; into buf. */
const char *ac_bh_flags_text(const struct ac_bh *bh, char *buf, size_t size);

#endif
