/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nested-poll (3c80ca158c96): a completion callback polls, nested inside
 * thread_pool_completion_bh, for a request that is already THREAD_DONE but
 * whose completion needs the very BH that is running and not rescheduled.
 */
#include <inttypes.h>
#include <stdio.h>

#include "rule.h"

void ac_rule_nested_poll(struct ac_program *prog, const struct ac_analysis *a,
			 struct ac_findings *findings)
{
	size_t n_threads = ac_target_thread_count(prog->target);
	for (size_t t = 0; t < n_threads; t++) {
		const struct ac_backtrace *bt = ac_program_backtrace(prog, t);
		long poll = ac_backtrace_find_function(bt, "aio_poll");
		long bh = ac_backtrace_find_function(bt, "thread_pool_completion_bh");
		if (poll < 0 || bh < 0 || poll > bh)
			continue;
		const struct ac_thread *thread = ac_target_thread(prog->target, t);
		ac_findings_checked(findings, "nested-poll: thread %d polls inside thread_pool_completion_bh",
				    thread->tid);
		for (size_t i = 0; i < a->contexts.n; i++) {
			const struct ac_thread_pool *pool = &a->pools[i];
			if (!pool->address)
				continue;
			const struct ac_bh *cbh = ac_bh_list_find(&a->bhs[i], pool->completion_bh);
			const struct ac_pool_element *done = NULL;
			for (size_t e = 0; e < pool->n_elements && !done; e++)
				if (pool->elements[e].done)
					done = &pool->elements[e];
			if (!done || !cbh || cbh->runnable)
				continue;
			char poll_frame[128];
			ac_frame_text(prog, t, poll, poll_frame, sizeof(poll_frame));
			struct ac_finding *f = ac_findings_add(findings, "nested-poll",
				AC_CONFIDENCE_HIGH,
				"thread %d polls inside thread_pool_completion_bh for a request that is THREAD_DONE, but the completion BH is not scheduled again",
				thread->tid);
			ac_finding_evidence(f, "nested aio_poll",
					    ac_evidence_at(.tid = thread->tid, .frame = poll_frame),
					    "under thread_pool_completion_bh (#%ld)", bh);
			ac_finding_evidence(f, "ThreadPoolElement.state",
					    ac_evidence_at(AC_ADDRESS(done->address)),
					    "%s (%s request)", done->state_name ? done->state_name : "?",
					    done->kind);
			ac_evidence_bh(f, "ThreadPool.completion_bh", cbh);
		}
	}
}
