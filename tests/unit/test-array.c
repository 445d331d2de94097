/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * analyzer/util/array.c: growable arrays whose capacity follows from the
 * count.  Each push must land in memory the allocator really gave (a
 * sanitized build catches a slot past it), slots start zeroed, earlier
 * elements survive every move, reallocs are logarithmic in the count, and
 * an overflowing size fails without touching the array.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

struct point {
	uint64_t x, y;
};

static void test_push_keeps_elements(void **state)
{
	(void)state;
	struct point *items = NULL;
	size_t n = 0, moves = 0;
	for (uint64_t i = 0; i < 10000; i++) {
		struct point *before = items;
		struct point *p = ac_array_slot(items, n);
		assert_non_null(p);
		assert_ptr_equal(p, &items[n]);
		assert_int_equal(p->x, 0);    /* zeroed, even after a move */
		assert_int_equal(p->y, 0);
		/* The allocator gave room for this slot. */
		assert_true(malloc_usable_size(items) >= (n + 1) * sizeof(*items));
		p->x = i;
		p->y = ~i;
		n++;
		moves += items != before;
	}
	for (uint64_t i = 0; i < n; i++) {
		assert_int_equal(items[i].x, i);
		assert_int_equal(items[i].y, ~i);
	}
	/* 4, 8, ..., 16384: a realloc per doubling, not per element. */
	assert_true(moves <= 13);
	free(items);
}

static void test_uncommitted_slot_is_reused(void **state)
{
	(void)state;
	int *items = NULL;
	size_t n = 0;
	int *a = ac_array_slot(items, n);
	*a = 7;                             /* not committed: n stays 0 */
	int *b = ac_array_slot(items, n);
	assert_ptr_equal(a, b);
	assert_int_equal(*b, 0);
	free(items);
}

static void test_overflow_leaves_array(void **state)
{
	(void)state;
	char *items = NULL;
	size_t n = 0;
	char *p = ac_array_slot(items, n);
	assert_non_null(p);
	char *keep = items;
	/* n a power of two whose double overflows the byte count. */
	assert_null(ac_array_grow(items, (size_t)1 << 63, 2));
	assert_null(ac_array_grow(items, SIZE_MAX / 4 + 1, 8));
	assert_ptr_equal(items, keep);
	free(items);
}

static void test_strings(void **state)
{
	(void)state;
	char **lines = NULL;
	size_t n = 0;
	for (int i = 0; i < 100; i++)
		assert_true(ac_strings_appendf(&lines, &n, "line %d of %s", i, "100"));
	assert_int_equal(n, 100);
	assert_string_equal(lines[0], "line 0 of 100");
	assert_string_equal(lines[99], "line 99 of 100");
	ac_strings_free(&lines, &n);
	assert_null(lines);
	assert_int_equal(n, 0);
	/* Usable again after free. */
	assert_true(ac_strings_appendf(&lines, &n, "%s", "again"));
	assert_string_equal(lines[0], "again");
	ac_strings_free(&lines, &n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_keeps_elements),
		cmocka_unit_test(test_uncommitted_slot_is_reused),
		cmocka_unit_test(test_overflow_leaves_array),
		cmocka_unit_test(test_strings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
