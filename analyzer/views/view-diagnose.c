/* SPDX-License-Identifier: GPL-2.0-or-later */
/* aiocore diagnose: every rule, then the verdict, evidence and fix. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"
#include "util/util.h"
#include "qemu/qemu.h"
#include "view.h"

static void evidence_text(FILE *out, const struct ac_evidence *e)
{
	fprintf(out, "    %s = %s", e->what, e->value);
	if (e->has_address)
		fprintf(out, " @0x%" PRIx64, e->address);
	if (e->tid && e->frame)
		fprintf(out, " (thread %d, %s)", e->tid, e->frame);
	else if (e->tid)
		fprintf(out, " (thread %d)", e->tid);
	fputc('\n', out);
}

enum fix_in_build {
	FIX_UNKNOWN,              /* no fix, or the version is unknown */
	FIX_IN_BUILD,
	FIX_NOT_IN_BUILD,
};

static enum fix_in_build fix_in_build(const struct ac_pattern *p,
				      const struct ac_qemu_version *version)
{
	if (!version || !p->fixed_in)
		return FIX_UNKNOWN;
	return ac_qemu_release_compare(&version->release, p->fixed_in) >= 0
	       ? FIX_IN_BUILD : FIX_NOT_IN_BUILD;
}

/* After "Affects:": does the customer's build have the fix? */
static void fix_in_build_text(FILE *out, const struct ac_pattern *p,
			      const struct ac_qemu_version *version)
{
	enum fix_in_build state = fix_in_build(p, version);
	if (state == FIX_UNKNOWN)
		return;
	const struct ac_qemu_release *r = &version->release, *fix = p->fixed_in;
	fprintf(out, "  This build:   %u.%u.%u ", r->major, r->minor, r->micro);
	if (state == FIX_IN_BUILD)
		fprintf(out, "already has this fix (since %u.%u.%u): the same evidence has another cause here; report it upstream with this core\n",
			fix->major, fix->minor, fix->micro);
	else
		/* A package version (" (Debian 1:2.1+dfsg-12)") may carry backports. */
		fprintf(out, "predates this fix (in %u.%u.%u): upgrade%s\n",
			fix->major, fix->minor, fix->micro,
			strchr(version->version, ' ') ? ", unless the package backports it" : "");
}

static void finding_text(FILE *out, const struct ac_finding *f, bool first,
			 const struct ac_qemu_version *version)
{
	const struct ac_pattern *p = f->pattern;
	fprintf(out, "%s: %s (%s confidence)\n", first ? "VERDICT" : "ALSO", p->id,
		ac_confidence_name(f->confidence));
	fprintf(out, "  %s\n\n  Evidence:\n", f->summary);
	for (size_t i = 0; i < f->n_evidence; i++)
		evidence_text(out, &f->evidence[i]);
	fprintf(out, "\n  Pattern:      %s\n", p->title);
	fprintf(out, "  Mechanism:    %s\n", p->mechanism);
	if (p->fix_commit)
		fprintf(out, "  Upstream fix: %s \"%s\"\n", p->fix_commit, p->fix_title);
	else
		fprintf(out, "  Upstream:     %s\n", p->fix_title);
	fprintf(out, "  Affects:      %s\n", p->affected);
	fix_in_build_text(out, p, version);
	if (p->next_step)
		fprintf(out, "  Next step:    %s\n", p->next_step);
	if (p->no_reproduce)
		fprintf(out, "  Replay:       none in the runtime; see the page's \"How to reproduce\"\n");
	else
		fprintf(out, "  Replay:       aiocore reproduce %s\n", p->id);
	fprintf(out, "  Docs:         docs/patterns/%s.md\n\n", p->id);
}

static void finding_json(struct ac_json *j, const struct ac_finding *f,
			 const struct ac_qemu_version *version)
{
	const struct ac_pattern *p = f->pattern;
	char text[96];
	enum fix_in_build state = fix_in_build(p, version);
	ac_json_object_begin(j);
	ac_json_field_string(j, "id", p->id);
	ac_json_field_string(j, "title", p->title);
	ac_json_field_string(j, "confidence", ac_confidence_name(f->confidence));
	ac_json_field_string(j, "summary", f->summary);
	ac_json_key(j, "evidence");
	ac_json_array_begin(j);
	for (size_t i = 0; i < f->n_evidence; i++) {
		const struct ac_evidence *e = &f->evidence[i];
		ac_json_object_begin(j);
		ac_json_field_string(j, "what", e->what);
		ac_json_field_string(j, "value", e->value);
		ac_json_field_address_opt(j, "address", e->has_address, e->address);
		ac_json_field_int_opt(j, "tid", e->tid != 0, e->tid);
		ac_json_field_string(j, "frame", e->frame);
		ac_json_object_end(j);
	}
	ac_json_array_end(j);
	ac_json_field_string(j, "mechanism", p->mechanism);
	ac_json_key(j, "fix");
	ac_json_object_begin(j);
	ac_json_field_string(j, "commit", p->fix_commit);
	ac_json_field_string(j, "title", p->fix_title);
	if (p->fixed_in) {
		snprintf(text, sizeof(text), "%u.%u.%u", p->fixed_in->major,
			 p->fixed_in->minor, p->fixed_in->micro);
		ac_json_field_string(j, "release", text);
	} else {
		ac_json_field_string(j, "release", NULL);
	}
	ac_json_object_end(j);
	ac_json_field_string(j, "affected", p->affected);
	ac_json_field_bool_opt(j, "fix_in_build", state != FIX_UNKNOWN,
			       state == FIX_IN_BUILD);
	if (p->next_step)
		ac_json_field_string(j, "next_step", p->next_step);
	snprintf(text, sizeof(text), "aiocore reproduce %s", p->id);
	ac_json_field_string(j, "reproduce", p->no_reproduce ? NULL : text);
	snprintf(text, sizeof(text), "docs/patterns/%s.md", p->id);
	ac_json_field_string(j, "doc", text);
	ac_json_object_end(j);
}

