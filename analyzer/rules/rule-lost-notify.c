/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lost-notify (5710a3e09f9b): a BH is runnable on a context whose home
 * thread sleeps in poll, and no wakeup is on its way (notified == false, no
 * thread inside qemu_bh_schedule/aio_notify).
 */
#include <inttypes.h>
#include <stdio.h>

#include "rule.h"

static bool someone_notifying(struct ac_program *prog)
{
	static const char *const functions[] = { "qemu_bh_schedule", "aio_notify",
						 "aio_bh_enqueue", "event_notifier_set" };
	for (size_t t = 0; t < ac_target_thread_count(prog->target); t++) {
		const struct ac_backtrace *bt = ac_program_backtrace(prog, t);
		for (size_t i = 0; i < sizeof(functions) / sizeof(functions[0]); i++)
			if (ac_backtrace_find_function(bt, functions[i]) >= 0)
				return true;
	}
	return false;
}

void ac_rule_lost_notify(struct ac_program *prog, const struct ac_analysis *a,
			 struct ac_findings *findings)
{
	for (size_t i = 0; i < a->contexts.n; i++) {
		const struct ac_aio_context *ctx = &a->contexts.items[i];
		const struct ac_bh_list *bhs = &a->bhs[i];
		size_t runnable = 0;
		for (size_t b = 0; b < bhs->n; b++)
			runnable += bhs->items[b].runnable && !bhs->items[b].problem;
		/*
		 * 2.1 (dispatching, no notify_me): aio_notify() kicks the eventfd
		 * whenever !dispatching, so a runnable BH beside a sleeper is a kick
		 * still in flight, not a lost one.
		 */
		bool kicks_always = ctx->has_dispatching && !ctx->has_notify_me &&
				    !ctx->dispatching;
		ac_findings_checked(findings, "lost-notify: AioContext 0x%" PRIx64 ": %zu runnable BH%s, home thread %s%s",
				    ctx->obj.address, runnable, runnable == 1 ? "" : "s",
				    !ctx->home_tid ? "unknown"
				    : ctx->sleeping_in_poll ? "asleep in poll" : "running",
				    kicks_always ? ", dispatching false (every aio_notify() kicks)" : "");
		if (!runnable || !ctx->home_tid || !ctx->sleeping_in_poll || kicks_always)
			continue;
		if (ctx->has_notified && ctx->notified)
			continue;  /* the eventfd was kicked: the wakeup is pending */
		if (someone_notifying(prog))
			continue;
		struct ac_finding *f = ac_findings_add(findings, "lost-notify",
			ctx->has_notified ? AC_CONFIDENCE_HIGH : AC_CONFIDENCE_MEDIUM,
			"%zu BH%s runnable on AioContext 0x%" PRIx64 " but thread %d sleeps in %s: the aio_notify() wakeup was lost",
			runnable, runnable == 1 ? " is" : "s are", ctx->obj.address,
			ctx->home_tid, ctx->blocked_in ? ctx->blocked_in : "poll");
		for (size_t b = 0; b < bhs->n; b++)
			if (bhs->items[b].runnable && !bhs->items[b].problem)
				ac_evidence_bh(f, "runnable BH", &bhs->items[b]);
		if (ctx->has_notified)
			ac_finding_evidence(f, "AioContext.notified", true, ctx->obj.address, 0, NULL,
					    "false (no wakeup pending)");
		if (ctx->has_notify_me)
			ac_finding_evidence(f, "AioContext.notify_me", true, ctx->obj.address, 0, NULL,
					    "%" PRIu32 " (glib prepare bit %s, %" PRIu32 " blocking aio_poll)",
					    ctx->notify_me, ctx->notify_me & 1 ? "set" : "clear",
					    ctx->notify_me >> 1);
		/* 2.1: aio_notify() skipped the eventfd while it slept. */
		if (ctx->has_dispatching && ctx->dispatching)
			ac_finding_evidence(f, "AioContext.dispatching", true, ctx->obj.address, 0, NULL,
					    "true (aio_notify() skips the eventfd, yet the thread sleeps)");
		ac_evidence_home(prog, f, ctx);
	}
}
