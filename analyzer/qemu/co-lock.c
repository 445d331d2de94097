/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"
#include "block-node.h"
#include "co-lock.h"

#define LOCK_HINT "qemu_co_mutex_lock"     /* util/qemu-coroutine-lock.c */
#define COROUTINE_HINT "qemu_coroutine_enter"
/* Rounds of "a lock names coroutines, their entry args name locks". */
#define EXPAND_ROUNDS 4
/* Locks kept: far more than a process has in use at once. */
#define MAX_LOCKS 1024
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Where block drivers keep coroutine locks in their state (bs->opaque). */
static const struct driver_lock {
	const char *format_name, *type, *hint, *member;
	enum ac_co_lock_kind kind;
} driver_locks[] = {
	/* qcow2's state was BDRVQcowState, like qcow's, before 2.4. */
	{ "qcow2", "BDRVQcow2State|BDRVQcowState", "qcow2_open", "lock", AC_CO_MUTEX },
	{ "qcow2", "BDRVQcow2State|BDRVQcowState", "qcow2_open", "compress_wait_queue",
	  AC_CO_QUEUE },
	{ "qed", "BDRVQEDState", "bdrv_qed_open", "table_lock", AC_CO_MUTEX },
	{ "nbd", "BDRVNBDState", "nbd_client_co_preadv", "send_mutex|client.send_mutex",
	  AC_CO_MUTEX },
	{ "nbd", "BDRVNBDState", "nbd_client_co_preadv", "receive_mutex", AC_CO_MUTEX },
	{ "nbd", "BDRVNBDState", "nbd_client_co_preadv", "free_sema|client.free_sema",
	  AC_CO_QUEUE },
};

/* Coroutine entries whose argument holds a lock the coroutines share. */
static const struct entry_lock {
	const char *entry, *type, *hint, *member;
} entry_locks[] = {
	{ "convert_co_do_copy", "ImgConvertState", "img_convert", "lock" },
};

static void set_problem(struct ac_co_lock *lock, const char *fmt, uint64_t at,
			const char *why)
{
	if (!lock->problem && asprintf(&lock->problem, fmt, why, at) < 0)
		lock->problem = NULL;
}

static bool add_waiter(struct ac_co_lock *lock, uint64_t co)
{
	if (lock->n_waiters >= AC_CO_LOCK_MAX_WAITERS) {
		set_problem(lock, "%s: cut at %" PRIu64, AC_CO_LOCK_MAX_WAITERS,
			    "more waiters than a lock has");
		return false;
	}
	uint64_t *slot = ac_array_slot(lock->waiters, lock->n_waiters);
	if (!slot)
		return false;
	*slot = co;
	lock->n_waiters++;
	return true;
}

/* CoQueue.entries: Coroutines through co_queue_next. */
static struct ac_error *queue_waiters(struct ac_program *prog, const struct ac_object *queue,
				      struct ac_co_lock *lock)
{
	uint64_t at;
	struct ac_error *err = ac_object_member_uint(prog, queue,
						     "entries.sqh_first|entries.tqh_first", &at);
	if (err)
		return err;
	struct ac_walk walk;
	ac_walk_init(&walk, AC_CO_LOCK_MAX_WAITERS);
	for (; at;) {
		if (!ac_walk_step(&walk, at)) {
			set_problem(lock, "waiter list: %s at 0x%" PRIx64, at, walk.problem);
			break;
		}
		struct ac_object co;
		err = ac_object_at(prog, "Coroutine", COROUTINE_HINT, at, &co);
		if (!err)
			err = ac_object_member_uint(prog, &co,
						    "co_queue_next.sqe_next|co_queue_next.tqe_next",
						    &at);
		if (err) {
			set_problem(lock, "waiter list: %s at 0x%" PRIx64, at, err->message);
			ac_error_destroy(err);
			break;
		}
		if (!add_waiter(lock, co.address))
			break;
	}
	return NULL;
}

