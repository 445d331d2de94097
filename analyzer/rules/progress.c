/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "progress.h"
#include "util/util.h"

/* Closer than this, an unmoved request proves nothing. */
#define MIN_SECONDS 1.0
/* Bytes of a request's argument compared besides its address. */
#define ARG_BYTES 64
/* Stalled requests named in the summary; the evidence lists all. */
#define SUMMARY_ITEMS 1

const char *ac_progress_state_name(enum ac_progress_state state)
{
	switch (state) {
	case AC_PROGRESS_IDLE: return "idle";
	case AC_PROGRESS_MOVING: return "progressing";
	case AC_PROGRESS_STALLED: return "no-progress";
	case AC_PROGRESS_TOO_CLOSE: return "too-close";
	}
	return "?";
}

static struct ac_error *add_line(struct ac_progress *p, bool moved, const char *what,
				 const char *earlier, const char *later)
{
	struct ac_progress_line *slot = ac_array_slot(p->lines, p->n_lines);
	if (!slot)
		return &ac_error_no_memory;
	struct ac_progress_line l = {
		.moved = moved, .what = strdup(what),
		.earlier = strdup(earlier), .later = strdup(later),
	};
	if (!l.what || !l.earlier || !l.later) {
		free(l.what);
		free(l.earlier);
		free(l.later);
		return &ac_error_no_memory;
	}
	*slot = l;
	p->n_lines++;
	return NULL;
}

/* A line of two unsigned counters. */
static struct ac_error *add_counts(struct ac_progress *p, const char *what,
				   uint64_t earlier, uint64_t later, bool moved)
{
	char e[32], l[32];
	snprintf(e, sizeof(e), "%" PRIu64, earlier);
	snprintf(l, sizeof(l), "%" PRIu64, later);
	return add_line(p, moved, what, e, l);
}

/* FNV-1a of the first bytes of a request's argument; 0 if unreadable. */
static uint64_t arg_fingerprint(struct ac_program *prog, uint64_t arg)
{
	unsigned char buf[ARG_BYTES];
	struct ac_error *err = ac_target_read(prog->target, arg, buf, sizeof(buf));
	if (err) {
		ac_error_destroy(err);
		return 0;
	}
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < sizeof(buf); i++)
		h = (h ^ buf[i]) * 0x100000001b3ull;
	return h;
}

/* A request of the earlier core, found again in the later one or not. */
struct item {
	char *text;               /* "ThreadPoolElement 0x... (read, THREAD_ACTIVE)" */
	const char *what;         /* evidence "what" */
	uint64_t address;
	bool stalled;
	bool unsure;              /* neither: maybe the same memory used again */
};

