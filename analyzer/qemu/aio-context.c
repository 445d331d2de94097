/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aio-context.h"
#include "dwarf/dwarf.h"
#include "thread-pool.h"
#include "tls.h"
#include "util/util.h"

/* Guest RAM is one huge mapping; AioContexts live in the heap. */
#define SCAN_MAX_REGION (256ULL << 20)
#define SCAN_MAX_TOTAL (2ULL << 30)
#define SCAN_CHUNK (1U << 20)
#define MAX_CONTEXTS 256
/* Longer than any block graph or backend list a QEMU has. */
#define MAX_LIST_WALK 10000

/* Where a thread that polls sleeps: libc's names, any of its aliases. */
static bool is_poll_function(const char *symbol)
{
	char name[128];
	if (!symbol)
		return false;
	ac_symbol_base_name(symbol, name, sizeof(name));
	return !strcmp(name, "ppoll") || !strcmp(name, "poll") ||
	       !strcmp(name, "epoll_wait") || !strcmp(name, "epoll_pwait") ||
	       !strcmp(name, "io_uring_enter") || !strcmp(name, "sys_io_uring_enter") ||
	       !strcmp(name, "qemu_poll_ns");
}

/* found_as is "way; way; ...": is this way already one of them? */
static bool has_way(const char *found_as, const char *way)
{
	size_t len = strlen(way);
	for (const char *at = found_as; at; at = strstr(at, "; ")) {
		if (at != found_as)
			at += 2;
		if (!strncmp(at, way, len) && (at[len] == '\0' || at[len] == ';'))
			return true;
	}
	return false;
}

/* A context found again is not added twice; its found_as lists each way. */
static struct ac_aio_context *add_context(struct ac_context_list *list,
					  uint64_t address, const char *found_as)
{
	for (size_t i = 0; i < list->n; i++) {
		struct ac_aio_context *ctx = &list->items[i];
		if (ctx->obj.address != address)
			continue;
		if (has_way(ctx->found_as, found_as))
			return ctx;
		char *more;
		if (asprintf(&more, "%s; %s", ctx->found_as, found_as) >= 0) {
			free(ctx->found_as);
			ctx->found_as = more;
		}
		return ctx;
	}
	if (list->n >= MAX_CONTEXTS)
		return NULL;
	struct ac_aio_context *ctx = ac_array_slot(list->items, list->n);
	if (!ctx)
		return NULL;
	list->n++;
	ctx->obj.address = address;
	ctx->found_as = strdup(found_as);
	ctx->anchor_frame = -1;
	return ctx;
}

/* A static AioContext pointer such as qemu_aio_context. */
static void add_static(struct ac_program *prog, struct ac_context_list *list,
		       const char *name, const char *hint, bool main)
{
	struct ac_object var, ctx;
	struct ac_error *err = ac_object_variable(prog, name, hint, &var);
	if (!err)
		err = ac_object_deref(prog, &var, &ctx);
	if (err) {
		if (err->code != AC_ERR_LOOKUP)
			ac_program_note_error(prog, err, "reading %s", name);
		else
			ac_error_destroy(err);
		return;
	}
	if (!ctx.address)
		return;
	struct ac_aio_context *c = add_context(list, ctx.address, name);
	if (!c)
		return;
	if (main)
		c->is_main = true;
	else
		c->is_iohandler = true;
}

static bool holds_a_stack(struct ac_program *prog, const struct ac_region *region)
{
	for (size_t i = 0; i < ac_target_thread_count(prog->target); i++) {
		const struct ac_thread *t = ac_target_thread(prog->target, i);
		uint64_t sp = t->n_gregs == 27 ? t->gregs[19] : t->gregs[31];
		if (sp >= region->start && sp - region->start < region->size)
			return true;
	}
	return false;
}

/*
 * A word equal to &aio_source_funcs is only a candidate: an AioContext also
 * has small eventfd numbers and, once it has a pool, pool->ctx pointing back.
 */
