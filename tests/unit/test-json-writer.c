/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The JSON writer's strings (analyzer/util/json-writer.c): text read from
 * a core can be any bytes, and the document must stay valid JSON (UTF-8):
 * well-formed UTF-8 passes through, every other byte >= 0x80 becomes
 * \u00XX, control characters are escaped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "util/json-writer.h"

/* The one-line document ["s"] for s, malloc'd. */
static char *doc(const char *s)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&buf, &size);
	assert_non_null(out);
	struct ac_json j;
	ac_json_init(&j, out, false);
	ac_json_array_begin(&j);
	ac_json_string(&j, s);
	ac_json_array_end(&j);
	ac_json_finish(&j);
	fclose(out);
	return buf;
}

static void check(const char *in, const char *expected)
{
	char *out = doc(in);
	assert_string_equal(out, expected);
	free(out);
}

static void test_utf8_passes(void **state)
{
	(void)state;
	check("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xbe", "[\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xbe\"]\n");
	check("a\"b\\c\n\t\x01", "[\"a\\\"b\\\\c\\n\\t\\u0001\"]\n");
}

static void test_other_bytes_escaped(void **state)
{
	(void)state;
	check("x\xb4y", "[\"x\\u00b4y\"]\n");                 /* a lone continuation byte */
	check("\xc3", "[\"\\u00c3\"]\n");                     /* a lead byte at the end */
	check("\xc0\xaf", "[\"\\u00c0\\u00af\"]\n");          /* overlong '/' */
	check("\xed\xa0\x80", "[\"\\u00ed\\u00a0\\u0080\"]\n"); /* a surrogate */
	check("\xf4\x90\x80\x80", "[\"\\u00f4\\u0090\\u0080\\u0080\"]\n"); /* > U+10FFFF */
	check("\xe2\x82z", "[\"\\u00e2\\u0082z\"]\n");        /* cut short */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_passes),
		cmocka_unit_test(test_other_bytes_escaped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
