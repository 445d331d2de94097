/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lost-coroutine-wake: coroutines wait on ctx->scheduled_coroutines, but
 * co_schedule_bh, which would enter them, is not scheduled and the home
 * thread sleeps.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "object.h"
#include "rules.h"

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
		struct ac_finding *f = ac_findings_add(findings, "lost-coroutine-wake",
			AC_CONFIDENCE_HIGH,
			"coroutine 0x%" PRIx64 " is scheduled on AioContext 0x%" PRIx64 " but co_schedule_bh is not pending; thread %d sleeps",
			ctx->scheduled_coroutines, ctx->obj.address, ctx->home_tid);
		struct ac_object co;
		uint64_t scheduled = 0;
		char *by = NULL;
		struct ac_error *err = ac_object_at(prog, "Coroutine", "qemu_coroutine_enter",
						    ctx->scheduled_coroutines, &co);
		if (!err)
			err = ac_object_member_uint(prog, &co, "scheduled", &scheduled);
		if (!err && scheduled)
			err = ac_target_read_string(prog->target, scheduled, 128, &by);
		ac_error_destroy(err);
		ac_finding_evidence(f, "AioContext.scheduled_coroutines", true,
				    ctx->obj.address, 0, NULL, "first 0x%" PRIx64 "%s%s",
				    ctx->scheduled_coroutines, by ? ", scheduled by " : "",
				    by ? by : "");
		free(by);
		ac_evidence_bh(f, "AioContext.co_schedule_bh", bh);
		ac_evidence_home(prog, f, ctx);
	}
}
