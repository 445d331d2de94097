/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aio-context.h"
#include "block-node.h"
#include "co-lock.h"
#include "coroutine.h"
#include "coroutine-stack.h"
#include "target/target.h"
#include "util/util.h"
#include "dwarf/dwarf.h"
#include "job.h"
#include "nbd-client.h"
#include "thread-pool.h"
#include "tls.h"

/* A function of util/qemu-coroutine.c, whose CU has struct Coroutine. */
#define COROUTINE_HINT "qemu_coroutine_enter"
/* Functions of (util/)thread-pool.c and block/io.c (2.x). */
#define THREAD_POOL_HINT "thread_pool_completion_bh"
/* Longer than any coroutine list a healthy QEMU has. */
#define COROUTINE_WALK_MAX 10000
/* Coroutine.scheduled is a __func__ string. */
#define SCHEDULED_MAX 128

/* ---- the list ---------------------------------------------------------- */

static void append_text(char **text, const char *more)
{
	if (!more)
		return;
	if (!*text) {
		*text = strdup(more);
		return;
	}
	if (strstr(*text, more))
		return;
	char *joined;
	if (asprintf(&joined, "%s, %s", *text, more) >= 0) {
		free(*text);
		*text = joined;
	}
}

static void set_problem(struct ac_coroutine *co, const struct ac_error *err,
			const char *what)
{
	if (co->problem)
		return;
	if (asprintf(&co->problem, "%s: %s", what, err->message) < 0)
		co->problem = NULL;
}

static struct ac_coroutine *list_add(struct ac_coroutine_list *list,
				     uint64_t address, const char *source,
				     bool *is_new)
{
	*is_new = false;
	for (size_t i = 0; i < list->n; i++)
		if (list->items[i].address == address) {
			append_text(&list->items[i].source, source);
			return &list->items[i];
		}
	struct ac_coroutine *co = ac_array_slot(list->items, list->n);
	if (!co)
		return NULL;
	list->n++;
	co->address = address;
	append_text(&co->source, source);
	*is_new = true;
	return co;
}

/* Everything but the backtrace. */
static void decode_one(struct ac_program *prog, struct ac_coroutine *co)
{
	char buf[256];
	struct ac_object obj;
	struct ac_error *err = ac_object_at(prog, "Coroutine", COROUTINE_HINT,
					    co->address, &obj);
	if (!err)
		err = ac_object_member_uint(prog, &obj, "entry", &co->entry);
	if (!err)
		err = ac_object_member_uint(prog, &obj, "entry_arg", &co->entry_arg);
	if (!err)
		err = ac_object_member_uint(prog, &obj, "caller", &co->caller);
	if (err) {
		set_problem(co, err, "Coroutine");
		ac_program_note_error(prog, err, "Coroutine 0x%" PRIx64, co->address);
		return;
	}
	co->running = co->caller != 0;
	co->entry_name = strdup(ac_program_symbolize(prog, co->entry, buf, sizeof(buf)));

	/* 2.9+: ctx; 5.x+: scheduled.  Older layouts have neither. */
	err = ac_object_member_uint(prog, &obj, "ctx", &co->ctx);
	if (err && !ac_error_catch(&err, AC_ERR_LOOKUP))
		ac_program_note_error(prog, err, "Coroutine 0x%" PRIx64 ".ctx", co->address);
	uint64_t scheduled;
	err = ac_object_member_uint(prog, &obj, "scheduled", &scheduled);
	if (!err && scheduled) {
		err = ac_target_read_string(prog->target, scheduled, SCHEDULED_MAX,
					    &co->scheduled);
		if (err)
			ac_program_note_error(prog, err, "Coroutine 0x%" PRIx64 ".scheduled",
					      co->address);
	} else if (err && !ac_error_catch(&err, AC_ERR_LOOKUP)) {
		ac_program_note_error(prog, err, "Coroutine 0x%" PRIx64 ".scheduled",
				      co->address);
	}
}

