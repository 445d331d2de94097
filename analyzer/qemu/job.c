/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "util/util.h"

/* job.c keeps the list static: this names its CU. */
#define JOB_HINT "job_create"
#define BLOCK_JOB_HINT "block_job_create"
#define MAX_JOBS 10000
/* A mirror job has at most MAX_IN_FLIGHT (16) operations, plus pseudo ops. */
#define MAX_OPS 1024

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

/* MirrorBlockJob.ops_in_flight: each MirrorOp's coroutine.  The Job is the
 * first member of the MirrorBlockJob (common.job), so they share an address. */
static struct ac_error *decode_mirror_ops(struct ac_program *prog, struct ac_job *job)
{
	struct ac_object mirror, op;
	struct ac_error *err = ac_object_at(prog, "MirrorBlockJob", "mirror_run", job->address,
					    &mirror);
	uint64_t next = 0;
	if (!err)
		err = ac_object_member_uint(prog, &mirror, "ops_in_flight.tqh_first", &next);
	struct ac_walk walk;
	ac_walk_init(&walk, MAX_OPS);
	while (!err && next) {
		if (!ac_walk_step(&walk, next))
			return ac_error_create(AC_ERR_BAD_DATA, "job %s: mirror ops: %s", job->id,
					       walk.problem);
		uint64_t co = 0;
		err = ac_object_at(prog, "MirrorOp", "mirror_run", next, &op);
		if (!err)
			err = ac_object_member_uint(prog, &op, "co", &co);
		if (!err)
			err = ac_object_member_uint(prog, &op, "next.tqe_next", &next);
		if (!err && co) {
			uint64_t *slot = ac_array_slot(job->op_coroutines, job->n_ops);
			if (!slot)
				return &ac_error_no_memory;
			*slot = co;
			job->n_ops++;
		}
	}
	return err;
}

/* A 2.x BlockJob's state from its flags, first match wins. */
static const char *flags_state(struct ac_program *prog, const struct ac_object *obj)
{
	static const struct { const char *flag, *state; } flags[] = {
		{ "completed", "completed" }, { "cancelled", "cancelled" },
		{ "paused", "paused" }, { "ready", "ready" },
	};
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		uint64_t v = 0;
		struct ac_error *err = ac_object_member_uint(prog, obj, flags[i].flag, &v);
		if (err) {
			ac_error_destroy(err);
			return NULL;
		}
		if (v)
			return flags[i].state;
	}
	return "running";
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
	if (!job->status)
		job->flags_state = flags_state(prog, obj);
	err = ac_object_member_uint(prog, obj, "busy", &v);
	if (!err)
		job->busy = v;
	ac_error_destroy(err);
	err = ac_object_member_uint(prog, obj, "paused", &v);
	if (!err)
		job->paused = v;
	ac_error_destroy(err);
	err = ac_object_member_uint(prog, obj, "pause_count", &job->pause_count);
	ac_error_destroy(err);
	/* Job.co from 3.0; BlockJob.co before. */
	err = ac_object_member_uint(prog, obj, "co", &job->co);
	ac_error_destroy(err);
	if (job->type && !strcmp(job->type, "JOB_TYPE_MIRROR")) {
		err = decode_mirror_ops(prog, job);
		if (err == &ac_error_no_memory)
			return err;
		/* Before 5.0 a MirrorOp has no coroutine: the job still is a node. */
		if (err && !ac_error_catch(&err, AC_ERR_LOOKUP))
			ac_program_note_error(prog, err, "job %s: mirror operations", job->id);
		err = NULL;
	}
	err = ac_object_member_uint(prog, obj, "progress.current|progress_current|offset",
				    &job->current);
	if (!err)
		err = ac_object_member_uint(prog, obj, "progress.total|progress_total|len",
					    &job->total);
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
	/* Before 3.0: blockjob.c's list of BlockJob, linked the same way. */
	if (ac_error_catch(&err, AC_ERR_LOOKUP))
		err = ac_object_variable(prog, "block_jobs", BLOCK_JOB_HINT, &head);
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
		struct ac_job *slot = ac_array_slot(list.items, list.n);
		if (!slot) {
			err = &ac_error_no_memory;
			break;
		}
		err = decode_job(prog, &job, slot);
		if (err) {
			free(slot->id);
			free(slot->op_coroutines);
			break;
		}
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
	for (size_t i = 0; i < list->n; i++) {
		free(list->items[i].id);
		free(list->items[i].op_coroutines);
	}
	free(list->items);
	*list = (struct ac_job_list){ 0 };
}

const char *ac_job_enum_text(const char *name, char *buf, size_t size)
{
	if (!size)
		return "";
	const char *prefixes[] = { "JOB_STATUS_", "JOB_TYPE_", "BLOCK_JOB_TYPE_" };
	for (size_t i = 0; name && i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			name += strlen(prefixes[i]);
	size_t n = 0;
	for (; name && name[n] && n + 1 < size; n++)
		buf[n] = (char)(name[n] == '_' ? '-' : tolower((unsigned char)name[n]));
	buf[n] = '\0';
	return name ? buf : "?";
}

const char *ac_job_status_text(const struct ac_job *job, char *buf, size_t size)
{
	if (!job->status && job->flags_state)
		return job->flags_state;
	return ac_job_enum_text(job->status, buf, size);
}