static struct ac_error *add_item(struct item **items, size_t *n, const char *what,
				 uint64_t address, bool stalled, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static struct ac_error *add_item(struct item **items, size_t *n, const char *what,
				 uint64_t address, bool stalled, const char *fmt, ...)
{
	struct item *it = ac_array_slot(*items, *n);
	if (!it)
		return &ac_error_no_memory;
	*it = (struct item){ .what = what, .address = address, .stalled = stalled };
	va_list ap;
	va_start(ap, fmt);
	int rc = vasprintf(&it->text, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return &ac_error_no_memory;
	(*n)++;
	return NULL;
}

static const struct ac_pool_element *find_element(const struct ac_analysis *a, uint64_t address,
						  const struct ac_thread_pool **pool)
{
	for (size_t i = 0; i < a->contexts.n; i++)
		for (size_t j = 0; a->pools && j < a->pools[i].n_elements; j++)
			if (a->pools[i].elements[j].address == address) {
				*pool = &a->pools[i];
				return &a->pools[i].elements[j];
			}
	return NULL;
}

/* Thread-pool requests: same address, function, argument (and its bytes) and state. */
static struct ac_error *compare_pool(struct ac_program *ep, const struct ac_analysis *ea,
				     struct ac_program *lp, const struct ac_analysis *la,
				     bool threads_moved, struct item **items, size_t *n)
{
	for (size_t i = 0; i < ea->contexts.n; i++) {
		const struct ac_thread_pool *pool = &ea->pools[i];
		for (size_t j = 0; j < pool->n_elements; j++) {
			const struct ac_pool_element *e = &pool->elements[j], *l;
			const struct ac_thread_pool *lpool = NULL;
			l = find_element(la, e->address, &lpool);
			bool same = l && l->func == e->func && l->arg == e->arg &&
				    l->state == e->state && l->opaque == e->opaque &&
				    lpool->address == pool->address &&
				    arg_fingerprint(ep, e->arg) == arg_fingerprint(lp, l->arg);
			struct ac_error *err = add_item(items, n, "ThreadPoolElement", e->address, same,
				"thread-pool request 0x%" PRIx64 " (%s %s, arg 0x%" PRIx64 ", %s)",
				e->address, e->kind ? e->kind : "other",
				e->func_name ? e->func_name : "?", e->arg,
				e->state_name ? e->state_name : "state ?");
			if (err)
				return err;
			/*
			 * A done request waits only for its context's thread to
			 * run the completion.  If threads ran between the cores,
			 * the element seen again may be a new request that got the
			 * freed one's memory (a loop issuing the same request):
			 * two cores cannot tell, so it proves nothing either way.
			 */
			if (same && threads_moved && e->state_name &&
			    !strcmp(e->state_name, "THREAD_DONE")) {
				(*items)[*n - 1].stalled = false;
				(*items)[*n - 1].unsure = true;
			}
		}
	}
	return NULL;
}

static const struct ac_tracked_request *find_tracked(const struct ac_block_graph *g,
						     uint64_t address,
						     const struct ac_block_node **node)
{
	for (size_t i = 0; i < g->n_nodes; i++)
		for (size_t j = 0; j < g->nodes[i].n_requests; j++)
			if (g->nodes[i].requests[j].address == address) {
				*node = &g->nodes[i];
				return &g->nodes[i].requests[j];
			}
	return NULL;
}

/* Tracked requests: same node, offset, length, type and coroutine. */
static struct ac_error *compare_tracked(const struct ac_block_graph *eg,
					const struct ac_block_graph *lg,
					struct item **items, size_t *n)
{
	for (size_t i = 0; i < eg->n_nodes; i++) {
		const struct ac_block_node *node = &eg->nodes[i];
		for (size_t j = 0; j < node->n_requests; j++) {
			const struct ac_tracked_request *r = &node->requests[j], *l;
			const struct ac_block_node *lnode = NULL;
			l = find_tracked(lg, r->address, &lnode);
			bool same = l && lnode->address == node->address && l->offset == r->offset &&
				    l->bytes == r->bytes && l->co == r->co &&
				    !l->type_name == !r->type_name &&
				    (!l->type_name || !strcmp(l->type_name, r->type_name));
			const char *type = r->type_name ? r->type_name : "request";
			if (!strncmp(type, "BDRV_TRACKED_", 13))
				type += 13;
			struct ac_error *err = add_item(items, n, "BdrvTrackedRequest", r->address, same,
				"%s of %" PRIu64 " bytes at offset %" PRId64 " on node %s, coroutine 0x%" PRIx64,
				type, r->bytes, r->offset, node->label, r->co);
			if (err)
				return err;
		}
	}
	return NULL;
}

/* "JOB_STATUS_RUNNING" -> "running", into buf. */
static const char *enum_word(const char *name, const char *prefix, char *buf, size_t size)
{
	if (!name)
		return "?";
	if (!strncmp(name, prefix, strlen(prefix)))
		name += strlen(prefix);
	size_t i = 0;
	for (; name[i] && i + 1 < size; i++)
		buf[i] = name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i];
	buf[i] = 0;
	return buf;
}

/* Jobs: a running job whose progress did not move is stalled. */
static struct ac_error *compare_jobs(const struct ac_job_list *ej, const struct ac_job_list *lj,
				     struct ac_progress *p, struct item **items, size_t *n)
{
	struct ac_error *err = NULL;
	for (size_t i = 0; i < ej->n && !err; i++) {
		const struct ac_job *e = &ej->items[i], *l = NULL;
		for (size_t j = 0; j < lj->n; j++)
			if (lj->items[j].address == e->address && !strcmp(lj->items[j].id, e->id))
				l = &lj->items[j];
		char type[32], status[32], what[96], before[64], after[64];
		enum_word(e->type, "JOB_TYPE_", type, sizeof(type));
		enum_word(e->status, "JOB_STATUS_", status, sizeof(status));
		bool running = !strcmp(status, "running") && !e->paused;
		if (!l) {
			snprintf(what, sizeof(what), "job %s (%s)", e->id, type);
			err = add_line(p, true, what, status, "gone");
			continue;
		}
		snprintf(what, sizeof(what), "job %s (%s) progress", e->id, type);
		snprintf(before, sizeof(before), "%" PRIu64 "/%" PRIu64 " %s", e->current, e->total, status);
		snprintf(after, sizeof(after), "%" PRIu64 "/%" PRIu64 " %s", l->current, l->total,
			 enum_word(l->status, "JOB_STATUS_", status, sizeof(status)));
		bool moved = l->current != e->current;
		if (l->current > e->current)
			p->job_progress += l->current - e->current;
		err = add_line(p, moved, what, before, after);
		bool still = running && !strcmp(status, "running") && !l->paused;
		/* Only a stall is an item: a job moving is no request completed. */
		if (!err && e->has_progress && still && !moved)
			err = add_item(items, n, "Job", e->address, true,
				       "job %s (%s, running) at %" PRIu64 " of %" PRIu64,
				       e->id, type, e->current, e->total);
	}
	return err;
}

static const struct ac_block_backend *find_backend(const struct ac_block_graph *g, uint64_t address)
{
	for (size_t i = 0; i < g->n_backends; i++)
		if (g->backends[i].address == address)
			return &g->backends[i];
	return NULL;
}

/* Counters that only grow: accounting per backend, write_gen per node. */
static struct ac_error *compare_counters(const struct ac_block_graph *eg,
					 const struct ac_block_graph *lg,
					 struct ac_progress *p)
{
	struct ac_error *err = NULL;
	char what[160];
	for (size_t i = 0; i < eg->n_backends && !err; i++) {
		const struct ac_block_backend *e = &eg->backends[i];
		const struct ac_block_backend *l = find_backend(lg, e->address);
		if (!e->has_stats || !l || !l->has_stats)
			continue;
		p->has_acct = true;
		for (int op = 0; op < AC_ACCT_N && !err; op++) {
			if (l->nr_ops[op] < e->nr_ops[op] || l->nr_bytes[op] < e->nr_bytes[op])
				continue;  /* reset or reused: not a count of anything */
			p->ops[op] += l->nr_ops[op] - e->nr_ops[op];
			p->bytes[op] += l->nr_bytes[op] - e->nr_bytes[op];
			if (!e->nr_ops[op] && !l->nr_ops[op])
				continue;
			snprintf(what, sizeof(what), "backend %s stats.nr_ops[%s]",
				 e->name[0] ? e->name : "(anonymous)", ac_acct_op_names[op]);
			err = add_counts(p, what, e->nr_ops[op], l->nr_ops[op],
					 l->nr_ops[op] != e->nr_ops[op]);
		}
	}
	for (size_t i = 0; i < eg->n_nodes && !err; i++) {
		const struct ac_block_node *e = &eg->nodes[i];
		const struct ac_block_node *l = ac_block_graph_node(lg, e->address);
		if (!l)
			continue;
		if (e->has_write_gen && l->has_write_gen && l->write_gen >= e->write_gen) {
			/* A write passes every layer: the most on one node, not the sum. */
			if (l->write_gen - e->write_gen > p->write_gen)
				p->write_gen = l->write_gen - e->write_gen;
			snprintf(what, sizeof(what), "node %s write_gen", e->label);
			err = add_counts(p, what, e->write_gen, l->write_gen,
					 l->write_gen != e->write_gen);
		}
		/* 2.1 has no write_gen: a copy's writes raise the high-water mark. */
		if (!err && e->has_wr_highest_sector && l->has_wr_highest_sector &&
		    (e->wr_highest_sector || l->wr_highest_sector)) {
			snprintf(what, sizeof(what), "node %s wr_highest_sector", e->label);
			err = add_counts(p, what, e->wr_highest_sector, l->wr_highest_sector,
					 l->wr_highest_sector != e->wr_highest_sector);
		}
		if (!err && e->has_in_flight && l->has_in_flight && (e->in_flight || l->in_flight)) {
			snprintf(what, sizeof(what), "node %s in_flight", e->label);
			err = add_counts(p, what, e->in_flight, l->in_flight, false);
		}
	}
	return err;
}

/* rcu_gp_ctr and rcu_call_count (util/rcu.c), when the program has them. */
static bool read_global(struct ac_program *prog, const char *name, int64_t *ret)
{
	struct ac_object obj;
	struct ac_error *err = ac_object_variable(prog, name, "call_rcu_thread", &obj);
	if (!err)
		err = ac_object_read_int(prog, &obj, ret);
	if (err) {
		if (!ac_error_catch(&err, AC_ERR_LOOKUP))
			ac_program_note_error(prog, err, "%s", name);
		return false;
	}
	return true;
}

static struct ac_error *compare_globals(struct ac_program *ep, const struct ac_analysis *ea,
					struct ac_program *lp, const struct ac_analysis *la,
					struct ac_progress *p)
{
	static const char *const names[] = { "rcu_gp_ctr", "rcu_call_count" };
	struct ac_error *err = NULL;
	for (size_t i = 0; i < 2 && !err; i++) {
		int64_t e, l;
		if (read_global(ep, names[i], &e) && read_global(lp, names[i], &l))
			err = add_counts(p, names[i], (uint64_t)e, (uint64_t)l, e != l);
	}
	size_t counts[2][2] = { { 0 } };
	const struct ac_analysis *as[2] = { ea, la };
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < as[k]->contexts.n; i++)
			for (size_t j = 0; j < as[k]->bhs[i].n; j++) {
				counts[k][0]++;
				counts[k][1] += as[k]->bhs[i].items[j].runnable;
			}
	char e[48], l[48];
	snprintf(e, sizeof(e), "%zu (%zu runnable)", counts[0][0], counts[0][1]);
	snprintf(l, sizeof(l), "%zu (%zu runnable)", counts[1][0], counts[1][1]);
	if (!err)
		err = add_line(p, false, "BHs", e, l);
	return err;
}