/* Where env is: the backend's struct has the Coroutine as .base. */
static struct ac_error *env_address(struct ac_program *prog, uint64_t co_address,
				    uint64_t *ret)
{
	const struct ac_coroutine_backend *backend;
	struct ac_type type;
	struct ac_member base, env;
	struct ac_error *err = ac_coroutine_backend(prog, &backend, &type);
	if (!err)
		err = ac_dwarf_member(prog->dwarf, &type, "base", &base, NULL);
	if (!err)
		err = ac_dwarf_member(prog->dwarf, &type, "env", &env, NULL);
	if (err)
		return ac_error_prefix(err, "the coroutine backend");
	*ret = co_address - base.offset + env.offset;
	return NULL;
}

/*
 * sigaltstack: a coroutine's stack starts in the SIGUSR2 handler that
 * created it, coroutine_trampoline; the signal frame under it returned
 * long ago, so what the unwinder finds there is stale.  End the backtrace
 * at the handler, as ucontext's ends at its coroutine_trampoline.
 */
static void end_at_signal_trampoline(struct ac_program *prog, struct ac_backtrace *bt)
{
	const struct ac_coroutine_backend *backend;
	struct ac_type type;
	struct ac_error *err = ac_coroutine_backend(prog, &backend, &type);
	if (err) {
		ac_error_destroy(err);
		return;
	}
	if (!backend->signal_handler)
		return;
	long handler = ac_backtrace_find_function(bt, backend->signal_handler);
	if (handler >= 0)
		ac_backtrace_truncate(bt, (size_t)handler + 1);
}

struct guard_state {
	bool tried;
	struct ac_error *err;   /* why there is no guard */
	uint64_t guard;
	uint64_t tls_base;      /* of the thread the guard came from */
};

static void read_context(struct ac_program *prog, struct guard_state *gs,
			 struct ac_coroutine *co, bool backtraces)
{
	struct ac_error *err;
	if (!gs->tried) {
		gs->tried = true;
		const struct ac_thread *thread = NULL;
		for (size_t i = 0; i < ac_target_thread_count(prog->target); i++) {
			thread = ac_target_thread(prog->target, i);
			if (thread->tls_base)
				break;
		}
		gs->err = ac_jmpbuf_pointer_guard(prog->target, thread, &gs->guard);
		gs->tls_base = thread ? thread->tls_base : 0;
		if (gs->err)
			ac_program_note(prog, "coroutine contexts cannot be read: %s",
					gs->err->message);
	}
	if (gs->err) {
		set_problem(co, gs->err, "saved context");
		return;
	}
	uint64_t env = 0;
	err = env_address(prog, co->address, &env);
	if (!err)
		err = ac_jmpbuf_read(prog->target, env, gs->guard, gs->tls_base,
				     &co->saved_regs);
	if (err) {
		set_problem(co, err, "saved context");
		ac_program_note_error(prog, err, "Coroutine 0x%" PRIx64 ": saved context",
				      co->address);
		return;
	}
	co->has_context = true;
	if (!backtraces)
		return;
	enum ac_arch arch = ac_target_arch(prog->target);
	uint64_t sp = ac_registers_sp(arch, &co->saved_regs);
	uint64_t pc = ac_registers_pc(arch, &co->saved_regs);
	uint8_t byte;
	/* A wrong guard or a reused env gives garbage: say so, still try. */
	if ((err = ac_target_read_u8(prog->target, sp, &byte))) {
		ac_program_note_error(prog, err,
				      "Coroutine 0x%" PRIx64 ": saved sp 0x%" PRIx64
				      " (pc 0x%" PRIx64 ") is not readable stack",
				      co->address, sp, pc);
	}
	err = ac_backtrace_registers(prog->target, &co->saved_regs, &co->bt);
	if (err) {
		set_problem(co, err, "backtrace");
		ac_program_note_error(prog, err, "Coroutine 0x%" PRIx64 ": backtrace",
				      co->address);
		return;
	}
	end_at_signal_trampoline(prog, co->bt);
}

/*
 * The thread's current coroutine from its thread-local: 0 for its own stack
 * (the leader: no entry, nobody called it).
 * false if it cannot be read (noted).
 */
