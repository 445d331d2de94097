/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * job-stalled: a block job that should be moving (running, not paused; a
 * ready mirror only while it has operations in flight) whose coroutine
 * waits, down the wait-for graph, on something that has not completed: a
 * thread in a system call, a request no worker finished, a lock.  The
 * evidence names the job, its coroutine and that leaf in one line each;
 * when the leaf is a file read or write, io-stalled (which runs before this
 * rule) has its file, fd, offset and request, so they are not repeated
 * here.  One core cannot tell stalled from slow: medium confidence.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule.h"

/* States in which a job's coroutine is expected to make progress. */
static bool should_move(const struct ac_job *j)
{
	if (j->paused)
		return false;
	/* 2.x: no status, its flags say. */
	if (!j->status)
		return j->flags_state && !strcmp(j->flags_state, "running");
	if (!strcmp(j->status, "JOB_STATUS_RUNNING"))
		return true;
	/* A ready mirror copies only what the guest writes: idle is fine. */
	return !strcmp(j->status, "JOB_STATUS_READY") && j->n_ops;
}

/* Rank of a node as the answer to "what does the job wait on". */
static int leaf_rank(const struct ac_wait_node *n)
{
	if (n->type == AC_NODE_THREAD && n->wait && n->wait->kind == AC_WAIT_IO)
		return 5;
	if (n->type == AC_NODE_CONNECTION)
		return 4;
	if (n->type == AC_NODE_LOCK)
		return 3;
	if (n->type == AC_NODE_THREAD && n->wait && n->wait->kind != AC_WAIT_POLL &&
	    n->wait->kind != AC_WAIT_NONE)
		return 2;
	if (n->type == AC_NODE_REQUEST)
		return 1;
	return 0;
}

/*
 * Breadth first from the job: the best-ranked node below it, and the path
 * to it (parent[] indexes).  Returns the node, or -1 when nothing below
 * the job's coroutine waits on anything decoded.
 */
static long find_leaf(const struct ac_waits *w, size_t job, size_t *parent)
{
	size_t *queue = malloc(w->n_nodes * sizeof(*queue));
	unsigned char *seen = calloc(w->n_nodes, 1);
	long best = -1;
	int best_rank = 0;
	if (!queue || !seen)
		goto out;
	size_t head = 0, tail = 0;
	queue[tail++] = job;
	seen[job] = 1;
	while (head < tail) {
		size_t v = queue[head++];
		int rank = leaf_rank(&w->nodes[v]);
		if (rank > best_rank) {
			best_rank = rank;
			best = (long)v;
		}
		for (size_t e = 0; e < w->n_edges; e++) {
			size_t to = w->edges[e].to;
			if (w->edges[e].from != v || seen[to])
				continue;
			seen[to] = 1;
			parent[to] = v;
			queue[tail++] = to;
		}
	}
out:
	free(queue);
	free(seen);
	return best;
}

static long job_node(const struct ac_waits *w, const struct ac_job *j)
{
	for (size_t i = 0; i < w->n_nodes; i++)
		if (w->nodes[i].type == AC_NODE_JOB && w->nodes[i].job == j)
			return (long)i;
	return -1;
}

static void report(const struct ac_waits *w, const struct ac_job *j, size_t job, size_t leaf,
		   const size_t *parent, struct ac_findings *findings)
{
	const struct ac_wait_node *n = &w->nodes[leaf];
	const struct ac_thread_wait *t = n->type == AC_NODE_THREAD ? n->wait : NULL;
	char type[32], status[32], what[320], progress[80] = "";
	if (t)
		ac_thread_wait_text(t, what, sizeof(what));
	else
		snprintf(what, sizeof(what), "%s", n->label);
	const char *file = t && t->aio.node.filename ? t->aio.node.filename : NULL;
	if (j->has_progress)
		snprintf(progress, sizeof(progress), ", progress %" PRIu64 " of %" PRIu64 " bytes",
			 j->current, j->total);
	char thread[32] = "";
	if (t)
		snprintf(thread, sizeof(thread), " in thread %d", t->tid);
	struct ac_finding *f = ac_findings_add(
		findings, "job-stalled", AC_CONFIDENCE_MEDIUM,
		"job \"%s\" (%s, %s%s) waits on %s%s%s%s; a single core cannot tell stalled from slow",
		j->id, ac_job_enum_text(j->type, type, sizeof(type)),
		ac_job_status_text(j, status, sizeof(status)), progress, what,
		file ? " of " : "", file ? file : "", thread);
	if (!f)
		return;
	char flags[64] = "?";
	if (j->flags_state)
		snprintf(flags, sizeof(flags), "%s (no status field: from its flags)", j->flags_state);
	ac_finding_evidence(f, "job", ac_evidence_at(AC_ADDRESS(j->address)),
			    "\"%s\" %s %s%s%s, offset %" PRIu64 " of %" PRIu64, j->id,
			    j->type ? j->type : "?", j->status ? j->status : flags,
			    j->busy ? " busy" : "", j->paused ? " paused" : "", j->current, j->total);
	if (j->co)
		ac_finding_evidence(f, "job coroutine", ac_evidence_at(AC_ADDRESS(j->co)),
				    "%zu operation%s in flight",
				    j->n_ops, j->n_ops == 1 ? "" : "s");
	/* The path from the job's coroutine down to the leaf, nearest first. */
	size_t path[16], n_path = 0;
	for (size_t at = parent[leaf]; at != job && n_path < 16; at = parent[at])
		path[n_path++] = at;
	for (size_t i = n_path; i-- > 0;) {
		const struct ac_wait_node *p = &w->nodes[path[i]];
		if (p->type == AC_NODE_COROUTINE && p->address == j->co)
			continue;
		ac_finding_evidence(f, "waits for",
				    ac_evidence_at(.has_address = p->type != AC_NODE_THREAD,
				                   .address = p->address, .tid = p->tid),
				    "%s", p->label);
	}
	if (t)
		ac_finding_evidence(f, "leaf",
				    ac_evidence_at(.tid = t->tid, .frame = t->frame_text),
				    "%s%s", what,
				    t->kind == AC_WAIT_IO
				    ? " (io-stalled has its file, fd and request)" : "");
	else
		ac_finding_evidence(f, "leaf",
				    ac_evidence_at(.has_address = n->type != AC_NODE_THREAD, .address = n->address),
				    "%s",
				    n->label);
}

void ac_rule_job_stalled(struct ac_program *prog, const struct ac_analysis *a,
			 struct ac_findings *findings)
{
	const struct ac_waits *w = &a->waits;
	size_t *parent = calloc(w->n_nodes ? w->n_nodes : 1, sizeof(*parent));
	size_t moving = 0, found = 0;
	(void)prog;
	for (size_t i = 0; parent && i < a->jobs.n; i++) {
		const struct ac_job *j = &a->jobs.items[i];
		long job = job_node(w, j);
		if (!should_move(j) || job < 0)
			continue;
		moving++;
		long leaf = find_leaf(w, (size_t)job, parent);
		if (leaf < 0)
			continue;
		report(w, j, (size_t)job, (size_t)leaf, parent, findings);
		found++;
	}
	free(parent);
	/* No job, no line: programs without jobs (qemu-img, the runtime). */
	if (a->jobs.n && !found)
		ac_findings_checked(findings, "job-stalled: %zu job%s, %zu running, none waits on a stuck leaf",
				    a->jobs.n, a->jobs.n == 1 ? "" : "s", moving);
}
