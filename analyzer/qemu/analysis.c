/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"
#include "analysis.h"

/* Locks from their owners and from the coroutines the pools and NBD name. */
static void find_co_locks(struct ac_program *prog, struct ac_analysis *a)
{
	uint64_t *cos = NULL;
	size_t n = 0;
	for (size_t c = 0; c < a->contexts.n; c++)
		for (size_t r = 0; a->pools[c].address && r < a->pools[c].n_elements; r++) {
			uint64_t *slot = ac_array_slot(cos, n);
			if (slot) {
				*slot = a->pools[c].elements[r].coroutine;
				n++;
			}
		}
	for (size_t i = 0; i < a->nbd.n; i++)
		for (size_t r = 0; r < a->nbd.items[i].n_requests; r++) {
			uint64_t *slot = ac_array_slot(cos, n);
			if (slot) {
				*slot = a->nbd.items[i].requests[r].coroutine;
				n++;
			}
		}
	struct ac_error *err = ac_co_locks_find(prog, cos, n, &a->co_locks);
	if (err)
		ac_program_note_error(prog, err, "coroutine locks");
	free(cos);
}

struct ac_error *ac_analysis_build(struct ac_program *prog, struct ac_analysis *ret)
{
	struct ac_analysis a = { 0 };
	struct ac_error *err = ac_aio_contexts_find(prog, &a.contexts);
	if (err)
		return err;
	size_t n = a.contexts.n;
	a.bhs = calloc(n ? n : 1, sizeof(*a.bhs));
	a.pools = calloc(n ? n : 1, sizeof(*a.pools));
	if (!a.bhs || !a.pools) {
		ac_analysis_deinit(&a);
		return &ac_error_no_memory;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ac_aio_context *ctx = &a.contexts.items[i];
		err = ac_bhs_decode(prog, ctx, &a.bhs[i]);
		if (err)
			ac_program_note_error(prog, err, "BHs");
		if (!ctx->thread_pool)
			continue;
		err = ac_thread_pool_decode(prog, ctx->thread_pool, &a.pools[i]);
		if (err) {
			ac_program_note_error(prog, err, "thread pool");
			a.pools[i] = (struct ac_thread_pool){ 0 };
		}
	}
	err = ac_events_decode(prog, &a.events);
	if (err)
		ac_program_note_error(prog, err, "QemuEvents");
	err = ac_nbd_clients_find(prog, &a.nbd);
	if (err)
		ac_program_note_error(prog, err, "NBD clients");
	err = ac_block_graph_decode(prog, &a.blocks);
	if (err == &ac_error_no_memory) {
		ac_analysis_deinit(&a);
		return err;
	}
	if (err)
		ac_program_note_error(prog, err, "block graph");
	err = ac_jobs_decode(prog, &a.jobs);
	if (err) {
		ac_analysis_deinit(&a);
		return err;
	}
	for (size_t t = 0; t < ac_target_thread_count(prog->target); t++) {
		struct ac_drain d;
		if (!ac_drain_find(prog, t, &d))
			continue;
		struct ac_drain *slot = ac_array_slot(a.drains, a.n_drains);
		if (!slot) {
			ac_analysis_deinit(&a);
			return &ac_error_no_memory;
		}
		*slot = d;
		a.n_drains++;
	}
	find_co_locks(prog, &a);
	err = ac_waits_build(prog, &a, &a.waits);
	if (err) {
		ac_analysis_deinit(&a);
		return err;
	}
	*ret = a;
	return NULL;
}

void ac_analysis_deinit(struct ac_analysis *a)
{
	for (size_t i = 0; i < a->contexts.n; i++) {
		if (a->bhs)
			ac_bh_list_deinit(&a->bhs[i]);
		if (a->pools)
			ac_thread_pool_deinit(&a->pools[i]);
	}
	free(a->bhs);
	free(a->pools);
	ac_event_list_deinit(&a->events);
	ac_nbd_client_list_deinit(&a->nbd);
	ac_co_lock_list_deinit(&a->co_locks);
	ac_waits_deinit(&a->waits);
	ac_block_graph_deinit(&a->blocks);
	ac_job_list_deinit(&a->jobs);
	free(a->drains);
	ac_context_list_deinit(&a->contexts);
	*a = (struct ac_analysis){ 0 };
}

/* A pool worker waits for work in one of these (≤7.0 / ≥7.1). */
static bool worker_is_idle(const struct ac_backtrace *bt, long worker_frame)
{
	static const char *const waits[] = {
		"qemu_sem_timedwait", "qemu_cond_timedwait", "qemu_cond_timedwait_impl",
		"qemu_sem_wait", "qemu_cond_wait", "qemu_cond_wait_impl",
	};
	for (size_t i = 0; i < sizeof(waits) / sizeof(waits[0]); i++) {
		long at = ac_backtrace_find_function(bt, waits[i]);
		if (at >= 0 && at < worker_frame)
			return true;
	}
	return false;
}

size_t ac_analysis_workers(struct ac_program *prog, size_t *n_idle)
{
	size_t n = 0;
	*n_idle = 0;
	for (size_t i = 0; i < ac_target_thread_count(prog->target); i++) {
		const struct ac_backtrace *bt = ac_program_backtrace(prog, i);
		long at = ac_backtrace_find_function(bt, "worker_thread");
		if (at < 0)
			continue;
		n++;
		if (worker_is_idle(bt, at))
			(*n_idle)++;
	}
	return n;
}

const char *ac_frame_text(struct ac_program *prog, size_t thread_index,
			  long frame, char *buf, size_t size)
{
	const struct ac_backtrace *bt = ac_program_backtrace(prog, thread_index);
	if (!bt || frame < 0 || (size_t)frame >= bt->n_frames) {
		snprintf(buf, size, "?");
		return buf;
	}
	const char *fn = bt->frames[frame].function;
	snprintf(buf, size, "#%ld %s", frame, fn ? fn : "??");
	return buf;
}
