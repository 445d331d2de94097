/* SPDX-License-Identifier: GPL-2.0-or-later */
/* aiocore waits: the wait-for graph as a tree (text), nodes and edges (JSON), or dot. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "qemu/qemu.h"
#include "util/util.h"
#include "view.h"

/* Deeper than any real chain (coroutine, request, worker, node, ...). */
#define MAX_DEPTH 32

static const char *const type_names[] = {
	[AC_NODE_THREAD] = "thread", [AC_NODE_COROUTINE] = "coroutine",
	[AC_NODE_REQUEST] = "request", [AC_NODE_LOCK] = "lock",
	[AC_NODE_BLOCK] = "block-node", [AC_NODE_CONNECTION] = "connection",
	[AC_NODE_JOB] = "job",
	[AC_NODE_CO_LOCK] = "co-lock", [AC_NODE_SERVER] = "server",
};

static void tree(FILE *out, const struct ac_waits *w, size_t node, const char *edge,
		 unsigned depth, unsigned char *shown)
{
	fprintf(out, "%*s%s%s%s", 2 * depth, "", edge ? edge : "", edge ? " " : "",
		w->nodes[node].label);
	if (shown[node] || depth >= MAX_DEPTH) {
		fprintf(out, shown[node] ? "  (see above)\n" : "  (deeper: cut)\n");
		return;
	}
	fputc('\n', out);
	shown[node] = 1;
	for (size_t e = 0; e < w->n_edges; e++)
		if (w->edges[e].from == node)
			tree(out, w, w->edges[e].to, w->edges[e].label, depth + 1, shown);
}

void ac_view_waits_text(const struct ac_waits *w, FILE *out)
{
	unsigned char *shown = calloc(w->n_nodes ? w->n_nodes : 1, 1);
	if (!shown)
		return;
	size_t chains = 0;
	if (w->cycle) {
		fprintf(out, "CYCLE (deadlock):");
		for (size_t i = 0; i < w->n_cycle; i++)
			fprintf(out, " %s ->", w->nodes[w->cycle[i]].id);
		fprintf(out, " %s\n", w->nodes[w->cycle[0]].id);
		tree(out, w, w->cycle[0], NULL, 1, shown);
		chains++;
	}
	for (size_t i = 0; i < w->n_nodes; i++) {
		if (shown[i] || ac_waits_in_degree(w, i) || !ac_waits_out_degree(w, i))
			continue;
		if (chains++)
			fputc('\n', out);
		tree(out, w, i, NULL, 0, shown);
	}
	if (!chains)
		fprintf(out, "nothing waits on anything: the process looks idle\n");
	bool header = false;
	for (size_t i = 0; i < w->n_nodes; i++) {
		if (shown[i] || w->nodes[i].type != AC_NODE_THREAD)
			continue;
		if (!header)
			fprintf(out, "\nOther threads:\n");
		header = true;
		fprintf(out, "  %s\n", w->nodes[i].label);
	}
	free(shown);
}

/* More than a support case reads; the tree below has them all. */
#define MAX_LEAVES 32

void ac_view_waits_summary_text(const struct ac_waits *w, FILE *out)
{
	struct ac_wait_leaf leaves[MAX_LEAVES];
	size_t n = ac_waits_leaves(w, leaves, MAX_LEAVES);
	if (!n) {
		fprintf(out, "Wait summary: nothing waits on anything: the process looks idle\n\n");
		return;
	}
	fprintf(out, "Wait summary: %zu leaf%s (what the waits end on)\n", n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "  %s\n", w->nodes[leaves[i].node].label);
		if (leaves[i].nearest >= 0)
			fprintf(out, "    <- %s%s", w->nodes[leaves[i].nearest].label,
				leaves[i].n_waiters > 1 ? "" : "\n");
		if (leaves[i].n_waiters > 1)
			fprintf(out, " (%zu waiting in all)\n", leaves[i].n_waiters);
	}
	fputc('\n', out);
}

void ac_view_waits_summary_json(const struct ac_waits *w, struct ac_json *j)
{
	struct ac_wait_leaf leaves[MAX_LEAVES];
	size_t n = ac_waits_leaves(w, leaves, MAX_LEAVES);
	ac_json_key(j, "waits");
	ac_json_object_begin(j);
	ac_json_field_bool(j, "idle", n == 0);
	ac_json_key(j, "leaves");
	ac_json_array_begin(j);
	for (size_t i = 0; i < n; i++) {
		const struct ac_wait_node *leaf = &w->nodes[leaves[i].node];
		ac_json_object_begin(j);
		ac_json_field_string(j, "id", leaf->id);
		ac_json_field_string(j, "type", type_names[leaf->type]);
		ac_json_field_string(j, "label", leaf->label);
		const struct ac_wait_node *near = leaves[i].nearest >= 0
						  ? &w->nodes[leaves[i].nearest] : NULL;
		ac_json_field_string(j, "nearest", near ? near->id : NULL);
		ac_json_field_string(j, "nearest_label", near ? near->label : NULL);
		ac_json_field_uint(j, "waiters", leaves[i].n_waiters);
		ac_json_object_end(j);
	}
	ac_json_array_end(j);
	ac_json_object_end(j);
}

