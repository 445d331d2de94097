/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The analyzer's one hash map: 64-bit keys to 64-bit values, open
 * addressing with linear probing, no removal (an analysis only adds).
 * A key may hold several values; they are found in the order they were
 * added, which the DWARF name index relies on (first definition wins).
 * String keys are hashed by the caller (ac_hash_string) and the string
 * compared on each candidate.
 *
 *	struct ac_hash_cursor c = ac_hash_map_find(&map, key);
 *	uint64_t value;
 *	while (ac_hash_map_next(&map, &c, &value))
 *		...;
 */
#ifndef AIOCORE_HASH_MAP_H
#define AIOCORE_HASH_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ac_hash_entry {
	uint64_t key, value;
};

struct ac_hash_map {
	struct ac_hash_entry *entries;   /* in the order they were added */
	size_t n;
	size_t *slots;                   /* 1 + index into entries; 0: free */
	size_t size;                     /* slots: a power of 2, at most half used */
};

struct ac_hash_cursor {
	uint64_t key;
	size_t slot;
};

/* False when out of memory: the map is unchanged. */
bool ac_hash_map_add(struct ac_hash_map *map, uint64_t key, uint64_t value);
struct ac_hash_cursor ac_hash_map_find(const struct ac_hash_map *map, uint64_t key);
/* The cursor's next value, oldest first; false after the last. */
bool ac_hash_map_next(const struct ac_hash_map *map, struct ac_hash_cursor *cursor,
		      uint64_t *value);
/* The first value of key; false if none. */
bool ac_hash_map_get(const struct ac_hash_map *map, uint64_t key, uint64_t *value);
void ac_hash_map_deinit(struct ac_hash_map *map);

/*
 * The key of len bytes, eight at a time (the top-level DWARF names of
 * every unit read, thousands a run, are hashed).
 */
uint64_t ac_hash_bytes(const void *data, size_t len);
/* The key of a string: ac_hash_bytes of its bytes. */
uint64_t ac_hash_string(const char *s);

#endif
