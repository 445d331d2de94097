/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * drain-wait: a thread sits in a drain loop (aio_poll called from
 * bdrv_drained_begin, bdrv_drain_all_begin, blk_drain, ...: drain.h) while
 * the nodes it drains have requests in flight.  The loop ends only when
 * their in_flight drops to 0 (2.1, without in_flight: no tracked request
 * left), so everything the thread would do next (the
 * main loop, the monitor, the guest's vCPUs under the BQL) waits for those
 * requests.  Evidence: the thread and its drain frame, each node with
 * in_flight and quiesce_counter, and where the requests are (tracked
 * requests with their coroutines, workers in a system call on the node,
 * jobs asked to pause).  One core cannot tell stalled from slow: medium.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "rule.h"

/* Tracked requests listed per node; the rest are counted. */
#define MAX_REQUESTS 8

static bool waited_on(const struct ac_drain *d, const struct ac_block_node *b)
{
	return ac_block_node_pending(b) && (!d->bs || d->bs == b->address);
}

static void node_evidence(struct ac_finding *f, const struct ac_analysis *a,
			  const struct ac_block_node *b)
{
	char quiesce[48] = "";
	if (b->has_quiesce_counter)
		snprintf(quiesce, sizeof(quiesce), ", quiesce_counter %" PRIu64, b->quiesce_counter);
	char pending[64];
	if (b->has_in_flight)
		snprintf(pending, sizeof(pending), "in_flight %" PRIu64, b->in_flight);
	else
		snprintf(pending, sizeof(pending), "%zu tracked request%s (no in_flight field)",
			 b->n_requests, b->n_requests == 1 ? "" : "s");
	ac_finding_evidence(f, "block node", ac_evidence_at(AC_ADDRESS(b->address)),
			    "\"%s\" (%s %s) %s%s",
			    b->node_name ? b->node_name : "?", b->driver ? b->driver : "?",
			    b->filename ? b->filename : "?", pending, quiesce);
	for (size_t r = 0; r < b->n_requests && r < MAX_REQUESTS; r++) {
		const struct ac_tracked_request *t = &b->requests[r];
		ac_finding_evidence(f, "tracked request", ac_evidence_at(AC_ADDRESS(t->address)),
				    "%s offset %" PRId64 " bytes %" PRIu64 ", coroutine 0x%" PRIx64,
				    t->type_name ? t->type_name : "?", t->offset, t->bytes, t->co);
	}
	if (b->n_requests > MAX_REQUESTS)
		ac_finding_evidence(f, "tracked requests", ac_evidence_at(), "%zu more",
				    b->n_requests - MAX_REQUESTS);
	for (size_t i = 0; i < a->waits.threads.n; i++) {
		const struct ac_thread_wait *t = &a->waits.threads.items[i];
		char text[256];
		if (t->aio.address && t->aio.node.address == b->address && t->kind == AC_WAIT_IO)
			ac_finding_evidence(f, "worker",
					    ac_evidence_at(.tid = t->tid, .frame = t->frame_text),
					    "%s",
					    ac_thread_wait_text(t, text, sizeof(text)));
	}
}

static void report(struct ac_program *prog, const struct ac_analysis *a, const struct ac_drain *d,
		   struct ac_findings *findings)
{
	const struct ac_thread_wait *t = &a->waits.threads.items[d->thread_index];
	const struct ac_block_node *first = NULL;
	uint64_t in_flight = 0;
	size_t n_nodes = 0;
	for (size_t k = 0; k < a->blocks.n_nodes; k++)
		if (waited_on(d, &a->blocks.nodes[k])) {
			first = first ? first : &a->blocks.nodes[k];
			in_flight += ac_block_node_pending(&a->blocks.nodes[k]);
			n_nodes++;
		}
	if (!first)
		return;
	char name[128], caller[128] = "", frame[160], poll[160], text[256];
	const struct ac_backtrace *bt = ac_program_backtrace(prog, d->thread_index);
	ac_symbol_base_name(d->function, name, sizeof(name));
	if (bt && d->caller_frame >= 0 && bt->frames[d->caller_frame].function)
		ac_symbol_base_name(bt->frames[d->caller_frame].function, caller, sizeof(caller));
	char where[160];
	if (n_nodes == 1)
		snprintf(where, sizeof(where), "block node \"%s\"",
			 first->node_name ? first->node_name : "?");
	else
		snprintf(where, sizeof(where), "%zu block nodes", n_nodes);
	struct ac_finding *f = ac_findings_add(
		findings, "drain-wait", AC_CONFIDENCE_MEDIUM,
		"thread %d in %s%s%s%s waits for %" PRIu64 " request%s in flight on %s; a single core cannot tell stalled from slow",
		t->tid, name, caller[0] ? " (from " : "", caller[0] ? caller : "", caller[0] ? ")" : "",
		in_flight, in_flight == 1 ? "" : "s", where);
	if (!f)
		return;
	ac_frame_text(prog, d->thread_index, d->drain_frame, frame, sizeof(frame));
	ac_frame_text(prog, d->thread_index, d->poll_frame, poll, sizeof(poll));
	ac_finding_evidence(f, "draining thread", ac_evidence_at(.tid = t->tid, .frame = frame),
			    "%s%s%s", name,
			    caller[0] ? " called from " : "", caller);
	ac_finding_evidence(f, "polling", ac_evidence_at(.tid = t->tid, .frame = poll), "%s",
			    ac_thread_wait_text(t, text, sizeof(text)));
	for (size_t k = 0; k < a->blocks.n_nodes; k++)
		if (waited_on(d, &a->blocks.nodes[k]))
			node_evidence(f, a, &a->blocks.nodes[k]);
	/* A drain pauses the jobs on the node; one not yet paused still works. */
	for (size_t i = 0; i < a->jobs.n; i++) {
		const struct ac_job *j = &a->jobs.items[i];
		if (j->pause_count && !j->paused)
			ac_finding_evidence(f, "job", ac_evidence_at(AC_ADDRESS(j->address)),
					    "\"%s\" %s, pause requested (pause_count %" PRIu64 ") but not paused",
					    j->id, j->status ? j->status : "?", j->pause_count);
	}
}

/* A high-confidence finding of an earlier rule about this thread (nested-poll's
 * drain inside a completion BH): that one tells the story. */
static const struct ac_finding *explained(const struct ac_findings *findings, pid_t tid)
{
	for (size_t i = 0; i < findings->n; i++) {
		const struct ac_finding *f = &findings->items[i];
		for (size_t k = 0; f->confidence == AC_CONFIDENCE_HIGH && k < f->n_evidence; k++)
			if (f->evidence[k].tid == tid)
				return f;
	}
	return NULL;
}

void ac_rule_drain_wait(struct ac_program *prog, const struct ac_analysis *a,
			struct ac_findings *findings)
{
	size_t before = findings->n, n_explained = 0;
	for (size_t i = 0; i < a->n_drains; i++) {
		if (a->drains[i].thread_index >= a->waits.threads.n)
			continue;
		pid_t tid = a->waits.threads.items[a->drains[i].thread_index].tid;
		const struct ac_finding *f = explained(findings, tid);
		if (f) {
			ac_findings_checked(findings, "drain-wait: thread %d's drain loop is in the %s finding",
					    tid, f->pattern->id);
			n_explained++;
		} else {
			report(prog, a, &a->drains[i], findings);
		}
	}
	/* Silent without drains: the runtime's cores and their golden output. */
	if (a->n_drains > n_explained && findings->n == before)
		ac_findings_checked(findings, "drain-wait: %zu thread%s in a drain loop, no node it drains has requests in flight",
				    a->n_drains, a->n_drains == 1 ? "" : "s");
}