static void node_json(struct ac_json *j, const struct ac_wait_node *n)
{
	ac_json_object_begin(j);
	ac_json_field_string(j, "id", n->id);
	ac_json_field_string(j, "type", type_names[n->type]);
	ac_json_field_string(j, "label", n->label);
	if (n->type != AC_NODE_THREAD)
		ac_json_field_address(j, "address", n->address);
	if (n->wait) {
		const struct ac_thread_wait *t = n->wait;
		ac_json_field_int(j, "tid", t->tid);
		ac_json_field_string(j, "wait", ac_wait_kind_name(t->kind));
		ac_json_field_string(j, "blocked_in", t->blocked_in);
		ac_json_field_string(j, "frame", t->frame_text);
		ac_json_field_string(j, "syscall", t->in_syscall ? t->syscall.name : NULL);
		if (t->object) {
			ac_json_field_address(j, "object", t->object);
			ac_json_field_string(j, "object_type", t->object_type);
			ac_json_field_string(j, "object_name", t->object_name);
		}
		ac_json_field_int_opt(j, "owner_tid", t->has_owner, t->owner_tid);
		if (t->kind == AC_WAIT_POLL && t->in_syscall) {
			ac_json_key(j, "fds");
			ac_json_array_begin(j);
			for (size_t i = 0; i < t->n_fds && i < AC_WAIT_MAX_FDS; i++)
				ac_json_int(j, t->fds[i]);
			ac_json_array_end(j);
			ac_json_field_int_opt(j, "timeout_ms", t->has_timeout, t->timeout_ms);
		}
		if (t->kind == AC_WAIT_IO) {
			ac_json_field_int(j, "fd", t->fd);
			ac_json_field_int_opt(j, "offset", t->has_offset, t->offset);
			ac_json_field_int_opt(j, "length", t->has_length, (int64_t)t->length);
			ac_json_field_string(j, "args_from", t->args_from);
		}
		if (t->aio.address) {
			ac_json_key(j, "request");
			ac_json_object_begin(j);
			ac_json_field_address(j, "address", t->aio.address);
			ac_json_field_string(j, "kind", t->aio.kind);
			ac_json_field_int(j, "fd", t->aio.fd);
			ac_json_field_int(j, "offset", t->aio.offset);
			ac_json_field_int(j, "length", (int64_t)t->aio.length);
			ac_json_field_address(j, "bs", t->aio.bs);
			ac_json_object_end(j);
		}
		ac_json_field_string(j, "problem", t->problem);
	}
	if (n->request) {
		ac_json_field_string(j, "state", n->request->state_name);
		ac_json_field_string(j, "kind", n->request->kind);
	}
	if (n->connection) {
		const struct ac_nbd_client *c = n->connection;
		ac_json_field_string(j, "server", c->server);
		ac_json_field_string(j, "state", c->state_name);
		ac_json_field_int_opt(j, "in_flight", c->has_in_flight, c->in_flight);
		ac_json_field_int(j, "requests", (int64_t)c->n_requests);
		if (n->type == AC_NODE_CONNECTION) {
			ac_json_field_string(j, "node_name", c->node_name);
			ac_json_field_int(j, "fd", c->fd);
		}
	}
	if (n->co_lock) {
		const struct ac_co_lock *l = n->co_lock;
		ac_json_field_string(j, "lock_type", l->kind == AC_CO_MUTEX ? "CoMutex" : "CoQueue");
		ac_json_field_string(j, "name", l->name);
		if (l->kind == AC_CO_MUTEX)
			ac_json_field_bool(j, "locked", l->locked);
		if (l->holder)
			ac_json_field_address(j, "holder", l->holder);
		ac_json_key(j, "waiters");
		ac_json_array_begin(j);
		for (size_t i = 0; i < l->n_waiters; i++)
			ac_json_address(j, l->waiters[i]);
		ac_json_array_end(j);
		ac_json_field_string(j, "problem", l->problem);
	}
	if (n->block) {
		ac_json_field_string(j, "node_name", n->block->node_name);
		ac_json_field_string(j, "driver", n->block->driver);
		ac_json_field_string(j, "filename", n->block->filename);
		ac_json_field_int_opt(j, "in_flight", n->block->has_in_flight,
				      (int64_t)n->block->in_flight);
		ac_json_field_int_opt(j, "quiesce_counter", n->block->has_quiesce_counter,
				      (int64_t)n->block->quiesce_counter);
	}
	if (n->job) {
		const struct ac_job *job = n->job;
		ac_json_field_string(j, "job_id", job->id);
		ac_json_field_string(j, "job_type", job->type);
		ac_json_field_string(j, "status", job->status);
		ac_json_field_bool(j, "busy", job->busy);
		ac_json_field_bool(j, "paused", job->paused);
		ac_json_field_int_opt(j, "progress_current", job->has_progress, (int64_t)job->current);
		ac_json_field_int_opt(j, "progress_total", job->has_progress, (int64_t)job->total);
		ac_json_field_address_opt(j, "coroutine", job->co != 0, job->co);
	}
	ac_json_object_end(j);
}

