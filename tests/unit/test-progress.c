/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * diagnose --since's comparison (analyzer/rules/progress.c) on two real
 * gcore cores of one process: a fork of this test, paused, whose request
 * argument (a static buffer) a signal changes between the two cores.  The
 * thread-pool requests are hand-built analyses; the capture times are
 * the core files' modification times, set by the test.  The same request,
 * argument bytes and state seconds later is no progress (the finding); a
 * request gone, a state moved on or its argument rewritten is progress.
 * A running job (hand-job.h, put on `jobs` by a second signal) whose
 * progress.current did not move is no progress; one that moved (a third
 * signal) is progress;
 * unmoved cores under a second apart cannot tell; the same file twice or
 * the cores in the wrong order are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rules/progress.h"
#include "hand-job.h"

#define ADDR(p) ((uint64_t)(uintptr_t)(p))

static char tmpdir[] = "/tmp/aiocore-progress-XXXXXX";
static char core_a[600], core_a2[600], core_b[600];
static char core_j[600], core_j2[600], core_k[600];   /* with a job: at 100, copy, at 300 */
static volatile unsigned char request_arg[64] = "read 4096 bytes at 0";
static int done_pipe[2];

/* Not static: only the analyzer reads them, the compiler must keep them. */
struct { Job *lh_first; } jobs;
Job mirror_job;
const JobDriver mirror_driver = { sizeof(Job), JOB_TYPE_MIRROR };
char mirror_id[] = "mirror0";

static void signal_done(void)
{
	char c = 1;
	if (write(done_pipe[1], &c, 1) != 1)
		_exit(1);
}

/* In the child: a running mirror job appears, at 100 of 1000. */
static void start_job(int sig)
{
	(void)sig;
	mirror_job = (Job){ .id = mirror_id, .driver = &mirror_driver,
			    .status = JOB_STATUS_RUNNING, .busy = true,
			    .progress = { 100, 1000 } };
	jobs.lh_first = &mirror_job;
	signal_done();
}

/* In the child: the job advances to 300. */
static void advance_job(int sig)
{
	(void)sig;
	mirror_job.progress.current = 300;
	signal_done();
}

/* In the child: rewrite the request's argument, then say so. */
static void rewrite_arg(int sig)
{
	(void)sig;
	request_arg[5] = '8';
	signal_done();
}

/* Sends sig to pid and waits for its handler to be done. */
static int poke(pid_t pid, int sig)
{
	char c;
	return kill(pid, sig) == 0 && read(done_pipe[0], &c, 1) == 1 ? 0 : -1;
}

static int gcore(pid_t pid, const char *path)
{
	char cmd[1400];
	snprintf(cmd, sizeof(cmd), "gcore -o %s/g %d >/dev/null 2>&1", tmpdir, pid);
	if (system(cmd) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "%s/g.%d", tmpdir, pid);
	return rename(cmd, path);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir) || pipe(done_pipe) != 0)
		return -1;
	snprintf(core_a, sizeof(core_a), "%s/a.core", tmpdir);
	snprintf(core_a2, sizeof(core_a2), "%s/a2.core", tmpdir);
	snprintf(core_b, sizeof(core_b), "%s/b.core", tmpdir);
	snprintf(core_j, sizeof(core_j), "%s/j.core", tmpdir);
	snprintf(core_j2, sizeof(core_j2), "%s/j2.core", tmpdir);
	snprintf(core_k, sizeof(core_k), "%s/k.core", tmpdir);
	signal(SIGUSR1, rewrite_arg);
	signal(SIGUSR2, start_job);
	signal(SIGURG, advance_job);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		for (;;)
			pause();
	char cmd[2600];
	int rc = gcore(pid, core_a);
	if (rc == 0)
		rc = poke(pid, SIGUSR1);
	if (rc == 0)
		rc = gcore(pid, core_b);
	if (rc == 0)
		rc = poke(pid, SIGUSR2);
	if (rc == 0)
		rc = gcore(pid, core_j);
	if (rc == 0)
		rc = poke(pid, SIGURG);
	if (rc == 0)
		rc = gcore(pid, core_k);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* Copies: a second inode of the same moment. */
	snprintf(cmd, sizeof(cmd), "cp %s %s && cp %s %s", core_a, core_a2, core_j, core_j2);
	return rc == 0 && system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The core at path, "captured" at t seconds of the epoch. */
static struct ac_program *open_core(const char *path, double t)
{
	struct timespec times[2] = {
		{ (time_t)t, (long)((t - (time_t)t) * 1e9) },
		{ (time_t)t, (long)((t - (time_t)t) * 1e9) },
	};
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
	struct ac_target_config config = { .core_path = path };
	struct ac_program *prog = NULL;
	struct ac_error *err = ac_program_open(&config, &prog);
	if (err)
		fail_msg("%s: %s", path, err->message);
	return prog;
}

