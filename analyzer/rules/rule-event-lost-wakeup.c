/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * event-lost-wakeup: a waiter asleep on EV_BUSY while the condition the
 * event guards already holds (rcu_call_count > 0 for rcu_call_ready_event),
 * and nobody is about to set it.  Before the QEMU 8.0 QemuEvent barrier
 * series, qemu_event_set() could read a stale EV_SET and skip the wake
 * while qemu_event_reset() and the waiter's re-check of its condition
 * were reordered.  EV_BUSY alone is the normal idle state: never flagged.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "rule.h"

static void waiter_frame(const struct ac_event_waiter *w, char *buf, size_t size)
{
	snprintf(buf, size, "#%zu qemu_event_wait", w->frame_index);
}

void ac_rule_event_lost_wakeup(struct ac_program *prog, const struct ac_analysis *a,
			       struct ac_findings *findings)
{
	(void)prog;
	const struct ac_event_list *events = &a->events;
	for (size_t i = 0; i < events->n; i++) {
		const struct ac_qemu_event *ev = &events->items[i];
		const struct ac_event_waiter *asleep = NULL;
		for (size_t k = 0; k < ev->n_waiters && !asleep; k++)
			if (ev->waiters[k].in_futex)
				asleep = &ev->waiters[k];
		if (!ev->condition) {
			ac_findings_checked(findings, "QemuEvent %s: %s, %zu waiter%s (no condition decoded)",
					    ev->name, ev->state, ev->n_waiters,
					    ev->n_waiters == 1 ? "" : "s");
			continue;
		}
		/* EV_BUSY alone is the normal "a waiter sleeps" state. */
		if (ev->value != AC_EV_BUSY || !asleep || !ev->condition_holds || ev->setter_tid) {
			const char *why = ev->value != AC_EV_BUSY ? "not EV_BUSY"
					: !asleep ? "no waiter asleep in the futex"
					: !ev->condition_holds ? "sleeping is correct"
					: "a set is in flight";
			ac_findings_checked(findings, "QemuEvent %s: %s, %zu waiter%s, %s: %s",
					    ev->name, ev->state, ev->n_waiters,
					    ev->n_waiters == 1 ? "" : "s", ev->condition, why);
			continue;
		}
		/* A waiter whose `ev` we read is certain; an inferred one less so. */
		struct ac_finding *f = ac_findings_add(findings, "event-lost-wakeup",
			asleep->inferred ? AC_CONFIDENCE_MEDIUM : AC_CONFIDENCE_HIGH,
			"thread %d sleeps on %s (EV_BUSY) although %s: the qemu_event_set() that should have woken it was lost",
			asleep->tid, ev->name, ev->condition);
		if (!f)
			return;
		char what[160], frame[64];
		snprintf(what, sizeof(what), "%s.value", ev->name);
		ac_finding_evidence(f, what, ac_evidence_at(AC_ADDRESS(ev->address)),
				    "%" PRIu32 " (EV_BUSY)", ev->value);
		if (ev->has_initialized) {
			snprintf(what, sizeof(what), "%s.initialized", ev->name);
			ac_finding_evidence(f, what, ac_evidence_at(), "%s",
					    ev->initialized ? "true" : "false");
		}
		const char *eq = strstr(ev->condition, " = ");
		if (eq) {
			snprintf(what, sizeof(what), "%.*s", (int)(eq - ev->condition), ev->condition);
			ac_finding_evidence(f, what,
					    ac_evidence_at(.has_address = ev->has_condition_address, .address = ev->condition_address),
					    "%s", eq + 3);
		} else {
			ac_finding_evidence(f, "condition", ac_evidence_at(), "%s", ev->condition);
		}
		for (size_t k = 0; k < ev->n_waiters; k++) {
			const struct ac_event_waiter *w = &ev->waiters[k];
			waiter_frame(w, frame, sizeof(frame));
			ac_finding_evidence(f, "waiter",
					    ac_evidence_at(.tid = w->tid, .frame = frame),
					    "thread %d in qemu_event_wait (#%zu)%s%s%s", w->tid,
					    w->frame_index, w->in_futex ? ", asleep in the futex" : "",
					    w->inferred ? ", event inferred from " : "",
					    w->inferred ? (w->inferred_from ? w->inferred_from : "its caller") : "");
		}
	}
}
