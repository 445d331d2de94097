/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running every pattern rule over a program: the findings behind
 * `aiocore diagnose`, shared by its view and by batch triage.
 */
#ifndef AIOCORE_DIAGNOSE_H
#define AIOCORE_DIAGNOSE_H

#include "qemu/qemu.h"
#include "finding.h"
#include "dwarf/dwarf.h"

/* Builds the analysis into *a and the findings, most confident first. */
struct ac_error *ac_diagnose(struct ac_program *prog, struct ac_analysis *a,
			     struct ac_findings *findings);

/*
 * A short signature grouping cores that hang the same way: the pattern id
 * and the frames where its thread sleeps ("lost-completion: ppoll <-
 * main_loop_wait"), or "none".  malloc'd.
 */
char *ac_diagnose_signature(const struct ac_analysis *a,
			    const struct ac_findings *findings);

#endif
