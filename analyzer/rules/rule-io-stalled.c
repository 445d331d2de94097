/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * io-stalled: a thread sits in a read/write/flush system call on a file
 * that has not returned, and requests, coroutines and the operation above
 * them wait for it.  The leaf of the wait-for graph names the file (from
 * the request's block node: a core has no fd table), the fd, offset and
 * length.  Coroutine locks held by a coroutine of the chain (qcow2's s->lock
 * across an L2 read) are evidence, and the summary counts who queues on
 * the busiest.  One core cannot tell stalled from slow: medium confidence.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "rule.h"

/* Chains longer than this are cut: coroutine, request, worker, job, ... */
#define MAX_WAITERS 16

/* File I/O, not an eventfd or a socket: an offset call, a flush, or a pool request. */
static bool is_file_io(const struct ac_thread_wait *t)
{
	static const char *const calls[] = {
		"pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2",
		"fsync", "fdatasync", "io_submit", "fallocate",
	};
	if (t->kind != AC_WAIT_IO)
		return false;
	if (t->aio.address)
		return true;
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (!strcmp(t->io_call, calls[i]))
			return true;
	return false;
}

static const char *node_what(enum ac_wait_node_type type)
{
	switch (type) {
	case AC_NODE_THREAD: return "waiting thread";
	case AC_NODE_COROUTINE: return "waiting coroutine";
	case AC_NODE_REQUEST: return "waiting request";
	case AC_NODE_LOCK: return "waiting on lock";
	case AC_NODE_BLOCK: return "block node";
	case AC_NODE_CONNECTION: return "connection";
	case AC_NODE_JOB: return "waiting job";
	case AC_NODE_CO_LOCK: return "coroutine lock";
	case AC_NODE_SERVER: return "server";
	}
	return "waiter";
}

/*
 * Coroutine locks held by a coroutine of the chain: their waiters wait for
 * this I/O too (qcow2's s->lock across an L2 read, qemu-img convert's lock
 * across a block-status query).
 */
static void held_locks(const struct ac_waits *w, const size_t *path, size_t n,
		       struct ac_finding *f)
{
	for (size_t i = 0; i < n; i++) {
		if (w->nodes[path[i]].type != AC_NODE_COROUTINE)
			continue;
		for (size_t e = 0; e < w->n_edges; e++) {
			const struct ac_wait_node *lock = &w->nodes[w->edges[e].from];
			bool in_path = false;
			for (size_t k = 0; k < n; k++)
				in_path |= path[k] == w->edges[e].from;
			if (w->edges[e].to != path[i] || lock->type != AC_NODE_CO_LOCK ||
			    !lock->co_lock || in_path)
				continue;
			ac_finding_evidence(f, "held across it",
					    ac_evidence_at(AC_ADDRESS(lock->address)),
					    "%s; holder coroutine 0x%" PRIx64, lock->label,
					    lock->co_lock->holder);
		}
	}
}

/*
 * The block layer's tracked requests on the file's node owned by a
 * coroutine of the chain: the request as the block layer sees it.
 */
static void tracked_requests(const struct ac_block_node *b, const struct ac_waits *w,
			     const size_t *path, size_t n, struct ac_finding *f)
{
	for (size_t r = 0; b && r < b->n_requests; r++) {
		const struct ac_tracked_request *t = &b->requests[r];
		bool ours = false;
		for (size_t i = 0; i < n && !ours; i++)
			ours = w->nodes[path[i]].type == AC_NODE_COROUTINE &&
			       w->nodes[path[i]].address == t->co;
		if (ours)
			ac_finding_evidence(f, "tracked request", ac_evidence_at(AC_ADDRESS(t->address)),
					    "%s offset %" PRId64 ", %" PRIu64 " bytes, coroutine 0x%" PRIx64,
					    t->type_name ? t->type_name : "?", t->offset, t->bytes,
					    t->co);
	}
}

/* Of the coroutine locks held by a coroutine of the chain, the one most wait on. */
static const struct ac_co_lock *busiest_held_lock(const struct ac_waits *w, const size_t *path,
						  size_t n)
{
	const struct ac_co_lock *best = NULL;
	for (size_t i = 0; i < n; i++)
		for (size_t e = 0; w->nodes[path[i]].type == AC_NODE_COROUTINE && e < w->n_edges; e++) {
			const struct ac_co_lock *l = w->nodes[w->edges[e].from].co_lock;
			if (w->edges[e].to == path[i] && l && l->n_waiters &&
			    (!best || l->n_waiters > best->n_waiters))
				best = l;
		}
	return best;
}

static void report(struct ac_program *prog, const struct ac_waits *w, size_t index,
		   struct ac_findings *findings)
{
	const struct ac_thread_wait *t = &w->threads.items[index];
	const struct ac_block_node *b = t->aio.node.address ? &t->aio.node : NULL;
	const char *file = b && b->filename && b->filename[0] ? b->filename : NULL;
	char text[256], where[320] = "";
	ac_thread_wait_text(t, text, sizeof(text));
	if (file)
		snprintf(where, sizeof(where), " of %s", file);
	size_t path[MAX_WAITERS];
	size_t n = ac_waits_waiters(w, ac_waits_thread_node(w, index), path, MAX_WAITERS);
	char queued[256] = "";
	const struct ac_co_lock *busiest = busiest_held_lock(w, path, n);
	if (busiest)
		snprintf(queued, sizeof(queued), ", %zu coroutine%s queued behind it on %s %s",
			 busiest->n_waiters, busiest->n_waiters == 1 ? "" : "s",
			 busiest->kind == AC_CO_MUTEX ? "CoMutex" : "CoQueue", busiest->name);
	struct ac_finding *f = ac_findings_add(
		findings, "io-stalled", AC_CONFIDENCE_MEDIUM,
		"%s%s: %s in thread %d, in flight%s; a single core cannot tell stalled from slow",
		t->aio.address ? t->aio.kind : t->io_call, where, text, t->tid, queued);
	if (!f)
		return;
	ac_finding_evidence(f, "system call", ac_evidence_at(.tid = t->tid, .frame = t->frame_text),
			    "%s (from %s)",
			    text, t->args_from ? t->args_from : "?");
	if (t->aio.address)
		ac_finding_evidence(f, "RawPosixAIOData",
				    ac_evidence_at(AC_ADDRESS(t->aio.address)),
				    "%s fd %" PRId64 " offset %" PRId64 " length %" PRIu64,
				    t->aio.kind, t->aio.fd, t->aio.offset, t->aio.length);
	if (b) {
		char in_flight[40] = "";
		if (b->has_in_flight)
			snprintf(in_flight, sizeof(in_flight), ", in_flight %" PRIu64, b->in_flight);
		ac_finding_evidence(f, "file", ac_evidence_at(AC_ADDRESS(b->address)),
				    "%s (block node \"%s\", driver %s%s)",
				    file ? file : "?", b->node_name ? b->node_name : "?",
				    b->driver ? b->driver : "?", in_flight);
	}
	for (size_t i = 0; i < n; i++) {
		const struct ac_wait_node *node = &w->nodes[path[i]];
		const struct ac_co_poll *poll = i ? ac_waits_poll(w, path[i], path[i - 1]) : NULL;
		if (poll) {
			char how[256], frame[160];
			const char *at = ac_frame_text(prog, poll->thread_index, poll->owner_frame,
						       frame, sizeof(frame));
			ac_finding_evidence(f, node_what(node->type),
					    ac_evidence_at(.tid = node->tid, .frame = at),
					    "%s; polls in %s until coroutine 0x%" PRIx64 " is done",
					    node->label, ac_co_poll_text(prog, poll, how, sizeof(how)),
					    poll->coroutine);
			continue;
		}
		ac_finding_evidence(f, node_what(node->type), ac_evidence_at(.has_address = node->type != AC_NODE_THREAD, .address = node->address, .tid = node->tid),
				    "%s", node->label);
	}
	tracked_requests(b, w, path, n, f);
	held_locks(w, path, n, f);
}

void ac_rule_io_stalled(struct ac_program *prog, const struct ac_analysis *a,
			struct ac_findings *findings)
{
	size_t found = 0;
	for (size_t i = 0; i < a->waits.threads.n; i++)
		if (is_file_io(&a->waits.threads.items[i])) {
			report(prog, &a->waits, i, findings);
			found++;
		}
	if (!found)
		ac_findings_checked(findings, "io-stalled: no thread in a file I/O system call");
}
