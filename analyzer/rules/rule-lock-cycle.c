/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lock-cycle: threads each waiting for a mutex whose owner waits, in turn,
 * for a mutex the first one holds: a deadlock.  Proved from memory, not
 * from frames: each edge is a thread asleep on a QemuMutex, QemuRecMutex
 * or the BQL (thread-wait.c: the futex it sleeps on) and that mutex's
 * owner tid (glibc's __data.__owner, recursive mutexes included), mapped
 * to a thread of the core.  An owner that waits on nothing, or a tid that
 * is no thread of the core, ends a chain: no verdict.  The walk is bounded
 * by the number of threads.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule.h"

/* The thread index whose tid owns what thread i waits for, or n. */
static size_t owner_of(const struct ac_thread_waits *tw, size_t i)
{
	const struct ac_thread_wait *t = &tw->items[i];
	if (t->kind != AC_WAIT_MUTEX || !t->object || !t->has_owner || t->owner_tid <= 0)
		return tw->n;
	for (size_t o = 0; o < tw->n; o++)
		if (tw->items[o].tid == t->owner_tid)
			return o;
	return tw->n;
}

/* "abba_lock_a", "AioContext 0x... lock" (an IOThread's context), or "". */
static void lock_name(struct ac_program *prog, const struct ac_analysis *a,
		      const struct ac_thread_wait *t, char *buf, size_t size)
{
	buf[0] = '\0';
	if (t->object_name) {
		snprintf(buf, size, "%s", t->object_name);
		return;
	}
	for (size_t c = 0; prog && c < a->contexts.n; c++) {
		const struct ac_aio_context *ctx = &a->contexts.items[c];
		struct ac_object lock;
		struct ac_error *err = ac_object_member(prog, &ctx->obj, "lock", &lock, NULL);
		if (!err && lock.address == t->object) {
			snprintf(buf, size, "AioContext 0x%" PRIx64 " lock%s", ctx->obj.address,
				 ctx->is_main ? " (qemu_aio_context)" :
				 ctx->is_iothread ? " (an IOThread's)" : "");
			return;
		}
		ac_error_destroy(err);
	}
}

/*
 * The thread's name when the core has it, else the function it was started
 * in ("runs iothread_run"): a gcore core keeps no per-thread names.
 */
static const char *thread_name(struct ac_program *prog, size_t index, char *buf, size_t size)
{
	static const char *const starters[] = {
		/* base names: ac_symbol_base_name() drops leading underscores */
		"start_thread", "clone", "clone3", "start", "libc_start_main",
		"libc_start_call_main", "qemu_thread_start",
	};
	const struct ac_thread *thread = prog ? ac_target_thread(prog->target, index) : NULL;
	const struct ac_backtrace *bt = prog ? ac_program_backtrace(prog, index) : NULL;
	buf[0] = '\0';
	if (thread && thread->name[0]) {
		snprintf(buf, size, " \"%s\"", thread->name);
		return buf;
	}
	for (size_t f = bt ? bt->n_frames : 0; f-- > 0;) {
		char base[96];
		const char *fn = bt->frames[f].function;
		size_t k = 0;
		if (!fn)
			continue;
		ac_symbol_base_name(fn, base, sizeof(base));
		while (k < sizeof(starters) / sizeof(starters[0]) && strcmp(base, starters[k]))
			k++;
		if (k == sizeof(starters) / sizeof(starters[0])) {
			snprintf(buf, size, " (runs %s)", base);
			break;
		}
	}
	return buf;
}

/* cycle[0..n): thread indexes, each waiting for a lock the next one owns. */
static void report(struct ac_program *prog, const struct ac_analysis *a,
		   const size_t *cycle, size_t n, struct ac_findings *findings)
{
	const struct ac_thread_waits *tw = &a->waits.threads;
	char summary[1024] = "";
	size_t len = 0;
	for (size_t k = 0; k < n && len + 1 < sizeof(summary); k++) {
		const struct ac_thread_wait *t = &tw->items[cycle[k]];
		char name[128];
		lock_name(prog, a, t, name, sizeof(name));
		int w = snprintf(summary + len, sizeof(summary) - len,
				 "%sthread %d waits for %s%s%s held by thread %d", k ? ", " : "",
				 t->tid, t->object_type, name[0] ? " " : "", name, t->owner_tid);
		if (w < 0)
			break;
		len += (size_t)w;
	}
	struct ac_finding *f = ac_findings_add(
		findings, "lock-cycle", AC_CONFIDENCE_HIGH, "%s: %zu thread%s deadlocked%s",
		summary, n, n == 1 ? "" : "s", n == 1 ? " on a lock it holds itself" : "");
	if (!f)
		return;
	for (size_t k = 0; k < n; k++) {
		const struct ac_thread_wait *t = &tw->items[cycle[k]];
		size_t owner = cycle[(k + 1) % n];
		char name[128], what[192];
		lock_name(prog, a, t, name, sizeof(name));
		snprintf(what, sizeof(what), "%s%s%s", t->object_type, name[0] ? " " : "", name);
		char waiter[128], holder[128];
		thread_name(prog, cycle[k], waiter, sizeof(waiter));
		thread_name(prog, owner, holder, sizeof(holder));
		ac_finding_evidence(f, what,
				    ac_evidence_at(AC_ADDRESS(t->object), .tid = t->tid, .frame = t->frame_text),
				    "held by thread %d%s (lock.__data.__owner), waited for by "
				    "thread %d%s", t->owner_tid, holder, t->tid, waiter);
	}
}

void ac_rule_lock_cycle(struct ac_program *prog, const struct ac_analysis *a,
			struct ac_findings *findings)
{
	const struct ac_thread_waits *tw = &a->waits.threads;
	size_t n = tw->n, waiting = 0, found = 0;
	/* seen[i]: 0 unvisited, else 1 + the start of the walk that reached it */
	size_t *seen = calloc(n ? n : 1, sizeof(*seen));
	size_t *cycle = calloc(n ? n : 1, sizeof(*cycle));
	if (!seen || !cycle) {
		free(seen);
		free(cycle);
		return;
	}
	for (size_t i = 0; i < n; i++)
		waiting += tw->items[i].kind == AC_WAIT_MUTEX;
	for (size_t start = 0; start < n; start++) {
		size_t at = start;
		for (size_t steps = 0; at < n && !seen[at] && steps <= n; steps++) {
			seen[at] = start + 1;
			at = owner_of(tw, at);
		}
		/* Back at a thread of this walk: the owners close a cycle there. */
		if (at >= n || seen[at] != start + 1)
			continue;
		size_t len = 0, k = at;
		do {
			cycle[len++] = k;
			k = owner_of(tw, k);
		} while (k != at && k < n && len < n);
		if (k == at) {
			report(prog, a, cycle, len, findings);
			found++;
		}
	}
	/* Said only where a thread waits for a mutex: nothing to check otherwise. */
	if (!found && waiting)
		ac_findings_checked(findings, "lock-cycle: %zu thread%s wait%s for a mutex, "
				    "no owner chain closes", waiting, waiting == 1 ? "" : "s",
				    waiting == 1 ? "s" : "");
	free(seen);
	free(cycle);
}
