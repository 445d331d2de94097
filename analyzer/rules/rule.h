/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pattern rules: each looks at the analysis and adds findings (with
 * evidence) or says what it checked.  One rule per file, named after its
 * pattern id; diagnose.c runs them in the order of its table.
 */
#ifndef AIOCORE_RULE_H
#define AIOCORE_RULE_H

#include "dwarf/dwarf.h"
#include "qemu/qemu.h"
#include "finding.h"
#include "evidence.h"

typedef void ac_rule_fn(struct ac_program *prog, const struct ac_analysis *a,
			struct ac_findings *findings);

ac_rule_fn ac_rule_lost_completion;
ac_rule_fn ac_rule_lost_notify;
ac_rule_fn ac_rule_nested_poll;
ac_rule_fn ac_rule_lost_coroutine_wake;
ac_rule_fn ac_rule_iohandler_race;
ac_rule_fn ac_rule_bql_poll_cycle;
/*
 * A waiter asleep on EV_BUSY, its condition already true, and nobody about
 * to set the event.  prog may be NULL (it is only used to symbolize).
 */
ac_rule_fn ac_rule_event_lost_wakeup;
/* NBD client requests in flight, their coroutines parked on replies. */
ac_rule_fn ac_rule_remote_not_answering;
/* Threads waiting for each other's mutexes, by the owners read in memory. */
ac_rule_fn ac_rule_lock_cycle;
/* A file I/O syscall in flight and the chain of waiters above it (medium). */
ac_rule_fn ac_rule_io_stalled;
/* A drain loop waiting for nodes with requests in flight (medium). */
ac_rule_fn ac_rule_drain_wait;
/* A running block job whose coroutine waits on a stuck leaf (medium). */
ac_rule_fn ac_rule_job_stalled;

#endif
