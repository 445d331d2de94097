/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lost-completion (e8d3b1a25f28): a request is THREAD_DONE, yet the pool's
 * completion BH is not scheduled and nobody is about to run it: the home
 * thread sleeps in poll, every worker waits idle.
 */
#include <inttypes.h>
#include <stdio.h>

#include "rule.h"

void ac_rule_lost_completion(struct ac_program *prog, const struct ac_analysis *a,
			     struct ac_findings *findings)
{
	for (size_t i = 0; i < a->contexts.n; i++) {
		const struct ac_thread_pool *pool = &a->pools[i];
		const struct ac_aio_context *ctx = &a->contexts.items[i];
		if (!pool->address)
			continue;
		size_t done = 0;
		for (size_t e = 0; e < pool->n_elements; e++)
			done += pool->elements[e].done;
		ac_findings_checked(findings, "lost-completion: %s 0x%" PRIx64 ": %zu request%s, %zu THREAD_DONE",
				    pool->type_name, pool->address, pool->n_elements,
				    pool->n_elements == 1 ? "" : "s", done);
		if (!done)
			continue;
		const struct ac_bh *bh = ac_bh_list_find(&a->bhs[i], pool->completion_bh);
		if (!bh || bh->problem || bh->runnable)
			continue;  /* scheduled: the completion is on its way */
		if (!ctx->home_tid || !ctx->sleeping_in_poll)
			continue;  /* the home thread is busy: maybe completing now */
		const struct ac_backtrace *bt = ac_program_backtrace(prog, ctx->home_thread_index);
		if (ac_backtrace_find_function(bt, "thread_pool_completion_bh") >= 0)
			continue;  /* that is nested-poll's business */
		size_t idle, workers = ac_analysis_workers(prog, &idle);
		if (idle < workers) {
			ac_findings_checked(findings, "lost-completion: %zu of %zu workers busy: a completion may be in flight",
					    workers - idle, workers);
			continue;
		}
		struct ac_finding *f = ac_findings_add(findings, "lost-completion",
			AC_CONFIDENCE_HIGH,
			"%zu request%s THREAD_DONE on %s 0x%" PRIx64 " but its completion BH is not scheduled; thread %d sleeps in %s and never runs it",
			done, done == 1 ? " is" : "s are", pool->type_name, pool->address,
			ctx->home_tid, ctx->blocked_in ? ctx->blocked_in : "poll");
		for (size_t e = 0; e < pool->n_elements; e++) {
			const struct ac_pool_element *el = &pool->elements[e];
			if (!el->done)
				continue;
			ac_finding_evidence(f, "ThreadPoolElement.state",
					    ac_evidence_at(AC_ADDRESS(el->address)),
					    "%s (%" PRId64 ")", el->state_name ? el->state_name : "?",
					    el->state);
			ac_finding_evidence(f, "ThreadPoolElement.func",
					    ac_evidence_at(AC_ADDRESS(el->address)),
					    "%s (%s request, ret %" PRId64 ")", el->func_name,
					    el->kind, el->ret);
			if (el->coroutine)
				ac_finding_evidence(f, "waiting coroutine",
						    ac_evidence_at(AC_ADDRESS(el->coroutine)),
						    "entry %s", el->co_entry_name ? el->co_entry_name : "?");
		}
		ac_evidence_bh(f, "ThreadPool.completion_bh", bh);
		ac_evidence_home(prog, f, ctx);
		ac_finding_evidence(f, "pool workers", ac_evidence_at(),
				    "%zu, all idle waiting for work", workers);
	}
}
