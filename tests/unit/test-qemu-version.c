/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * analyzer/qemu/qemu-version.c: the QEMU release from the --version text in an
 * executable's .rodata, on hand-made buffers shaped like the real ones
 * (qemu-img, qemu-io's "%s", qemu-nbd, qemu-system, 2.x's one-line form)
 * and on hostile ones: text cut at the buffer's end, no newline, huge
 * numbers, no version, overlong lines, control characters, and every
 * prefix and every one-byte change of a valid buffer.  Each input is
 * copied to a buffer of exactly its size, so that a sanitized build
 * catches a read past it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "qemu/qemu-version.h"

#define COPYRIGHT_2022 "Copyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers"
/* A string literal with embedded NULs, without its final NUL. */
#define BYTES(s) (s), (sizeof(s) - 1)

static bool parse(const char *text, size_t size, const char *prog_name,
		  struct ac_qemu_version *ret)
{
	char *copy = malloc(size ? size : 1);
	assert_non_null(copy);
	memcpy(copy, text, size);
	struct ac_error *err = ac_qemu_version_parse(copy, size, prog_name, ret);
	free(copy);
	if (err) {
		assert_int_equal(err->code, AC_ERR_LOOKUP);
		ac_error_destroy(err);
		return false;
	}
	return true;
}

static void assert_release(const struct ac_qemu_version *v, unsigned int major,
			   unsigned int minor, unsigned int micro)
{
	assert_int_equal(v->release.major, major);
	assert_int_equal(v->release.minor, minor);
	assert_int_equal(v->release.micro, micro);
}

static void test_qemu_img(void **state)
{
	(void)state;
	struct ac_qemu_version v;
	assert_true(parse(BYTES("\0usage: x\0qemu-img version 7.2.22\n" COPYRIGHT_2022 "\n\0tail"),
			  "ignored", &v));
	assert_release(&v, 7, 2, 22);
	assert_string_equal(v.line, "qemu-img version 7.2.22");
	assert_string_equal(v.version, "7.2.22");
	/* At the very start of the buffer, the marker at its very end. */
	assert_true(parse(BYTES("qemu-img version 8.1.0\n" COPYRIGHT_2022), NULL, &v));
	assert_release(&v, 8, 1, 0);
}

