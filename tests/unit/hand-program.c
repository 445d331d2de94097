/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <signal.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hand-program.h"

struct hand {
	pid_t pid;              /* whose memory: this process or a snapshot */
	const struct hand_thread *threads;
	size_t n;
	uint64_t sp;
	size_t this_thread;
	uint64_t tls_base;
	const uint64_t (*regs)[27];   /* hand_program_open_regs(), else NULL */
};

static int read_memory(void *arg, uint64_t address, void *buf, size_t size)
{
	struct iovec local = { buf, size };
	struct iovec remote = { (void *)(uintptr_t)address, size };
	ssize_t n = process_vm_readv(((struct hand *)arg)->pid, &local, 1, &remote, 1, 0);
	return n == (ssize_t)size ? 0 : -1;
}

static size_t thread_count(void *arg)
{
	return ((struct hand *)arg)->n;
}

static int thread(void *arg, size_t index, struct ac_thread *ret)
{
	const struct hand_thread *t = &((struct hand *)arg)->threads[index];
	memset(ret, 0, sizeof(*ret));
	ret->tid = t->tid;
	snprintf(ret->name, sizeof(ret->name), "%s", t->name ? t->name : "");
	/*
	 * x86_64 prstatus, every register 0 but %rsp: on this thread's real
	 * stack, so that scans know that region for a stack, as in a core.
	 */
	ret->n_gregs = 27;
	if (((struct hand *)arg)->regs)
		memcpy(ret->gregs, ((struct hand *)arg)->regs[index], 27 * sizeof(uint64_t));
	if (!ret->gregs[19])
		ret->gregs[19] = ((struct hand *)arg)->sp;
	if (index == ((struct hand *)arg)->this_thread)
		ret->tls_base = ((struct hand *)arg)->tls_base;
	return 0;
}

static struct ac_backtrace *make_backtrace(const struct hand_thread *t)
{
	struct ac_backtrace *bt = calloc(1, sizeof(*bt));
	assert_non_null(bt);
	bt->tid = t->tid;
	bt->frames = calloc(HAND_MAX_FRAMES, sizeof(*bt->frames));
	assert_non_null(bt->frames);
	for (size_t i = 0; i < HAND_MAX_FRAMES && t->frames[i]; i++) {
		struct ac_frame *f = &bt->frames[bt->n_frames++];
		const char *at = strchr(t->frames[i], '@');
		f->pc = 0x1000 + i;
		f->how = i ? AC_FRAME_CFI : AC_FRAME_REGISTERS;
		f->module = strdup(at ? at + 1 : "test-executable");
		if (!at)
			f->function = strdup(t->frames[i]);
		else if (t->frames[i][0] != '?')
			f->function = strndup(t->frames[i], (size_t)(at - t->frames[i]));
	}
	return bt;
}

static struct hand current;
static const uint64_t (*next_regs)[27];   /* for the next open only */
static const struct ac_target_callbacks callbacks = {
	.read_memory = read_memory,
	.thread_count = thread_count,
	.thread = thread,
	.arg = &current,
};

pid_t hand_snapshot(void)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		for (;;)
			pause();
	return pid;
}

