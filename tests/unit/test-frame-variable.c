/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Frame variables on a gcore core of tests/programs/frame-vars: each
 * thread is parked in a function whose arguments are known globals or
 * constants.  What lives in a callee-saved register across the blocking
 * call must come back exactly; what the compiler dropped must be an
 * AC_ERR_LOOKUP error, never a value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dwarf/frame-variable.h"

#define FV_EV_BUSY 0xffffffffu
#define FV_POLL_ID 4242

static const char *program;
static char tmpdir[] = "/tmp/aiocore-test-frame-variable-XXXXXX";
static char core_path[512];
static struct ac_program *prog;

static int make_core(void)
{
	int fds[2];
	if (pipe(fds) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		execl(program, program, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	FILE *out = fdopen(fds[0], "r");
	char word[16];
	int ready_pid, rc = -1;
	if (fscanf(out, "%15s %d", word, &ready_pid) == 2 && !strcmp(word, "ready")) {
		/* "ready" comes just before the main thread parks in read(). */
		usleep(200 * 1000);
		char cmd[1024];
		snprintf(cmd, sizeof(cmd), "gcore -o %s/g %d >/dev/null 2>&1", tmpdir, pid);
		rc = system(cmd);
		snprintf(cmd, sizeof(cmd), "%s/g.%d", tmpdir, pid);
		snprintf(core_path, sizeof(core_path), "%s/core", tmpdir);
		if (rc == 0 && rename(cmd, core_path) != 0)
			rc = -1;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	fclose(out);
	return rc == 0 ? 0 : -1;
}

static int group_setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir) || make_core() != 0)
		return -1;
	struct ac_target_config config = { .core_path = core_path };
	struct ac_error *err = ac_program_open(&config, &prog);
	if (err) {
		fprintf(stderr, "%s\n", err->message);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	ac_program_destroy(prog);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static uint64_t global(const char *name)
{
	struct ac_variable var;
	struct ac_error *err = ac_dwarf_find_variable(prog->dwarf, name, NULL, &var);
	if (err)
		fail_msg("%s", err->message);
	return var.address;
}

/* The thread parked in function: its index, and the frame's index. */
static size_t thread_in(const char *function, size_t *frame)
{
	for (size_t i = 0; i < ac_target_thread_count(prog->target); i++) {
		long f = ac_backtrace_find_function(ac_program_backtrace(prog, i), function);
		if (f >= 0) {
			*frame = (size_t)f;
			return i;
		}
	}
	fail_msg("no thread in %s", function);
	return 0;
}

static uint64_t must_read(const char *function, const char *name)
{
	size_t frame, t = thread_in(function, &frame);
	uint64_t v = 0;
	struct ac_error *err = ac_frame_variable_uint(prog, t, frame, name, &v);
	if (err)
		fail_msg("%s.%s: %s", function, name, err->message);
	return v;
}

/* Either the right value or AC_ERR_LOOKUP: how far the compiler lets us. */
static void right_or_lookup(const char *function, const char *name,
			    uint64_t expected)
{
	size_t frame, t = thread_in(function, &frame);
	uint64_t v = 0;
	struct ac_error *err = ac_frame_variable_uint(prog, t, frame, name, &v);
	if (err) {
		print_message("%s.%s: %s\n", function, name, err->message);
		assert_int_equal(err->code, AC_ERR_LOOKUP);
		ac_error_destroy(err);
		return;
	}
	assert_int_equal(v, expected);
}

/* Kept in a callee-saved register across the futex call (frame > 0). */
static void test_callee_saved_pointer(void **state)
{
	(void)state;
	assert_int_equal(must_read("fv_event_wait", "ev"), global("fv_event_a"));
}

static void test_pointer_and_int(void **state)
{
	(void)state;
	assert_int_equal(must_read("fv_poll_ctx", "ctx"), global("fv_ctx_io"));
	assert_int_equal(must_read("fv_poll_ctx", "id"), FV_POLL_ID);
}

/* An inlined entry and the function it was inlined into. */
static void test_inlined(void **state)
{
	(void)state;
	size_t inner, outer;
	size_t t = thread_in("fv_inner_poll", &inner);
	assert_int_equal(thread_in("fv_outer_poll", &outer), t);
	assert_true(ac_program_backtrace(prog, t)->frames[inner].inlined);
	assert_int_equal(outer, inner + 1);
	assert_int_equal(must_read("fv_inner_poll", "inner_ctx"), global("fv_ctx_main"));
	assert_int_equal(must_read("fv_outer_poll", "ctx"), global("fv_ctx_main"));
	/* The inlined function's parameter is not visible from its caller. */
	uint64_t v;
	struct ac_error *err = ac_frame_variable_uint(prog, t, outer, "inner_ctx", &v);
	assert_non_null(err);
	assert_int_equal(err->code, AC_ERR_LOOKUP);
	ac_error_destroy(err);
}

/*
 * Dead before the call: DW_OP_entry_value, resolved through the caller's
 * call site (GCC records `ev` as the caller's callee-saved register).
 */
static void test_entry_value(void **state)
{
	(void)state;
	right_or_lookup("fv_futex_wait", "ev", global("fv_event_a"));
	right_or_lookup("fv_futex_wait", "val", FV_EV_BUSY);
}

/* seed is dead before poll() and no caller can restore it. */
static void test_optimized_out(void **state)
{
	(void)state;
	size_t frame, t = thread_in("fv_park_lost", &frame);
	uint64_t v = 0x5eed;
	struct ac_error *err = ac_frame_variable_uint(prog, t, frame, "seed", &v);
	assert_non_null(err);
	assert_int_equal(err->code, AC_ERR_LOOKUP);
	assert_non_null(strstr(err->message, "optimized out"));
	assert_int_equal(v, 0x5eed);  /* untouched on failure */
	ac_error_destroy(err);
}

static void test_missing_and_aggregate(void **state)
{
	(void)state;
	size_t frame, t = thread_in("fv_poll_ctx", &frame);
	uint64_t v;
	struct ac_error *err = ac_frame_variable_uint(prog, t, frame, "no_such_thing", &v);
	assert_non_null(err);
	assert_int_equal(err->code, AC_ERR_LOOKUP);
	assert_non_null(strstr(err->message, "no parameter or variable"));
	ac_error_destroy(err);
	err = ac_frame_variable_uint(prog, t, frame, "pfd", &v);
	assert_non_null(err);
	assert_int_equal(err->code, AC_ERR_USAGE);
	ac_error_destroy(err);
	err = ac_frame_variable_uint(prog, t, 1000, "ctx", &v);
	assert_non_null(err);
	ac_error_destroy(err);
	assert_int_equal(ac_backtrace_find_function(ac_program_backtrace(prog, t), "nope"), -1);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s FRAME-VARS\n", argv[0]);
		return 2;
	}
	program = realpath(argv[1], NULL);
	if (!program) {
		perror(argv[1]);
		return 2;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_callee_saved_pointer),
		cmocka_unit_test(test_pointer_and_int),
		cmocka_unit_test(test_inlined),
		cmocka_unit_test(test_entry_value),
		cmocka_unit_test(test_optimized_out),
		cmocka_unit_test(test_missing_and_aggregate),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