static void test_program_name_placeholder(void **state)
{
	(void)state;
	static const char text[] = "%s version 10.0.13\n" COPYRIGHT_2022 "\n";
	struct ac_qemu_version v;
	assert_true(parse(BYTES(text), "qemu-io", &v));
	assert_string_equal(v.line, "qemu-io version 10.0.13");
	assert_string_equal(v.version, "10.0.13");
	assert_release(&v, 10, 0, 13);
	assert_true(parse(BYTES(text), NULL, &v));
	assert_string_equal(v.line, "qemu version 10.0.13");
	/* A name from the core is not trusted to be printable or short. */
	assert_true(parse(BYTES(text), "qemu\x1b[2J", &v));
	assert_string_equal(v.line, "qemu version 10.0.13");
	char long_name[200];
	memset(long_name, 'q', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_true(parse(BYTES(text), long_name, &v));
	assert_string_equal(v.line, "qemu version 10.0.13");
}

static void test_qemu_system_package(void **state)
{
	(void)state;
	struct ac_qemu_version v;
	assert_true(parse(BYTES("QEMU emulator version 7.2.0 (Debian 1:7.2+dfsg-7+deb12u5)\n"
				COPYRIGHT_2022 "\n"), NULL, &v));
	assert_release(&v, 7, 2, 0);
	assert_string_equal(v.line, "QEMU emulator version 7.2.0 (Debian 1:7.2+dfsg-7+deb12u5)");
	assert_string_equal(v.version, "7.2.0 (Debian 1:7.2+dfsg-7+deb12u5)");
}

/* qemu-nbd and qemu-pr-helper: the version three lines up, no "version". */
static void test_qemu_nbd(void **state)
{
	(void)state;
	struct ac_qemu_version v;
	assert_true(parse(BYTES("%s 7.2.22\nWritten by Anthony Liguori.\n\n" COPYRIGHT_2022
				"\nThis is free software\n"), "qemu-nbd", &v));
	assert_release(&v, 7, 2, 22);
	assert_string_equal(v.line, "qemu-nbd 7.2.22");
	/* Four lines up is too far. */
	assert_false(parse(BYTES("%s 7.2.22\nWritten by\n\n\n" COPYRIGHT_2022), "qemu-nbd", &v));
}

/* Up to 2.6 the version and copyright shared one line. */
static void test_old_one_line(void **state)
{
	(void)state;
	struct ac_qemu_version v;
	assert_true(parse(BYTES("\0QEMU emulator version 2.1.2 (Debian 1:2.1+dfsg-12+deb8u6), "
				"Copyright (c) 2003-2008 Fabrice Bellard\n\0"), NULL, &v));
	assert_release(&v, 2, 1, 2);
	assert_string_equal(v.line, "QEMU emulator version 2.1.2 (Debian 1:2.1+dfsg-12+deb8u6)");
	assert_string_equal(v.version, "2.1.2 (Debian 1:2.1+dfsg-12+deb8u6)");
	assert_true(parse(BYTES("qemu-img version 2.1, Copyright (c) 2004-2008 Fabrice Bellard\n"
				"usage: qemu-img command"), NULL, &v));
	assert_release(&v, 2, 1, 0);
	assert_string_equal(v.line, "qemu-img version 2.1");
}

/* qemu-io up to 2.6: only the VHDX creator names the release. */
static void test_vhdx_creator(void **state)
{
	(void)state;
	struct ac_qemu_version v;
	assert_true(parse(BYTES("%s version %s\n\0QEMU v%s\0QEMU vx\0QEMU v2.1.2\0"),
			  "qemu-io", &v));
	assert_release(&v, 2, 1, 2);
	assert_string_equal(v.line, "qemu-io version 2.1.2");
	assert_string_equal(v.version, "2.1.2");
	/* A version line wins over the creator, wherever it is. */
	assert_true(parse(BYTES("\0QEMU v2.8.0\0qemu-img version 2.8.0, "
				"Copyright (c) 2004-2008 Fabrice Bellard\n"), NULL, &v));
	assert_string_equal(v.line, "qemu-img version 2.8.0");
}

/* An earlier mention that is no version text does not stop the search. */
static void test_decoys(void **state)
{
	(void)state;
	struct ac_qemu_version v;
	assert_true(parse(BYTES("\0" COPYRIGHT_2022 "\0Fabrice Bellard\0"
				"see Fabrice Bellard and the QEMU Project developers\0"
				"Usage: %s\n" COPYRIGHT_2022 "\0"
				"qemu-img version 6.2.0\n" COPYRIGHT_2022 "\0"), NULL, &v));
	assert_release(&v, 6, 2, 0);
}

static void test_not_found(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		size_t size;
	} inputs[] = {
		{ BYTES("") },
		{ BYTES("Fabrice Bellard") },
		{ BYTES("aiocore reference runtime\0no version here") },
		/* Cut at the buffer's end, inside the marker and its tail. */
		{ BYTES("qemu-img version 7.2.22\nCopyright (c) 2003-2022 Fabrice Bell") },
		{ BYTES("qemu-img version 7.2.22\nCopyright (c) 2003-2022 Fabrice Bellard and the QEMU Pro") },
		{ BYTES("qemu-img version 7.2.22\nCopyright (c) 2003-2022 Fabrice Bellard") },
		/* No newline: the copyright is not a line of its own. */
		{ BYTES("qemu-img version 7.2.22 " COPYRIGHT_2022) },
		{ BYTES("qemu-img version 7.2.22" COPYRIGHT_2022) },
		/* The line above is another string. */
		{ BYTES("qemu-img version 7.2.22\0" COPYRIGHT_2022) },
		/* Nothing above. */
		{ BYTES(COPYRIGHT_2022) },
		{ BYTES("\n" COPYRIGHT_2022) },
		/* No version, or not one. */
		{ BYTES("qemu-img version \n" COPYRIGHT_2022) },
		{ BYTES("qemu-img version\n" COPYRIGHT_2022) },
		{ BYTES("qemu-img version x.y.z\n" COPYRIGHT_2022) },
		{ BYTES("qemu-img version 7\n" COPYRIGHT_2022) },
		{ BYTES("qemu-img version 7.\n" COPYRIGHT_2022) },
		{ BYTES("qemu-img version 7.2.\n" COPYRIGHT_2022) },
		{ BYTES("qemu-img version 7.2.22x\n" COPYRIGHT_2022) },
		{ BYTES("qemu-img version 7..2\n" COPYRIGHT_2022) },
		{ BYTES("qemu-img version -7.2.0\n" COPYRIGHT_2022) },
		{ BYTES("7.2.0\n" COPYRIGHT_2022) },
		{ BYTES(" 7.2.0\n" COPYRIGHT_2022) },
		{ BYTES("%s version %s\n" COPYRIGHT_2022) },
		/* Huge numbers. */
		{ BYTES("qemu-img version 99999999999999999999.2.0\n" COPYRIGHT_2022) },
		{ BYTES("qemu-img version 4294967296.0.0\n" COPYRIGHT_2022) },
		{ BYTES("qemu-img version 7.12345.0\n" COPYRIGHT_2022) },
		{ BYTES("qemu-img version 7.2.18446744073709551617\n" COPYRIGHT_2022) },
		/* Control characters. */
		{ BYTES("qemu-img version 7.2.0 (\x1b[31mred)\n" COPYRIGHT_2022) },
		{ BYTES("qemu-img\t version 7.2.0\n" COPYRIGHT_2022) },
		{ BYTES("qemu-img version 7.2.0 \xc3\xa9\n" COPYRIGHT_2022) },
		/* 2.x form without its separator. */
		{ BYTES("QEMU emulator version 2.1.2 Copyright (c) 2003-2008 Fabrice Bellard") },
		{ BYTES("QEMU emulator, Copyright (c) 2003-2008 Fabrice Bellard") },
		/* A VHDX creator that is not a string of its own, or no version. */
		{ BYTES("see QEMU v2.1.2\0") },
		{ BYTES("QEMU v2.1.2") },
		{ BYTES("QEMU v2.1.2x\0") },
		{ BYTES("QEMU v\0") },
		{ BYTES("QEMU v2\0") },
		{ BYTES("QEMU v99999999999999.1.2\0") },
	};
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct ac_qemu_version v, before;
		memset(&v, 0xa5, sizeof(v));
		before = v;
		assert_false(parse(inputs[i].text, inputs[i].size, "qemu-img", &v));
		assert_memory_equal(&v, &before, sizeof(v));   /* untouched */
	}
	struct ac_qemu_version v;
	struct ac_error *err = ac_qemu_version_parse(NULL, 0, NULL, &v);
	assert_non_null(err);
	ac_error_destroy(err);
}