static bool read_current(struct ac_program *prog, const struct ac_thread *thread, const struct ac_tls_variable *tls,
			uint64_t *ret)
{
	uint64_t var, address;
	const char *var_name = tls->name;
	struct ac_error *err = ac_tls_variable_at(prog, tls, thread, &var);
	if (!err)
		err = ac_target_read_pointer(prog->target, var, &address);
	if (err) {
		ac_program_note_error(prog, err, "thread %d: thread-local %s", thread->tid,
				      var_name);
		return false;
	}
	*ret = 0;
	if (!address)
		return true;
	struct ac_object obj;
	uint64_t entry = 0, caller = 0;
	err = ac_object_at(prog, "Coroutine", COROUTINE_HINT, address, &obj);
	if (!err)
		err = ac_object_member_uint(prog, &obj, "entry", &entry);
	if (!err)
		err = ac_object_member_uint(prog, &obj, "caller", &caller);
	if (err) {
		ac_program_note_error(prog, err, "thread %d: current coroutine 0x%" PRIx64,
				      thread->tid, address);
		return false;
	}
	if (!entry && !caller)
		return true;
	*ret = address;
	return true;
}

static void mark_current(struct ac_coroutine_list *list, uint64_t address, pid_t tid)
{
	char source[64];
	snprintf(source, sizeof(source), "current in thread %d", tid);
	bool is_new;
	struct ac_coroutine *co = list_add(list, address, source, &is_new);
	if (co)
		co->current_in_tid = tid;
}

/* 7.2+ wraps it in QEMU_DEFINE_STATIC_CO_TLS. */
static bool current_variable(struct ac_program *prog, struct ac_tls_variable *ret)
{
	static const char *const names[] = { "co_tls_current", "current" };
	struct ac_error *err = ac_tls_variable_find(prog, names, 2, ret);
	bool found = !err;
	ac_error_destroy(err);
	return found;
}

/* Each listed coroutine's stack, read once for all threads (size 0: none). */
struct stack_cache {
	struct ac_coroutine_stack *stacks;
	size_t n;
};

static const struct ac_coroutine_stack *cached_stack(struct ac_program *prog,
						     struct stack_cache *cache,
						     const struct ac_coroutine_list *list,
						     size_t i)
{
	if (i >= cache->n) {
		/* Catches up with the whole list at once: an exact size, not a push. */
		struct ac_coroutine_stack *grown = realloc(cache->stacks,
							   list->n * sizeof(*grown));
		if (!grown)
			return NULL;
		for (size_t j = cache->n; j < list->n; j++) {
			struct ac_error *err = ac_coroutine_stack_of(prog, list->items[j].address,
								     &grown[j]);
			/* An unreadable coroutine is noted where it is decoded. */
			if (err) {
				ac_error_destroy(err);
				grown[j] = (struct ac_coroutine_stack){ 0, 0 };
			}
		}
		cache->stacks = grown;
		cache->n = list->n;
	}
	return cache->stacks[i].size ? &cache->stacks[i] : NULL;
}

/* Index of the listed coroutine whose stack holds sp, or -1. */
static long stack_owner(struct ac_program *prog, struct stack_cache *cache,
			const struct ac_coroutine_list *list, uint64_t sp)
{
	for (size_t i = 0; i < list->n; i++) {
		const struct ac_coroutine_stack *stack = cached_stack(prog, cache, list, i);
		if (stack && ac_coroutine_stack_contains(stack, sp))
			return (long)i;
	}
	return -1;
}

/*
 * A thread whose `current` is not known (QEMU 2.1's pthread-specific data,
 * no thread pointer): the coroutine whose stack holds its sp, else the one
 * its coroutine_trampoline frame names.
 */
static void current_by_stack(struct ac_program *prog, struct stack_cache *cache,
			     struct ac_coroutine_list *list, size_t index)
{
	const struct ac_thread *t = ac_target_thread(prog->target, index);
	uint64_t sp = ac_registers_sp(ac_target_arch(prog->target), t);
	long owner = stack_owner(prog, cache, list, sp);
	if (owner >= 0) {
		mark_current(list, list->items[owner].address, t->tid);
		return;
	}
	uint64_t address;
	struct ac_error *err = ac_coroutine_from_trampoline(prog, index, &address);
	if (err) {
		ac_program_note_error(prog, err, "thread %d runs a coroutine no seed "
				      "reaches, not shown", t->tid);
		return;
	}
	if (!address)
		return;
	mark_current(list, address, t->tid);
	owner = stack_owner(prog, cache, list, sp);
	if (owner < 0 || list->items[owner].address != address)
		ac_program_note(prog, "thread %d: coroutine_trampoline names coroutine 0x%" PRIx64
				", but sp 0x%" PRIx64 " is not on its stack", t->tid, address, sp);
}

