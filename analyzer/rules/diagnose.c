/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diagnose.h"
#include "rule.h"

static ac_rule_fn *const rules[] = {
	ac_rule_lost_completion,
	ac_rule_lost_notify,
	ac_rule_nested_poll,
	ac_rule_lost_coroutine_wake,
	ac_rule_iohandler_race,
	ac_rule_bql_poll_cycle,
	ac_rule_lock_cycle,
	ac_rule_event_lost_wakeup,
	ac_rule_remote_not_answering,
	ac_rule_io_stalled,
	/* After io-stalled: the leaf's verdict first, the story above it next. */
	ac_rule_drain_wait,
	ac_rule_job_stalled,
};

struct ac_error *ac_diagnose(struct ac_program *prog, struct ac_analysis *a,
			     struct ac_findings *findings)
{
	struct ac_error *err = ac_analysis_build(prog, a);
	if (err)
		return err;
	*findings = (struct ac_findings){ 0 };
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		rules[i](prog, a, findings);
	ac_findings_sort(findings);
	return NULL;
}

char *ac_diagnose_signature(const struct ac_analysis *a,
			    const struct ac_findings *findings)
{
	(void)a;
	if (!findings->n)
		return strdup("none");
	const struct ac_finding *f = &findings->items[0];
	/* The sleeping thread's frames, as its evidence names them. */
	const char *where = NULL;
	for (size_t i = 0; i < f->n_evidence && !where; i++)
		if (f->evidence[i].tid && f->evidence[i].frame)
			where = f->evidence[i].frame;
	/* "#2 main_loop_wait": the frame number differs between builds. */
	if (where && where[0] == '#' && strchr(where, ' '))
		where = strchr(where, ' ') + 1;
	char *sig;
	if (asprintf(&sig, "%s%s%s", f->pattern->id, where ? " @ " : "",
		     where ? where : "") < 0)
		return NULL;
	return sig;
}
