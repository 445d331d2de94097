/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qemu/tls.c on this test process itself: thread-local variables the test
 * defines, placed by glibc's static-TLS layout in this thread, must be
 * where ac_tls_variable_at() says they are; names that are no TLS symbol,
 * and a thread without a thread pointer, are errors, never an address.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "qemu/tls.h"
#include "hand-program.h"

/* Two variables in two TLS sections (.tdata and .tbss), as QEMU's are. */
__attribute__((used)) __thread uint64_t tls_test_current = 0x5eed;
__attribute__((used)) __thread char tls_test_block[100];
uint64_t tls_test_not_a_tls_variable = 7;

#define ADDR(p) ((uint64_t)(uintptr_t)(p))

static const struct hand_thread self[] = {
	{ 1, "test", { "main" } },
};

static struct ac_program *open_self(size_t this_thread)
{
	/* hand threads keep their tids; the one given its thread pointer is ours */
	static struct hand_thread threads[1];
	threads[0] = self[0];
	threads[0].tid = gettid();
	return hand_program_open_pid(getpid(), threads, 1, this_thread);
}

static void test_found_and_placed(void **state)
{
	(void)state;
	struct ac_program *prog = open_self(0);
	const struct ac_thread *t = ac_target_thread(prog->target, 0);
	assert_non_null(t);
	const char *const names[] = { "tls_test_current" };
	struct ac_tls_variable var;
	assert_null(ac_tls_variable_find(prog, names, 1, &var));
	assert_string_equal(var.name, "tls_test_current");
	uint64_t at = 0;
	assert_null(ac_tls_variable_at(prog, &var, t, &at));
	assert_int_equal(at, ADDR(&tls_test_current));
	/* .tbss, the other section of the same block */
	const char *const block[] = { "tls_test_block" };
	assert_null(ac_tls_variable_find(prog, block, 1, &var));
	assert_null(ac_tls_variable_at(prog, &var, t, &at));
	assert_int_equal(at, ADDR(tls_test_block));
	hand_program_close(prog);
}

/* The first name in the caller's order wins, not the first in the symbol table. */
static void test_first_name_asked_wins(void **state)
{
	(void)state;
	struct ac_program *prog = open_self(0);
	const struct ac_thread *t = ac_target_thread(prog->target, 0);
	const char *const names[] = { "no_such_tls", "tls_test_block", "tls_test_current" };
	struct ac_tls_variable var;
	assert_null(ac_tls_variable_find(prog, names, 3, &var));
	assert_string_equal(var.name, "tls_test_block");
	uint64_t at;
	assert_null(ac_tls_variable_at(prog, &var, t, &at));
	assert_int_equal(at, ADDR(tls_test_block));
	hand_program_close(prog);
}

static void test_not_tls(void **state)
{
	(void)state;
	struct ac_program *prog = open_self(0);
	/* a global that is not thread-local, and a name nobody defines */
	const char *const names[] = { "tls_test_not_a_tls_variable", "no_such_tls" };
	struct ac_tls_variable var;
	struct ac_error *err = ac_tls_variable_find(prog, names, 2, &var);
	assert_non_null(err);
	assert_int_equal(err->code, AC_ERR_LOOKUP);
	assert_non_null(strstr(err->message, "tls_test_not_a_tls_variable"));
	ac_error_destroy(err);
	err = ac_tls_variable_find(prog, names, 0, &var);
	assert_non_null(err);
	ac_error_destroy(err);
	hand_program_close(prog);
}

static void test_no_thread_pointer(void **state)
{
	(void)state;
	struct ac_program *prog = open_self(HAND_NO_THREAD);
	const struct ac_thread *t = ac_target_thread(prog->target, 0);
	const char *const names[] = { "tls_test_current" };
	struct ac_tls_variable var;
	assert_null(ac_tls_variable_find(prog, names, 1, &var));
	uint64_t at = 0xdead;
	struct ac_error *err = ac_tls_variable_at(prog, &var, t, &at);
	assert_non_null(err);
	assert_int_equal(err->code, AC_ERR_BAD_DATA);
	assert_non_null(strstr(err->message, "thread pointer unknown"));
	assert_int_equal(at, 0xdead);
	ac_error_destroy(err);
	hand_program_close(prog);
}

int main(void)
{
	tls_test_block[0] = 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_found_and_placed),
		cmocka_unit_test(test_first_name_asked_wins),
		cmocka_unit_test(test_not_tls),
		cmocka_unit_test(test_no_thread_pointer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