/* Thread i of the earlier core and j of the later have the same pc in every frame. */
static bool same_frames(struct ac_program *ep, size_t i, struct ac_program *lp, size_t j)
{
	const struct ac_backtrace *eb = ac_program_backtrace(ep, i);
	const struct ac_backtrace *lb = ac_program_backtrace(lp, j);
	if (!eb || !lb || eb->n_frames != lb->n_frames)
		return false;
	for (size_t f = 0; f < eb->n_frames; f++)
		if (eb->frames[f].pc != lb->frames[f].pc)
			return false;
	return true;
}

/* Whether a thread in both cores is in other frames in the later one. */
static bool any_thread_moved(struct ac_program *ep, struct ac_program *lp)
{
	for (size_t i = 0; i < ac_target_thread_count(ep->target); i++) {
		const struct ac_thread *lt =
			ac_target_thread_by_tid(lp->target, ac_target_thread(ep->target, i)->tid);
		for (size_t j = 0; lt && j < ac_target_thread_count(lp->target); j++)
			if (ac_target_thread(lp->target, j) == lt && !same_frames(ep, i, lp, j))
				return true;
	}
	return false;
}

/* Threads: the same pcs in every frame = it did not move; CPU time used. */
static struct ac_error *compare_threads(struct ac_program *ep, struct ac_program *lp,
					struct ac_progress *p)
{
	size_t n_both = 0, n_same = 0;
	bool has_cpu = false;
	double cpu[2] = { 0, 0 };
	for (size_t i = 0; i < ac_target_thread_count(ep->target); i++) {
		const struct ac_thread *et = ac_target_thread(ep->target, i);
		const struct ac_thread *lt = ac_target_thread_by_tid(lp->target, et->tid);
		if (!lt)
			continue;
		n_both++;
		for (size_t j = 0; j < ac_target_thread_count(lp->target); j++) {
			if (ac_target_thread(lp->target, j) != lt)
				continue;
			n_same += same_frames(ep, i, lp, j);
			double ec, lc;
			if (ac_target_thread_cpu_seconds(ep->target, i, &ec) &&
			    ac_target_thread_cpu_seconds(lp->target, j, &lc)) {
				has_cpu = true;
				cpu[0] += ec;
				cpu[1] += lc;
			}
		}
	}
	char e[48], l[48];
	snprintf(e, sizeof(e), "%zu threads", n_both);
	snprintf(l, sizeof(l), "%zu of them with the same frames", n_same);
	struct ac_error *err = add_line(p, n_same < n_both, "threads in both cores", e, l);
	snprintf(e, sizeof(e), "%.2f s", cpu[0]);
	snprintf(l, sizeof(l), "%.2f s", cpu[1]);
	/* gdb's gcore leaves pr_utime/pr_stime 0; kernel cores fill them. */
	if (!err && has_cpu && cpu[1] > 0)
		err = add_line(p, cpu[1] - cpu[0] >= 0.01, "CPU time of these threads", e, l);
	return err;
}

