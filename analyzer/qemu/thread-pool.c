/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"
#include "dwarf/dwarf.h"
#include "posix-aio.h"
#include "thread-pool.h"

/* A function of util/thread-pool.c in every generation: its CU has the types. */
#define POOL_HINT "thread_pool_completion_bh"

/* The request's kind from func, and for read/write from arg's aio_type. */
static const char *request_kind(struct ac_program *prog, const char *func, uint64_t arg)
{
	static const struct { const char *func, *kind; } by_func[] = {
		{ "handle_aiocb_flush", "flush" },
		{ "handle_aiocb_ioctl", "ioctl" },
		{ "handle_aiocb_discard", "discard" },
		{ "handle_aiocb_write_zeroes", "write-zeroes" },
		{ "handle_aiocb_write_zeroes_unmap", "write-zeroes" },
		{ "handle_aiocb_copy_range", "copy-range" },
		{ "handle_aiocb_truncate", "truncate" },
	};
	if (!func)
		return "other";
	for (size_t i = 0; i < sizeof(by_func) / sizeof(by_func[0]); i++)
		if (!strcmp(func, by_func[i].func))
			return by_func[i].kind;
	if (strncmp(func, "handle_aiocb_rw", 15) && strcmp(func, "aio_worker"))
		return "other";
	struct ac_object aiocb;
	uint64_t type;
	struct ac_error *err = ac_object_at(prog, "RawPosixAIOData", func, arg, &aiocb);
	if (!err)
		err = ac_object_member_uint(prog, &aiocb, "aio_type", &type);
	if (err) {
		ac_error_destroy(err);
		return "read/write";
	}
	return ac_posix_aio_kind(type);
}

static char *symbol(struct ac_program *prog, uint64_t address)
{
	char buf[256];
	return strdup(ac_program_symbolize(prog, address, buf, sizeof(buf)));
}

/*
 * common.opaque -> the coroutine waiting: ThreadPoolCo (thread_pool_co_cb,
 * 2.9+) or CoroutineIOCompletion (bdrv_co_io_em_complete, 2.x).
 */
static void follow_to_coroutine(struct ac_program *prog, struct ac_pool_element *e)
{
	static const struct { const char *cb, *type, *member; } chains[] = {
		{ "thread_pool_co_cb", "ThreadPoolCo", "co" },
		{ "bdrv_co_io_em_complete", "CoroutineIOCompletion", "coroutine" },
	};
	if (!e->cb_name || !e->opaque)
		return;
	for (size_t i = 0; i < sizeof(chains) / sizeof(chains[0]); i++) {
		if (strcmp(e->cb_name, chains[i].cb))
			continue;
		struct ac_object holder, co;
		uint64_t co_address = 0;
		struct ac_error *err = ac_object_at(prog, chains[i].type, chains[i].cb,
						    e->opaque, &holder);
		if (!err)
			err = ac_object_member_uint(prog, &holder, chains[i].member, &co_address);
		/* Coroutine is opaque here: complete it from its own CU. */
		if (!err && co_address)
			err = ac_object_at(prog, "Coroutine", "qemu_coroutine_enter", co_address,
					   &co);
		if (!err && co_address) {
			e->coroutine = co.address;
			err = ac_object_member_uint(prog, &co, "entry", &e->co_entry);
			if (!err)
				e->co_entry_name = symbol(prog, e->co_entry);
		}
		if (err)
			ac_program_note_error(prog, err, "ThreadPoolElement 0x%" PRIx64
					      ": %s from common.opaque", e->address,
					      chains[i].type);
		else if (asprintf(&e->chain, "common.opaque -> %s.%s -> Coroutine",
				  chains[i].type, chains[i].member) < 0)
			e->chain = NULL;
		return;
	}
}

static struct ac_error *decode_element(struct ac_program *prog,
				       const struct ac_object *obj,
				       uint64_t aiocb_info,
				       struct ac_pool_element *e)
{
	struct ac_error *err;
	struct ac_object state;
	uint64_t info;
	e->address = obj->address;
	if ((err = ac_object_member(prog, obj, "state", &state, NULL)) ||
	    (err = ac_object_read_int(prog, &state, &e->state)) ||
	    (err = ac_object_member_int(prog, obj, "ret", &e->ret)) ||
	    (err = ac_object_member_uint(prog, obj, "func", &e->func)) ||
	    (err = ac_object_member_uint(prog, obj, "arg", &e->arg)) ||
	    (err = ac_object_member_uint(prog, obj, "common.cb", &e->cb)) ||
	    (err = ac_object_member_uint(prog, obj, "common.opaque", &e->opaque)) ||
	    (err = ac_object_member_uint(prog, obj, "common.aiocb_info", &info)))
		return err;
	e->state_name = ac_object_enum_name(prog, &state, e->state);
	/* A build without one of the enumerators leaves that state false. */
	static const char *const names[] = { "THREAD_DONE", "THREAD_ACTIVE", "THREAD_QUEUED" };
	bool *flags[] = { &e->done, &e->active, &e->queued };
	for (size_t i = 0; i < 3; i++) {
		int64_t value;
		struct ac_error *eerr = ac_dwarf_enumerator(prog->dwarf, NULL, names[i], POOL_HINT, &value);
		if (!eerr)
			*flags[i] = e->state == value;
		ac_error_destroy(eerr);
	}
	e->valid_aiocb_info = aiocb_info && info == aiocb_info;
	e->func_name = symbol(prog, e->func);
	e->cb_name = symbol(prog, e->cb);
	e->kind = request_kind(prog, e->func_name, e->arg);
	follow_to_coroutine(prog, e);
	return NULL;
}