/* 2.9+: a QSLIST of CoWaitRecord { co, next }. */
static void record_waiters(struct ac_program *prog, const struct ac_object *mutex,
			   const char *list, struct ac_co_lock *lock, struct ac_walk *walk)
{
	char path[64];
	uint64_t at;
	snprintf(path, sizeof(path), "%s.slh_first", list);
	struct ac_error *err = ac_object_member_uint(prog, mutex, path, &at);
	if (err) {
		set_problem(lock, "%s: CoMutex 0x%" PRIx64, mutex->address, err->message);
		ac_error_destroy(err);
		return;
	}
	size_t first = lock->n_waiters;
	for (; at;) {
		if (!ac_walk_step(walk, at)) {
			set_problem(lock, "waiter list: %s at 0x%" PRIx64, at, walk->problem);
			break;
		}
		struct ac_object rec;
		uint64_t co = 0;
		err = ac_object_at(prog, "CoWaitRecord", LOCK_HINT, at, &rec);
		if (!err)
			err = ac_object_member_uint(prog, &rec, "co", &co);
		if (!err)
			err = ac_object_member_uint(prog, &rec, "next.sle_next", &at);
		if (err) {
			set_problem(lock, "waiter list: %s at 0x%" PRIx64, at, err->message);
			ac_error_destroy(err);
			break;
		}
		if (co && !add_waiter(lock, co))
			break;
	}
	/* from_push is newest first: the oldest waiter wakes first. */
	if (!strcmp(list, "from_push"))
		for (size_t i = first, j = lock->n_waiters; i + 1 < j; i++, j--) {
			uint64_t t = lock->waiters[i];
			lock->waiters[i] = lock->waiters[j - 1];
			lock->waiters[j - 1] = t;
		}
}

struct ac_error *ac_co_lock_decode(struct ac_program *prog, enum ac_co_lock_kind kind,
				   uint64_t address, const char *name, struct ac_co_lock *ret)
{
	struct ac_co_lock lock = { .kind = kind, .address = address };
	struct ac_object obj, queue;
	struct ac_error *err = ac_object_at(prog, kind == AC_CO_MUTEX ? "CoMutex" : "CoQueue",
					    LOCK_HINT, address, &obj);
	if (err)
		return err;
	if (kind == AC_CO_QUEUE) {
		err = queue_waiters(prog, &obj, &lock);
	} else {
		uint64_t locked = 0;
		err = ac_object_member_uint(prog, &obj, "locked", &locked);
		lock.locked = locked != 0;
		/* 2.1-2.4 record no holder. */
		struct ac_error *e2 = err ? NULL
				      : ac_object_member_uint(prog, &obj, "holder", &lock.holder);
		lock.has_holder = !err && !e2;
		if (e2 && !ac_error_catch(&e2, AC_ERR_LOOKUP))
			err = e2;
		if (!err && ac_object_has_member(prog, &obj, "from_push")) {
			struct ac_walk walk;
			ac_walk_init(&walk, AC_CO_LOCK_MAX_WAITERS);
			record_waiters(prog, &obj, "to_pop", &lock, &walk);
			record_waiters(prog, &obj, "from_push", &lock, &walk);
		} else if (!err) {
			err = ac_object_member(prog, &obj, "queue", &queue, NULL);
			if (!err)
				err = queue_waiters(prog, &queue, &lock);
		}
	}
	if (err) {
		ac_co_lock_deinit(&lock);
		return ac_error_prefix(err, "%s 0x%" PRIx64,
				       kind == AC_CO_MUTEX ? "CoMutex" : "CoQueue", address);
	}
	lock.name = strdup(name ? name : "");
	*ret = lock;
	return NULL;
}

void ac_co_lock_deinit(struct ac_co_lock *lock)
{
	free(lock->name);
	free(lock->waiters);
	free(lock->problem);
	*lock = (struct ac_co_lock){ 0 };
}

void ac_co_lock_list_deinit(struct ac_co_lock_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		ac_co_lock_deinit(&list->items[i]);
	free(list->items);
	*list = (struct ac_co_lock_list){ 0 };
}

const struct ac_co_lock *ac_co_lock_waited_by(const struct ac_co_lock_list *list, uint64_t co)
{
	for (size_t i = 0; co && i < list->n; i++)
		for (size_t w = 0; w < list->items[i].n_waiters; w++)
			if (list->items[i].waiters[w] == co)
				return &list->items[i];
	return NULL;
}