static bool plausible_context(struct ac_program *prog, const struct ac_type *type,
			      uint64_t address)
{
	struct ac_object ctx = { .address = address, .type = *type };
	uint64_t rfd, wfd, pool, back;
	struct ac_error *err = ac_object_member_uint(prog, &ctx, "notifier.rfd", &rfd);
	if (!err)
		err = ac_object_member_uint(prog, &ctx, "notifier.wfd", &wfd);
	if (err) {
		ac_error_destroy(err);
		return false;
	}
	if ((int32_t)rfd < 0 || rfd > (1 << 20) || (int32_t)wfd < 0 || wfd > (1 << 20))
		return false;
	err = ac_object_member_uint(prog, &ctx, "thread_pool", &pool);
	if (err || !pool) {
		ac_error_destroy(err);
		return true;
	}
	/* Not a deref of the member: AioContext's CU has the pool type opaque,
	 * and completing it by name alone indexes every CU of the executable. */
	struct ac_object p;
	const char *type_name;
	err = ac_thread_pool_object(prog, pool, &p, &type_name);
	if (!err)
		err = ac_object_member_uint(prog, &p, "ctx", &back);
	bool ok = !err && back == address;
	ac_error_destroy(err);
	return ok;
}

/*
 * Every GSource whose source_funcs is &aio_source_funcs is an AioContext.
 * Reads up to SCAN_MAX_TOTAL of the heap: only on request, or when no root
 * named any context.  Returns the bytes read.
 */
static uint64_t scan_memory(struct ac_program *prog, struct ac_context_list *list)
{
	struct ac_variable funcs;
	struct ac_type ctx_type;
	struct ac_member member;
	struct ac_error *err = ac_dwarf_find_variable(prog->dwarf, "aio_source_funcs",
						      "aio_context_new", &funcs);
	if (!err)
		err = ac_dwarf_find_type(prog->dwarf, "AioContext", "aio_context_new",
					 &ctx_type);
	if (!err)
		err = ac_dwarf_member(prog->dwarf, &ctx_type, "source.source_funcs",
				      &member, NULL);
	if (err) {
		ac_program_note_error(prog, err, "memory scan for AioContexts skipped");
		return 0;
	}
	/* A thread's stack can hold &aio_source_funcs in a local: skip stacks. */
	uint64_t *words = malloc(SCAN_CHUNK);
	if (!words)
		return 0;
	uint64_t scanned = 0;
	struct ac_region region;
	for (size_t r = 0; ac_target_region(prog->target, r, &region); r++) {
		if (!region.writable || region.size > SCAN_MAX_REGION ||
		    holds_a_stack(prog, &region))
			continue;
		if (scanned + region.size > SCAN_MAX_TOTAL) {
			ac_program_note(prog, "memory scan for AioContexts stopped after %" PRIu64
					" MiB", scanned >> 20);
			break;
		}
		scanned += region.size;
		for (uint64_t off = 0; off < region.size; off += SCAN_CHUNK) {
			size_t len = region.size - off < SCAN_CHUNK ? region.size - off
								    : SCAN_CHUNK;
			err = ac_target_read(prog->target, region.start + off, words, len);
			if (err) {
				ac_error_destroy(err);
				continue;
			}
			for (size_t i = 0; i < len / 8; i++) {
				if (words[i] != funcs.address)
					continue;
				uint64_t at = region.start + off + 8 * i;
				if (at >= member.offset &&
				    plausible_context(prog, &ctx_type, at - member.offset))
					add_context(list, at - member.offset, "memory scan");
			}
		}
	}
	free(words);
	return scanned;
}

/* Read a member into *value; a missing member only clears *has. */
static void read_optional(struct ac_program *prog, struct ac_aio_context *ctx,
			  const char *path, bool *has, uint64_t *value)
{
	struct ac_error *err = ac_object_member_uint(prog, &ctx->obj, path, value);
	*has = err == NULL;
	if (err && err->code != AC_ERR_LOOKUP)
		ac_program_note_error(prog, err, "AioContext 0x%" PRIx64 ".%s",
				      ctx->obj.address, path);
	else
		ac_error_destroy(err);
}