void hand_snapshot_end(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

struct ac_program *hand_program_open(const struct hand_thread *threads, size_t n)
{
	return hand_program_open_pid(getpid(), threads, n, HAND_NO_THREAD);
}

struct ac_program *hand_program_open_pid(pid_t pid, const struct hand_thread *threads,
					 size_t n, size_t this_thread)
{
#if !defined(__x86_64__)
	skip();   /* the registers below are x86_64's prstatus */
#endif
	int here;
	current = (struct hand){ pid, threads, n, (uint64_t)(uintptr_t)&here, this_thread,
				 (uint64_t)(uintptr_t)pthread_self(), next_regs };   /* x86_64: %fs base */
	next_regs = NULL;
	struct ac_target_config config = {
		.pid = pid,
		.callbacks = &callbacks,
		.main_debuginfo_only = true,
	};
	struct ac_program *prog = NULL;
	struct ac_error *err = ac_program_open(&config, &prog);
	if (err)
		fail_msg("opening the test process: %s", err->message);
	assert_int_equal(ac_target_thread_count(prog->target), n);
	/* Already "unwound": ac_program_backtrace() returns these. */
	for (size_t i = 0; i < n; i++)
		prog->backtraces[i] = make_backtrace(&threads[i]);
	return prog;
}

struct ac_program *hand_program_open_regs(const struct hand_thread *threads, size_t n,
					  const uint64_t (*regs)[27])
{
	next_regs = regs;
	return hand_program_open(threads, n);
}

struct ac_program *hand_program_open_pid_regs(pid_t pid, const struct hand_thread *threads,
					      size_t n, size_t this_thread,
					      const uint64_t (*regs)[27])
{
	next_regs = regs;
	return hand_program_open_pid(pid, threads, n, this_thread);
}

struct ac_program *hand_program_self(void)
{
	static struct hand_thread self[1];
	self[0] = (struct hand_thread){ .tid = gettid(), .name = "test", .frames = { "main" } };
	return hand_program_open(self, 1);
}

void hand_program_close(struct ac_program *prog)
{
	ac_program_destroy(prog);
}

const struct ac_evidence *hand_evidence(const struct ac_finding *f, const char *what)
{
	for (size_t i = 0; i < f->n_evidence; i++)
		if (!strcmp(f->evidence[i].what, what))
			return &f->evidence[i];
	fail_msg("no evidence \"%s\" in finding %s", what, f->pattern->id);
	return NULL;
}

bool hand_noted(const struct ac_program *prog, const char *text)
{
	for (size_t i = 0; i < prog->n_notes; i++)
		if (strstr(prog->notes[i], text))
			return true;
	return false;
}

bool hand_checked(const struct ac_findings *findings, const char *text)
{
	for (size_t i = 0; i < findings->n_checked; i++)
		if (strstr(findings->checked[i], text))
			return true;
	return false;
}

size_t hand_run_rule(void (*rule)(struct ac_program *, const struct ac_analysis *,
				  struct ac_findings *),
		     const struct hand_thread *threads, size_t n,
		     const struct ac_analysis *a, struct ac_findings *findings)
{
	struct ac_program *prog = hand_program_open(threads, n);
	*findings = (struct ac_findings){ 0 };
	rule(prog, a, findings);
	hand_program_close(prog);
	return findings->n;
}

const struct ac_finding *hand_finding(const struct ac_findings *findings,
				      const char *pattern_id, enum ac_confidence confidence)
{
	assert_int_equal(findings->n, 1);
	assert_string_equal(findings->items[0].pattern->id, pattern_id);
	assert_int_equal(findings->items[0].confidence, confidence);
	return &findings->items[0];
}

void hand_context(struct ac_program *prog, uint64_t address, struct ac_aio_context *ret)
{
	*ret = (struct ac_aio_context){ .anchor_frame = -1 };
	struct ac_error *err = ac_object_at(prog, "AioContext", "aio_context_new", address,
					    &ret->obj);
	if (err)
		fail_msg("AioContext at 0x%" PRIx64 ": %s", address, err->message);
}

uint64_t hand_poke(struct ac_program *prog, const char *type, const char *hint,
		   uint64_t address, const char *member, uint64_t value)
{
	struct ac_object obj, m;
	struct ac_error *err = ac_object_at(prog, type, hint, address, &obj);
	if (!err)
		err = ac_object_member(prog, &obj, member, &m, NULL);
	if (err)
		fail_msg("%s.%s: %s", type, member, err->message);
	uint64_t size = 0;
	assert_null(ac_object_size(&m, &size));
	assert_int_equal(size, sizeof(uint64_t));
	uint64_t old;
	memcpy(&old, (void *)(uintptr_t)m.address, sizeof(old));
	memcpy((void *)(uintptr_t)m.address, &value, sizeof(value));
	return old;
}