static void test_long_lines(void **state)
{
	(void)state;
	struct ac_qemu_version v;
	size_t size = 64 * 1024;
	char *buf = malloc(size);
	assert_non_null(buf);
	/* A line far longer than any version line, ending in the text. */
	static const char tail[] = "qemu-img version 7.2.0\n" COPYRIGHT_2022;
	memset(buf, 'a', size);
	memcpy(buf + size - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
	assert_false(parse(buf, size, NULL, &v));
	/* With a line break before it, the same text is found. */
	buf[size - (sizeof(tail) - 1) - 1] = '\n';
	assert_true(parse(buf, size, NULL, &v));
	assert_release(&v, 7, 2, 0);
	/* A package version that makes the line too long. */
	memset(buf, 'p', size);
	static const char head[] = "qemu-img version 7.2.0 (";
	memcpy(buf, head, sizeof(head) - 1);
	size_t at = AC_QEMU_VERSION_LINE_MAX + 10;
	buf[at] = '\n';
	memcpy(buf + at + 1, COPYRIGHT_2022, strlen(COPYRIGHT_2022));
	assert_false(parse(buf, at + 1 + strlen(COPYRIGHT_2022), NULL, &v));
	/* The longest accepted line. */
	at = AC_QEMU_VERSION_LINE_MAX - 1;
	buf[at] = '\n';
	memcpy(buf + at + 1, COPYRIGHT_2022, strlen(COPYRIGHT_2022));
	assert_true(parse(buf, at + 1 + strlen(COPYRIGHT_2022), "qemu-img", &v));
	assert_int_equal(strlen(v.line), AC_QEMU_VERSION_LINE_MAX - 1);
	free(buf);
}

/* Every prefix and every one-byte change of valid texts: no crash. */
static void test_mutations(void **state)
{
	(void)state;
	static const char *const valid[] = {
		"x\0%s 7.2.22\nWritten by Anthony Liguori.\n\n" COPYRIGHT_2022 "\n\0",
		"QEMU emulator version 2.1.2 (Debian), Copyright (c) 2003-2008 Fabrice Bellard\n",
	};
	static const size_t sizes[] = {
		sizeof("x\0%s 7.2.22\nWritten by Anthony Liguori.\n\n" COPYRIGHT_2022 "\n\0") - 1,
		sizeof("QEMU emulator version 2.1.2 (Debian), Copyright (c) 2003-2008 Fabrice Bellard\n") - 1,
	};
	static const char bytes[] = { '\0', '\n', ' ', '.', '9', '%', 's', '\x7f', '\xff' };
	for (size_t t = 0; t < 2; t++) {
		struct ac_qemu_version v;
		assert_true(parse(valid[t], sizes[t], "qemu-nbd", &v));
		for (size_t n = 0; n <= sizes[t]; n++)
			parse(valid[t], n, "qemu-nbd", &v);
		char *copy = malloc(sizes[t]);
		assert_non_null(copy);
		for (size_t i = 0; i < sizes[t]; i++)
			for (size_t b = 0; b < sizeof(bytes); b++) {
				memcpy(copy, valid[t], sizes[t]);
				copy[i] = bytes[b];
				if (parse(copy, sizes[t], "qemu-nbd", &v)) {
					assert_true(strlen(v.line) < sizeof(v.line));
					assert_true(v.release.major <= 9999);
				}
			}
		free(copy);
	}
}

static void test_compare(void **state)
{
	(void)state;
	const struct ac_qemu_release fix = { 2, 3, 0 };
	const struct ac_qemu_release older[] = { { 2, 2, 9 }, { 1, 99, 99 }, { 2, 1, 2 } };
	const struct ac_qemu_release newer[] = { { 2, 3, 1 }, { 2, 10, 0 }, { 10, 0, 0 } };
	for (size_t i = 0; i < 3; i++) {
		assert_true(ac_qemu_release_compare(&older[i], &fix) < 0);
		assert_true(ac_qemu_release_compare(&newer[i], &fix) > 0);
		assert_true(ac_qemu_release_compare(&fix, &older[i]) > 0);
	}
	assert_int_equal(ac_qemu_release_compare(&fix, &fix), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_img),
		cmocka_unit_test(test_program_name_placeholder),
		cmocka_unit_test(test_qemu_system_package),
		cmocka_unit_test(test_qemu_nbd),
		cmocka_unit_test(test_old_one_line),
		cmocka_unit_test(test_vhdx_creator),
		cmocka_unit_test(test_decoys),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_compare),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
