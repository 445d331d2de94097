/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pattern rules: each looks at the analysis and adds findings (with
 * evidence) or says what it checked.  One rule per file, named after its
 * pattern id.
 */
#ifndef AIOCORE_RULES_H
#define AIOCORE_RULES_H

#include "analysis.h"
#include "finding.h"
#include "program.h"

typedef void ac_rule_fn(struct ac_program *prog, const struct ac_analysis *a,
			struct ac_findings *findings);

ac_rule_fn ac_rule_lost_completion;
ac_rule_fn ac_rule_lost_notify;
ac_rule_fn ac_rule_nested_poll;
ac_rule_fn ac_rule_lost_coroutine_wake;
ac_rule_fn ac_rule_iohandler_race;
ac_rule_fn ac_rule_bql_poll_cycle;

/* Evidence helpers shared by the rules. */
void ac_evidence_home(struct ac_program *prog, struct ac_finding *f,
		      const struct ac_aio_context *ctx);
void ac_evidence_bh(struct ac_finding *f, const char *what, const struct ac_bh *bh);

#endif
