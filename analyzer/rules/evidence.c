/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Evidence lines more than one rule prints. */
#include <stdio.h>

#include "evidence.h"

void ac_evidence_home(struct ac_program *prog, struct ac_finding *f,
		      const struct ac_aio_context *ctx)
{
	char frame[160];
	if (!ctx->home_tid) {
		ac_finding_evidence(f, "home thread", ac_evidence_at(),
				    "unknown (no thread could be tied to this AioContext)");
		return;
	}
	ac_frame_text(prog, ctx->home_thread_index, ctx->anchor_frame, frame, sizeof(frame));
	ac_finding_evidence(f, "home thread",
			    ac_evidence_at(.tid = ctx->home_tid, .frame = ctx->anchor_frame >= 0 ? frame : NULL),
			    "%s in %s (%s)",
			    ctx->sleeping_in_poll ? "asleep" : "running",
			    ctx->blocked_in ? ctx->blocked_in : "?", ctx->home_how);
}

void ac_evidence_bh(struct ac_finding *f, const char *what, const struct ac_bh *bh)
{
	char flags[96], name[160] = "";
	if (bh->name)
		snprintf(name, sizeof(name), "\"%s\" ", bh->name);
	ac_finding_evidence(f, what, ac_evidence_at(AC_ADDRESS(bh->address)),
			    "%scb=%s [%s] %s", name,
			    bh->cb_name ? bh->cb_name : "?",
			    ac_bh_flags_text(bh, flags, sizeof(flags)),
			    bh->runnable ? "runnable" : "not scheduled");
}