/* ---- finding them ------------------------------------------------------ */

struct finder {
	struct ac_program *prog;
	struct ac_co_lock_list list;
	bool cut;
	bool no_memory;
};

static bool known(const struct finder *f, uint64_t address)
{
	for (size_t i = 0; i < f->list.n; i++)
		if (f->list.items[i].address == address)
			return true;
	return false;
}

/* Decode and keep the lock at address if something holds or waits on it. */
static void consider(struct finder *f, enum ac_co_lock_kind kind, uint64_t address,
		     const char *name)
{
	if (!address || known(f, address))
		return;
	if (f->list.n >= MAX_LOCKS) {
		f->cut = true;
		return;
	}
	struct ac_co_lock lock;
	struct ac_error *err = ac_co_lock_decode(f->prog, kind, address, name, &lock);
	if (err) {
		ac_program_note_error(f->prog, err, "%s", name);
		return;
	}
	if (lock.problem)
		ac_program_note(f->prog, "%s 0x%" PRIx64 " (%s): %s",
				kind == AC_CO_MUTEX ? "CoMutex" : "CoQueue", address, name,
				lock.problem);
	if (!lock.holder && !lock.n_waiters) {
		ac_co_lock_deinit(&lock);
		return;
	}
	struct ac_co_lock *slot = ac_array_slot(f->list.items, f->list.n);
	if (!slot) {
		f->no_memory = true;
		ac_co_lock_deinit(&lock);
		return;
	}
	*slot = lock;
	f->list.n++;
}

/* A member of the object at address (type from hint's CU), by '|' path. */
static uint64_t member_address(struct ac_program *prog, const char *type, const char *hint,
			       uint64_t address, const char *path)
{
	struct ac_object obj, member;
	struct ac_error *err = ac_object_at(prog, type, hint, address, &obj);
	if (!err)
		err = ac_object_member(prog, &obj, path, &member, NULL);
	if (err) {
		/* A member this generation lacks is not a problem. */
		if (!ac_error_catch(&err, AC_ERR_LOOKUP))
			ac_program_note_error(prog, err, "%s 0x%" PRIx64 ".%s", type, address,
					      path);
		return 0;
	}
	return member.address;
}

/*
 * member_address() of the first of type's '|' alternatives the hint's CU
 * has; its name into found.  0 when none has the member.
 */
static uint64_t state_member_address(struct ac_program *prog, const char *types,
				     const char *hint, uint64_t address, const char *path,
				     char *found, size_t size)
{
	for (const char *t = types; *t;) {
		const char *bar = strchr(t, '|');
		size_t len = bar ? (size_t)(bar - t) : strlen(t);
		snprintf(found, size, "%.*s", (int)len, t);
		struct ac_object obj;
		struct ac_error *err = ac_object_at(prog, found, hint, address, &obj);
		if (!err || !ac_error_catch(&err, AC_ERR_LOOKUP) || !bar) {
			ac_error_destroy(err);
			return member_address(prog, found, hint, address, path);
		}
		t = bar + 1;
	}
	return 0;
}

static void from_block_nodes(struct finder *f)
{
	struct ac_block_graph graph;
	struct ac_error *err = ac_block_graph_decode(f->prog, &graph);
	if (err) {
		ac_program_note_error(f->prog, err, "block graph (coroutine locks)");
		return;
	}
	char name[512];
	for (size_t i = 0; i < graph.n_nodes; i++) {
		const struct ac_block_node *b = &graph.nodes[i];
		uint64_t opaque = 0;
		struct ac_object bs;
		err = ac_object_at(f->prog, "BlockDriverState", "bdrv_new", b->address, &bs);
		if (!err)
			err = ac_object_member_uint(f->prog, &bs, "opaque", &opaque);
		if (err) {
			ac_program_note_error(f->prog, err, "BlockDriverState 0x%" PRIx64, b->address);
			continue;
		}
		for (size_t k = 0; opaque && b->driver && k < N_OF(driver_locks); k++) {
			const struct driver_lock *d = &driver_locks[k];
			if (strcmp(d->format_name, b->driver))
				continue;
			char type[64];
			uint64_t at = state_member_address(f->prog, d->type, d->hint, opaque,
							   d->member, type, sizeof(type));
			const char *bar = strchr(d->member, '|');
			snprintf(name, sizeof(name), "%s.%.*s of node %s", type,
				 bar ? (int)(bar - d->member) : (int)strlen(d->member), d->member,
				 b->label);
			consider(f, d->kind, at, name);
		}
		snprintf(name, sizeof(name), "flush_queue of node %s", b->label);
		consider(f, AC_CO_QUEUE, member_address(f->prog, "BlockDriverState", "bdrv_new",
							b->address, "flush_queue"), name);
		for (size_t r = 0; r < b->n_requests; r++) {
			snprintf(name, sizeof(name), "wait_queue of tracked request 0x%" PRIx64
				 " on node %s", b->requests[r].address, b->label);
			consider(f, AC_CO_QUEUE,
				 member_address(f->prog, "BdrvTrackedRequest", "bdrv_new",
						b->requests[r].address, "wait_queue"), name);
		}
	}
	ac_block_graph_deinit(&graph);
}

