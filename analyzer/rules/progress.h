/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Progress between two cores of one process (diagnose --since): one core
 * cannot tell a stalled request from a slow one, two can.  Compares what
 * the qemu decoders found in each: thread-pool requests (identity and
 * state), the block layer's tracked requests and accounting, write
 * generations (2.1: the highest sector written), jobs' progress, RCU and
 * BH counts, the threads' frames and CPU time.  A request still in flight, or a running job whose progress
 * did not move, seconds later, is the `no-progress` finding; anything
 * that completed or advanced is "progressing".
 */
#ifndef AIOCORE_PROGRESS_H
#define AIOCORE_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "finding.h"
#include "qemu/qemu.h"

enum ac_progress_state {
	AC_PROGRESS_IDLE,        /* nothing in flight, nothing moved */
	AC_PROGRESS_MOVING,      /* something completed or advanced */
	AC_PROGRESS_STALLED,     /* a request in flight did not move */
	AC_PROGRESS_TOO_CLOSE,   /* unmoved, but the cores are < 1 s apart */
};

/* One thing compared: "what: earlier -> later". */
struct ac_progress_line {
	char *what;
	char *earlier, *later;
	bool moved;
};

struct ac_progress {
	enum ac_progress_state state;
	bool has_seconds;        /* both capture times known */
	double seconds;          /* later - earlier */
	const char *clock;       /* how seconds was measured */
	pid_t pid;
	size_t n_in_flight;      /* requests in flight in the earlier core */
	size_t n_completed;      /* ... gone from the later core */
	size_t n_stalled;        /* ... still there, unchanged */
	size_t n_unsure;         /* ... done in both while threads ran: maybe reused */
	bool has_acct;           /* BlockAcctStats in some backend */
	uint64_t ops[AC_ACCT_N], bytes[AC_ACCT_N];   /* completed in between */
	uint64_t write_gen;      /* writes completed: most write_gen moved on a node */
	uint64_t job_progress;   /* sum of the jobs' progress.current moves */
	char *summary;           /* the one-line answer */
	struct ac_progress_line *lines;
	size_t n_lines;
};

const char *ac_progress_state_name(enum ac_progress_state state);

/*
 * Compare earlier with later (their analyses from ac_diagnose).  Two cores
 * of different processes or builds, the same file twice, or an "earlier"
 * core taken after the later one: AC_ERR_MISMATCH naming both.  A stall
 * adds a `no-progress` finding to findings.
 */
struct ac_error *ac_progress_compare(struct ac_program *earlier,
				     const struct ac_analysis *earlier_a,
				     struct ac_program *later,
				     const struct ac_analysis *later_a,
				     struct ac_progress *ret,
				     struct ac_findings *findings);
void ac_progress_deinit(struct ac_progress *p);

#endif