/* `current` against the stack: a disagreement is worth a note, not more. */
static void check_current(struct ac_program *prog, struct stack_cache *cache,
			  const struct ac_coroutine_list *list, const struct ac_thread *t,
			  uint64_t current, const char *var_name)
{
	uint64_t sp = ac_registers_sp(ac_target_arch(prog->target), t);
	long owner = stack_owner(prog, cache, list, sp);
	if (owner >= 0 && list->items[owner].address != current) {
		ac_program_note(prog, "thread %d: sp 0x%" PRIx64 " is on coroutine 0x%" PRIx64
				"'s stack, but %s is 0x%" PRIx64, t->tid, sp,
				list->items[owner].address, var_name, current);
		return;
	}
	if (owner >= 0 || !current)
		return;
	for (size_t i = 0; i < list->n; i++) {
		const struct ac_coroutine_stack *stack;
		if (list->items[i].address != current ||
		    !(stack = cached_stack(prog, cache, list, i)))
			continue;   /* an unreadable current is noted where it is decoded */
		ac_program_note(prog, "thread %d: %s is coroutine 0x%" PRIx64 ", but sp 0x%"
				PRIx64 " is not on its stack [0x%" PRIx64 ", +%" PRIu64 ")",
				t->tid, var_name, current, sp, stack->base, stack->size);
	}
}

struct ac_error *ac_coroutines_decode(struct ac_program *prog,
				      const struct ac_coroutine_seed *seeds,
				      size_t n_seeds, bool backtraces,
				      struct ac_coroutine_list *ret)
{
	struct ac_coroutine_list list = { 0 };
	bool is_new;
	for (size_t i = 0; i < n_seeds; i++) {
		if (!seeds[i].address)
			continue;
		if (!list_add(&list, seeds[i].address, seeds[i].source, &is_new))
			goto no_memory;
	}
	size_t n_threads = ac_target_thread_count(prog->target);
	/* Per thread: 1 if `current` was read, its value in currents. */
	uint64_t *currents = calloc(n_threads ? n_threads : 1, sizeof(*currents));
	bool *known = calloc(n_threads ? n_threads : 1, sizeof(*known));
	if (!currents || !known) {
		free(currents);
		free(known);
		goto no_memory;
	}
	struct ac_tls_variable var;
	bool has_current = current_variable(prog, &var);
	size_t no_tp = 0;
	for (size_t i = 0; has_current && i < n_threads; i++) {
		const struct ac_thread *t = ac_target_thread(prog->target, i);
		if (!t->tls_base)
			no_tp++;
		else if ((known[i] = read_current(prog, t, &var, &currents[i])) &&
			 currents[i])
			mark_current(&list, currents[i], t->tid);
	}
	/* After every `current` is listed, so that each can be checked. */
	struct stack_cache cache = { 0 };
	for (size_t i = 0; i < n_threads; i++) {
		if (known[i])
			check_current(prog, &cache, &list, ac_target_thread(prog->target, i),
				      currents[i], var.name);
		else
			current_by_stack(prog, &cache, &list, i);
	}
	free(cache.stacks);
	free(currents);
	free(known);
	/* qemu-user cores, for one, carry no NT_ARM_TLS. */
	if (no_tp)
		ac_program_note(prog, "%zu thread%s without a known thread pointer: "
				"their current coroutine (%s) is found by stack pointer "
				"among the coroutines shown only", no_tp,
				no_tp == 1 ? "" : "s", var.name);