static struct ac_error *check_same_process(struct ac_program *ep, struct ac_program *lp,
					   struct ac_progress *p)
{
	const char *en = ac_target_name(ep->target), *ln = ac_target_name(lp->target);
	if (ac_target_same_source(ep->target, lp->target))
		return ac_error_create(AC_ERR_MISMATCH,
			"--since %s: the same core as %s; take a second core seconds later", en, ln);
	pid_t epid = ac_target_process_id(ep->target), lpid = ac_target_process_id(lp->target);
	if (epid && lpid && epid != lpid)
		return ac_error_create(AC_ERR_MISMATCH,
			"--since %s: pid %d, but %s is pid %d: not the same process", en, epid, ln, lpid);
	p->pid = lpid ? lpid : epid;
	char eid[128], lid[128];
	ac_target_main_build_id(ep->target, eid, sizeof(eid));
	ac_target_main_build_id(lp->target, lid, sizeof(lid));
	bool known = eid[0] && lid[0] && strcmp(eid, "(none)") && strcmp(lid, "(none)");
	if (known && strcmp(eid, lid))
		return ac_error_create(AC_ERR_MISMATCH,
			"--since %s: executable build-id %s, but %s has build-id %s: not the same program", en, eid, ln, lid);
	double et = ac_target_capture_time(ep->target), lt = ac_target_capture_time(lp->target);
	p->clock = "the core files' modification times";
	if (et > 0 && lt > 0) {
		p->has_seconds = true;
		p->seconds = lt - et;
		if (p->seconds < 0)
			return ac_error_create(AC_ERR_MISMATCH,
				"--since %s was written %.1f s after %s: give the older core to --since", en, -p->seconds, ln);
	}
	return NULL;
}

