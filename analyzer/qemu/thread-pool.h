/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Thread pools (util/thread-pool.c): ThreadPool and ThreadPoolElement up to
 * 9.x, ThreadPoolAio and ThreadPoolElementAio from 10.0 (where another,
 * unrelated struct ThreadPool exists).  Every request is on pool->head; each
 * is followed from its completion callback's opaque to the coroutine that
 * waits for it, as seed 003's manual gdb walk does.
 */
#ifndef AIOCORE_THREAD_POOL_H
#define AIOCORE_THREAD_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "dwarf/dwarf.h"

struct ac_pool_element {
	uint64_t address;
	int64_t state;
	const char *state_name;  /* enumerator name from DWARF, or NULL */
	bool done, active, queued;
	int64_t ret;
	uint64_t func;
	char *func_name;
	const char *kind;        /* "flush", "read", "write", ..., or "other" */
	uint64_t arg;
	uint64_t cb;
	char *cb_name;
	uint64_t opaque;
	bool valid_aiocb_info;   /* common.aiocb_info == &thread_pool_aiocb_info */
	uint64_t coroutine;      /* waiting coroutine, 0 if none found */
	uint64_t co_entry;
	char *co_entry_name;
	char *chain;             /* how the coroutine was reached */
	char *problem;
};

struct ac_thread_pool {
	uint64_t address;
	const char *type_name;   /* "ThreadPool" or "ThreadPoolAio" */
	uint64_t ctx;
	uint64_t completion_bh;
	struct {
		const char *name;
		bool has;
		int64_t value;
	} counts[7];              /* cur/idle/new/pending/min/max threads, ... */
	struct ac_pool_element *elements;
	size_t n_elements;
	char *walk_problem;
};

struct ac_error *ac_thread_pool_decode(struct ac_program *prog, uint64_t address,
				       struct ac_thread_pool *ret);
/*
 * The pool at address as an object of its generation's type (*type_name),
 * completed from the pool's own CU: cheap enough for validating candidates.
 */
struct ac_error *ac_thread_pool_object(struct ac_program *prog, uint64_t address,
				       struct ac_object *ret, const char **type_name);
void ac_thread_pool_deinit(struct ac_thread_pool *pool);

#endif