/* An analysis of one context whose pool holds n hand-made requests. */
struct side {
	struct ac_aio_context ctx;
	struct ac_bh_list bhs;
	struct ac_thread_pool pool;
	struct ac_pool_element elem;
	struct ac_analysis a;
};

static void side_init(struct side *s, size_t n_elements)
{
	*s = (struct side){
		.ctx = { .obj = { .address = 0x555500001000 }, .is_main = true },
		.pool = { .address = 0x555500002000, .type_name = "ThreadPool" },
		.elem = { .address = 0x555500003000, .state = 1, .state_name = "THREAD_ACTIVE",
			  .active = true, .func = 0x555500004000, .func_name = "handle_aiocb_rw",
			  .kind = "read", .arg = ADDR(request_arg), .opaque = 0x555500005000 },
	};
	s->pool.elements = &s->elem;
	s->pool.n_elements = n_elements;
	s->a = (struct ac_analysis){ .contexts = { &s->ctx, 1 }, .bhs = &s->bhs,
				     .pools = &s->pool };
}

struct result {
	struct ac_progress p;
	struct ac_findings f;
};

static struct ac_error *compare(const char *earlier, double te, const struct side *e,
				const char *later, double tl, const struct side *l,
				struct result *r)
{
	struct ac_program *ep = open_core(earlier, te);
	struct ac_program *lp = earlier == later ? ep : open_core(later, tl);
	r->f = (struct ac_findings){ 0 };
	r->p = (struct ac_progress){ 0 };
	struct ac_error *err = ac_progress_compare(ep, &e->a, lp, &l->a, &r->p, &r->f);
	if (lp != ep)
		ac_program_destroy(lp);
	ac_program_destroy(ep);
	return err;
}

static void result_deinit(struct result *r)
{
	ac_progress_deinit(&r->p);
	ac_findings_deinit(&r->f);
}

#define T0 1700000000.0

static void test_unchanged_is_no_progress(void **state)
{
	(void)state;
	struct side e, l;
	side_init(&e, 1);
	side_init(&l, 1);
	struct result r;
	assert_null(compare(core_a, T0, &e, core_a2, T0 + 5, &l, &r));
	assert_int_equal(r.p.state, AC_PROGRESS_STALLED);
	assert_true(r.p.has_seconds);
	assert_true(r.p.seconds > 4.99 && r.p.seconds < 5.01);
	assert_int_equal(r.p.n_in_flight, 1);
	assert_int_equal(r.p.n_stalled, 1);
	assert_int_equal(r.p.n_completed, 0);
	char want[256];
	snprintf(want, sizeof(want), "no progress in 5.0 s on thread-pool request 0x555500003000 "
		 "(read handle_aiocb_rw, arg 0x%" PRIx64 ", THREAD_ACTIVE)", ADDR(request_arg));
	assert_string_equal(r.p.summary, want);
	assert_int_equal(r.f.n, 1);
	const struct ac_finding *x = &r.f.items[0];
	assert_string_equal(x->pattern->id, "no-progress");
	assert_int_equal(x->confidence, AC_CONFIDENCE_HIGH);
	assert_string_equal(x->evidence[0].what, "ThreadPoolElement");
	assert_int_equal(x->evidence[0].address, 0x555500003000);
	assert_non_null(strstr(x->evidence[0].value, "unchanged after 5.0 s"));
	/* The same process seen twice: its threads did not move. */
	assert_true(r.p.pid > 0);
	bool threads = false;
	for (size_t i = 0; i < r.p.n_lines; i++)
		if (!strcmp(r.p.lines[i].what, "threads in both cores")) {
			threads = true;
			assert_false(r.p.lines[i].moved);
		}
	assert_true(threads);
	result_deinit(&r);
}

static void test_completed_is_progress(void **state)
{
	(void)state;
	struct side e, l;
	side_init(&e, 1);
	side_init(&l, 0);
	struct result r;
	assert_null(compare(core_a, T0, &e, core_a2, T0 + 5, &l, &r));
	assert_int_equal(r.p.state, AC_PROGRESS_MOVING);
	assert_int_equal(r.p.n_completed, 1);
	assert_string_equal(r.p.summary, "progressing: 1 of 1 request in flight completed in 5.0 s");
	assert_int_equal(r.f.n, 0);
	result_deinit(&r);
}

/* The same element, but moved from queued to active: it advanced. */
static void test_state_moved_is_progress(void **state)
{
	(void)state;
	struct side e, l;
	side_init(&e, 1);
	side_init(&l, 1);
	e.elem.state = 0;
	e.elem.state_name = "THREAD_QUEUED";
	struct result r;
	assert_null(compare(core_a, T0, &e, core_a2, T0 + 5, &l, &r));
	assert_int_equal(r.p.state, AC_PROGRESS_MOVING);
	assert_int_equal(r.f.n, 0);
	result_deinit(&r);
}