static void decode(struct ac_program *prog, struct ac_aio_context *ctx)
{
	uint64_t v;
	bool has;
	read_optional(prog, ctx, "notify_me", &ctx->has_notify_me, &v);
	ctx->notify_me = (uint32_t)v;
	read_optional(prog, ctx, "dispatching", &ctx->has_dispatching, &v);
	ctx->dispatching = v != 0;
	read_optional(prog, ctx, "notified", &ctx->has_notified, &v);
	ctx->notified = v != 0;
	read_optional(prog, ctx, "notifier.rfd", &has, &v);
	ctx->notifier_rfd = has ? (int)v : -1;
	read_optional(prog, ctx, "notifier.wfd", &has, &v);
	ctx->notifier_wfd = has ? (int)v : -1;
	read_optional(prog, ctx, "list_lock.count", &ctx->has_list_lock, &v);
	ctx->list_lock = (uint32_t)v;
	read_optional(prog, ctx, "external_disable_cnt", &ctx->has_external_disable_cnt, &v);
	ctx->external_disable_cnt = (int32_t)v;
	read_optional(prog, ctx, "thread_pool", &has, &v);
	ctx->thread_pool = has ? v : 0;
	read_optional(prog, ctx, "co_schedule_bh", &has, &v);
	ctx->co_schedule_bh = has ? v : 0;
	read_optional(prog, ctx, "scheduled_coroutines.slh_first", &has, &v);
	ctx->scheduled_coroutines = has ? v : 0;
}

static long first_anchor(const struct ac_backtrace *bt)
{
	long best = -1;
	static const char *const anchors[] = { "aio_poll", "main_loop_wait" };
	for (size_t i = 0; i < 2; i++) {
		long at = ac_backtrace_find_function(bt, anchors[i]);
		if (at >= 0 && (best < 0 || at < best))
			best = at;
	}
	return best;
}

static void describe_blocking(struct ac_aio_context *ctx, const struct ac_backtrace *bt)
{
	ctx->anchor_frame = first_anchor(bt);
	long last = ctx->anchor_frame >= 0 ? ctx->anchor_frame
			: (long)(bt->n_frames < 4 ? bt->n_frames : 4) - 1;
	size_t len = 0, cap = 256;
	char *text = malloc(cap);
	if (!text)
		return;
	text[0] = '\0';
	const char *prev = NULL;
	for (long i = 0; i <= last; i++) {
		const char *name = bt->frames[i].function ? bt->frames[i].function : "??";
		if (is_poll_function(name))
			ctx->sleeping_in_poll = true;
		if (prev && !strcmp(prev, name))
			continue;
		size_t need = strlen(name) + 5;
		if (len + need >= cap) {
			/* A text buffer, not an array of elements. */
			char *grown = realloc(text, cap = 2 * (len + need));
			if (!grown)
				break;
			text = grown;
		}
		len += sprintf(text + len, "%s%s", len ? " <- " : "", name);
		prev = name;
	}
	ctx->blocked_in = text;
	ctx->in_aio_poll = ctx->anchor_frame >= 0 &&
			   !strcmp(bt->frames[ctx->anchor_frame].function, "aio_poll");
}

static void set_home(struct ac_program *prog, struct ac_aio_context *ctx,
		     size_t index, const char *how)
{
	const struct ac_thread *t = ac_target_thread(prog->target, index);
	const struct ac_backtrace *bt = ac_program_backtrace(prog, index);
	ctx->home_tid = t->tid;
	ctx->home_thread_index = index;
	ctx->home_how = strdup(how);
	if (bt)
		describe_blocking(ctx, bt);
}

/*
 * Threads name contexts too: an IOThread's thread runs iothread_run(IOThread *)
 * and any poller's aio_poll(ctx) says which context it polls, and is its
 * home.  Each pointer is checked like a scan candidate, so a wild frame
 * value adds nothing.
 */