static struct ac_error *summarize(struct ac_progress *p, const struct item *items, size_t n,
				  struct ac_findings *findings)
{
	char when[64];
	if (p->has_seconds)
		snprintf(when, sizeof(when), "%.1f s", p->seconds);
	else
		snprintf(when, sizeof(when), "the time between the cores (unknown)");
	/* Any counter or frame that moved: the process is alive. */
	bool moved = false;
	for (size_t i = 0; i < p->n_lines; i++)
		moved |= p->lines[i].moved;
	int rc;
	if (p->n_stalled && p->has_seconds && p->seconds < MIN_SECONDS) {
		p->state = AC_PROGRESS_TOO_CLOSE;
		rc = asprintf(&p->summary, "cannot tell: %zu request%s unchanged, but the cores are only %.1f s apart; take them seconds apart",
			      p->n_stalled, p->n_stalled == 1 ? "" : "s", p->seconds);
	} else if (p->n_stalled) {
		p->state = AC_PROGRESS_STALLED;
		char *names = NULL;
		size_t shown = 0;
		for (size_t i = 0; i < n && shown < SUMMARY_ITEMS; i++) {
			if (!items[i].stalled)
				continue;
			char *next;
			if (asprintf(&next, "%s%s%s", names ? names : "", names ? "; " : "",
				     items[i].text) < 0)
				next = NULL;
			free(names);
			if (!(names = next))
				return &ac_error_no_memory;
			shown++;
		}
		char more[48] = "";
		if (p->n_stalled > shown)
			snprintf(more, sizeof(more), " and %zu more", p->n_stalled - shown);
		rc = asprintf(&p->summary, "no progress in %s on %s%s", when, names, more);
		free(names);
		struct ac_finding *f = rc < 0 ? NULL :
			ac_findings_add(findings, "no-progress",
					p->has_seconds ? AC_CONFIDENCE_HIGH : AC_CONFIDENCE_MEDIUM,
					"%s", p->summary);
		if (!f)
			return &ac_error_no_memory;
		for (size_t i = 0; i < n; i++)
			if (items[i].stalled)
				ac_finding_evidence(f, items[i].what,
						    ac_evidence_at(AC_ADDRESS(items[i].address)),
						    "%s, unchanged after %s", items[i].text, when);
		ac_finding_evidence(f, "time between the cores", ac_evidence_at(), "%s (%s)",
				    when, p->clock);
		ac_findings_sort(findings);
	} else if (moved) {
		p->state = AC_PROGRESS_MOVING;
		/* "N of M requests completed; R reads, B bytes; ...; write_gen +W" */
		char what[320] = "";
		size_t len = 0;
		if (p->n_in_flight)
			len += snprintf(what + len, sizeof(what) - len, "; %zu of %zu request%s in flight completed",
					p->n_completed, p->n_in_flight, p->n_in_flight == 1 ? "" : "s");
		if (p->n_unsure)
			len += snprintf(what + len, sizeof(what) - len,
					" (%zu done in both cores while threads ran: the same request, or a new one in its memory)",
					p->n_unsure);
		static const char *const ops[AC_ACCT_N] = { "reads", "writes", "flushes" };
		for (int op = 0; op < AC_ACCT_N && len < sizeof(what); op++)
			if (p->ops[op])
				len += snprintf(what + len, sizeof(what) - len, "; %" PRIu64 " %s completed, %" PRIu64 " bytes",
						p->ops[op], ops[op], p->bytes[op]);
		if (p->job_progress && len < sizeof(what))
			len += snprintf(what + len, sizeof(what) - len, "; jobs progressed by %" PRIu64,
					p->job_progress);
		if (p->write_gen && len < sizeof(what))
			len += snprintf(what + len, sizeof(what) - len, "; %" PRIu64 " writes completed (write_gen)", p->write_gen);
		/* No request to follow: say which counter moved. */
		for (size_t i = 0; i < p->n_lines && !len; i++)
			if (p->lines[i].moved)
				len += snprintf(what, sizeof(what), "; %s %s -> %s", p->lines[i].what,
						p->lines[i].earlier, p->lines[i].later);
		rc = asprintf(&p->summary, "progressing: %s in %s", len ? what + 2 : "activity", when);
	} else {
		p->state = AC_PROGRESS_IDLE;
		rc = asprintf(&p->summary, "idle: no request in flight in the earlier core and no counter moved in %s",
			      when);
	}
	return rc < 0 ? &ac_error_no_memory : NULL;
}

