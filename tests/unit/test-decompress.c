/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Compressed cores: a 64 MiB mostly-zero "core" is compressed with the real
 * gzip, xz and zstd tools, then detected, decompressed into a sparse
 * temporary file and compared byte for byte.  Also: truncated and corrupt
 * input, missing files, the size cap, write errors, and removal of the
 * nameless temporary file: $TMPDIR stays empty at exit() and on SIGTERM,
 * SIGINT and SIGKILL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/decompress.h"
#include "util/error.h"

#define MiB (1024u * 1024u)
#define CORE_SIZE (64 * MiB + 1000)  /* ends in a partial, all-zero block */
#define TAIL_SIZE (1 * MiB + 77)     /* ends in a partial, non-zero block */

static char dir[4096];    /* everything the test creates */
static char outdir[4200]; /* $TMPDIR for the library: must end up empty */
static uint8_t *core;     /* CORE_SIZE bytes */
static uint8_t *tail;     /* TAIL_SIZE bytes */

static const char *fixture(const char *name)
{
	static char paths[8][4400];
	static unsigned next;
	char *p = paths[next++ % 8];
	snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
	return p;
}

static void write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static uint8_t *read_file(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long len = ftell(f);
	assert_true(len >= 0);
	rewind(f);
	uint8_t *buf = malloc(len ? (size_t)len : 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	*ret_len = (size_t)len;
	return buf;
}

static void run(const char *fmt, ...)
{
	char cmd[16384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int status = system(cmd);
	if (status != 0)
		fail_msg("command failed (%d): %s", status, cmd);
}

static unsigned count_outdir(void)
{
	DIR *d = opendir(outdir);
	assert_non_null(d);
	unsigned n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Before each test: no leftovers from an earlier failure to blame on this one. */
static int clean_outdir(void **state)
{
	(void)state;
	char cmd[16384];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'/*", outdir);
	return system(cmd) == 0 ? 0 : -1;
}

static uint32_t lcg(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 8;
}

static int setup(void **state)
{
	(void)state;
	const char *base = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/aiocore-test-decompress-XXXXXX",
		 base && *base ? base : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	snprintf(outdir, sizeof(outdir), "%s/out", dir);
	if (mkdir(outdir, 0700) < 0)
		return -1;
	setenv("TMPDIR", outdir, 1);

	/* Mostly zeros, a non-zero page in every MiB, a random 300 KiB run,
	 * and one block whose only non-zero byte is in the middle. */
	core = calloc(1, CORE_SIZE);
	tail = calloc(1, TAIL_SIZE);
	if (!core || !tail)
		return -1;
	for (unsigned i = 0; i < 64; i++) {
		uint8_t *page = core + (size_t)i * MiB + (i % 7) * 4096;
		for (unsigned j = 0; j < 4096; j++)
			page[j] = (uint8_t)((i * 31 + j) | 1);
	}
	uint32_t seed = 42;
	for (size_t j = 0; j < 300 * 1024; j++)
		core[10 * MiB + 8192 + j] = (uint8_t)lcg(&seed);
	core[40 * MiB + 5 * 4096 + 123] = 0x5a;
	for (size_t j = 0; j < TAIL_SIZE; j += 511)
		tail[j] = (uint8_t)(j | 1);
	tail[TAIL_SIZE - 1] = 0xee;

	write_file(fixture("core"), core, CORE_SIZE);
	write_file(fixture("tail"), tail, TAIL_SIZE);
	run("cd '%s' && gzip -c core > core.gz && xz -T1 -1 -c core > core.xz && "
	    "zstd -q -c core > core.zst", dir);
	run("cd '%s' && gzip -c tail > tail.gz && xz -T1 -1 -c tail > tail.xz && "
	    "zstd -q -c tail > tail.zst", dir);
	/* Concatenated members/streams/frames: tail then core. */
	for (int k = 0; k < 3; k++) {
		static const char *const ext[] = { "gz", "xz", "zst" };
		run("cd '%s' && cat tail.%s core.%s > cat.%s", dir, ext[k], ext[k], ext[k]);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	free(core);
	free(tail);
	return system(cmd) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------------ */

static void check_equal_file(const char *path, const uint8_t *a, size_t alen,
			     const uint8_t *b, size_t blen)
{
	size_t len;
	uint8_t *got = read_file(path, &len);
	assert_int_equal(len, alen + blen);
	if (memcmp(got, a, alen) != 0 || (blen && memcmp(got + alen, b, blen) != 0)) {
		free(got);
		fail_msg("%s: decompressed bytes differ", path);
	}
	free(got);
}

static void check_sparse(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	/* ~600 KiB of non-zero data in 64 MiB: allocated must be far less. */
	if ((uint64_t)st.st_blocks * 512 > (uint64_t)st.st_size / 8)
		fail_msg("%s is not sparse: %lld bytes allocated for %lld",
			 path, (long long)st.st_blocks * 512, (long long)st.st_size);
}

static void roundtrip(const char *name, enum ac_compression expect)
{
	const char *path = fixture(name);
	enum ac_compression c = AC_COMPRESSION_NONE;
	assert_null(ac_compression_detect(path, &c));
	assert_int_equal(c, expect);

	char *out = NULL;
	struct ac_error *err = ac_decompress_to_temp(path, c, &out);
	if (err)
		fail_msg("%s: %s", name, err->message);
	assert_non_null(out);
	/* In $TMPDIR, but nameless from the start: nothing to leave behind. */
	char target[4400];
	ssize_t len = readlink(out, target, sizeof(target) - 1);
	assert_true(len > 0);
	target[len] = '\0';
	assert_true(strncmp(target, outdir, strlen(outdir)) == 0);
	assert_int_equal(count_outdir(), 0);
	struct stat st;
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	check_equal_file(out, core, CORE_SIZE, NULL, 0);
	check_sparse(out);

	ac_decompressed_remove(out);
	assert_int_equal(count_outdir(), 0);
}

static void test_roundtrip_gzip(void **state) { (void)state; roundtrip("core.gz", AC_COMPRESSION_GZIP); }
static void test_roundtrip_xz(void **state) { (void)state; roundtrip("core.xz", AC_COMPRESSION_XZ); }
static void test_roundtrip_zstd(void **state) { (void)state; roundtrip("core.zst", AC_COMPRESSION_ZSTD); }

static void concatenated(const char *name, enum ac_compression c)
{
	char *out = NULL;
	struct ac_error *err = ac_decompress_to_temp(fixture(name), c, &out);
	if (err)
		fail_msg("%s: %s", name, err->message);
	check_equal_file(out, tail, TAIL_SIZE, core, CORE_SIZE);
	ac_decompressed_remove(out);
	assert_int_equal(count_outdir(), 0);
}

static void test_concatenated_gzip(void **state) { (void)state; concatenated("cat.gz", AC_COMPRESSION_GZIP); }
static void test_concatenated_xz(void **state) { (void)state; concatenated("cat.xz", AC_COMPRESSION_XZ); }
static void test_concatenated_zstd(void **state) { (void)state; concatenated("cat.zst", AC_COMPRESSION_ZSTD); }

/* A partial last block that is not zero must be written, not left a hole. */
static void test_nonzero_tail(void **state)
{
	(void)state;
	static const char *const names[] = { "tail.gz", "tail.xz", "tail.zst" };
	for (int k = 0; k < 3; k++) {
		enum ac_compression c;
		assert_null(ac_compression_detect(fixture(names[k]), &c));
		char *out = NULL;
		struct ac_error *err = ac_decompress_to_temp(fixture(names[k]), c, &out);
		if (err)
			fail_msg("%s: %s", names[k], err->message);
		check_equal_file(out, tail, TAIL_SIZE, NULL, 0);
		ac_decompressed_remove(out);
	}
	assert_int_equal(count_outdir(), 0);
}

static void test_detect_by_magic_not_name(void **state)
{
	(void)state;
	enum ac_compression c;

	run("cd '%s' && cp core.zst misleading.gz && cp core.gz misleading.xz && "
	    "cp core.xz misleading && cp tail plain.zst && : > empty.gz && "
	    "printf '\\037' > short.gz", dir);
	assert_null(ac_compression_detect(fixture("misleading.gz"), &c));
	assert_int_equal(c, AC_COMPRESSION_ZSTD);
	assert_null(ac_compression_detect(fixture("misleading.xz"), &c));
	assert_int_equal(c, AC_COMPRESSION_GZIP);
	assert_null(ac_compression_detect(fixture("misleading"), &c));
	assert_int_equal(c, AC_COMPRESSION_XZ);

	c = AC_COMPRESSION_GZIP;
	assert_null(ac_compression_detect(fixture("core"), &c));
	assert_int_equal(c, AC_COMPRESSION_NONE);
	c = AC_COMPRESSION_GZIP;
	assert_null(ac_compression_detect(fixture("plain.zst"), &c));
	assert_int_equal(c, AC_COMPRESSION_NONE);
	c = AC_COMPRESSION_ZSTD;
	assert_null(ac_compression_detect(fixture("empty.gz"), &c));
	assert_int_equal(c, AC_COMPRESSION_NONE);
	c = AC_COMPRESSION_ZSTD;
	assert_null(ac_compression_detect(fixture("short.gz"), &c));
	assert_int_equal(c, AC_COMPRESSION_NONE);
	/* Near misses: compress(1)'s .Z, a zstd magic off by one byte. */
	static const uint8_t dot_z[] = { 0x1f, 0x9d, 0x90, 0, 0, 0, 0, 0 };
	write_file(fixture("old.Z"), dot_z, sizeof(dot_z));
	c = AC_COMPRESSION_ZSTD;
	assert_null(ac_compression_detect(fixture("old.Z"), &c));
	assert_int_equal(c, AC_COMPRESSION_NONE);
	static const uint8_t near_zstd[] = { 0x28, 0xb5, 0x2f, 0xfe, 0, 0, 0, 0 };
	write_file(fixture("near.zst"), near_zstd, sizeof(near_zstd));
	assert_null(ac_compression_detect(fixture("near.zst"), &c));
	assert_int_equal(c, AC_COMPRESSION_NONE);

	/* A pzstd-style skippable frame first is still zstd. */
	static const uint8_t skippable[] = { 0x50, 0x2a, 0x4d, 0x18, 0, 0, 0, 0 };
	write_file(fixture("skippable"), skippable, sizeof(skippable));
	assert_null(ac_compression_detect(fixture("skippable"), &c));
	assert_int_equal(c, AC_COMPRESSION_ZSTD);

	assert_string_equal(ac_compression_name(AC_COMPRESSION_NONE), "none");
	assert_string_equal(ac_compression_name(AC_COMPRESSION_GZIP), "gzip");
	assert_string_equal(ac_compression_name(AC_COMPRESSION_XZ), "xz");
	assert_string_equal(ac_compression_name(AC_COMPRESSION_ZSTD), "zstd");
}

static void expect_failure(const char *path, enum ac_compression c,
			   const struct ac_decompress_options *opts,
			   enum ac_error_code code, const char *needle)
{
	char *out = (char *)"untouched";
	struct ac_error *err = ac_decompress_to_temp_opts(path, c, opts, &out);
	if (!err)
		fail_msg("%s: decompression unexpectedly succeeded", path);
	if (err->code != code || !strstr(err->message, path) ||
	    (needle && !strstr(err->message, needle)))
		fail_msg("%s: unexpected error %s: %s", path,
			 ac_error_code_name(err->code), err->message);
	ac_error_destroy(err);
	assert_string_equal(out, "untouched");
	assert_int_equal(count_outdir(), 0); /* nothing left behind */
}

static void truncated(const char *name, enum ac_compression c)
{
	size_t len;
	uint8_t *buf = read_file(fixture(name), &len);
	char cut[64];
	snprintf(cut, sizeof(cut), "half-%s", name);
	write_file(fixture(cut), buf, len / 2);
	free(buf);

	enum ac_compression got;
	assert_null(ac_compression_detect(fixture(cut), &got));
	assert_int_equal(got, c);
	expect_failure(fixture(cut), c, NULL, AC_ERR_FORMAT, "truncated");
}

static void test_truncated_gzip(void **state) { (void)state; truncated("core.gz", AC_COMPRESSION_GZIP); }
static void test_truncated_xz(void **state) { (void)state; truncated("core.xz", AC_COMPRESSION_XZ); }
static void test_truncated_zstd(void **state) { (void)state; truncated("core.zst", AC_COMPRESSION_ZSTD); }

static void test_garbage(void **state)
{
	(void)state;
	size_t len = 256 * 1024;
	uint8_t *buf = malloc(len);
	assert_non_null(buf);
	uint32_t seed = 7;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)lcg(&seed);

	static const struct {
		const char *name;
		uint8_t magic[6];
		size_t magic_len;
		enum ac_compression c;
	} cases[] = {
		{ "garbage.zst", { 0x28, 0xb5, 0x2f, 0xfd }, 4, AC_COMPRESSION_ZSTD },
		{ "garbage.xz", { 0xfd, '7', 'z', 'X', 'Z', 0 }, 6, AC_COMPRESSION_XZ },
		{ "garbage.gz", { 0x1f, 0x8b }, 2, AC_COMPRESSION_GZIP },
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		memcpy(buf, cases[k].magic, cases[k].magic_len);
		write_file(fixture(cases[k].name), buf, len);
		enum ac_compression c;
		assert_null(ac_compression_detect(fixture(cases[k].name), &c));
		assert_int_equal(c, cases[k].c);
		expect_failure(fixture(cases[k].name), c, NULL, AC_ERR_FORMAT, NULL);
	}
	free(buf);

	/* Valid gzip followed by garbage is not silently accepted either. */
	run("cd '%s' && cat tail.gz garbage.zst > trailing.gz", dir);
	expect_failure(fixture("trailing.gz"), AC_COMPRESSION_GZIP, NULL, AC_ERR_FORMAT, NULL);
}

static void test_missing(void **state)
{
	(void)state;
	const char *path = fixture("no-such-core.zst");
	enum ac_compression c = AC_COMPRESSION_XZ;
	struct ac_error *err = ac_compression_detect(path, &c);
	assert_non_null(err);
	assert_int_equal(err->code, AC_ERR_IO);
	assert_non_null(strstr(err->message, path));
	ac_error_destroy(err);
	assert_int_equal(c, AC_COMPRESSION_XZ); /* untouched on failure */

	expect_failure(path, AC_COMPRESSION_ZSTD, NULL, AC_ERR_IO, NULL);

	/* A directory cannot be read. */
	err = ac_compression_detect(outdir, &c);
	assert_non_null(err);
	assert_int_equal(err->code, AC_ERR_IO);
	ac_error_destroy(err);

	/* Nothing to decompress. */
	expect_failure(fixture("core"), AC_COMPRESSION_NONE, NULL, AC_ERR_USAGE, NULL);
}

static void test_size_limit(void **state)
{
	(void)state;
	struct ac_decompress_options opts = { .max_size = 4 * MiB };
	expect_failure(fixture("core.zst"), AC_COMPRESSION_ZSTD, &opts, AC_ERR_FORMAT, "limit");
	expect_failure(fixture("core.gz"), AC_COMPRESSION_GZIP, &opts, AC_ERR_FORMAT, "4 MiB");
	/* Exactly at the limit is fine. */
	opts.max_size = TAIL_SIZE;
	char *out = NULL;
	struct ac_error *err = ac_decompress_to_temp_opts(fixture("tail.xz"),
							  AC_COMPRESSION_XZ, &opts, &out);
	if (err)
		fail_msg("%s", err->message);
	ac_decompressed_remove(out);
}

struct progress_log {
	unsigned calls;
	uint64_t last;
	int backwards;
};

static void on_progress(uint64_t bytes_out, void *arg)
{
	struct progress_log *log = arg;
	if (bytes_out < log->last)
		log->backwards = 1;
	log->last = bytes_out;
	log->calls++;
}

static void test_progress(void **state)
{
	(void)state;
	struct progress_log log = { 0 };
	struct ac_decompress_options opts = { .progress = on_progress, .progress_arg = &log };
	char *out = NULL;
	struct ac_error *err = ac_decompress_to_temp_opts(fixture("core.xz"),
							  AC_COMPRESSION_XZ, &opts, &out);
	if (err)
		fail_msg("%s", err->message);
	ac_decompressed_remove(out);
	assert_true(log.calls >= 2); /* at 64 MiB and at the end */
	assert_int_equal(log.last, CORE_SIZE);
	assert_false(log.backwards);
}

/* A write error (here: RLIMIT_FSIZE, like a full disk) names the directory. */
static void test_write_error(void **state)
{
	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = { 8 * MiB, 8 * MiB };
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(10);
		char *out = NULL;
		struct ac_error *err = ac_decompress_to_temp(fixture("core.zst"),
							     AC_COMPRESSION_ZSTD, &out);
		if (!err)
			_exit(11);
		if (err->code != AC_ERR_IO || !strstr(err->message, outdir) ||
		    !strstr(err->message, "core.zst")) {
			fprintf(stderr, "unexpected: %s\n", err->message);
			_exit(12);
		}
		_exit(count_outdir() == 0 ? 0 : 13);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/*
 * A real full disk: a 256 KiB tmpfs over $TMPDIR (the sparse core needs
 * ~560 KiB) in a private mount namespace.
 * Writes fail with ENOSPC while ftruncate() of the sparse file would still
 * succeed, so an ignored write error would show up as success here.
 * Skipped where mount namespaces are not available.
 */
static void test_disk_full(void **state)
{
	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) < 0 && unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
			_exit(77);
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("tmpfs", outdir, "tmpfs", 0, "size=256k") < 0)
			_exit(77);
		char *out = NULL;
		struct ac_error *err = ac_decompress_to_temp(fixture("core.zst"),
							     AC_COMPRESSION_ZSTD, &out);
		if (!err)
			_exit(11);
		if (err->code != AC_ERR_IO || !strstr(err->message, outdir) ||
		    !strstr(err->message, "core.zst") || !strstr(err->message, "disk full")) {
			fprintf(stderr, "unexpected: %s\n", err->message);
			_exit(12);
		}
		_exit(count_outdir() == 0 ? 0 : 13);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_remove(void **state)
{
	(void)state;
	char *out = NULL;
	assert_null(ac_decompress_to_temp(fixture("tail.zst"), AC_COMPRESSION_ZSTD, &out));
	assert_int_equal(access(out, F_OK), 0);
	char *copy = strdup(out);
	assert_non_null(copy);
	ac_decompressed_remove(out);
	assert_int_equal(access(copy, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	free(copy);
	ac_decompressed_remove(NULL);

	/* Many at once (more than the registry could hold if removal leaked). */
	for (int i = 0; i < 100; i++) {
		assert_null(ac_decompress_to_temp(fixture("tail.gz"), AC_COMPRESSION_GZIP, &out));
		ac_decompressed_remove(out);
	}
	assert_int_equal(count_outdir(), 0);
}

/*
 * A child decompresses and then either exits normally without removing its
 * file or is killed by sig (SIGKILL included: no handler runs).  The file
 * has no name from the start, so $TMPDIR stays empty throughout.
 */
static void child_cleanup(int sig)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		char *out = NULL;
		struct ac_error *err = ac_decompress_to_temp(fixture("tail.xz"),
							     AC_COMPRESSION_XZ, &out);
		if (err)
			_exit(20);
		if (write(fds[1], "1", 1) != 1)
			_exit(21);
		close(fds[1]);
		if (!sig)
			exit(0);
		for (;;)
			pause();
	}
	close(fds[1]);
	char ready;
	ssize_t n = read(fds[0], &ready, 1);
	close(fds[0]);
	if (n != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("child did not decompress");
	}
	if (sig) {
		assert_int_equal(count_outdir(), 0);  /* alive, file open, no name */
		assert_int_equal(kill(pid, sig), 0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (sig) {
		assert_true(WIFSIGNALED(status));
		assert_int_equal(WTERMSIG(status), sig);
	} else {
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(count_outdir(), 0);
}

/* A forked child (a helper, a failed exec) exiting must not remove our files. */
static void test_fork_child_keeps_parent_files(void **state)
{
	(void)state;
	char *out = NULL;
	assert_null(ac_decompress_to_temp(fixture("tail.zst"), AC_COMPRESSION_ZSTD, &out));
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		exit(0); /* runs the inherited atexit handler */
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (access(out, F_OK) != 0)
		fail_msg("%s was removed by a child's exit()", out);
	ac_decompressed_remove(out);
}

static void test_cleanup_at_exit(void **state) { (void)state; child_cleanup(0); }
static void test_cleanup_on_sigterm(void **state) { (void)state; child_cleanup(SIGTERM); }
static void test_cleanup_on_sigint(void **state) { (void)state; child_cleanup(SIGINT); }
static void test_cleanup_on_sigkill(void **state) { (void)state; child_cleanup(SIGKILL); }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_detect_by_magic_not_name, clean_outdir),
		cmocka_unit_test_setup(test_roundtrip_gzip, clean_outdir),
		cmocka_unit_test_setup(test_roundtrip_xz, clean_outdir),
		cmocka_unit_test_setup(test_roundtrip_zstd, clean_outdir),
		cmocka_unit_test_setup(test_concatenated_gzip, clean_outdir),
		cmocka_unit_test_setup(test_concatenated_xz, clean_outdir),
		cmocka_unit_test_setup(test_concatenated_zstd, clean_outdir),
		cmocka_unit_test_setup(test_nonzero_tail, clean_outdir),
		cmocka_unit_test_setup(test_truncated_gzip, clean_outdir),
		cmocka_unit_test_setup(test_truncated_xz, clean_outdir),
		cmocka_unit_test_setup(test_truncated_zstd, clean_outdir),
		cmocka_unit_test_setup(test_garbage, clean_outdir),
		cmocka_unit_test_setup(test_missing, clean_outdir),
		cmocka_unit_test_setup(test_size_limit, clean_outdir),
		cmocka_unit_test_setup(test_progress, clean_outdir),
		cmocka_unit_test_setup(test_write_error, clean_outdir),
		cmocka_unit_test_setup(test_disk_full, clean_outdir),
		cmocka_unit_test_setup(test_remove, clean_outdir),
		cmocka_unit_test_setup(test_fork_child_keeps_parent_files, clean_outdir),
		cmocka_unit_test_setup(test_cleanup_at_exit, clean_outdir),
		cmocka_unit_test_setup(test_cleanup_on_sigterm, clean_outdir),
		cmocka_unit_test_setup(test_cleanup_on_sigint, clean_outdir),
		cmocka_unit_test_setup(test_cleanup_on_sigkill, clean_outdir),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
