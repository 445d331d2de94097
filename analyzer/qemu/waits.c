/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "waits.h"

/*
 * More than a real process has (64 workers, a few queues of guest
 * requests); node and edge lookups are linear, so a hostile core's
 * 100000-element pool list must not make the graph quadratic in it.
 */
#define MAX_NODES 10000

static long find_node(const struct ac_waits *w, enum ac_wait_node_type type, uint64_t address)
{
	for (size_t i = 0; i < w->n_nodes; i++)
		if (w->nodes[i].type == type && w->nodes[i].address == address)
			return (long)i;
	return -1;
}

/* The node of (type, address), added with label (malloc'd, taken) if new. */
static long add_node(struct ac_waits *w, enum ac_wait_node_type type, uint64_t address,
		     const char *prefix, char *label)
{
	long at = find_node(w, type, address);
	/* Past MAX_NODES ac_waits_build notes the cut. */
	struct ac_wait_node *n = at >= 0 || w->n_nodes >= MAX_NODES ? NULL
				 : ac_array_slot(w->nodes, w->n_nodes);
	if (!n) {
		free(label);
		return at;
	}
	*n = (struct ac_wait_node){ .type = type, .address = address, .label = label };
	if (asprintf(&n->id, "%s:0x%" PRIx64, prefix, address) < 0)
		n->id = NULL;
	return (long)w->n_nodes++;
}

static void add_edge(struct ac_waits *w, long from, long to, const char *label)
{
	if (from < 0 || to < 0)
		return;
	for (size_t i = 0; i < w->n_edges; i++)
		if (w->edges[i].from == (size_t)from && w->edges[i].to == (size_t)to)
			return;
	struct ac_wait_edge *e = w->n_edges >= MAX_NODES ? NULL
				 : ac_array_slot(w->edges, w->n_edges);
	if (!e)
		return;
	*e = (struct ac_wait_edge){ (size_t)from, (size_t)to, label };
	w->n_edges++;
}

