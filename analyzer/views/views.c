/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The table of views, shared by the CLI verbs and the gdb commands. */
#include <string.h>

#include "util/util.h"
#include "view.h"

static const struct ac_view views[] = {
	{ "diagnose", "run every pattern rule: verdict, evidence, upstream fix",
	  "Run every hang-pattern rule and print the verdict: the pattern, its\n"
	  "evidence as 'what = value @address (thread, frame)', the upstream fix,\n"
	  "the QEMU versions it affects, whether the executable's QEMU release\n"
	  "already has that fix, and the command that replays it.\n"
	  "Exit code 3 when a hang cause is named with high confidence; 0\n"
	  "otherwise, and then the wait summary (the tree of `waits`) follows.\n",
	  ac_view_diagnose, true },
	{ "ctx", "AioContexts: notify_me, notified, eventfd, home thread",
	  "Every AioContext found from roots (qemu_aio_context, iohandler_ctx,\n"
	  "threads' current contexts, IOThreads, pools, block nodes; with\n"
	  "--scan-memory also a heap scan), decoded, with the thread that polls\n"
	  "it and where that thread is blocked.\n",
	  ac_view_ctx, false },
	{ "bh-list", "bottom halves of each AioContext, flags decoded",
	  "Each AioContext's BHs: address, callback, opaque, name, flags (or the\n"
	  "2.x booleans), whether it is runnable, and where it was found (the\n"
	  "list, a slice, or its owner such as ThreadPool.completion_bh).\n",
	  ac_view_bh_list, false },
	{ "coroutines", "coroutines: entry, state, where found; --bt unwinds suspended ones",
	  "Coroutines reachable from each thread (its current one), from the\n"
	  "AioContexts' scheduled_coroutines and from thread-pool requests: entry\n"
	  "point, state, and with --bt the backtrace of each suspended coroutine,\n"
	  "unwound from its saved sigjmp_buf (glibc pointer mangling undone).\n",
	  ac_view_coroutines, false },
	{ "events", "QemuEvents: value decoded, waiters, the condition guarded",
	  "QemuEvent instances (rcu_call_ready_event, rcu_gp_event, timer lists'\n"
	  "timers_done_ev): the value decoded (4294967295 is EV_BUSY: a waiter sleeps,\n"
	  "which is normal), the threads waiting on each, and the condition it guards.\n",
	  ac_view_events, false },
	{ "thread-pool", "thread pools and their requests, up to the waiting coroutine",
	  "Each thread pool: thread counts and every request: state, kind, ret,\n"
	  "completion callback, and the chain from common.opaque to the waiting\n"
	  "coroutine and its entry point.\n",
	  ac_view_thread_pool, false },
	{ "waits", "the wait-for graph: who waits on whom, down to what does not answer",
	  "The wait-for graph of the whole process: what each thread is blocked in\n"
	  "(a QemuMutex and its owner, a QemuCond/QemuEvent/QemuSemaphore, a poll,\n"
	  "an I/O syscall with its fd, offset and length), the coroutines waiting on\n"
	  "thread-pool requests, the worker running each request and the block node\n"
	  "(file) it reads.  Text: one tree per chain; --json: nodes and edges;\n"
	  "--dot: Graphviz.  A wait cycle is printed first (a deadlock).\n",
	  ac_view_waits, true },
};

const struct ac_view *ac_view_find(const char *name)
{
	for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++)
		if (!strcmp(views[i].name, name))
			return &views[i];
	return NULL;
}

const struct ac_view *ac_view_at(size_t index)
{
	return index < sizeof(views) / sizeof(views[0]) ? &views[index] : NULL;
}

struct ac_error *ac_view_run(const struct ac_view *view, struct ac_program *prog,
			     const struct ac_view_options *opts, FILE *out,
			     enum ac_view_result *result)
{
	struct ac_error *err = view->run(prog, opts, out, result);
	if (!err && !opts->json && !opts->dot)
		ac_view_print_notes(prog, out);
	return err;
}

void ac_view_print_notes(struct ac_program *prog, FILE *out)
{
	for (size_t i = 0; i < prog->n_notes; i++)
		fprintf(out, "note: %s\n", prog->notes[i]);
}

void ac_view_json_notes(struct ac_program *prog, struct ac_json *json)
{
	ac_json_key(json, "notes");
	ac_json_array_begin(json);
	for (size_t i = 0; i < prog->n_notes; i++)
		ac_json_string(json, prog->notes[i]);
	ac_json_array_end(json);
}

void ac_view_json_begin(struct ac_json *json, FILE *out, const char *schema,
			const char *key)
{
	ac_json_init(json, out, true);
	ac_json_object_begin(json);
	ac_json_field_string(json, "schema", schema);
	ac_json_key(json, key);
	ac_json_array_begin(json);
}

void ac_view_json_close(struct ac_program *prog, struct ac_json *json)
{
	ac_view_json_notes(prog, json);
	ac_json_object_end(json);
	ac_json_finish(json);
}

void ac_view_json_end(struct ac_program *prog, struct ac_json *json)
{
	ac_json_array_end(json);
	ac_view_json_close(prog, json);
}

const char *ac_view_no_context(const struct ac_view_options *opts)
{
	return opts->has_ctx ? "no AioContext found at that address" : "no AioContext found";
}

struct ac_error *ac_view_each_context(struct ac_program *prog,
				      const struct ac_view_options *opts, FILE *out,
				      const char *schema, const char *json_key,
				      ac_view_context_fn *show,
				      const char *none_text)
{
	struct ac_context_list list;
	struct ac_error *err = ac_aio_contexts_find(prog, &list);
	if (err)
		return err;
	struct ac_json j;
	if (opts->json)
		ac_view_json_begin(&j, out, schema, json_key);
	size_t shown = 0;
	for (size_t i = 0; i < list.n; i++) {
		const struct ac_aio_context *c = &list.items[i];
		if (opts->has_ctx && c->obj.address != opts->ctx)
			continue;
		shown += show(prog, c, opts, out, &j, shown);
	}
	if (opts->json) {
		ac_json_array_end(&j);
		/* null: contexts came from roots only, no heap scan ran. */
		ac_json_key(&j, "memory_scan");
		if (list.scan_ran) {
			ac_json_object_begin(&j);
			ac_json_field_string(&j, "why", list.scan_asked ? "--scan-memory"
									 : "no root");
			ac_json_field_uint(&j, "bytes_read", list.scan_bytes);
			ac_json_field_uint(&j, "found_only_by_it", list.scan_only);
			ac_json_object_end(&j);
		} else {
			ac_json_null(&j);
		}
		ac_view_json_close(prog, &j);
	} else if (!shown)
		fprintf(out, "%s\n", none_text);
	ac_context_list_deinit(&list);
	return NULL;
}
