/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "util/util.h"

const char *ac_confidence_name(enum ac_confidence c)
{
	switch (c) {
	case AC_CONFIDENCE_LOW: return "low";
	case AC_CONFIDENCE_MEDIUM: return "medium";
	case AC_CONFIDENCE_HIGH: return "high";
	}
	return "?";
}

struct ac_finding *ac_findings_add(struct ac_findings *findings,
				   const char *pattern_id,
				   enum ac_confidence confidence,
				   const char *summary_fmt, ...)
{
	const struct ac_pattern *pattern = ac_pattern_find(pattern_id);
	if (!pattern)
		return NULL;
	struct ac_finding *f = ac_array_slot(findings->items, findings->n);
	if (!f)
		return NULL;
	va_list ap;
	va_start(ap, summary_fmt);
	int n = vasprintf(&f->summary, summary_fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	f->pattern = pattern;
	f->confidence = confidence;
	findings->n++;
	return f;
}

void ac_finding_evidence(struct ac_finding *finding, const char *what,
			 struct ac_evidence_where where, const char *value_fmt, ...)
{
	const char *frame = where.frame;
	if (!finding)
		return;
	struct ac_evidence *e = ac_array_slot(finding->evidence, finding->n_evidence);
	if (!e)
		return;
	va_list ap;
	va_start(ap, value_fmt);
	int n = vasprintf(&e->value, value_fmt, ap);
	va_end(ap);
	e->what = strdup(what);
	e->frame = frame ? strdup(frame) : NULL;
	if (n < 0 || !e->what || (frame && !e->frame)) {
		free(e->what);
		free(e->frame);
		if (n >= 0)
			free(e->value);
		return;
	}
	e->has_address = where.has_address;
	e->address = where.address;
	e->tid = where.tid;
	finding->n_evidence++;
}

void ac_findings_checked(struct ac_findings *findings, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ac_strings_vappendf(&findings->checked, &findings->n_checked, fmt, ap);
	va_end(ap);
}

static int by_confidence(const struct ac_finding *x, const struct ac_finding *y)
{
	return (int)y->confidence - (int)x->confidence;
}

void ac_findings_sort(struct ac_findings *findings)
{
	/* Stable: among equals, the rules' order decides. */
	for (size_t i = 1; i < findings->n; i++)
		for (size_t j = i; j > 0 && by_confidence(&findings->items[j - 1],
							  &findings->items[j]) > 0; j--) {
			struct ac_finding tmp = findings->items[j];
			findings->items[j] = findings->items[j - 1];
			findings->items[j - 1] = tmp;
		}
}

void ac_findings_deinit(struct ac_findings *findings)
{
	for (size_t i = 0; i < findings->n; i++) {
		struct ac_finding *f = &findings->items[i];
		for (size_t j = 0; j < f->n_evidence; j++) {
			free(f->evidence[j].what);
			free(f->evidence[j].value);
			free(f->evidence[j].frame);
		}
		free(f->evidence);
		free(f->summary);
	}
	free(findings->items);
	ac_strings_free(&findings->checked, &findings->n_checked);
	*findings = (struct ac_findings){ 0 };
}

bool ac_findings_hang_named(const struct ac_findings *findings)
{
	for (size_t i = 0; i < findings->n; i++)
		if (findings->items[i].confidence == AC_CONFIDENCE_HIGH)
			return true;
	return false;
}
