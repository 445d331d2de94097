/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bql-poll-cycle (GitLab #780): a thread other than the main thread holds
 * the BQL and sleeps in a blocking aio_poll() on a context other than the
 * main one, while the main thread waits for the BQL.  What the holder waits
 * for can only run in the main loop, which cannot run without the BQL.
 *
 * Read: the owner TID of the BQL mutex (qemu_global_mutex up to 8.x, bql
 * from 9.0; QemuMutex.lock is glibc's pthread_mutex_t, the owner is
 * lock.__data.__owner), that thread's stack (asleep in poll under aio_poll,
 * nothing else in between: a thread running a BH inside aio_poll is not
 * asleep), the polled context (the ctx argument of that aio_poll), and the
 * main thread's stack (in the BQL lock path, blocked in the mutex).  A
 * runnable BH on qemu_aio_context (or a coroutine scheduled there) is what
 * the holder waits for and makes the finding high confidence.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dwarf/dwarf.h"
#include "rule.h"

/* The BQL's name by QEMU generation, with a function of its file. */
static const struct {
	const char *name, *hint;
} bql_names[] = {
	{ "qemu_global_mutex", "qemu_mutex_lock_iothread" },
	{ "qemu_global_mutex", "qemu_mutex_lock_iothread_impl" },
	{ "bql", "bql_lock_impl" },
	{ "qemu_global_mutex", NULL },
	{ "bql", NULL },
};

/* Functions through which the main thread takes the BQL. */
static const char *const bql_lockers[] = {
	"qemu_mutex_lock_iothread", "qemu_mutex_lock_iothread_impl",
	"bql_lock_impl", "bql_lock", "qemu_mutex_lock_impl", "qemu_mutex_lock",
};

/* Block-job exit paths (#780's stack runs one of them under the BQL). */
static const char *const job_exits[] = {
	"job_exit", "mirror_exit_common", "mirror_exit", "commit_exit", "stream_exit",
	"backup_exit", "block_job_defer_to_main_loop_bh", "bdrv_flush",
};

static bool is_poll(const char *fn)
{
	char b[128];
	if (!fn)
		return false;
	ac_symbol_base_name(fn, b, sizeof(b));
	return !strcmp(b, "ppoll") || !strcmp(b, "poll") || !strcmp(b, "epoll_wait") ||
	       !strcmp(b, "epoll_pwait") || !strcmp(b, "io_uring_enter") ||
	       !strcmp(b, "qemu_poll_ns") || !strncmp(b, "fdmon_", 6) ||
	       !strcmp(b, "syscall") || !strcmp(b, "io_uring_submit_and_wait");
}

/* Frames of glibc's mutex slow path. */
static bool is_mutex_wait(const char *fn)
{
	char b[128];
	if (!fn)
		return false;
	ac_symbol_base_name(fn, b, sizeof(b));
	return !strcmp(b, "lll_lock_wait") || !strcmp(b, "futex_wait") ||
	       !strcmp(b, "pthread_mutex_lock") || !strcmp(b, "lll_mutex_lock_optimized") ||
	       !strcmp(b, "pthread_mutex_lock_full") || !strcmp(b, "futex_lock_pi64") ||
	       !strcmp(b, "syscall") || !strncmp(b, "futex_", 6) ||
	       !strcmp(b, "lll_lock_wait_private");
}

static const char *frame_fn(const struct ac_backtrace *bt, long i)
{
	return bt->frames[i].function ? bt->frames[i].function : "??";
}

static bool in_library_unnamed(const struct ac_backtrace *bt, long i, const char *main_module)
{
	const struct ac_frame *f = &bt->frames[i];
	return !f->function && f->module && main_module && strcmp(f->module, main_module);
}

/* "ppoll <- qemu_poll_ns <- aio_poll" for frames 0..last, into buf. */
static const char *chain_text(const struct ac_backtrace *bt, long last, char *buf, size_t size)
{
	size_t len = 0;
	const char *prev = NULL;
	buf[0] = '\0';
	for (long i = 0; i <= last && len + 1 < size; i++) {
		char b[128];
		ac_symbol_base_name(frame_fn(bt, i), b, sizeof(b));
		if (prev && !strcmp(prev, frame_fn(bt, i)))
			continue;
		prev = frame_fn(bt, i);
		int n = snprintf(buf + len, size - len, "%s%s", len ? " <- " : "", b);
		if (n < 0)
			break;
		len += (size_t)n;
	}
	return buf;
}

