/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Job types with the member names of QEMU's job.c, for tests of programs
 * without jobs (the reference runtime has none): id, driver->job_type,
 * status, busy, paused and ProgressMeter (4.2+) or, with
 * JOB_PROGRESS_FIELDS, progress_current/progress_total (3.0-4.1).  The
 * decoder finds all of it by name in the test's DWARF.
 */
#ifndef AIOCORE_TEST_HAND_JOB_H
#define AIOCORE_TEST_HAND_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum JobType { JOB_TYPE_COMMIT, JOB_TYPE_STREAM, JOB_TYPE_MIRROR } JobType;
typedef enum JobStatus {
	JOB_STATUS_UNDEFINED, JOB_STATUS_CREATED, JOB_STATUS_RUNNING, JOB_STATUS_PAUSED,
} JobStatus;
typedef struct JobDriver { size_t instance_size; JobType job_type; } JobDriver;
typedef struct ProgressMeter { uint64_t current, total; } ProgressMeter;

typedef struct Job {
	char *id;
	const JobDriver *driver;
	int refcnt;
	JobStatus status;
	bool busy, paused;
#ifdef JOB_PROGRESS_FIELDS
	int64_t progress_current, progress_total;
#else
	ProgressMeter progress;
#endif
	struct { struct Job *le_next, **le_prev; } job_list;
} Job;

#endif
