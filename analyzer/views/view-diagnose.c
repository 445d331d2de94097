/* SPDX-License-Identifier: GPL-2.0-or-later */
/* aiocore diagnose: every rule, then the verdict, evidence and fix. */
#include <inttypes.h>
#include <limits.h>
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

/* The pattern's page, as the Docs: line and "doc" show it. */
static const char *doc_path(const struct ac_pattern *p, char *buf, size_t size)
{
	char page[128];
	snprintf(page, sizeof(page), "patterns/%s.md", p->id);
	return ac_view_doc_path(page, buf, size);
}

static void finding_text(FILE *out, const struct ac_finding *f, bool first,
			 const struct ac_qemu_version *version)
{
	const struct ac_pattern *p = f->pattern;
	char doc[PATH_MAX];
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
	fprintf(out, "  Docs:         %s\n\n", doc_path(p, doc, sizeof(doc)));
}

static void finding_json(struct ac_json *j, const struct ac_finding *f,
			 const struct ac_qemu_version *version)
{
	const struct ac_pattern *p = f->pattern;
	char text[96], doc[PATH_MAX];
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
	ac_json_field_string(j, "doc", doc_path(p, doc, sizeof(doc)));
	ac_json_object_end(j);
}

/* --since: the earlier core, compared with this one; adds no-progress. */
static struct ac_error *since_compare(struct ac_program *prog, const struct ac_analysis *a,
				      const struct ac_target_config *config,
				      struct ac_findings *findings, struct ac_progress *ret)
{
	struct ac_program *earlier;
	struct ac_error *err = ac_program_open(config, &earlier);
	if (err)
		return ac_error_prefix(err, "--since");
	struct ac_analysis ea;
	err = ac_analysis_build(earlier, &ea);
	if (!err) {
		err = ac_progress_compare(earlier, &ea, prog, a, ret, findings);
		ac_analysis_deinit(&ea);
	}
	/* What could not be read in the earlier core makes the answer partial too. */
	for (size_t i = 0; !err && i < earlier->n_notes; i++)
		ac_program_note(prog, "%s: %s", ac_target_name(earlier->target), earlier->notes[i]);
	for (size_t i = 0; !err && i < ac_target_warning_count(earlier->target); i++)
		ac_target_warn(prog->target, "%s", ac_target_warning(earlier->target, i));
	ac_program_destroy(earlier);
	return err;
}

static void since_text(FILE *out, const char *earlier, const struct ac_progress *p)
{
	fprintf(out, "Since %s", earlier);
	if (p->has_seconds)
		fprintf(out, ", %.1f s earlier (%s)", p->seconds, p->clock);
	fprintf(out, ", pid %d:\n", p->pid);
	for (size_t i = 0; i < p->n_lines; i++)
		fprintf(out, "  %-44s %s -> %s%s\n", p->lines[i].what, p->lines[i].earlier,
			p->lines[i].later, p->lines[i].moved ? "  (moved)" : "");
	fputc('\n', out);
}

