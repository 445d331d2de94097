/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Jobs (analyzer/qemu/job.c) on Job structures this test defines with the
 * member names QEMU's job.c has (the reference runtime has no jobs): the
 * static `jobs` list, id, driver->job_type, status, busy, paused and the
 * progress counters, ProgressMeter (4.2+) or, built with
 * -DJOB_PROGRESS_FIELDS, progress_current/progress_total (3.0-4.1).  The
 * enumerators are found by name in this test's DWARF.  Hostile: a cycle,
 * an id that cannot be read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "hand-program.h"

#define ADDR(p) ((uint64_t)(uintptr_t)(p))

#include "hand-job.h"

/* Not static: only the analyzer reads them, the compiler must keep them. */
struct { Job *lh_first; } jobs;
Job job[2];
const JobDriver mirror_driver = { sizeof(Job), JOB_TYPE_MIRROR };
const JobDriver commit_driver = { sizeof(Job), JOB_TYPE_COMMIT };
char mirror_id[] = "mirror0";

static void set_progress(Job *j, uint64_t current, uint64_t total)
{
#ifdef JOB_PROGRESS_FIELDS
	j->progress_current = (int64_t)current;
	j->progress_total = (int64_t)total;
#else
	j->progress = (ProgressMeter){ current, total };
#endif
}

static int setup_jobs(void **state)
{
	(void)state;
	job[0] = (Job){ .id = mirror_id, .driver = &mirror_driver, .status = JOB_STATUS_RUNNING,
			.busy = true };
	set_progress(&job[0], 1048576, 10485760);
	job[1] = (Job){ .driver = &commit_driver, .status = JOB_STATUS_PAUSED, .paused = true };
	set_progress(&job[1], 0, 512);
	job[0].job_list.le_next = &job[1];
	jobs.lh_first = &job[0];
	return 0;
}

static void test_jobs(void **state)
{
	setup_jobs(state);
	struct ac_program *prog = hand_program_self();
	struct ac_job_list list;
	assert_null(ac_jobs_decode(prog, &list));
	assert_int_equal(list.n, 2);
	const struct ac_job *j = &list.items[0];
	assert_int_equal(j->address, ADDR(&job[0]));
	assert_string_equal(j->id, "mirror0");
	assert_string_equal(j->type, "JOB_TYPE_MIRROR");
	assert_string_equal(j->status, "JOB_STATUS_RUNNING");
	assert_true(j->busy);
	assert_false(j->paused);
	assert_true(j->has_progress);
	assert_int_equal(j->current, 1048576);
	assert_int_equal(j->total, 10485760);
	j = &list.items[1];
	assert_string_equal(j->id, "");          /* unnamed (internal) job */
	assert_string_equal(j->type, "JOB_TYPE_COMMIT");
	assert_string_equal(j->status, "JOB_STATUS_PAUSED");
	assert_true(j->paused);
	assert_int_equal(j->total, 512);
	assert_int_equal(prog->n_notes, 0);
	ac_job_list_deinit(&list);
	hand_program_close(prog);
}

static void test_no_driver(void **state)
{
	setup_jobs(state);
	job[1].driver = NULL;
	job[1].status = 77;      /* no such enumerator */
	struct ac_program *prog = hand_program_self();
	struct ac_job_list list;
	assert_null(ac_jobs_decode(prog, &list));
	assert_int_equal(list.n, 2);
	assert_null(list.items[1].type);
	assert_null(list.items[1].status);
	ac_job_list_deinit(&list);
	hand_program_close(prog);
}

static void test_cycle(void **state)
{
	setup_jobs(state);
	job[1].job_list.le_next = &job[0];
	struct ac_program *prog = hand_program_self();
	struct ac_job_list list;
	assert_null(ac_jobs_decode(prog, &list));
	assert_true(list.n >= 2 && list.n <= 4);
	assert_true(hand_noted(prog, "jobs: cycle"));
	ac_job_list_deinit(&list);
	hand_program_close(prog);
}

/* The second job's id points nowhere: the walk stops there, the first is kept. */
static void test_wild_id(void **state)
{
	setup_jobs(state);
	job[1].id = (char *)(uintptr_t)0x10;
	struct ac_program *prog = hand_program_self();
	struct ac_job_list list;
	assert_null(ac_jobs_decode(prog, &list));
	assert_int_equal(list.n, 1);
	assert_string_equal(list.items[0].id, "mirror0");
	assert_true(hand_noted(prog, "jobs"));
	ac_job_list_deinit(&list);
	hand_program_close(prog);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jobs),
		cmocka_unit_test(test_no_driver),
		cmocka_unit_test(test_cycle),
		cmocka_unit_test(test_wild_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