struct ac_error *ac_view_diagnose(struct ac_program *prog,
				  const struct ac_view_options *opts, FILE *out,
				  enum ac_view_result *result)
{
	struct ac_analysis a;
	struct ac_findings findings;
	struct ac_error *err = ac_diagnose(prog, &a, &findings);
	if (err)
		return err;
	*result = ac_findings_hang_named(&findings) ? AC_VIEW_FOUND : AC_VIEW_OK;
	/* Unknown (not QEMU, the reference runtime, no file) is no error. */
	struct ac_qemu_version version_buf, *version = &version_buf;
	err = ac_qemu_version_read(prog->target, &version_buf);
	if (err) {
		ac_error_destroy(err);
		version = NULL;
	}

	size_t n_bhs = 0, n_requests = 0, n_pools = 0;
	for (size_t i = 0; i < a.contexts.n; i++) {
		n_bhs += a.bhs[i].n;
		if (a.pools[i].address) {
			n_pools++;
			n_requests += a.pools[i].n_elements;
		}
	}
	if (opts->json) {
		struct ac_json j;
		ac_json_init(&j, out, true);
		ac_json_object_begin(&j);
		ac_json_field_string(&j, "schema", "aiocore-diagnose/1");
		ac_json_field_string(&j, "target", ac_target_name(prog->target));
		ac_json_field_string(&j, "arch", ac_target_arch_name(prog->target));
		ac_json_field_uint(&j, "threads", ac_target_thread_count(prog->target));
		ac_json_field_string(&j, "qemu_version", version ? version->version : NULL);
		ac_json_field_string(&j, "verdict",
				     findings.n ? findings.items[0].pattern->id : "none");
		ac_json_key(&j, "findings");
		ac_json_array_begin(&j);
		for (size_t i = 0; i < findings.n; i++)
			finding_json(&j, &findings.items[i], version);
		ac_json_array_end(&j);
		ac_json_key(&j, "checked");
		ac_json_array_begin(&j);
		for (size_t i = 0; i < findings.n_checked; i++)
			ac_json_string(&j, findings.checked[i]);
		ac_json_array_end(&j);
		ac_json_key(&j, "counts");
		ac_json_object_begin(&j);
		ac_json_field_uint(&j, "contexts", a.contexts.n);
		ac_json_field_uint(&j, "bhs", n_bhs);
		ac_json_field_uint(&j, "thread_pools", n_pools);
		ac_json_field_uint(&j, "requests", n_requests);
		ac_json_object_end(&j);
		ac_view_json_notes(prog, &j);
		ac_json_object_end(&j);
		ac_json_finish(&j);
	} else {
		fprintf(out, "%s: %s, %zu threads\n", ac_target_name(prog->target),
			ac_target_arch_name(prog->target), ac_target_thread_count(prog->target));
		if (version)
			fprintf(out, "QEMU: %s (from the executable)\n", version->line);
		fputc('\n', out);
		if (!findings.n)
			fprintf(out, "VERDICT: no known hang pattern\n\n");

		for (size_t i = 0; i < findings.n; i++)
			finding_text(out, &findings.items[i], i == 0, version);
		/* No cause named for sure: what waits on what is the answer. */
		if (!ac_findings_hang_named(&findings)) {
			fprintf(out, "Waits:\n");
			ac_view_waits_text(&a.waits, out);
			fputc('\n', out);
		}
		fprintf(out, "Checked %zu AioContext%s, %zu BH%s, %zu thread pool%s (%zu request%s):\n",
			a.contexts.n, a.contexts.n == 1 ? "" : "s", n_bhs, n_bhs == 1 ? "" : "s",
			n_pools, n_pools == 1 ? "" : "s", n_requests, n_requests == 1 ? "" : "s");
		for (size_t i = 0; i < findings.n_checked; i++)
			fprintf(out, "  - %s\n", findings.checked[i]);
	}
	ac_findings_deinit(&findings);
	ac_analysis_deinit(&a);
	return NULL;
}