	struct guard_state gs = { 0 };
	for (size_t i = 0; i < list.n; i++) {
		struct ac_coroutine *co = &list.items[i];
		decode_one(prog, co);
		if (co->problem || co->running || co->current_in_tid)
			continue;
		read_context(prog, &gs, co, backtraces);
	}
	ac_error_destroy(gs.err);
	*ret = list;
	return NULL;
no_memory:
	ac_coroutine_list_deinit(&list);
	return &ac_error_no_memory;
}

void ac_coroutine_list_deinit(struct ac_coroutine_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		struct ac_coroutine *co = &list->items[i];
		free(co->source);
		free(co->entry_name);
		free(co->scheduled);
		free(co->problem);
		ac_backtrace_destroy(co->bt);
	}
	free(list->items);
	list->items = NULL;
	list->n = 0;
}

/* ---- seeds ------------------------------------------------------------- */

struct seed_list {
	struct ac_coroutine_seed *items;
	size_t n;
};

/* source: malloc'd, taken. */
static void seed_add_text(struct seed_list *seeds, uint64_t address, char *source)
{
	struct ac_coroutine_seed *slot = source ? ac_array_slot(seeds->items, seeds->n) : NULL;
	if (!slot) {
		free(source);
		return;
	}
	*slot = (struct ac_coroutine_seed){ address, source };
	seeds->n++;
}

static void seed_add(struct seed_list *seeds, uint64_t address, const char *fmt,
		     uint64_t what)
{
	char *source;
	if (asprintf(&source, fmt, what) < 0)
		source = NULL;
	seed_add_text(seeds, address, source);
}

static void collect_scheduled(struct ac_program *prog, const struct ac_object *ctx,
			      struct seed_list *seeds)
{
	uint64_t first;
	struct ac_error *err = ac_object_member_uint(prog, ctx, "scheduled_coroutines.slh_first",
						     &first);
	if (err) {
		/* Before 2.9 there is no such list. */
		if (!ac_error_catch(&err, AC_ERR_LOOKUP))
			ac_program_note_error(prog, err, "AioContext 0x%" PRIx64
					      ".scheduled_coroutines", ctx->address);
		return;
	}
	struct ac_walk walk;
	ac_walk_init(&walk, COROUTINE_WALK_MAX);
	for (uint64_t at = first; at;) {
		if (!ac_walk_step(&walk, at)) {
			ac_program_note(prog, "AioContext 0x%" PRIx64 ".scheduled_coroutines: %s at 0x%"
					PRIx64 "; the walk stopped there", ctx->address,
					walk.problem, at);
			return;
		}
		seed_add(seeds, at, "scheduled on ctx 0x%" PRIx64, ctx->address);
		struct ac_object co;
		uint64_t next;
		err = ac_object_at(prog, "Coroutine", COROUTINE_HINT, at, &co);
		if (!err)
			err = ac_object_member_uint(prog, &co, "co_scheduled_next.sle_next", &next);
		if (err) {
			ac_program_note_error(prog, err, "scheduled coroutine 0x%" PRIx64 ": next",
					      at);
			return;
		}
		at = next;
	}
}

/* The coroutine an element's completion will enter, 0 if none is known. */
static uint64_t element_coroutine(struct ac_program *prog, const struct ac_object *elem)
{
	uint64_t cb, opaque;
	struct ac_error *err = ac_object_member_uint(prog, elem, "common.cb", &cb);
	if (!err)
		err = ac_object_member_uint(prog, elem, "common.opaque", &opaque);
	if (err) {
		ac_program_note_error(prog, err, "ThreadPoolElement 0x%" PRIx64, elem->address);
		return 0;
	}
	const char *name;
	uint64_t offset;
	err = ac_program_symbol(prog, cb, &name, &offset);
	if (err || offset) {
		ac_error_destroy(err);
		return 0;
	}
	/* 5.x+ thread_pool_submit_co(); 2.x bdrv_co_io_em() (seed 003). */
	const char *type, *member, *hint;
	if (!strcmp(name, "thread_pool_co_cb")) {
		type = "ThreadPoolCo";
		member = "co";
		hint = "thread_pool_co_cb";
	} else if (!strcmp(name, "bdrv_co_io_em_complete")) {
		type = "CoroutineIOCompletion";
		member = "coroutine";
		hint = "bdrv_co_io_em_complete";
	} else {
		return 0;
	}
	struct ac_object rec;
	uint64_t co = 0;
	err = ac_object_at(prog, type, hint, opaque, &rec);
	if (!err)
		err = ac_object_member_uint(prog, &rec, member, &co);
	if (err) {
		ac_program_note_error(prog, err, "ThreadPoolElement 0x%" PRIx64 ": %s 0x%" PRIx64,
				      elem->address, type, opaque);
		return 0;
	}
	return co;
}

