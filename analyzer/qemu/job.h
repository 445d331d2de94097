/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Jobs (job.c): every Job on the static `jobs` list (3.0+), or before it
 * every BlockJob on blockjob.c's `block_jobs` (2.x), with its id, type
 * (driver->job_type), status (2.x: none; its flags say), busy/paused and
 * ProgressMeter current/total (4.2+; before, progress_current/
 * progress_total; 2.x offset/len).  Absent
 * in programs without jobs (qemu-img, the reference runtime).  Its
 * coroutine (Job.co), and for a mirror job the coroutines of its
 * operations in flight (MirrorBlockJob.ops_in_flight, MirrorOp.co, 5.0+).
 */
#ifndef AIOCORE_JOB_H
#define AIOCORE_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dwarf/dwarf.h"

struct ac_job {
	uint64_t address;
	char *id;                /* "" when unnamed */
	const char *type;        /* "JOB_TYPE_MIRROR" ..., or NULL */
	const char *status;      /* "JOB_STATUS_RUNNING" ..., or NULL */
	/* Before 2.12 (2.x BlockJob) no status: "running", "ready", "paused",
	 * "cancelled" or "completed" from its flags; NULL when status is read. */
	const char *flags_state;
	bool busy, paused;
	uint64_t pause_count;    /* pauses requested (a drain is one) */
	bool has_progress;
	uint64_t current, total;
	uint64_t co;             /* the job's coroutine (Job.co), 0 if none */
	/* A mirror job's operations in flight (MirrorOp.co): the coroutines
	 * its own coroutine waits for.  Other job types: none. */
	uint64_t *op_coroutines;
	size_t n_ops;
};

struct ac_job_list {
	struct ac_job *items;
	size_t n;
};

/* Decodes the jobs the program has; none is not an error. */
struct ac_error *ac_jobs_decode(struct ac_program *prog, struct ac_job_list *ret);
void ac_job_list_deinit(struct ac_job_list *list);
/* "JOB_STATUS_RUNNING" -> "running", "JOB_TYPE_MIRROR" -> "mirror"; NULL -> "?". */
const char *ac_job_enum_text(const char *name, char *buf, size_t size);
/* The status as a word: the enumerator's text, or 2.x's flags_state. */
const char *ac_job_status_text(const struct ac_job *job, char *buf, size_t size);

#endif