struct ac_error *ac_progress_compare(struct ac_program *ep, const struct ac_analysis *ea,
				     struct ac_program *lp, const struct ac_analysis *la,
				     struct ac_progress *ret, struct ac_findings *findings)
{
	struct ac_progress p = { 0 };
	struct ac_block_graph eg = { 0 }, lg = { 0 };
	struct ac_job_list ej = { 0 }, lj = { 0 };
	struct item *items = NULL;
	size_t n_items = 0;
	struct ac_error *err = check_same_process(ep, lp, &p);
	if (!err)
		err = ac_block_graph_decode(ep, &eg);
	if (!err)
		err = ac_block_graph_decode(lp, &lg);
	if (!err)
		err = compare_pool(ep, ea, lp, la, any_thread_moved(ep, lp), &items, &n_items);
	if (!err)
		err = compare_tracked(&eg, &lg, &items, &n_items);
	if (!err)
		err = ac_jobs_decode(ep, &ej);
	if (!err)
		err = ac_jobs_decode(lp, &lj);
	if (!err)
		err = compare_jobs(&ej, &lj, &p, &items, &n_items);
	size_t n_requests = 0, n_requests_stalled = 0;   /* jobs have their own lines */
	for (size_t i = 0; i < n_items; i++) {
		p.n_in_flight++;
		p.n_stalled += items[i].stalled;
		p.n_completed += !items[i].stalled && !items[i].unsure;
		p.n_unsure += items[i].unsure;
		if (strcmp(items[i].what, "Job")) {
			n_requests++;
			n_requests_stalled += items[i].stalled;
		}
	}
	size_t n_later = 0;
	for (size_t i = 0; i < la->contexts.n; i++)
		n_later += la->pools[i].n_elements;
	for (size_t i = 0; i < lg.n_nodes; i++)
		n_later += lg.nodes[i].n_requests;
	char e[48], l[96];
	snprintf(e, sizeof(e), "%zu", n_requests);
	if (p.n_unsure)
		snprintf(l, sizeof(l), "%zu (%zu of the earlier unchanged, %zu done again)", n_later,
			 n_requests_stalled, p.n_unsure);
	else
		snprintf(l, sizeof(l), "%zu (%zu of the earlier unchanged)", n_later,
			 n_requests_stalled);
	if (!err)
		err = add_line(&p, n_requests_stalled < n_requests, "requests in flight", e, l);
	if (!err)
		err = compare_counters(&eg, &lg, &p);
	if (!err)
		err = compare_globals(ep, ea, lp, la, &p);
	if (!err)
		err = compare_threads(ep, lp, &p);
	if (!err)
		err = summarize(&p, items, n_items, findings);
	for (size_t i = 0; i < n_items; i++)
		free(items[i].text);
	free(items);
	ac_block_graph_deinit(&eg);
	ac_block_graph_deinit(&lg);
	ac_job_list_deinit(&ej);
	ac_job_list_deinit(&lj);
	if (err) {
		ac_progress_deinit(&p);
		return err;
	}
	*ret = p;
	return NULL;
}

void ac_progress_deinit(struct ac_progress *p)
{
	for (size_t i = 0; i < p->n_lines; i++) {
		free(p->lines[i].what);
		free(p->lines[i].earlier);
		free(p->lines[i].later);
	}
	free(p->lines);
	free(p->summary);
	*p = (struct ac_progress){ 0 };
}