static void add_from_threads(struct ac_program *prog, const struct ac_type *type,
			     struct ac_context_list *list)
{
	static const char *const iothread_vars[] = { "iothread", "opaque" };
	for (size_t i = 0; i < ac_target_thread_count(prog->target); i++) {
		const struct ac_backtrace *bt = ac_program_backtrace(prog, i);
		long run = ac_backtrace_find_function(bt, "iothread_run");
		uint64_t address = 0, ctx_address = 0;
		char found_as[64];
		struct ac_error *err = NULL;
		for (size_t v = 0; run >= 0 && !address && v < 2; v++) {
			ac_error_destroy(err);
			err = ac_frame_variable_uint(prog, i, (size_t)run, iothread_vars[v],
						     &address);
		}
		if (run >= 0 && !err && address) {
			struct ac_object iothread;
			err = ac_object_at(prog, "IOThread", "iothread_run", address, &iothread);
			if (!err)
				err = ac_object_member_uint(prog, &iothread, "ctx", &ctx_address);
			if (!err && ctx_address && plausible_context(prog, type, ctx_address)) {
				snprintf(found_as, sizeof(found_as), "IOThread 0x%" PRIx64
					 " (iothread_run, thread %d)", address,
					 ac_target_thread(prog->target, i)->tid);
				struct ac_aio_context *c = add_context(list, ctx_address, found_as);
				if (c && !c->is_main && !c->is_iohandler) {
					c->is_iothread = true;
					c->iothread_index = i;
				}
			}
		}
		ac_error_destroy(err);
		long poll = ac_backtrace_find_function(bt, "aio_poll");
		if (poll < 0)
			continue;
		err = ac_frame_variable_uint(prog, i, (size_t)poll, "ctx", &ctx_address);
		if (!err && ctx_address && plausible_context(prog, type, ctx_address)) {
			snprintf(found_as, sizeof(found_as), "aio_poll(ctx) of thread %d",
				 ac_target_thread(prog->target, i)->tid);
			/* The best home: the thread polling it right now. */
			struct ac_aio_context *c = add_context(list, ctx_address, found_as);
			if (c && !c->home_tid)
				set_home(prog, c, i, "polls it: aio_poll(ctx)");
		}
		ac_error_destroy(err);
	}
}

/* A context pointer read from a root: checked like a scan candidate first. */
static struct ac_aio_context *add_checked(struct ac_program *prog, const struct ac_type *type,
					  struct ac_context_list *list, uint64_t address,
					  const char *found_as)
{
	if (!address)
		return NULL;
	if (!ac_context_list_find(list, address) && !plausible_context(prog, type, address))
		return NULL;
	return add_context(list, address, found_as);
}

/*
 * Each thread's current context, a thread-local: co_tls_my_aiocontext
 * (7.2+), my_aiocontext (the runtime), or my_iothread (2.8-7.1, an
 * IOThread whose ctx it is).  2.1 has none.
 */
static void add_from_tls(struct ac_program *prog, const struct ac_type *type,
			 struct ac_context_list *list)
{
	static const char *const names[] = { "co_tls_my_aiocontext", "my_aiocontext",
					     "my_iothread" };
	struct ac_tls_variable var;
	struct ac_error *err = ac_tls_variable_find(prog, names, 3, &var);
	if (ac_error_catch(&err, AC_ERR_LOOKUP))
		return;
	if (err) {
		ac_program_note_error(prog, err, "thread-local current AioContext");
		return;
	}
	bool via_iothread = !strcmp(var.name, "my_iothread");
	for (size_t i = 0; i < ac_target_thread_count(prog->target); i++) {
		const struct ac_thread *t = ac_target_thread(prog->target, i);
		uint64_t at, value = 0, ctx = 0;
		if (!t->tls_base)
			continue;
		err = ac_tls_variable_at(prog, &var, t, &at);
		if (!err)
			err = ac_target_read_pointer(prog->target, at, &value);
		if (!err && value && via_iothread) {
			struct ac_object iothread;
			err = ac_object_at(prog, "IOThread", "iothread_run", value, &iothread);
			if (!err)
				err = ac_object_member_uint(prog, &iothread, "ctx", &ctx);
		} else {
			ctx = value;
		}
		/* A thread whose TLS block is not in the core: nothing to add. */
		if (err) {
			ac_error_destroy(err);
			continue;
		}
		char found_as[64];
		snprintf(found_as, sizeof(found_as), "%s%s of thread %d", var.name,
			 via_iothread ? "->ctx" : "", t->tid);
		add_checked(prog, type, list, ctx, found_as);
	}
}

/* Pools point back at their context: worker_thread(opaque = the pool). */
static void add_from_pools(struct ac_program *prog, const struct ac_type *type,
			   struct ac_context_list *list)
{
	static const char *const pool_vars[] = { "pool", "opaque" };
	for (size_t i = 0; i < ac_target_thread_count(prog->target); i++) {
		const struct ac_backtrace *bt = ac_program_backtrace(prog, i);
		long worker = ac_backtrace_find_function(bt, "worker_thread");
		if (worker < 0)
			continue;
		uint64_t pool = 0, ctx = 0;
		for (size_t v = 0; !pool && v < 2; v++) {
			struct ac_error *err = ac_frame_variable_uint(prog, i, (size_t)worker,
								      pool_vars[v], &pool);
			if (err)
				pool = 0;
			ac_error_destroy(err);
		}
		if (!pool)
			continue;
		struct ac_object p;
		const char *type_name;
		struct ac_error *err = ac_thread_pool_object(prog, pool, &p, &type_name);
		if (!err)
			err = ac_object_member_uint(prog, &p, "ctx", &ctx);
		if (err) {
			ac_error_destroy(err);
			continue;
		}
		char found_as[64];
		snprintf(found_as, sizeof(found_as), "%s 0x%" PRIx64 ".ctx (worker_thread)",
			 type_name, pool);
		add_checked(prog, type, list, ctx, found_as);
	}
}