static bool read_bql(struct ac_program *prog, struct ac_object *mutex, const char **name,
		     uint64_t *owner)
{
	for (size_t i = 0; i < sizeof(bql_names) / sizeof(bql_names[0]); i++) {
		/* Tools (qemu-img, qemu-io) have no BQL: the symbol table says so
		 * at once, where a missing hint function would index every CU. */
		struct ac_variable any;
		struct ac_error *err = ac_dwarf_find_variable(prog->dwarf, bql_names[i].name,
							      NULL, &any);
		if (err) {
			ac_error_destroy(err);
			continue;
		}
		err = ac_object_variable(prog, bql_names[i].name, bql_names[i].hint, mutex);
		if (err) {
			ac_error_destroy(err);
			continue;
		}
		*name = bql_names[i].name;
		err = ac_object_member_uint(prog, mutex, "lock.__data.__owner", owner);
		if (err) {
			ac_program_note_error(prog, err, "%s.lock.__data.__owner", *name);
			return false;
		}
		return true;
	}
	return false;
}

/* The main thread: main_loop_wait on its stack, else main(). */
static long find_main_thread(struct ac_program *prog)
{
	size_t n = ac_target_thread_count(prog->target);
	long by_main = -1;
	for (size_t i = 0; i < n; i++) {
		const struct ac_backtrace *bt = ac_program_backtrace(prog, i);
		if (!bt)
			continue;
		if (ac_backtrace_find_function(bt, "main_loop_wait") >= 0)
			return (long)i;
		if (by_main < 0 && ac_backtrace_find_function(bt, "main") >= 0)
			by_main = (long)i;
	}
	return by_main;
}

/* Index of the first BQL locker frame if frames below it are glibc's mutex wait. */
static long bql_wait_frame(const struct ac_backtrace *bt)
{
	long best = -1;
	for (size_t k = 0; k < sizeof(bql_lockers) / sizeof(bql_lockers[0]); k++) {
		long at = ac_backtrace_find_function(bt, bql_lockers[k]);
		if (at >= 0 && (best < 0 || at > best))
			best = at;   /* the outermost locker names the BQL path */
	}
	if (best <= 0)
		return -1;
	/* The locker is QEMU's own code: its module is the executable. */
	const char *main_module = bt->frames[best].module;
	/*
	 * Below the lockers: only lockers and the mutex slow path.  Without
	 * libc's debuginfo its internal frames have no name: a nameless frame
	 * in a library (not in the executable) counts as the slow path.
	 */
	for (long i = 0; i < best; i++) {
		const char *fn = frame_fn(bt, i);
		bool locker = false;
		for (size_t k = 0; k < sizeof(bql_lockers) / sizeof(bql_lockers[0]); k++)
			if (!strcmp(fn, bql_lockers[k]))
				locker = true;
		if (!locker && !is_mutex_wait(fn) && !in_library_unnamed(bt, i, main_module))
			return -1;
	}
	if (!is_mutex_wait(frame_fn(bt, 0)) && !in_library_unnamed(bt, 0, main_module))
		return -1;
	return best;
}

void ac_rule_bql_poll_cycle(struct ac_program *prog, const struct ac_analysis *a,
			    struct ac_findings *findings)
{
	struct ac_object mutex;
	const char *bql = NULL;
	uint64_t owner = 0;
	if (!read_bql(prog, &mutex, &bql, &owner))
		return;
	long main_index = find_main_thread(prog);
	const struct ac_thread *main_thread = main_index >= 0 ?
		ac_target_thread(prog->target, (size_t)main_index) : NULL;
	if (!main_thread) {
		ac_findings_checked(findings, "bql-poll-cycle: no main thread (main_loop_wait/main) found");
		return;
	}
	if (!owner) {
		ac_findings_checked(findings, "bql-poll-cycle: %s is free", bql);
		return;
	}
	if ((pid_t)owner == main_thread->tid) {
		ac_findings_checked(findings, "bql-poll-cycle: %s held by the main thread %d",
				    bql, main_thread->tid);
		return;
	}
	long owner_index = -1;
	for (size_t i = 0; i < ac_target_thread_count(prog->target); i++)
		if (ac_target_thread(prog->target, i)->tid == (pid_t)owner)
			owner_index = (long)i;
	const struct ac_backtrace *obt = owner_index >= 0 ?
		ac_program_backtrace(prog, (size_t)owner_index) : NULL;
	long poll = obt ? ac_backtrace_find_function(obt, "aio_poll") : -1;
	bool asleep = poll > 0;
	for (long i = 0; asleep && i < poll; i++)
		if (!is_poll(frame_fn(obt, i)))
			asleep = false;
	if (!asleep) {
		ac_findings_checked(findings, "bql-poll-cycle: %s held by thread %" PRIu64 ", %s",
				    bql, owner, !obt ? "not in the core" :
				    poll < 0 ? "not in aio_poll" : "running (not asleep in aio_poll)");
		return;
	}
	/* The context it polls: the main one would let it run the work itself. */
	uint64_t polled = 0;
	struct ac_error *err = ac_frame_variable_uint(prog, (size_t)owner_index, (size_t)poll,
						      "ctx", &polled);
	ac_error_destroy(err);
	const struct ac_aio_context *pctx = polled ? ac_context_list_find(&a->contexts, polled) : NULL;
	if (pctx && pctx->is_main) {
		ac_findings_checked(findings, "bql-poll-cycle: %s holder %" PRIu64 " polls qemu_aio_context itself",
				    bql, owner);
		return;
	}
	const struct ac_backtrace *mbt = main_index >= 0 ?
		ac_program_backtrace(prog, (size_t)main_index) : NULL;
	long lock = mbt ? bql_wait_frame(mbt) : -1;
	if (lock < 0) {
		ac_findings_checked(findings, "bql-poll-cycle: %s holder %" PRIu64 " sleeps in aio_poll; the main thread does not wait for the BQL",
				    bql, owner);
		return;
	}

