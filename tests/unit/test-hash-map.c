/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * analyzer/util/hash-map.c: keys found after many rebuilds, several values
 * per key in the order they were added (the DWARF index's "first
 * definition wins" depends on it), key 0, misses, an empty map.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/util.h"

static void test_empty(void **state)
{
	(void)state;
	struct ac_hash_map map = { 0 };
	uint64_t v = 42;
	assert_false(ac_hash_map_get(&map, 0, &v));
	struct ac_hash_cursor c = ac_hash_map_find(&map, 7);
	assert_false(ac_hash_map_next(&map, &c, &v));
	assert_int_equal(v, 42);
	ac_hash_map_deinit(&map);
}

/* Addresses 8 bytes apart, as BHs and pcs are: every one found, no stray. */
static void test_many_keys(void **state)
{
	(void)state;
	struct ac_hash_map map = { 0 };
	const uint64_t n = 100000;
	for (uint64_t i = 0; i < n; i++)
		assert_true(ac_hash_map_add(&map, 0x7f0000001000 + 8 * i, i));
	assert_int_equal(map.n, n);
	assert_true(map.size >= 2 * map.n);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t v;
		assert_true(ac_hash_map_get(&map, 0x7f0000001000 + 8 * i, &v));
		assert_int_equal(v, i);
	}
	uint64_t v;
	assert_false(ac_hash_map_get(&map, 0x7f0000001004, &v));
	assert_false(ac_hash_map_get(&map, 0x7f0000001000 + 8 * n, &v));
	ac_hash_map_deinit(&map);
	assert_null(map.entries);
	assert_int_equal(map.size, 0);
}

/* Equal keys interleaved with others across rebuilds: oldest first, all. */
static void test_values_in_order(void **state)
{
	(void)state;
	struct ac_hash_map map = { 0 };
	for (uint64_t i = 0; i < 5000; i++) {
		assert_true(ac_hash_map_add(&map, 0, i));          /* key 0 is a key */
		assert_true(ac_hash_map_add(&map, 1000 + i, i));
		if (i % 3 == 0)
			assert_true(ac_hash_map_add(&map, 99, i));
	}
	struct ac_hash_cursor c = ac_hash_map_find(&map, 0);
	uint64_t v, want = 0;
	while (ac_hash_map_next(&map, &c, &v))
		assert_int_equal(v, want++);
	assert_int_equal(want, 5000);
	/* A finished cursor stays finished. */
	assert_false(ac_hash_map_next(&map, &c, &v));
	c = ac_hash_map_find(&map, 99);
	want = 0;
	while (ac_hash_map_next(&map, &c, &v)) {
		assert_int_equal(v, want);
		want += 3;
	}
	assert_int_equal(want, 5001);
	ac_hash_map_deinit(&map);
}

static void test_string_keys(void **state)
{
	(void)state;
	/* A string's key is that of its bytes, whatever their alignment. */
	char buf[64] = "xAioContext_notify_me";
	assert_int_equal(ac_hash_string("AioContext_notify_me"),
			 ac_hash_bytes(buf + 1, strlen(buf + 1)));
	assert_int_not_equal(ac_hash_string("AioContext"), ac_hash_string("AioContexT"));
	/* The length counts: a NUL-padded word differs from a shorter one. */
	assert_int_not_equal(ac_hash_bytes("ab\0", 3), ac_hash_bytes("ab", 2));
	assert_int_not_equal(ac_hash_string(""), ac_hash_bytes("\0", 1));
	/*
	 * 4,096 distinct names of 3 to 26 bytes, differing in the tail or in
	 * a full word, fill the 4,096 buckets of the key's low bits as random
	 * keys would: about 63% used.  A key that lost a word's bytes, or the
	 * tail's, fills far fewer.
	 */
	static bool used[4096];
	size_t filled = 0;
	for (unsigned i = 0; i < 4096; i++) {
		char name[40];
		snprintf(name, sizeof(name), "%.*s%u", (int)(i % 24), "aio_context_notify_me_bh", i);
		size_t bucket = ac_hash_string(name) & 4095;
		filled += !used[bucket];
		used[bucket] = true;
	}
	assert_true(filled >= 4096 * 6 / 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_values_in_order),
		cmocka_unit_test(test_string_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