static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *format(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

static void add_threads(struct ac_program *prog, struct ac_waits *w)
{
	for (size_t i = 0; i < w->threads.n; i++) {
		const struct ac_thread_wait *t = &w->threads.items[i];
		const struct ac_thread *thread = ac_target_thread(prog->target, i);
		char text[256];
		ac_thread_wait_text(t, text, sizeof(text));
		long at = add_node(w, AC_NODE_THREAD, (uint64_t)i, "thread",
				   format("thread %d%s%s%s: %s%s%s%s", t->tid,
					  thread && thread->name[0] ? " \"" : "",
					  thread ? thread->name : "",
					  thread && thread->name[0] ? "\"" : "", text,
					  t->frame_text ? " (" : "",
					  t->frame_text ? t->frame_text : "",
					  t->frame_text ? ")" : ""));
		if (at < 0)
			continue;
		struct ac_wait_node *n = &w->nodes[at];
		n->tid = t->tid;
		n->wait = t;
		free(n->id);
		n->id = format("thread:%d", t->tid);
	}
}

static long block_node(struct ac_waits *w, const struct ac_block_node *b)
{
	char in_flight[40] = "";
	if (b->has_in_flight)
		snprintf(in_flight, sizeof(in_flight), ", in_flight %" PRIu64, b->in_flight);
	long at = add_node(w, AC_NODE_BLOCK, b->address, "block",
			   format("block node \"%s\" (%s) %s%s", b->node_name ? b->node_name : "?",
				  b->driver ? b->driver : "?", b->filename ? b->filename : "?",
				  in_flight));
	if (at >= 0)
		w->nodes[at].block = b;
	return at;
}

/*
 * Whether a worker's request names a node of the block graph.  A running
 * worker's stack is read mid-write: its request's bs may be stale, and a
 * node the graph does not hold is not worth a leaf of garbage.
 */
static bool known_node(const struct ac_analysis *a, uint64_t address)
{
	/* No node list in the program: nothing to check against. */
	return !a->blocks.has_nodes || ac_block_graph_node(&a->blocks, address);
}

/* Locks and I/O: thread -> mutex -> owner thread, thread -> block node. */
static void add_thread_edges(struct ac_waits *w, const struct ac_analysis *a)
{
	for (size_t i = 0; i < w->threads.n; i++) {
		const struct ac_thread_wait *t = &w->threads.items[i];
		if (t->kind == AC_WAIT_MUTEX && t->object) {
			long lock = add_node(w, AC_NODE_LOCK, t->object, "lock",
					     format("%s%s%s 0x%" PRIx64, t->object_type,
						    t->object_name ? " " : "",
						    t->object_name ? t->object_name : "", t->object));
			add_edge(w, (long)i, lock, "waits for");
			for (size_t o = 0; t->has_owner && t->owner_tid && o < w->threads.n; o++)
				if (w->threads.items[o].tid == t->owner_tid)
					add_edge(w, lock, (long)o, "held by");
		}
		/* A running worker's node is the graph's, never one read through it. */
		const struct ac_block_node *node = NULL;
		if (t->kind == AC_WAIT_IO && t->aio.node.address && known_node(a, t->aio.node.address))
			node = &t->aio.node;
		else if (t->kind == AC_WAIT_NONE && t->aio.bs)
			node = ac_block_graph_node(&a->blocks, t->aio.bs);
		if (node)
			add_edge(w, (long)i, block_node(w, node),
				 t->kind == AC_WAIT_IO ? "in I/O on" : "runs a request on");
	}
}

/* A coroutine node, added if new. */
static long coroutine_node(struct ac_waits *w, uint64_t co, const char *entry)
{
	return add_node(w, AC_NODE_COROUTINE, co, "coroutine",
			format("coroutine 0x%" PRIx64 " (%s)", co, entry ? entry : "?"));
}

/* coroutine -> request -> the worker running it. */
static void add_requests(struct ac_waits *w, const struct ac_analysis *a)
{
	for (size_t c = 0; c < a->contexts.n; c++) {
		const struct ac_thread_pool *p = &a->pools[c];
		for (size_t r = 0; p->address && r < p->n_elements; r++) {
			const struct ac_pool_element *e = &p->elements[r];
			if (e->problem)
				continue;
			long req = add_node(w, AC_NODE_REQUEST, e->address, "request",
					    format("%s request 0x%" PRIx64 " %s (%s 0x%" PRIx64 ")",
						   e->kind, e->address,
						   e->state_name ? e->state_name : "?", p->type_name,
						   p->address));
			if (req < 0)
				continue;
			w->nodes[req].request = e;
			if (e->coroutine)
				add_edge(w, coroutine_node(w, e->coroutine, e->co_entry_name), req,
					 "waits for");
			/* Done: the pool's completion BH, run by the context's home thread, completes it. */
			const struct ac_aio_context *ctx = &a->contexts.items[c];
			if (e->done && ctx->home_tid && ctx->home_thread_index < w->threads.n)
				add_edge(w, req, (long)ctx->home_thread_index, "completed by");
			for (size_t t = 0; e->active && t < w->threads.n; t++)
				if (w->threads.items[t].aio.address &&
				    w->threads.items[t].aio.address == e->arg)
					add_edge(w, req, (long)t, "served by");
		}
	}
}

/* job -> its coroutine -> its operations' coroutines (already nodes when a
 * request waits on them: the chain then goes on to the request). */
static void add_jobs(struct ac_waits *w, const struct ac_analysis *a)
{
	for (size_t i = 0; i < a->jobs.n; i++) {
		const struct ac_job *j = &a->jobs.items[i];
		char type[32], status[32], progress[64] = "";
		if (j->has_progress)
			snprintf(progress, sizeof(progress), ", progress %" PRIu64 "/%" PRIu64,
				 j->current, j->total);
		long job = add_node(w, AC_NODE_JOB, j->address, "job",
				    format("job \"%s\" (%s) %s%s%s%s", j->id,
					   ac_job_enum_text(j->type, type, sizeof(type)),
					   ac_job_status_text(j, status, sizeof(status)),
					   j->busy ? ", busy" : "", j->paused ? ", paused" : "",
					   progress));
		if (job < 0)
			continue;
		w->nodes[job].job = j;
		char whose[160];
		snprintf(whose, sizeof(whose), "job \"%s\"'s", j->id);
		long co = j->co ? coroutine_node(w, j->co, whose) : -1;
		add_edge(w, job, co, "runs in");
		for (size_t k = 0; k < j->n_ops; k++) {
			long op = find_node(w, AC_NODE_COROUTINE, j->op_coroutines[k]);
			if (op < 0)
				op = coroutine_node(w, j->op_coroutines[k], "mirror operation");
			add_edge(w, co >= 0 ? co : job, op, "waits for");
		}
	}
}

/* A drain loop waits for its node's in_flight (every node's for drain_all). */
static void add_drains(struct ac_waits *w, const struct ac_analysis *a)
{
	for (size_t i = 0; i < a->n_drains; i++) {
		const struct ac_drain *d = &a->drains[i];
		for (size_t k = 0; k < a->blocks.n_nodes; k++) {
			const struct ac_block_node *b = &a->blocks.nodes[k];
			if (d->bs ? b->address == d->bs : ac_block_node_pending(b) > 0)
				add_edge(w, (long)d->thread_index, block_node(w, b), "drains");
		}
	}
}

/* A coroutine found by address only: labelled with its entry's symbol. */
static long coroutine_node_at(struct ac_program *prog, struct ac_waits *w, uint64_t address)
{
	long at = find_node(w, AC_NODE_COROUTINE, address);
	if (at >= 0 || !address)
		return at;
	char buf[256] = "?";
	struct ac_object co;
	uint64_t entry = 0;
	struct ac_error *err = ac_object_at(prog, "Coroutine", "qemu_coroutine_enter", address, &co);
	if (!err)
		err = ac_object_member_uint(prog, &co, "entry", &entry);
	if (err)
		ac_program_note_error(prog, err, "Coroutine 0x%" PRIx64, address);
	const char *entry_name = err ? "?" : ac_program_symbolize(prog, entry, buf, sizeof(buf));
	return add_node(w, AC_NODE_COROUTINE, address, "coroutine",
			format("coroutine 0x%" PRIx64 " (%s)", address, entry_name));
}

/*
 * NBD: request coroutine -> connection -> its server (a leaf: what does
 * not answer, if anything); the reply reader (5.2's connection_co, 7.2+'s
 * receive_mutex holder) reads on the connection too.
 */
static void add_connections(struct ac_program *prog, struct ac_waits *w,
			    const struct ac_analysis *a)
{
	for (size_t i = 0; i < a->nbd.n; i++) {
		const struct ac_nbd_client *c = &a->nbd.items[i];
		char label[96];
		char in_flight[40] = "";
		if (c->has_in_flight)
			snprintf(in_flight, sizeof(in_flight), ", in_flight %" PRId64, c->in_flight);
		long conn = add_node(w, AC_NODE_CONNECTION, c->state_address, "connection",
				     format("NBD connection of %s (%s, fd %d, %zu "
					    "request%s waiting for replies%s)",
					    ac_nbd_client_label(c, label, sizeof(label)),
					    c->state_name ? c->state_name : "state ?",
					    c->fd, c->n_requests,
					    c->n_requests == 1 ? "" : "s", in_flight));
		if (conn < 0)
			continue;
		w->nodes[conn].connection = c;
		if (c->n_requests) {
			long server = add_node(w, AC_NODE_SERVER, c->state_address, "server",
					       format("NBD server %s: no reply yet to %zu request%s",
						      c->server ? c->server : "(address unknown)",
						      c->n_requests, c->n_requests == 1 ? "" : "s"));
			if (server >= 0)
				w->nodes[server].connection = c;
			add_edge(w, conn, server, "served by");
		}
		for (size_t r = 0; r < c->n_requests; r++)
			add_edge(w, coroutine_node_at(prog, w, c->requests[r].coroutine), conn,
				 "waits for a reply on");
		uint64_t reader = c->connection_co ? c->connection_co : c->receive_holder;
		if (reader && c->n_requests)
			add_edge(w, coroutine_node_at(prog, w, reader), conn, "reads replies on");
	}
}

/* CoMutex / CoQueue: waiter coroutine -> lock -> holder coroutine. */
static void add_co_locks(struct ac_program *prog, struct ac_waits *w,
			 const struct ac_analysis *a)
{
	for (size_t i = 0; i < a->co_locks.n; i++) {
		const struct ac_co_lock *l = &a->co_locks.items[i];
		/* Without CoMutex.holder nothing in memory says who holds it. */
		const char *state = l->kind != AC_CO_MUTEX ? ""
				    : l->holder ? "held, "
				    : l->locked && !l->has_holder
				    ? "locked, holder not recorded (no CoMutex.holder in this QEMU), "
				    : "";
		long lock = add_node(w, AC_NODE_CO_LOCK, l->address, "colock",
				     format("%s 0x%" PRIx64 " %s: %s%zu waiter%s",
					    l->kind == AC_CO_MUTEX ? "CoMutex" : "CoQueue",
					    l->address, l->name, state,
					    l->n_waiters, l->n_waiters == 1 ? "" : "s"));
		if (lock < 0)
			continue;
		w->nodes[lock].co_lock = l;
		for (size_t k = 0; k < l->n_waiters; k++)
			add_edge(w, coroutine_node_at(prog, w, l->waiters[k]), lock, "waits for");
		if (l->holder)
			add_edge(w, lock, coroutine_node_at(prog, w, l->holder), "held by");
	}
}

/* Whether `to` is reachable from `from` along edges (bounded by the graph). */
static bool reaches(const struct ac_waits *w, size_t from, size_t to)
{
	size_t *queue = malloc(w->n_nodes * sizeof(*queue));
	unsigned char *seen = calloc(w->n_nodes, 1);
	bool found = false;
	size_t head = 0, tail = 0;
	if (queue && seen) {
		queue[tail++] = from;
		seen[from] = 1;
	}
	while (head < tail && !found) {
		size_t v = queue[head++];
		found = v == to;
		for (size_t e = 0; e < w->n_edges; e++)
			if (w->edges[e].from == v && !seen[w->edges[e].to]) {
				seen[w->edges[e].to] = 1;
				queue[tail++] = w->edges[e].to;
			}
	}
	free(queue);
	free(seen);
	return found;
}

/*
 * A synchronous wrapper (bdrv_prwv_co, blk_prw, bdrv_poll_co) polls until
 * the coroutine it created, whose argument is on its stack, is done.  When
 * the coroutine's chain already leads back to that thread (a done request
 * its completion BH, run by the poller, completes), the thread is what the
 * coroutine waits for: no edge back, which would hide that leaf in a cycle
 * that is no deadlock.
 */
static void add_co_polls(struct ac_program *prog, struct ac_waits *w)
{
	size_t n = w->n_nodes;
	for (size_t i = 0; i < n; i++) {
		if (w->nodes[i].type != AC_NODE_COROUTINE)
			continue;
		struct ac_object co;
		uint64_t arg = 0;
		struct ac_error *err = ac_object_at(prog, "Coroutine", "qemu_coroutine_enter",
						    w->nodes[i].address, &co);
		if (!err)
			err = ac_object_member_uint(prog, &co, "entry_arg", &arg);
		if (err) {
			ac_program_note_error(prog, err, "Coroutine 0x%" PRIx64, w->nodes[i].address);
			continue;
		}
		for (size_t t = 0; arg && t < w->threads.n; t++) {
			struct ac_co_poll poll;
			size_t thread = ac_waits_thread_node(w, t);
			if (!ac_co_poll_find(prog, t, arg, &poll) || reaches(w, i, thread))
				continue;
			struct ac_co_poll *slot = ac_array_slot(w->polls, w->n_polls);
			if (!slot)
				return;
			poll.coroutine = w->nodes[i].address;
			*slot = poll;
			w->n_polls++;
			add_edge(w, (long)thread, (long)i, "polls for");
		}
	}
}

/* Depth-first, iterative and bounded: the first back edge is a cycle. */
static void find_cycle(struct ac_waits *w)
{
	size_t n = w->n_nodes;
	unsigned char *color = calloc(n ? n : 1, 1);   /* 0 new, 1 on path, 2 done */
	size_t *stack = calloc(n ? n : 1, sizeof(*stack));
	size_t *next_edge = calloc(n ? n : 1, sizeof(*next_edge));
	if (!color || !stack || !next_edge)
		goto out;
	for (size_t root = 0; root < n && !w->cycle; root++) {
		if (color[root])
			continue;
		size_t depth = 0;
		stack[depth++] = root;
		color[root] = 1;
		while (depth && !w->cycle) {
			size_t v = stack[depth - 1];
			size_t e = next_edge[v];
			while (e < w->n_edges && w->edges[e].from != v)
				e++;
			if (e == w->n_edges) {
				color[v] = 2;
				depth--;
				continue;
			}
			next_edge[v] = e + 1;
			size_t to = w->edges[e].to;
			if (color[to] == 1) {
				size_t from = 0;
				while (stack[from] != to)
					from++;
				w->cycle = malloc((depth - from) * sizeof(*w->cycle));
				if (w->cycle) {
					memcpy(w->cycle, stack + from, (depth - from) * sizeof(*w->cycle));
					w->n_cycle = depth - from;
				}
			} else if (!color[to] && depth < n) {
				color[to] = 1;
				stack[depth++] = to;
			}
		}
	}
out:
	free(color);
	free(stack);
	free(next_edge);
}

struct ac_error *ac_waits_build(struct ac_program *prog, const struct ac_analysis *a,
				struct ac_waits *ret)
{
	struct ac_waits w = { 0 };
	struct ac_error *err = ac_thread_waits_decode(prog, &w.threads);
	if (err)
		return err;
	add_threads(prog, &w);
	add_thread_edges(&w, a);
	add_requests(&w, a);
	add_jobs(&w, a);
	add_drains(&w, a);
	add_connections(prog, &w, a);
	add_co_locks(prog, &w, a);
	add_co_polls(prog, &w);
	if (w.n_nodes >= MAX_NODES || w.n_edges >= MAX_NODES)
		ac_program_note(prog, "wait-for graph cut at %d nodes or edges", MAX_NODES);
	find_cycle(&w);
	*ret = w;
	return NULL;
}

void ac_waits_deinit(struct ac_waits *w)
{
	for (size_t i = 0; i < w->n_nodes; i++) {
		free(w->nodes[i].id);
		free(w->nodes[i].label);
	}
	free(w->nodes);
	free(w->edges);
	free(w->polls);
	free(w->cycle);
	ac_thread_waits_deinit(&w->threads);
	*w = (struct ac_waits){ 0 };
}

size_t ac_waits_in_degree(const struct ac_waits *w, size_t node)
{
	size_t n = 0;
	for (size_t i = 0; i < w->n_edges; i++)
		n += w->edges[i].to == node;
	return n;
}

size_t ac_waits_out_degree(const struct ac_waits *w, size_t node)
{
	size_t n = 0;
	for (size_t i = 0; i < w->n_edges; i++)
		n += w->edges[i].from == node;
	return n;
}

size_t ac_waits_waiters(const struct ac_waits *w, size_t node, size_t *path, size_t max)
{
	size_t n = 0;
	for (size_t at = node; n < max;) {
		size_t e = 0;
		while (e < w->n_edges && w->edges[e].to != at)
			e++;
		if (e == w->n_edges)
			break;
		at = w->edges[e].from;
		for (size_t k = 0; k < n; k++)
			if (path[k] == at)
				return n;          /* a cycle: stop where it closes */
		if (at == node)
			break;
		path[n++] = at;
	}
	return n;
}

/* Nodes that reach node through edges, by a reverse breadth-first walk. */
static size_t count_above(const struct ac_waits *w, size_t node, size_t *queue, unsigned char *seen)
{
	memset(seen, 0, w->n_nodes);
	size_t head = 0, tail = 0;
	queue[tail++] = node;
	seen[node] = 1;
	while (head < tail) {
		size_t v = queue[head++];
		for (size_t e = 0; e < w->n_edges; e++)
			if (w->edges[e].to == v && !seen[w->edges[e].from]) {
				seen[w->edges[e].from] = 1;
				queue[tail++] = w->edges[e].from;
			}
	}
	return tail - 1;
}

size_t ac_waits_leaves(const struct ac_waits *w, struct ac_wait_leaf *leaves, size_t max)
{
	size_t *queue = malloc((w->n_nodes ? w->n_nodes : 1) * sizeof(*queue));
	unsigned char *seen = malloc(w->n_nodes ? w->n_nodes : 1);
	size_t n = 0;
	for (size_t i = 0; queue && seen && i < w->n_nodes && n < max; i++) {
		if (ac_waits_out_degree(w, i) || !ac_waits_in_degree(w, i))
			continue;
		struct ac_wait_leaf *l = &leaves[n++];
		*l = (struct ac_wait_leaf){ .node = i, .nearest = -1 };
		/* A thread in I/O names the wait best (the worker, not a drainer
		 * also waiting on the node), then any thread. */
		int best = -1;
		for (size_t e = 0; e < w->n_edges; e++) {
			if (w->edges[e].to != i)
				continue;
			const struct ac_wait_node *from = &w->nodes[w->edges[e].from];
			int rank = from->type != AC_NODE_THREAD ? 0
				   : from->wait && from->wait->kind == AC_WAIT_IO ? 2 : 1;
			if (rank > best) {
				best = rank;
				l->nearest = (long)w->edges[e].from;
			}
		}
		l->n_waiters = count_above(w, i, queue, seen);
	}
	free(queue);
	free(seen);
	return n;
}

const struct ac_co_poll *ac_waits_poll(const struct ac_waits *w, size_t thread, size_t co)
{
	for (size_t i = 0; i < w->n_polls; i++)
		if (ac_waits_thread_node(w, w->polls[i].thread_index) == thread &&
		    w->nodes[co].address == w->polls[i].coroutine)
			return &w->polls[i];
	return NULL;
}

size_t ac_waits_thread_node(const struct ac_waits *w, size_t thread_index)
{
	(void)w;
	return thread_index;
}