static void collect_pool(struct ac_program *prog, const struct ac_object *ctx,
			 struct seed_list *seeds)
{
	struct ac_object pool, elem;
	bool is_null;
	uint64_t pool_address;
	const char *type_name;
	struct ac_error *err = ac_object_member_uint(prog, ctx, "thread_pool", &pool_address);
	if (!err && !pool_address)
		return;
	if (!err)
		err = ac_thread_pool_object(prog, pool_address, &pool, &type_name);
	if (!err)
		err = ac_object_member_deref(prog, &pool, "head.lh_first", &elem, &is_null);
	if (err) {
		ac_program_note_error(prog, err, "AioContext 0x%" PRIx64 ": thread pool",
				      ctx->address);
		return;
	}
	struct ac_walk walk;
	ac_walk_init(&walk, AC_WALK_MAX);
	while (elem.address) {
		if (!ac_walk_step(&walk, elem.address)) {
			ac_program_note(prog, "ThreadPool 0x%" PRIx64 ".head: %s at 0x%" PRIx64
					"; the walk stopped there", pool.address, walk.problem,
					elem.address);
			return;
		}
		uint64_t co = element_coroutine(prog, &elem);
		if (co)
			seed_add(seeds, co, "waiting on ThreadPoolElement 0x%" PRIx64,
				 elem.address);
		struct ac_object next;
		err = ac_object_member_deref(prog, &elem, "all.le_next", &next, &is_null);
		if (err) {
			ac_program_note_error(prog, err, "ThreadPoolElement 0x%" PRIx64 ": next",
					      elem.address);
			return;
		}
		elem = next;
	}
}

/* NBD clients: each request's coroutine, 5.2's connection_co. */
static void collect_nbd(struct ac_program *prog, struct seed_list *seeds)
{
	struct ac_nbd_client_list clients;
	struct ac_error *err = ac_nbd_clients_find(prog, &clients);
	if (err) {
		ac_program_note_error(prog, err, "NBD clients");
		return;
	}
	for (size_t i = 0; i < clients.n; i++) {
		const struct ac_nbd_client *c = &clients.items[i];
		bool handles = c->slots && !strcmp(c->slots, "recv_coroutine");   /* 2.x */
		for (size_t r = 0; r < c->n_requests && handles; r++) {
			char *source;
			if (asprintf(&source, "waiting on NBD reply, recv_coroutine[%zu] of %s 0x%" PRIx64,
				     c->requests[r].index, c->state_type, c->state_address) < 0)
				source = NULL;
			seed_add_text(seeds, c->requests[r].coroutine, source);
		}
		for (size_t r = 0; r < c->n_requests && !handles; r++)
			seed_add(seeds, c->requests[r].coroutine,
				 "waiting on NBD reply, NBDClientRequest 0x%" PRIx64,
				 c->requests[r].address);
		if (c->connection_co)
			seed_add(seeds, c->connection_co,
				 "NBD connection_co of BDRVNBDState 0x%" PRIx64, c->state_address);
	}
	ac_nbd_client_list_deinit(&clients);
}

