/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lost-notify (5710a3e09f9b): a BH is runnable on a context whose home
 * thread sleeps in poll, and no wakeup is on its way (no thread inside
 * qemu_bh_schedule/aio_notify).  When the poll's timeout can be decoded it
 * decides: unbounded is a lost wakeup even with notified == true (the glib
 * path of qemu-img convert, Launchpad 1805256), at medium confidence then;
 * bounded means the BH runs when it expires.  Undecoded, notified == true
 * means a wakeup is pending.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "rule.h"

static bool someone_notifying(struct ac_program *prog)
{
	static const char *const functions[] = { "qemu_bh_schedule", "aio_notify",
						 "aio_bh_enqueue", "event_notifier_set" };
	for (size_t t = 0; t < ac_target_thread_count(prog->target); t++) {
		const struct ac_backtrace *bt = ac_program_backtrace(prog, t);
		for (size_t i = 0; i < sizeof(functions) / sizeof(functions[0]); i++)
			if (ac_backtrace_find_function(bt, functions[i]) >= 0)
				return true;
	}
	return false;
}

enum poll_bound { POLL_UNKNOWN, POLL_UNBOUNDED, POLL_BOUNDED };

struct poll_timeout {
	enum poll_bound bound;
	int64_t ns;                  /* POLL_BOUNDED */
	char how[96];                /* "ppoll timeout NULL", ... */
};

/*
 * Syscall numbers and argument registers (prstatus order) of the polls the
 * home thread can sleep in: the kernel ABI, not QEMU's.  `arg` holds the
 * timeout: a timespec pointer (ppoll) or milliseconds (poll, epoll).
 */
struct poll_syscall {
	enum ac_arch arch;
	uint64_t nr;
	const char *name;
	unsigned arg;
	bool timespec;
};

static const struct poll_syscall poll_syscalls[] = {
	/* x86_64 user_regs_struct: rdx 12, r10 7, orig_rax 15 */
	{ AC_ARCH_X86_64, 271, "ppoll", 12, true },
	{ AC_ARCH_X86_64, 7, "poll", 12, false },
	{ AC_ARCH_X86_64, 232, "epoll_wait", 7, false },
	{ AC_ARCH_X86_64, 281, "epoll_pwait", 7, false },
	/* aarch64 user_pt_regs: x0..x30, the number in x8 */
	{ AC_ARCH_AARCH64, 73, "ppoll", 2, true },
	{ AC_ARCH_AARCH64, 22, "epoll_pwait", 3, false },
};

static bool timeout_from_syscall(struct ac_program *prog, size_t index,
				 struct poll_timeout *ret)
{
	const struct ac_thread *t = ac_target_thread(prog->target, index);
	enum ac_arch arch = ac_target_arch(prog->target);
	unsigned nr_reg = arch == AC_ARCH_X86_64 ? 15 : 8;
	if (!t || t->n_gregs <= nr_reg)
		return false;
	for (size_t i = 0; i < sizeof(poll_syscalls) / sizeof(poll_syscalls[0]); i++) {
		const struct poll_syscall *s = &poll_syscalls[i];
		if (s->arch != arch || t->gregs[nr_reg] != s->nr || t->n_gregs <= s->arg)
			continue;
		uint64_t arg = t->gregs[s->arg];
		if (!s->timespec) {
			int32_t ms = (int32_t)arg;
			ret->bound = ms < 0 ? POLL_UNBOUNDED : POLL_BOUNDED;
			ret->ns = (int64_t)ms * 1000000;
			snprintf(ret->how, sizeof(ret->how), "%s timeout %" PRId32 " ms", s->name, ms);
			return true;
		}
		if (!arg) {
			ret->bound = POLL_UNBOUNDED;
			snprintf(ret->how, sizeof(ret->how), "%s timeout NULL", s->name);
			return true;
		}
		uint64_t sec, nsec;
		struct ac_error *err = ac_target_read_u64(prog->target, arg, &sec);
		if (!err)
			err = ac_target_read_u64(prog->target, arg + 8, &nsec);
		if (err) {
			ac_error_destroy(err);
			return false;
		}
		ret->bound = POLL_BOUNDED;
		ret->ns = (int64_t)sec * 1000000000 + (int64_t)nsec;
		snprintf(ret->how, sizeof(ret->how), "%s timeout %" PRIu64 ".%09" PRIu64 " s",
			 s->name, sec, nsec);
		return true;
	}
	return false;
}

/* QEMU's own decision, where the syscall registers do not say. */
static bool timeout_from_frames(struct ac_program *prog, size_t index,
				struct poll_timeout *ret)
{
	const struct ac_backtrace *bt = ac_program_backtrace(prog, index);
	long at = ac_backtrace_find_function(bt, "qemu_poll_ns");
	uint64_t v;
	struct ac_error *err;
	if (at >= 0) {
		err = ac_frame_variable_uint(prog, index, (size_t)at, "timeout", &v);
		if (!err) {
			ret->bound = (int64_t)v < 0 ? POLL_UNBOUNDED : POLL_BOUNDED;
			ret->ns = (int64_t)v;
			snprintf(ret->how, sizeof(ret->how), "qemu_poll_ns timeout %" PRId64 " ns",
				 (int64_t)v);
			return true;
		}
		ac_error_destroy(err);
	}
	at = ac_backtrace_find_function(bt, "aio_poll");
	if (at >= 0) {
		err = ac_frame_variable_uint(prog, index, (size_t)at, "blocking", &v);
		if (!err && !(v & 0xff)) {
			ret->bound = POLL_BOUNDED;
			ret->ns = 0;
			snprintf(ret->how, sizeof(ret->how), "aio_poll(blocking=false)");
			return true;
		}
		ac_error_destroy(err);  /* blocking: unbounded only without timers */
	}
	return false;
}