static void since_json(struct ac_json *j, const char *earlier, const struct ac_progress *p)
{
	ac_json_key(j, "since");
	ac_json_object_begin(j);
	ac_json_field_string(j, "earlier", earlier);
	ac_json_key(j, "seconds");
	if (p->has_seconds)
		ac_json_double(j, p->seconds);
	else
		ac_json_null(j);
	ac_json_field_string(j, "clock", p->clock);
	ac_json_field_int_opt(j, "pid", p->pid != 0, p->pid);
	ac_json_field_string(j, "state", ac_progress_state_name(p->state));
	ac_json_field_string(j, "summary", p->summary);
	ac_json_field_uint(j, "in_flight", p->n_in_flight);
	ac_json_field_uint(j, "completed", p->n_completed);
	ac_json_field_uint(j, "stalled", p->n_stalled);
	ac_json_field_uint(j, "write_gen", p->write_gen);
	ac_json_field_uint(j, "job_progress", p->job_progress);
	ac_json_key(j, "accounting");
	if (p->has_acct) {
		ac_json_object_begin(j);
		for (int op = 0; op < AC_ACCT_N; op++) {
			ac_json_key(j, ac_acct_op_names[op]);
			ac_json_object_begin(j);
			ac_json_field_uint(j, "ops", p->ops[op]);
			ac_json_field_uint(j, "bytes", p->bytes[op]);
			ac_json_object_end(j);
		}
		ac_json_object_end(j);
	} else {
		ac_json_null(j);
	}
	ac_json_key(j, "comparisons");
	ac_json_array_begin(j);
	for (size_t i = 0; i < p->n_lines; i++) {
		ac_json_object_begin(j);
		ac_json_field_string(j, "what", p->lines[i].what);
		ac_json_field_string(j, "earlier", p->lines[i].earlier);
		ac_json_field_string(j, "later", p->lines[i].later);
		ac_json_field_bool(j, "moved", p->lines[i].moved);
		ac_json_object_end(j);
	}
	ac_json_array_end(j);
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
	struct ac_progress progress = { 0 };
	if (opts->since) {
		err = since_compare(prog, &a, opts->since, &findings, &progress);
		if (err) {
			ac_findings_deinit(&findings);
			ac_analysis_deinit(&a);
			return err;
		}
	}
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
	const char *earlier = opts->since ? opts->since->core_path : NULL;
	/*
	 * Two cores that show progress outrank what one core suggests at
	 * medium confidence (a kick gcore raced, a worker caught in a read):
	 * the verdict is "progressing", those findings follow as ALSO.
	 */
	bool progressing = earlier && progress.state == AC_PROGRESS_MOVING &&
			   !ac_findings_hang_named(&findings);
	const char *verdict = findings.n && !progressing ? findings.items[0].pattern->id : "none";
	if (opts->json) {
		struct ac_json j;
		ac_json_init(&j, out, true);
		ac_json_object_begin(&j);
		ac_json_field_string(&j, "schema", "aiocore-diagnose/1");
		ac_json_field_string(&j, "target", ac_target_name(prog->target));
		ac_json_field_string(&j, "arch", ac_target_arch_name(prog->target));
		ac_json_field_uint(&j, "threads", ac_target_thread_count(prog->target));
		ac_json_field_string(&j, "qemu_version", version ? version->version : NULL);
		ac_json_field_string(&j, "verdict", verdict);
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
		if (earlier)
			since_json(&j, earlier, &progress);
		/* No cause named for sure: what the waits end on, or idle. */
		if (!ac_findings_hang_named(&findings))
			ac_view_waits_summary_json(&a.waits, &j);
		ac_view_json_notes(prog, &j);
		ac_json_object_end(&j);
		ac_json_finish(&j);
	} else {
		fprintf(out, "%s: %s, %zu threads\n", ac_target_name(prog->target),
			ac_target_arch_name(prog->target), ac_target_thread_count(prog->target));
		if (version)
			fprintf(out, "QEMU: %s (from the executable)\n", version->line);
		fputc('\n', out);
		if (earlier)
			since_text(out, earlier, &progress);
		if (progressing)
			fprintf(out, "VERDICT: %s\n\n", progress.summary);
		else if (!findings.n && earlier)
			fprintf(out, "VERDICT: no known hang pattern; %s\n\n", progress.summary);
		else if (!findings.n && n_requests)
			fprintf(out, "VERDICT: no known hang pattern\n"
				"  %zu thread-pool request%s in flight; a single core cannot tell stalled from slow:\n"
				"  take a second core seconds later and run aiocore diagnose --since EARLIER.core CORE\n\n",
				n_requests, n_requests == 1 ? "" : "s");
		else if (!findings.n)
			fprintf(out, "VERDICT: no known hang pattern\n\n");

		if (!findings.n)
			ac_view_waits_summary_text(&a.waits, out);
		for (size_t i = 0; i < findings.n; i++)
			finding_text(out, &findings.items[i], i == 0 && !progressing, version);
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
	ac_progress_deinit(&progress);
	ac_findings_deinit(&findings);
	ac_analysis_deinit(&a);
	return NULL;
}