/* Same address, function and argument pointer, but the argument's bytes
 * differ in the later core: the element was reused for another request. */
static void test_argument_rewritten_is_progress(void **state)
{
	(void)state;
	struct side e, l;
	side_init(&e, 1);
	side_init(&l, 1);
	struct result r;
	assert_null(compare(core_a, T0, &e, core_b, T0 + 5, &l, &r));
	assert_int_equal(r.p.state, AC_PROGRESS_MOVING);
	assert_int_equal(r.p.n_stalled, 0);
	assert_int_equal(r.f.n, 0);
	result_deinit(&r);
}

static void test_too_close(void **state)
{
	(void)state;
	struct side e, l;
	side_init(&e, 1);
	side_init(&l, 1);
	struct result r;
	assert_null(compare(core_a, T0, &e, core_a2, T0 + 0.5, &l, &r));
	assert_int_equal(r.p.state, AC_PROGRESS_TOO_CLOSE);
	assert_string_equal(r.p.summary, "cannot tell: 1 request unchanged, but the cores are only "
			    "0.5 s apart; take them seconds apart");
	assert_int_equal(r.f.n, 0);
	result_deinit(&r);
}

static void test_idle(void **state)
{
	(void)state;
	struct side e, l;
	side_init(&e, 0);
	side_init(&l, 0);
	struct result r;
	assert_null(compare(core_a, T0, &e, core_a2, T0 + 5, &l, &r));
	assert_int_equal(r.p.state, AC_PROGRESS_IDLE);
	assert_string_equal(r.p.summary, "idle: no request in flight in the earlier core and no "
			    "counter moved in 5.0 s");
	result_deinit(&r);
}

/* A running job at 100 of 1000 both times: no progress, named in the summary. */
static void test_job_unmoved(void **state)
{
	(void)state;
	struct side e, l;
	side_init(&e, 0);
	side_init(&l, 0);
	struct result r;
	assert_null(compare(core_j, T0, &e, core_j2, T0 + 5, &l, &r));
	assert_int_equal(r.p.state, AC_PROGRESS_STALLED);
	assert_int_equal(r.p.n_stalled, 1);
	assert_string_equal(r.p.summary, "no progress in 5.0 s on job mirror0 (mirror, running) "
			    "at 100 of 1000");
	assert_int_equal(r.f.n, 1);
	assert_string_equal(r.f.items[0].evidence[0].what, "Job");
	assert_int_equal(r.f.items[0].evidence[0].address, ADDR(&mirror_job));
	result_deinit(&r);
}

static void test_job_moved(void **state)
{
	(void)state;
	struct side e, l;
	side_init(&e, 0);
	side_init(&l, 0);
	struct result r;
	assert_null(compare(core_j, T0, &e, core_k, T0 + 5, &l, &r));
	assert_int_equal(r.p.state, AC_PROGRESS_MOVING);
	assert_int_equal(r.p.job_progress, 200);
	assert_string_equal(r.p.summary, "progressing: jobs progressed by 200 in 5.0 s");
	bool line = false;
	for (size_t i = 0; i < r.p.n_lines; i++)
		if (!strcmp(r.p.lines[i].what, "job mirror0 (mirror) progress")) {
			line = true;
			assert_true(r.p.lines[i].moved);
			assert_string_equal(r.p.lines[i].earlier, "100/1000 running");
			assert_string_equal(r.p.lines[i].later, "300/1000 running");
		}
	assert_true(line);
	assert_int_equal(r.f.n, 0);
	result_deinit(&r);
}

static void test_refused(void **state)
{
	(void)state;
	struct side e, l;
	side_init(&e, 1);
	side_init(&l, 1);
	struct result r;
	struct ac_error *err = compare(core_a, T0, &e, core_a, T0, &l, &r);
	assert_non_null(err);
	assert_int_equal(err->code, AC_ERR_MISMATCH);
	assert_non_null(strstr(err->message, "the same core as"));
	ac_error_destroy(err);
	ac_findings_deinit(&r.f);
	err = compare(core_a, T0 + 5, &e, core_a2, T0, &l, &r);
	assert_non_null(err);
	assert_int_equal(err->code, AC_ERR_MISMATCH);
	assert_non_null(strstr(err->message, "written 5.0 s after"));
	assert_non_null(strstr(err->message, "give the older core to --since"));
	ac_error_destroy(err);
	ac_findings_deinit(&r.f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unchanged_is_no_progress),
		cmocka_unit_test(test_completed_is_progress),
		cmocka_unit_test(test_state_moved_is_progress),
		cmocka_unit_test(test_argument_rewritten_is_progress),
		cmocka_unit_test(test_too_close),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_job_unmoved),
		cmocka_unit_test(test_job_moved),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