	/* What the holder waits for: work queued on the main context. */
	size_t main_ctx = a->contexts.n;
	for (size_t i = 0; i < a->contexts.n; i++)
		if (a->contexts.items[i].is_main)
			main_ctx = i;
	const struct ac_bh *waited = NULL;
	size_t n_runnable = 0;
	if (main_ctx < a->contexts.n) {
		const struct ac_bh_list *bhs = &a->bhs[main_ctx];
		for (size_t b = 0; b < bhs->n; b++)
			if (bhs->items[b].runnable && !bhs->items[b].problem) {
				if (!waited)
					waited = &bhs->items[b];
				n_runnable++;
			}
	}
	uint64_t scheduled_co = main_ctx < a->contexts.n ?
		a->contexts.items[main_ctx].scheduled_coroutines : 0;
	bool closed = waited || scheduled_co;

	long job = -1;
	for (size_t k = 0; k < sizeof(job_exits) / sizeof(job_exits[0]) && job < 0; k++) {
		long at = ac_backtrace_find_function(obt, job_exits[k]);
		if (at > poll)
			job = at;
	}

	const struct ac_thread *othread = ac_target_thread(prog->target, (size_t)owner_index);
	struct ac_finding *f = ac_findings_add(findings, "bql-poll-cycle",
		closed ? AC_CONFIDENCE_HIGH : AC_CONFIDENCE_MEDIUM,
		"thread %" PRIu64 " holds the BQL (%s) and sleeps in aio_poll on AioContext 0x%" PRIx64 ", not qemu_aio_context; the main thread %d waits for the BQL%s",
		owner, bql, polled, main_thread->tid,
		closed ? ", so the main loop never runs the work it waits for" : "");
	if (!f)
		return;
	char frame[160], chain[512];
	char what[64];
	snprintf(what, sizeof(what), "%s.lock.__data.__owner", bql);
	ac_finding_evidence(f, what, ac_evidence_at(AC_ADDRESS(mutex.address)),
			    "%" PRIu64 "%s%s%s, not the main thread %d",
			    owner, othread->name[0] ? " \"" : "", othread->name,
			    othread->name[0] ? "\"" : "", main_thread->tid);
	ac_frame_text(prog, (size_t)owner_index, poll, frame, sizeof(frame));
	ac_finding_evidence(f, "BQL holder", ac_evidence_at(.tid = othread->tid, .frame = frame),
			    "asleep in %s on AioContext 0x%" PRIx64 " (%s)",
			    chain_text(obt, poll, chain, sizeof(chain)), polled,
			    pctx && pctx->is_iohandler ? "iohandler_ctx" : "not qemu_aio_context");
	if (job >= 0) {
		ac_frame_text(prog, (size_t)owner_index, job, frame, sizeof(frame));
		char b[128];
		ac_symbol_base_name(frame_fn(obt, job), b, sizeof(b));
		ac_finding_evidence(f, "polling under",
				    ac_evidence_at(.tid = othread->tid, .frame = frame),
				    "%s (aio_poll at #%ld)", b, poll);
	}
	ac_frame_text(prog, (size_t)main_index, lock, frame, sizeof(frame));
	ac_finding_evidence(f, "main thread",
			    ac_evidence_at(.tid = main_thread->tid, .frame = frame),
			    "waits for the BQL: %s", chain_text(mbt, lock, chain, sizeof(chain)));
	if (waited) {
		ac_evidence_bh(f, "runnable BH on qemu_aio_context", waited);
		if (n_runnable > 1)
			ac_finding_evidence(f, "runnable BHs on qemu_aio_context", ac_evidence_at(),
					    "%zu in all", n_runnable);
	}
	if (scheduled_co)
		ac_finding_evidence(f, "qemu_aio_context.scheduled_coroutines",
				    ac_evidence_at(AC_ADDRESS(a->contexts.items[main_ctx].obj.address)),
				    "first 0x%" PRIx64 " (entered only by the main loop)", scheduled_co);
	if (!closed)
		ac_finding_evidence(f, "waited-for work", ac_evidence_at(),
				    "not found on qemu_aio_context (no runnable BH, no scheduled coroutine)");
}
