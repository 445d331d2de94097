/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"

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
	struct ac_finding *grown = realloc(findings->items,
					   (findings->n + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	findings->items = grown;
	struct ac_finding *f = &findings->items[findings->n];
	memset(f, 0, sizeof(*f));
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
			 bool has_address, uint64_t address, pid_t tid,
			 const char *frame, const char *value_fmt, ...)
{
	if (!finding)
		return;
	struct ac_evidence *grown = realloc(finding->evidence,
					    (finding->n_evidence + 1) * sizeof(*grown));
	if (!grown)
		return;
	finding->evidence = grown;
	struct ac_evidence *e = &finding->evidence[finding->n_evidence];
	memset(e, 0, sizeof(*e));
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
	e->has_address = has_address;
	e->address = address;
	e->tid = tid;
	finding->n_evidence++;
}

void ac_findings_checked(struct ac_findings *findings, const char *fmt, ...)
{
	char **grown = realloc(findings->checked,
			       (findings->n_checked + 1) * sizeof(*grown));
	if (!grown)
		return;
	findings->checked = grown;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&findings->checked[findings->n_checked], fmt, ap) >= 0)
		findings->n_checked++;
	va_end(ap);
}

static int by_confidence(const struct ac_finding *x, const struct ac_finding *y)
{
	return (int)y->confidence - (int)x->confidence;
}

void ac_findings_sort(struct ac_findings *findings)
{
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
	for (size_t i = 0; i < findings->n_checked; i++)
		free(findings->checked[i]);
	free(findings->checked);
	*findings = (struct ac_findings){ 0 };
}