static void poll_timeout(struct ac_program *prog, const struct ac_aio_context *ctx,
			 struct poll_timeout *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!ctx->home_tid || !ctx->sleeping_in_poll)
		return;
	if (!timeout_from_syscall(prog, ctx->home_thread_index, ret))
		timeout_from_frames(prog, ctx->home_thread_index, ret);
}

void ac_rule_lost_notify(struct ac_program *prog, const struct ac_analysis *a,
			 struct ac_findings *findings)
{
	for (size_t i = 0; i < a->contexts.n; i++) {
		const struct ac_aio_context *ctx = &a->contexts.items[i];
		const struct ac_bh_list *bhs = &a->bhs[i];
		size_t runnable = 0;
		for (size_t b = 0; b < bhs->n; b++)
			runnable += bhs->items[b].runnable && !bhs->items[b].problem;
		/*
		 * 2.1 (dispatching, no notify_me): aio_notify() kicks the eventfd
		 * whenever !dispatching, so a runnable BH beside a sleeper is a kick
		 * still in flight, not a lost one.
		 */
		bool kicks_always = ctx->has_dispatching && !ctx->has_notify_me &&
				    !ctx->dispatching;
		struct poll_timeout tmo;
		memset(&tmo, 0, sizeof(tmo));
		if (runnable && !kicks_always)
			poll_timeout(prog, ctx, &tmo);
		char bound[160] = "";
		if (kicks_always)
			snprintf(bound, sizeof(bound), ", dispatching false (every aio_notify() kicks)");
		else if (tmo.bound == POLL_UNBOUNDED)
			snprintf(bound, sizeof(bound), ", poll unbounded (%s)", tmo.how);
		else if (tmo.bound == POLL_BOUNDED)
			snprintf(bound, sizeof(bound),
				 ", poll bounded (%s): the BH runs when it expires, not a hang", tmo.how);
		ac_findings_checked(findings, "lost-notify: AioContext 0x%" PRIx64 ": %zu runnable BH%s, home thread %s%s",
				    ctx->obj.address, runnable, runnable == 1 ? "" : "s",
				    !ctx->home_tid ? "unknown"
				    : ctx->sleeping_in_poll ? "asleep in poll" : "running", bound);
		if (!runnable || !ctx->home_tid || !ctx->sleeping_in_poll || kicks_always)
			continue;
		if (tmo.bound == POLL_BOUNDED)
			continue;
		if (tmo.bound == POLL_UNKNOWN && ctx->has_notified && ctx->notified)
			continue;  /* the eventfd was kicked: the wakeup is pending */
		if (someone_notifying(prog))
			continue;
		/*
		 * notified == true: aio_notify() ran.  Its kick may be lost, or
		 * may have been written after the home thread was captured: a
		 * core of a running process is not atomic across threads (a
		 * third of busy converts' cores look like this).  One core
		 * cannot tell; without `notified` (2.x) neither.
		 */
		bool kick_ran = ctx->has_notified && ctx->notified;
		struct ac_finding *f = ac_findings_add(findings, "lost-notify",
			ctx->has_notified && !kick_ran ? AC_CONFIDENCE_HIGH : AC_CONFIDENCE_MEDIUM,
			"%zu BH%s runnable on AioContext 0x%" PRIx64 " but thread %d sleeps in %s: the aio_notify() wakeup was lost%s",
			runnable, runnable == 1 ? " is" : "s are", ctx->obj.address,
			ctx->home_tid, ctx->blocked_in ? ctx->blocked_in : "poll",
			kick_ran ? ", or written while the core was taken (notified is true); "
				   "a second core seconds later tells" : "");
		for (size_t b = 0; b < bhs->n; b++)
			if (bhs->items[b].runnable && !bhs->items[b].problem)
				ac_evidence_bh(f, "runnable BH", &bhs->items[b]);
		if (ctx->has_notified)
			ac_finding_evidence(f, "AioContext.notified",
					    ac_evidence_at(AC_ADDRESS(ctx->obj.address)),
					    ctx->notified
					    ? "true (aio_notify() ran, yet the poller sleeps without timeout)"
					    : "false (no wakeup pending)");
		if (ctx->has_notify_me)
			ac_finding_evidence(f, "AioContext.notify_me",
					    ac_evidence_at(AC_ADDRESS(ctx->obj.address)),
					    "%" PRIu32 " (glib prepare bit %s, %" PRIu32 " blocking aio_poll)",
					    ctx->notify_me, ctx->notify_me & 1 ? "set" : "clear",
					    ctx->notify_me >> 1);
		/* 2.1: aio_notify() skipped the eventfd while it slept. */
		if (ctx->has_dispatching && ctx->dispatching)
			ac_finding_evidence(f, "AioContext.dispatching",
					    ac_evidence_at(AC_ADDRESS(ctx->obj.address)),
					    "true (aio_notify() skips the eventfd, yet the thread sleeps)");
		ac_evidence_home(prog, f, ctx);
		if (tmo.bound == POLL_UNBOUNDED)
			ac_finding_evidence(f, "poll timeout", ac_evidence_at(.tid = ctx->home_tid),
					    "none (%s): nothing but the lost kick would wake it", tmo.how);
	}
}
