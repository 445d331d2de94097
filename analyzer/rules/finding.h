/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Findings: what a pattern rule concludes, with the evidence that supports
 * it, as lines "what = value @address (thread, frame)".  The pattern table
 * (pattern.c) holds what never changes per core: the upstream fix, the
 * affected versions, the doc page and the reproduce command.
 */
#ifndef AIOCORE_FINDING_H
#define AIOCORE_FINDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pattern.h"

enum ac_confidence {
	AC_CONFIDENCE_LOW,
	AC_CONFIDENCE_MEDIUM,
	AC_CONFIDENCE_HIGH,
};

struct ac_evidence {
	char *what;               /* "ThreadPoolElement.state" */
	char *value;              /* "THREAD_DONE" */
	bool has_address;
	uint64_t address;
	pid_t tid;                /* 0 when not about a thread */
	char *frame;              /* "#3 aio_poll", NULL if none */
};

struct ac_finding {
	const struct ac_pattern *pattern;
	enum ac_confidence confidence;
	char *summary;
	struct ac_evidence *evidence;
	size_t n_evidence;
};

struct ac_findings {
	struct ac_finding *items;
	size_t n;
	char **checked;           /* what the rules looked at, for a clean bill */
	size_t n_checked;
};

const char *ac_confidence_name(enum ac_confidence c);

/* Adds a finding; returns it so evidence can be added, NULL on no memory. */
struct ac_finding *ac_findings_add(struct ac_findings *findings,
				   const char *pattern_id,
				   enum ac_confidence confidence,
				   const char *summary_fmt, ...)
	__attribute__((format(printf, 4, 5)));
/*
 * Where a piece of evidence was read; every field may be left out:
 *   ac_evidence_at(AC_ADDRESS(el->address))
 *   ac_evidence_at(.tid = t->tid, .frame = "#2 aio_poll")
 *   ac_evidence_at()                      (a count, a time, a summary)
 */
struct ac_evidence_where {
	bool has_address;
	uint64_t address;
	pid_t tid;                /* 0: not about a thread */
	const char *frame;        /* NULL: none */
};
#define ac_evidence_at(...) ((struct ac_evidence_where){ __VA_ARGS__ })
#define AC_ADDRESS(a) .has_address = true, .address = (a)

void ac_finding_evidence(struct ac_finding *finding, const char *what,
			 struct ac_evidence_where where, const char *value_fmt, ...)
	__attribute__((format(printf, 4, 5)));
void ac_findings_checked(struct ac_findings *findings, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Most confident first; stable, so among equals the rules' order decides. */
void ac_findings_sort(struct ac_findings *findings);
void ac_findings_deinit(struct ac_findings *findings);
/* A hang cause named with high confidence: what exit code 3 means. */
bool ac_findings_hang_named(const struct ac_findings *findings);

#endif