/* Tracked requests' coroutines (BdrvTrackedRequest.co), on every node. */
static void collect_tracked(struct ac_program *prog, struct seed_list *seeds)
{
	struct ac_block_graph graph;
	struct ac_error *err = ac_block_graph_decode(prog, &graph);
	if (err) {
		ac_program_note_error(prog, err, "block graph (tracked requests)");
		return;
	}
	for (size_t i = 0; i < graph.n_nodes; i++) {
		const struct ac_block_node *b = &graph.nodes[i];
		for (size_t r = 0; r < b->n_requests; r++) {
			const struct ac_tracked_request *t = &b->requests[r];
			char *source;
			if (!t->co || asprintf(&source, "tracked request 0x%" PRIx64 " (%s offset %"
					       PRId64 ", %" PRIu64 " bytes) on node %s",
					       t->address, t->type_name ? t->type_name : "?",
					       t->offset, t->bytes, b->label) < 0)
				continue;
			seed_add_text(seeds, t->co, source);
		}
	}
	ac_block_graph_deinit(&graph);
}

/* Jobs' coroutines (Job.co, 3.0+). */
static void collect_jobs(struct ac_program *prog, struct seed_list *seeds)
{
	struct ac_job_list jobs;
	struct ac_error *err = ac_jobs_decode(prog, &jobs);
	if (err) {
		ac_program_note_error(prog, err, "jobs (coroutines)");
		return;
	}
	for (size_t i = 0; i < jobs.n; i++) {
		struct ac_object job;
		uint64_t co = 0;
		char *source;
		err = ac_object_at(prog, "Job", "job_create", jobs.items[i].address, &job);
		if (!err)
			err = ac_object_member_uint(prog, &job, "co", &co);
		if (err) {
			ac_program_note_error(prog, err, "Job 0x%" PRIx64 ".co", jobs.items[i].address);
			continue;
		}
		if (co && asprintf(&source, "coroutine of job \"%s\" (Job 0x%" PRIx64 ")",
				   jobs.items[i].id, jobs.items[i].address) >= 0)
			seed_add_text(seeds, co, source);
	}
	ac_job_list_deinit(&jobs);
}

/* CoMutex holders and waiters, CoQueue waiters (co-lock.h). */
static void collect_locks(struct ac_program *prog, struct seed_list *seeds)
{
	uint64_t *known = calloc(seeds->n ? seeds->n : 1, sizeof(*known));
	if (!known)
		return;
	for (size_t i = 0; i < seeds->n; i++)
		known[i] = seeds->items[i].address;
	struct ac_co_lock_list locks;
	struct ac_error *err = ac_co_locks_find(prog, known, seeds->n, &locks);
	free(known);
	if (err) {
		ac_program_note_error(prog, err, "coroutine locks");
		return;
	}
	for (size_t i = 0; i < locks.n; i++) {
		const struct ac_co_lock *l = &locks.items[i];
		const char *type = l->kind == AC_CO_MUTEX ? "CoMutex" : "CoQueue";
		char *source;
		if (l->holder && asprintf(&source, "holds %s 0x%" PRIx64 " (%s)", type,
					  l->address, l->name) >= 0)
			seed_add_text(seeds, l->holder, source);
		for (size_t w = 0; w < l->n_waiters; w++)
			if (asprintf(&source, "waits for %s 0x%" PRIx64 " (%s)", type,
				     l->address, l->name) >= 0)
				seed_add_text(seeds, l->waiters[w], source);
	}
	ac_co_lock_list_deinit(&locks);
}

struct ac_error *ac_coroutine_seeds_collect(struct ac_program *prog,
					    struct ac_coroutine_seed **ret_seeds,
					    size_t *ret_n)
{
	struct seed_list seeds = { 0 };
	/* Every AioContext: IOThreads' coroutines are scheduled on theirs. */
	struct ac_context_list contexts;
	struct ac_error *err = ac_aio_contexts_find(prog, &contexts);
	if (err)
		return err;
	for (size_t i = 0; i < contexts.n; i++) {
		collect_scheduled(prog, &contexts.items[i].obj, &seeds);
		collect_pool(prog, &contexts.items[i].obj, &seeds);
	}
	ac_context_list_deinit(&contexts);
	collect_nbd(prog, &seeds);
	collect_tracked(prog, &seeds);
	collect_jobs(prog, &seeds);
	collect_locks(prog, &seeds);
	*ret_seeds = seeds.items;
	*ret_n = seeds.n;
	return NULL;
}

void ac_coroutine_seeds_free(struct ac_coroutine_seed *seeds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *)seeds[i].source);
	free(seeds);
}
