/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "util/util.h"

/* job.c keeps the list static: this names its CU. */
#define JOB_HINT "job_create"
#define MAX_JOBS 10000

static const char *enum_member(struct ac_program *prog, const struct ac_object *obj,
			       const char *path)
{
	struct ac_object m;
	uint64_t v;
	struct ac_error *err = ac_object_member(prog, obj, path, &m, NULL);
	if (!err)
		err = ac_object_read_uint(prog, &m, &v);
	if (err) {
		ac_error_destroy(err);
		return NULL;
	}
	return ac_object_enum_name(prog, &m, (int64_t)v);
}

static struct ac_error *decode_job(struct ac_program *prog, const struct ac_object *obj,
				   struct ac_job *job)
{
	*job = (struct ac_job){ .address = obj->address };
	uint64_t id = 0, v;
	struct ac_error *err = ac_object_member_uint(prog, obj, "id", &id);
	if (!err && id)
		err = ac_target_read_string(prog->target, id, 128, &job->id);
	if (err)
		return err;
	if (!job->id && !(job->id = strdup("")))
		return &ac_error_no_memory;
	struct ac_object driver;
	bool is_null = true;
	err = ac_object_member_deref(prog, obj, "driver", &driver, &is_null);
	if (!err && !is_null)
		job->type = enum_member(prog, &driver, "job_type");
	ac_error_destroy(err);
	job->status = enum_member(prog, obj, "status");
	err = ac_object_member_uint(prog, obj, "busy", &v);
	if (!err)
		job->busy = v;
	ac_error_destroy(err);
	err = ac_object_member_uint(prog, obj, "paused", &v);
	if (!err)
		job->paused = v;
	ac_error_destroy(err);
	err = ac_object_member_uint(prog, obj, "progress.current|progress_current", &job->current);
	if (!err)
		err = ac_object_member_uint(prog, obj, "progress.total|progress_total", &job->total);
	if (!err)
		job->has_progress = true;
	else if (!ac_error_catch(&err, AC_ERR_LOOKUP))
		return err;
	return NULL;
}

struct ac_error *ac_jobs_decode(struct ac_program *prog, struct ac_job_list *ret)
{
	struct ac_job_list list = { 0 };
	struct ac_object head, job;
	struct ac_error *err = ac_object_variable(prog, "jobs", JOB_HINT, &head);
	if (ac_error_catch(&err, AC_ERR_LOOKUP)) {
		*ret = list;
		return NULL;
	}
	struct ac_object first;
	if (!err)
		err = ac_object_member(prog, &head, "lh_first", &first, NULL);
	if (!err)
		err = ac_object_deref(prog, &first, &job);
	struct ac_walk walk;
	ac_walk_init(&walk, MAX_JOBS);
	while (!err && job.address) {
		if (!ac_walk_step(&walk, job.address)) {
			err = ac_error_create(AC_ERR_BAD_DATA, "jobs: %s", walk.problem);
			break;
		}
		struct ac_job *grown = realloc(list.items, (list.n + 1) * sizeof(*grown));
		if (!grown) {
			err = &ac_error_no_memory;
			break;
		}
		list.items = grown;
		err = decode_job(prog, &job, &list.items[list.n]);
		if (err)
			break;
		list.n++;
		uint64_t next = 0;
		err = ac_object_member_uint(prog, &job, "job_list.le_next", &next);
		job.address = next;
	}
	if (err && err != &ac_error_no_memory) {
		ac_program_note_error(prog, err, "jobs");
		err = NULL;
	}
	if (err) {
		ac_job_list_deinit(&list);
		return err;
	}
	*ret = list;
	return NULL;
}

void ac_job_list_deinit(struct ac_job_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		free(list->items[i].id);
	free(list->items);
	*list = (struct ac_job_list){ 0 };
}