/*
 * A static QTAILQ of block nodes or backends: each element's context.
 * Absent lists (another generation, a tool without backends) add nothing.
 */
static void add_from_list(struct ac_program *prog, const struct ac_type *type,
			  struct ac_context_list *list, const char *variable,
			  const char *hint, const char *link, const char *member,
			  bool *present)
{
	struct ac_object head, ptr, elem;
	uint64_t address = 0;
	struct ac_error *err = ac_object_variable(prog, variable, hint, &head);
	*present = !err;
	if (ac_error_catch(&err, AC_ERR_LOOKUP))
		return;
	if (!err)
		err = ac_object_member(prog, &head, "tqh_first", &ptr, NULL);
	if (!err)
		err = ac_object_read_uint(prog, &ptr, &address);
	if (!err && address)
		err = ac_object_deref(prog, &ptr, &elem);
	struct ac_walk walk;
	ac_walk_init(&walk, MAX_LIST_WALK);
	char next_path[64];
	snprintf(next_path, sizeof(next_path), "%s.tqe_next", link);
	while (!err && address) {
		if (!ac_walk_step(&walk, address)) {
			err = ac_error_create(AC_ERR_BAD_DATA, "%s", walk.problem);
			break;
		}
		elem.address = address;
		uint64_t ctx = 0;
		err = ac_object_member_uint(prog, &elem, member, &ctx);
		if (!err)
			add_checked(prog, type, list, ctx, variable);
		if (!err)
			err = ac_object_member_uint(prog, &elem, next_path, &address);
	}
	if (err)
		ac_program_note_error(prog, err, "AioContexts of %s", variable);
}

/* The block graph: every node's aio_context, every backend's ctx (5.0+). */
static void add_from_block_graph(struct ac_program *prog, const struct ac_type *type,
				 struct ac_context_list *list)
{
	bool present;
	add_from_list(prog, type, list, "all_bdrv_states", "bdrv_new", "bs_list",
		      "aio_context", &present);
	if (!present) {
		/* 2.1: named nodes and devices' nodes, two lists. */
		add_from_list(prog, type, list, "bdrv_states", "bdrv_new", "device_list",
			      "aio_context", &present);
		add_from_list(prog, type, list, "graph_bdrv_states", "bdrv_new", "node_list",
			      "aio_context", &present);
	}
	struct ac_object blk;
	struct ac_member m;
	/* Backends had no ctx of their own before 5.0: skip the walk then. */
	struct ac_error *err = ac_dwarf_find_type(prog->dwarf, "BlockBackend", "blk_new", &blk.type);
	if (!err)
		err = ac_dwarf_member(prog->dwarf, &blk.type, "ctx", &m, NULL);
	if (err) {
		ac_error_destroy(err);
		return;
	}
	add_from_list(prog, type, list, "block_backends", "blk_new", "link", "ctx", &present);
}

/*
 * The main loop's thread polls qemu_aio_context and iohandler_ctx.  An
 * IOThread's context is polled by the thread in iothread_run; with several
 * of them the pairing needs the frame's argument and is left unknown.
 */