static void print_json(struct ac_program *prog, const struct ac_waits *w, FILE *out)
{
	struct ac_json j;
	ac_json_init(&j, out, true);
	ac_json_object_begin(&j);
	ac_json_field_string(&j, "schema", "aiocore-waits/1");
	ac_json_key(&j, "nodes");
	ac_json_array_begin(&j);
	for (size_t i = 0; i < w->n_nodes; i++)
		node_json(&j, &w->nodes[i]);
	ac_json_array_end(&j);
	ac_json_key(&j, "edges");
	ac_json_array_begin(&j);
	for (size_t i = 0; i < w->n_edges; i++) {
		ac_json_object_begin(&j);
		ac_json_field_string(&j, "from", w->nodes[w->edges[i].from].id);
		ac_json_field_string(&j, "to", w->nodes[w->edges[i].to].id);
		ac_json_field_string(&j, "label", w->edges[i].label);
		ac_json_object_end(&j);
	}
	ac_json_array_end(&j);
	ac_json_key(&j, "cycle");
	if (w->cycle) {
		ac_json_array_begin(&j);
		for (size_t i = 0; i < w->n_cycle; i++)
			ac_json_string(&j, w->nodes[w->cycle[i]].id);
		ac_json_array_end(&j);
	} else {
		ac_json_null(&j);
	}
	ac_view_json_notes(prog, &j);
	ac_json_object_end(&j);
	ac_json_finish(&j);
}

/* A dot string: quotes and backslashes escaped. */
static void dot_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s == '\n' ? ' ' : *s, out);
	}
	fputc('"', out);
}

static void print_dot(struct ac_program *prog, const struct ac_waits *w, FILE *out)
{
	static const char *const shapes[] = {
		[AC_NODE_THREAD] = "box", [AC_NODE_COROUTINE] = "ellipse",
		[AC_NODE_REQUEST] = "note", [AC_NODE_LOCK] = "octagon",
		[AC_NODE_BLOCK] = "cylinder", [AC_NODE_CONNECTION] = "component",
		[AC_NODE_JOB] = "hexagon",
		[AC_NODE_CO_LOCK] = "octagon", [AC_NODE_SERVER] = "doubleoctagon",
	};
	fprintf(out, "digraph waits {\n  rankdir=LR;\n  label=");
	dot_string(out, ac_target_name(prog->target));
	fprintf(out, ";\n");
	for (size_t i = 0; i < w->n_nodes; i++) {
		bool in_cycle = false;
		for (size_t k = 0; k < w->n_cycle; k++)
			in_cycle |= w->cycle[k] == i;
		fprintf(out, "  ");
		dot_string(out, w->nodes[i].id);
		fprintf(out, " [shape=%s%s, label=", shapes[w->nodes[i].type],
			in_cycle ? ", color=red" : "");
		dot_string(out, w->nodes[i].label);
		fprintf(out, "];\n");
	}
	for (size_t i = 0; i < w->n_edges; i++) {
		fprintf(out, "  ");
		dot_string(out, w->nodes[w->edges[i].from].id);
		fprintf(out, " -> ");
		dot_string(out, w->nodes[w->edges[i].to].id);
		fprintf(out, " [label=");
		dot_string(out, w->edges[i].label);
		fprintf(out, "];\n");
	}
	for (size_t i = 0; i < prog->n_notes; i++)
		fprintf(out, "  // note: %s\n", prog->notes[i]);
	fprintf(out, "}\n");
}

struct ac_error *ac_view_waits(struct ac_program *prog, const struct ac_view_options *opts,
			       FILE *out, enum ac_view_result *result)
{
	*result = AC_VIEW_OK;
	struct ac_analysis a;
	struct ac_error *err = ac_analysis_build(prog, &a);
	if (err)
		return err;
	if (opts->json) {
		print_json(prog, &a.waits, out);
	} else if (opts->dot) {
		print_dot(prog, &a.waits, out);
	} else {
		fprintf(out, "%s: %zu threads, %zu waits\n\n", ac_target_name(prog->target),
			a.waits.threads.n, a.waits.n_edges);
		ac_view_waits_text(&a.waits, out);
	}
	ac_analysis_deinit(&a);
	return NULL;
}