static void read_counts(struct ac_program *prog, const struct ac_object *pool,
			struct ac_thread_pool *p)
{
	static const char *const names[] = {
		"cur_threads", "idle_threads", "new_threads", "pending_threads",
		"min_threads", "max_threads", "pending_cancellations",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		p->counts[i].name = names[i];
		struct ac_error *err = ac_object_member_int(prog, pool, names[i],
							    &p->counts[i].value);
		p->counts[i].has = !err;
		ac_error_destroy(err);
	}
}

/*
 * "ThreadPoolAio" or "ThreadPool": what AioContext.thread_pool points to.
 * Asking the pool's CU for a name it lacks would index every CU first.
 */
static const char *pool_type_name(struct ac_program *prog)
{
	struct ac_type ctx, pool;
	struct ac_member member;
	struct ac_error *err = ac_dwarf_find_type(prog->dwarf, "AioContext", "aio_context_new",
						  &ctx);
	if (!err)
		err = ac_dwarf_member(prog->dwarf, &ctx, "thread_pool", &member, NULL);
	if (!err)
		err = ac_type_target(&member.type, &pool);
	if (err) {
		ac_error_destroy(err);
		return NULL;
	}
	char *name = ac_type_name(&pool);
	const char *known = NULL;
	if (name && !strcmp(name, "struct ThreadPoolAio"))
		known = "ThreadPoolAio";
	else if (name && !strcmp(name, "struct ThreadPool"))
		known = "ThreadPool";
	free(name);
	return known;
}

struct ac_error *ac_thread_pool_object(struct ac_program *prog, uint64_t address,
				       struct ac_object *ret, const char **type_name)
{
	*type_name = pool_type_name(prog);
	if (*type_name)
		return ac_object_at(prog, *type_name, POOL_HINT, address, ret);
	/* 10.0 renamed the AIO pool; its old name now means another pool. */
	*type_name = "ThreadPoolAio";
	struct ac_error *err = ac_object_at(prog, *type_name, POOL_HINT, address, ret);
	if (err && err->code == AC_ERR_LOOKUP) {
		ac_error_destroy(err);
		*type_name = "ThreadPool";
		err = ac_object_at(prog, *type_name, POOL_HINT, address, ret);
	}
	return err;
}

struct ac_error *ac_thread_pool_decode(struct ac_program *prog, uint64_t address,
				       struct ac_thread_pool *ret)
{
	struct ac_thread_pool p = { .address = address };
	struct ac_object pool;
	struct ac_error *err = ac_thread_pool_object(prog, address, &pool, &p.type_name);
	const char *element_type = strcmp(p.type_name, "ThreadPoolAio")
					   ? "ThreadPoolElement" : "ThreadPoolElementAio";
	uint64_t first;
	if (!err)
		err = ac_object_member_uint(prog, &pool, "ctx", &p.ctx);
	if (!err)
		err = ac_object_member_uint(prog, &pool, "completion_bh", &p.completion_bh);
	if (!err)
		err = ac_object_member_uint(prog, &pool, "head.lh_first", &first);
	if (err)
		return ac_error_prefix(err, "%s 0x%" PRIx64, p.type_name, address);
	read_counts(prog, &pool, &p);

	uint64_t aiocb_info = 0;
	struct ac_variable info;
	struct ac_error *ierr = ac_dwarf_find_variable(prog->dwarf, "thread_pool_aiocb_info",
						       POOL_HINT, &info);
	if (!ierr)
		aiocb_info = info.address;
	ac_error_destroy(ierr);

	struct ac_walk walk;
	ac_walk_init(&walk, AC_WALK_MAX);
	for (uint64_t at = first; at;) {
		if (!ac_walk_step(&walk, at)) {
			ac_program_note(prog, "%s 0x%" PRIx64 ".head: %s at 0x%" PRIx64
					"; the walk stopped there", p.type_name, address,
					walk.problem, at);
			if (asprintf(&p.walk_problem, "head: %s at 0x%" PRIx64,
				     walk.problem, at) < 0)
				p.walk_problem = NULL;
			break;
		}
		struct ac_pool_element *e = ac_array_slot(p.elements, p.n_elements);
		if (!e)
			break;
		p.n_elements++;
		e->address = at;
		struct ac_object obj;
		uint64_t next = 0;
		err = ac_object_at(prog, element_type, POOL_HINT, at, &obj);
		if (!err)
			err = decode_element(prog, &obj, aiocb_info, e);
		if (!err)
			err = ac_object_member_uint(prog, &obj, "all.le_next", &next);
		if (err) {
			if (asprintf(&e->problem, "<unreadable: %s>", err->message) < 0)
				e->problem = NULL;
			ac_program_note_error(prog, err, "%s 0x%" PRIx64, element_type, at);
			break;
		}
		at = next;
	}
	*ret = p;
	return NULL;
}

void ac_thread_pool_deinit(struct ac_thread_pool *pool)
{
	for (size_t i = 0; i < pool->n_elements; i++) {
		struct ac_pool_element *e = &pool->elements[i];
		free(e->func_name);
		free(e->cb_name);
		free(e->co_entry_name);
		free(e->chain);
		free(e->problem);
	}
	free(pool->elements);
	free(pool->walk_problem);
	*pool = (struct ac_thread_pool){ 0 };
}