static void find_homes(struct ac_program *prog, struct ac_context_list *list)
{
	size_t n = ac_target_thread_count(prog->target);
	long main_thread = -1, main_fn = -1;
	size_t n_iothreads = 0, iothread = 0;
	/* Running a coroutine, the main loop's thread shows neither. */
	long process_thread = -1;
	for (size_t i = 0; i < n; i++) {
		const struct ac_backtrace *bt = ac_program_backtrace(prog, i);
		if (ac_target_thread(prog->target, i)->tid == ac_target_process_id(prog->target))
			process_thread = (long)i;
		if (!bt)
			continue;
		if (main_thread < 0 && ac_backtrace_find_function(bt, "main_loop_wait") >= 0)
			main_thread = (long)i;
		if (main_fn < 0 && ac_backtrace_find_function(bt, "main") >= 0)
			main_fn = (long)i;
		if (ac_backtrace_find_function(bt, "iothread_run") >= 0) {
			n_iothreads++;
			iothread = i;
		}
	}
	/* The threads in aio_poll() were made homes by add_from_threads(). */
	size_t n_other = 0;
	for (size_t c = 0; c < list->n; c++)
		if (!list->items[c].is_main && !list->items[c].is_iohandler &&
		    !list->items[c].home_tid)
			n_other++;
	for (size_t c = 0; c < list->n; c++) {
		struct ac_aio_context *ctx = &list->items[c];
		if (ctx->home_tid)
			continue;
		if (ctx->is_iothread) {
			set_home(prog, ctx, ctx->iothread_index, "runs iothread_run(IOThread)");
		} else if (ctx->is_main || ctx->is_iohandler) {
			if (main_thread >= 0)
				set_home(prog, ctx, (size_t)main_thread, "runs main_loop_wait");
			else if (main_fn >= 0)
				set_home(prog, ctx, (size_t)main_fn, "runs main()");
			else if (process_thread >= 0)
				set_home(prog, ctx, (size_t)process_thread,
					 "the process's main thread");
		} else if (n_iothreads == 1 && n_other == 1) {
			set_home(prog, ctx, iothread, "the only thread in iothread_run");
		}
	}
}

struct ac_error *ac_aio_contexts_find(struct ac_program *prog,
				      struct ac_context_list *ret)
{
	struct ac_type type;
	struct ac_error *err = ac_dwarf_find_type(prog->dwarf, "AioContext",
						  "aio_context_new", &type);
	if (err) {
		Dwfl_Module *mod = ac_target_main_module(prog->target);
		const char *exe = mod ? dwfl_module_info(mod, NULL, NULL, NULL, NULL,
							 NULL, NULL, NULL) : NULL;
		return ac_error_prefix(err, "%s: not a QEMU process: no AioContext in %s",
				       ac_target_name(prog->target), exe ? exe : "the executable");
	}
	struct ac_context_list list = { 0 };
	add_static(prog, &list, "qemu_aio_context", "qemu_get_aio_context", true);
	add_static(prog, &list, "iohandler_ctx", "iohandler_get_aio_context", false);
	add_from_threads(prog, &type, &list);
	add_from_tls(prog, &type, &list);
	add_from_pools(prog, &type, &list);
	add_from_block_graph(prog, &type, &list);
	/* Roots first: the scan's cost grows with the core, theirs does not. */
	if (prog->scan_memory || !list.n) {
		size_t before = list.n;
		list.scan_ran = true;
		list.scan_asked = prog->scan_memory;
		list.scan_bytes = scan_memory(prog, &list);
		list.scan_only = list.n - before;
		/* Asked for, it is in the output; as a fallback, it is news. */
		if (!list.scan_asked)
			ac_program_note(prog, "no root named an AioContext: memory scan read %"
					PRIu64 " MiB, found %zu", list.scan_bytes >> 20,
					list.scan_only);
	}
	for (size_t i = 0; i < list.n; i++)
		list.items[i].obj.type = type;
	for (size_t i = 0; i < list.n; i++)
		decode(prog, &list.items[i]);
	find_homes(prog, &list);
	*ret = list;
	return NULL;
}

void ac_context_list_deinit(struct ac_context_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		free(list->items[i].found_as);
		free(list->items[i].home_how);
		free(list->items[i].blocked_in);
	}
	free(list->items);
	*list = (struct ac_context_list){ 0 };
}

const struct ac_aio_context *ac_context_list_find(const struct ac_context_list *list,
						  uint64_t address)
{
	for (size_t i = 0; i < list->n; i++)
		if (list->items[i].obj.address == address)
			return &list->items[i];
	return NULL;
}

const char *ac_aio_context_role(const struct ac_aio_context *ctx)
{
	if (ctx->is_main)
		return "main loop (qemu_aio_context)";
	if (ctx->is_iohandler)
		return "iohandler_ctx";
	if (ctx->is_iothread)
		return "IOThread";
	return "other (IOThread or block node)";
}