/* The locks a coroutine's entry argument holds (entry_locks). */
static void from_coroutine(struct finder *f, uint64_t address)
{
	struct ac_object co;
	uint64_t entry = 0, arg = 0;
	struct ac_error *err = ac_object_at(f->prog, "Coroutine", COROUTINE_HINT, address, &co);
	if (!err)
		err = ac_object_member_uint(f->prog, &co, "entry", &entry);
	if (!err)
		err = ac_object_member_uint(f->prog, &co, "entry_arg", &arg);
	if (err) {
		ac_program_note_error(f->prog, err, "Coroutine 0x%" PRIx64, address);
		return;
	}
	const char *sym;
	uint64_t offset;
	err = ac_program_symbol(f->prog, entry, &sym, &offset);
	if (err || offset || !arg) {
		ac_error_destroy(err);
		return;
	}
	char name[256];
	for (size_t k = 0; k < N_OF(entry_locks); k++) {
		const struct entry_lock *e = &entry_locks[k];
		if (strcmp(e->entry, sym))
			continue;
		snprintf(name, sizeof(name), "%s.%s (%s's argument)", e->type, e->member, e->entry);
		consider(f, AC_CO_MUTEX, member_address(f->prog, e->type, e->hint, arg, e->member),
			 name);
	}
}

struct ac_error *ac_co_locks_find(struct ac_program *prog, const uint64_t *coroutines,
				  size_t n_coroutines, struct ac_co_lock_list *ret)
{
	struct finder f = { .prog = prog };
	uint64_t *cos = NULL;
	size_t n_cos = 0;
	for (size_t i = 0; i < n_coroutines; i++) {
		uint64_t *slot = ac_array_slot(cos, n_cos);
		if (!slot)
			goto no_memory;
		*slot = coroutines[i];
		n_cos++;
	}
	from_block_nodes(&f);
	/* Each round looks at coroutines not looked at yet: holders, waiters. */
	size_t done = 0, locks_done = 0;
	for (int round = 0; round < EXPAND_ROUNDS && !f.no_memory; round++) {
		for (; done < n_cos; done++)
			if (cos[done])
				from_coroutine(&f, cos[done]);
		for (; locks_done < f.list.n; locks_done++) {
			const struct ac_co_lock *l = &f.list.items[locks_done];
			for (size_t w = 0; w <= l->n_waiters; w++) {
				uint64_t co = w < l->n_waiters ? l->waiters[w] : l->holder;
				bool seen = !co;
				for (size_t k = 0; !seen && k < n_cos; k++)
					seen = cos[k] == co;
				uint64_t *slot = seen ? NULL : ac_array_slot(cos, n_cos);
				if (slot) {
					*slot = co;
					n_cos++;
				}
			}
		}
		if (done == n_cos)
			break;
	}
	free(cos);
	if (f.no_memory) {
		ac_co_lock_list_deinit(&f.list);
		return &ac_error_no_memory;
	}
	if (f.cut)
		ac_program_note(prog, "coroutine locks: cut at %d", MAX_LOCKS);
	*ret = f.list;
	return NULL;
no_memory:
	free(cos);
	return &ac_error_no_memory;
}
