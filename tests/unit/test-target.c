/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Memory reads and threads on real cores of tests/programs/mt-sleeper: one
 * from gcore, one from the kernel (which leaves read-only file mappings out),
 * and a truncated copy.  Each read must succeed with the right bytes or fail
 * with the right error and address.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "target/target.h"

static const char *program;
static char tmpdir[] = "/tmp/aiocore-test-target-XXXXXX";
static char gcore_path[512], kernel_path[512], truncated_path[512];

/* Start the program with its cwd in tmpdir; returns its pid. */
static pid_t start_program(FILE **out)
{
	int fds[2];
	if (pipe(fds) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
		setrlimit(RLIMIT_CORE, &unlimited);
		if (chdir(tmpdir) != 0)
			_exit(127);
		dup2(fds[1], 1);
		close(fds[0]);
		execl(program, program, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	*out = fdopen(fds[0], "r");
	char word[16];
	int ready_pid;
	if (fscanf(*out, "%15s %d", word, &ready_pid) != 2 || strcmp(word, "ready"))
		return -1;
	/* "ready" comes just before the main thread parks in read(). */
	usleep(200 * 1000);
	return pid;
}

/* mt-sleeper's shared file mapping, named by its pid. */
static void remove_shared_file(pid_t pid)
{
	char path[4200];
	const char *tmp = getenv("TMPDIR");
	snprintf(path, sizeof(path), "%s/mt-sleeper-shared-%d", tmp ? tmp : "/tmp", (int)pid);
	unlink(path);
}

static int make_cores(void)
{
	FILE *out;
	pid_t pid = start_program(&out);
	if (pid < 0)
		return -1;
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "gcore -o %s/g %d >/dev/null 2>&1", tmpdir, pid);
	int rc = system(cmd);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	fclose(out);
	remove_shared_file(pid);
	snprintf(cmd, sizeof(cmd), "%s/g.%d", tmpdir, pid);
	snprintf(gcore_path, sizeof(gcore_path), "%s/gcore.core", tmpdir);
	if (rc != 0 || rename(cmd, gcore_path) != 0)
		return -1;

	/* The kernel writes the core into the cwd (core_pattern "core"). */
	pid = start_program(&out);
	if (pid < 0)
		return -1;
	kill(pid, SIGQUIT);
	waitpid(pid, NULL, 0);
	fclose(out);
	remove_shared_file(pid);
	DIR *dir = opendir(tmpdir);
	struct dirent *d;
	kernel_path[0] = '\0';
	while (dir && (d = readdir(dir)))
		if (!strcmp(d->d_name, "core") || !strncmp(d->d_name, "core.", 5)) {
			snprintf(kernel_path, sizeof(kernel_path), "%s/kernel.core", tmpdir);
			snprintf(cmd, sizeof(cmd), "%s/%s", tmpdir, d->d_name);
			rename(cmd, kernel_path);
		}
	if (dir)
		closedir(dir);

	/* A copy of the kernel core cut at 60%. */
	struct stat st;
	if (kernel_path[0] && stat(kernel_path, &st) == 0) {
		snprintf(truncated_path, sizeof(truncated_path), "%s/truncated.core", tmpdir);
		snprintf(cmd, sizeof(cmd), "head -c %lld %s > %s",
			 (long long)st.st_size * 6 / 10, kernel_path, truncated_path);
		if (system(cmd) != 0)
			truncated_path[0] = '\0';
	}
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	return make_cores();
}

static int group_teardown(void **state)
{
	(void)state;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct ac_target *open_core(const char *path)
{
	if (!path[0])
		skip();  /* no kernel core: core_pattern is a pipe here */
	struct ac_target_config config = { .core_path = path };
	struct ac_target *target = NULL;
	struct ac_error *err = ac_target_open(&config, &target);
	if (err)
		fail_msg("%s", err->message);
	return target;
}

static uint64_t symbol(struct ac_target *target, const char *name)
{
	Dwfl_Module *mod = ac_target_main_module(target);
	assert_non_null(mod);
	int n = dwfl_module_getsymtab(mod);
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *s = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
		if (s && !strcmp(s, name))
			return addr;
	}
	fail_msg("no symbol %s", name);
	return 0;
}

static void check_known_values(const char *path)
{
	struct ac_target *target = open_core(path);
	uint64_t value = 0;
	assert_null(ac_target_read_u64(target, symbol(target, "magic_value"), &value));
	assert_int_equal(value, 0xa10c0de5eedf00dULL);

	uint32_t low = 0;
	assert_null(ac_target_read_u32(target, symbol(target, "magic_value"), &low));
	assert_int_equal(low, 0x5eedf00d);

	uint64_t str_addr;
	assert_null(ac_target_read_pointer(target, symbol(target, "rodata_string"), &str_addr));
	char *s = NULL;
	assert_null(ac_target_read_string(target, str_addr, 256, &s));
	assert_string_equal(s, "aiocore read-only string");
	free(s);
	/* A bound shorter than the string cuts it. */
	assert_null(ac_target_read_string(target, str_addr, 7, &s));
	assert_string_equal(s, "aiocore");
	free(s);
	ac_target_destroy(target);
}

static void test_gcore_known_values(void **state)
{
	(void)state;
	check_known_values(gcore_path);
}

/* Kernel cores leave .rodata out: the string comes from the file. */
static void test_kernel_known_values(void **state)
{
	(void)state;
	check_known_values(kernel_path);
}

static void check_unmapped(const char *path)
{
	struct ac_target *target = open_core(path);
	uint64_t value = 42;
	struct ac_error *err = ac_target_read_u64(target, 0x1000, &value);
	assert_non_null(err);
	assert_int_equal(err->code, AC_ERR_UNMAPPED);
	assert_true(err->has_address);
	assert_int_equal(err->address, 0x1000);
	assert_non_null(strstr(err->message, "0x1000"));
	assert_int_equal(value, 42);  /* untouched on failure */
	ac_error_destroy(err);
	/* Wrapping around the address space is refused, not read. */
	char buf[16];
	err = ac_target_read(target, UINT64_MAX - 4, buf, sizeof(buf));
	assert_non_null(err);
	assert_int_equal(err->code, AC_ERR_UNMAPPED);
	ac_error_destroy(err);
	char *s = (char *)"untouched";
	err = ac_target_read_string(target, 0x10, 64, &s);
	assert_non_null(err);
	assert_string_equal(s, "untouched");
	ac_error_destroy(err);
	ac_target_destroy(target);
}

static void test_gcore_unmapped(void **state)
{
	(void)state;
	check_unmapped(gcore_path);
}

static void test_kernel_unmapped(void **state)
{
	(void)state;
	check_unmapped(kernel_path);
}

/* A shared file mapping is not dumped by default: mapped, not in the core. */
static void check_shared_mapping_not_in_core(const char *path)
{
	struct ac_target *target = open_core(path);
	uint64_t mapping;
	assert_null(ac_target_read_pointer(target, symbol(target, "shared_file_mapping"),
					   &mapping));
	assert_true(mapping != 0);
	char buf[17];
	struct ac_error *err = ac_target_read(target, mapping, buf, 16);
	assert_non_null(err);
	assert_int_equal(err->code, AC_ERR_NOT_IN_CORE);
	assert_int_equal(err->address, mapping);
	assert_non_null(strstr(err->message, "not in the core"));
	ac_error_destroy(err);
	ac_target_destroy(target);
}

static void test_gcore_shared_mapping(void **state)
{
	(void)state;
	check_shared_mapping_not_in_core(gcore_path);
}

static void test_kernel_shared_mapping(void **state)
{
	(void)state;
	check_shared_mapping_not_in_core(kernel_path);
}

/* Bytes cut off by truncation: NOT_IN_CORE, saying so; and a warning. */
static void test_truncated(void **state)
{
	(void)state;
	struct ac_target *target = open_core(truncated_path);
	assert_true(ac_target_warning_count(target) >= 2);
	assert_non_null(strstr(ac_target_warning(target, 0), "truncated"));
	/* The threads' notes come first in a kernel core: all still there. */
	assert_int_equal(ac_target_thread_count(target), 4);
	/* The stacks sit high in the address space, past the cut. */
	const struct ac_thread *t = ac_target_thread(target, 0);
	uint64_t sp = t->gregs[19];
	uint64_t word;
	struct ac_error *err = ac_target_read_u64(target, sp, &word);
	assert_non_null(err);
	assert_int_equal(err->code, AC_ERR_NOT_IN_CORE);
	assert_non_null(strstr(err->message, "truncated"));
	ac_error_destroy(err);
	ac_target_destroy(target);
}

static void test_threads_and_registers(void **state)
{
	(void)state;
	struct ac_target *target = open_core(gcore_path);
	assert_int_equal(ac_target_thread_count(target), 4);
	assert_int_equal(ac_target_arch(target), AC_ARCH_X86_64);
	assert_int_equal(ac_target_pointer_size(target), 8);
	for (size_t i = 0; i < 4; i++) {
		const struct ac_thread *t = ac_target_thread(target, i);
		assert_true(t->tid > 0);
		assert_int_equal(t->n_gregs, 27);
		assert_true(t->gregs[16] != 0);  /* rip */
		assert_true(t->tls_base != 0);   /* fs_base */
		assert_ptr_equal(ac_target_thread_by_tid(target, t->tid), t);
		/* The stack pointer points into the core. */
		uint64_t word;
		assert_null(ac_target_read_u64(target, t->gregs[19], &word));
	}
	assert_null(ac_target_thread(target, 4));
	assert_null(ac_target_thread_by_tid(target, -1));
	assert_null(ac_target_debuginfo_error(target));
	ac_target_destroy(target);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s MT-SLEEPER\n", argv[0]);
		return 64;
	}
	/* The child runs in tmpdir: a relative path would no longer resolve. */
	program = realpath(argv[1], NULL);
	if (!program) {
		perror(argv[1]);
		return 2;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gcore_known_values),
		cmocka_unit_test(test_kernel_known_values),
		cmocka_unit_test(test_gcore_unmapped),
		cmocka_unit_test(test_kernel_unmapped),
		cmocka_unit_test(test_gcore_shared_mapping),
		cmocka_unit_test(test_kernel_shared_mapping),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_threads_and_registers),
	};
	return cmocka_run_group_tests_name("target", tests, group_setup, group_teardown);
}
