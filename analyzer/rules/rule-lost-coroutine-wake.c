/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lost-coroutine-wake: coroutines wait on ctx->scheduled_coroutines, but
 * co_schedule_bh, which would enter them, is not scheduled and the home
 * thread sleeps.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "dwarf/dwarf.h"
#include "rule.h"

void ac_rule_lost_coroutine_wake(struct ac_program *prog, const struct ac_analysis *a,
				 struct ac_findings *findings)
{
	for (size_t i = 0; i < a->contexts.n; i++) {
		const struct ac_aio_context *ctx = &a->contexts.items[i];
		if (!ctx->co_schedule_bh)
			continue;
		ac_findings_checked(findings, "lost-coroutine-wake: AioContext 0x%" PRIx64 ": scheduled_coroutines %s",
				    ctx->obj.address, ctx->scheduled_coroutines ? "not empty" : "empty");
		if (!ctx->scheduled_coroutines)
			continue;
		const struct ac_bh *bh = ac_bh_list_find(&a->bhs[i], ctx->co_schedule_bh);
		if (!bh || bh->problem || bh->runnable || !ctx->home_tid || !ctx->sleeping_in_poll)
			continue;
		/* A thread between the push and the BH schedule: legal, transient. */
		long busy = -1;
		size_t busy_thread = 0;
		for (size_t t = 0; t < ac_target_thread_count(prog->target) && busy < 0; t++) {
			const struct ac_backtrace *bt = ac_program_backtrace(prog, t);
			busy = ac_backtrace_find_function(bt, "aio_co_schedule");
			if (busy < 0)
				busy = ac_backtrace_find_function(bt, "co_schedule_bh_cb");
			busy_thread = t;
		}
		if (busy >= 0) {
			ac_findings_checked(findings, "lost-coroutine-wake: AioContext 0x%" PRIx64 ": thread %d is inside %s (mid-schedule)",
					    ctx->obj.address,
					    ac_target_thread(prog->target, busy_thread)->tid,
					    ac_program_backtrace(prog, busy_thread)->frames[busy].function);
			continue;
		}
		struct ac_finding *f = ac_findings_add(findings, "lost-coroutine-wake",
			AC_CONFIDENCE_HIGH,
			"coroutine 0x%" PRIx64 " is scheduled on AioContext 0x%" PRIx64 " but co_schedule_bh is not pending; thread %d sleeps",
			ctx->scheduled_coroutines, ctx->obj.address, ctx->home_tid);
		struct ac_object co;
		uint64_t scheduled = 0, entry = 0, caller = 0;
		char *by = NULL;
		bool has_entry = false;
		struct ac_error *err = ac_object_at(prog, "Coroutine", "qemu_coroutine_enter",
						    ctx->scheduled_coroutines, &co);
		if (!err) {
			struct ac_error *e2 = ac_object_member_uint(prog, &co, "entry", &entry);
			has_entry = !e2;
			if (!e2)
				e2 = ac_object_member_uint(prog, &co, "caller", &caller);
			ac_error_destroy(e2);
		}
		if (!err)
			err = ac_object_member_uint(prog, &co, "scheduled", &scheduled);
		if (!err && scheduled)
			err = ac_target_read_string(prog->target, scheduled, 128, &by);
		ac_error_destroy(err);
		ac_finding_evidence(f, "AioContext.scheduled_coroutines",
				    ac_evidence_at(AC_ADDRESS(ctx->obj.address)),
				    "first 0x%" PRIx64 "%s%s",
				    ctx->scheduled_coroutines, by ? ", scheduled by " : "",
				    by ? by : "");
		free(by);
		if (has_entry) {
			char sym[160];
			ac_finding_evidence(f, "Coroutine.entry",
					    ac_evidence_at(AC_ADDRESS(ctx->scheduled_coroutines)),
					    "%s (caller %s)",
					    ac_program_symbolize(prog, entry, sym, sizeof(sym)),
					    caller ? "set" : "NULL: not running");
		}
		ac_evidence_bh(f, "AioContext.co_schedule_bh", bh);
		ac_evidence_home(prog, f, ctx);
	}
}
