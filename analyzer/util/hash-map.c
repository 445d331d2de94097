/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "hash-map.h"

#define MIN_SLOTS 64

static size_t home(uint64_t key, size_t size)
{
	/* Fibonacci hashing: spreads addresses that differ in low bits only. */
	return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 32) & (size - 1);
}

static void place(size_t *slots, size_t size, const struct ac_hash_entry *entries,
		  size_t index)
{
	size_t i = home(entries[index].key, size);
	while (slots[i])
		i = (i + 1) & (size - 1);
	slots[i] = index + 1;
}

/* Rebuilt from the entries in their order, so equal keys stay in it. */
static bool rebuild(struct ac_hash_map *map, size_t size)
{
	size_t *slots = calloc(size, sizeof(*slots));
	if (!slots)
		return false;
	for (size_t k = 0; k < map->n; k++)
		place(slots, size, map->entries, k);
	free(map->slots);
	map->slots = slots;
	map->size = size;
	return true;
}

bool ac_hash_map_add(struct ac_hash_map *map, uint64_t key, uint64_t value)
{
	if ((map->n + 1) * 2 > map->size &&
	    !rebuild(map, map->size ? 2 * map->size : MIN_SLOTS))
		return false;
	struct ac_hash_entry *e = ac_array_slot(map->entries, map->n);
	if (!e)
		return false;
	*e = (struct ac_hash_entry){ key, value };
	place(map->slots, map->size, map->entries, map->n);
	map->n++;
	return true;
}

struct ac_hash_cursor ac_hash_map_find(const struct ac_hash_map *map, uint64_t key)
{
	return (struct ac_hash_cursor){ key, map->size ? home(key, map->size) : 0 };
}

bool ac_hash_map_next(const struct ac_hash_map *map, struct ac_hash_cursor *cursor,
		      uint64_t *value)
{
	if (!map->size)
		return false;
	/* At most half the slots are used: the probe always meets a free one. */
	while (map->slots[cursor->slot]) {
		const struct ac_hash_entry *e = &map->entries[map->slots[cursor->slot] - 1];
		cursor->slot = (cursor->slot + 1) & (map->size - 1);
		if (e->key == cursor->key) {
			*value = e->value;
			return true;
		}
	}
	return false;
}

bool ac_hash_map_get(const struct ac_hash_map *map, uint64_t key, uint64_t *value)
{
	struct ac_hash_cursor c = ac_hash_map_find(map, key);
	return ac_hash_map_next(map, &c, value);
}

void ac_hash_map_deinit(struct ac_hash_map *map)
{
	free(map->entries);
	free(map->slots);
	*map = (struct ac_hash_map){ 0 };
}

/* murmur3's finalizer: every input bit reaches every output bit. */
static uint64_t avalanche(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

uint64_t ac_hash_bytes(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len;
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t word;
		memcpy(&word, p, 8);
		h = avalanche(h ^ word);
	}
	uint64_t tail = 0;
	memcpy(&tail, p, len);
	return avalanche(h ^ tail);
}

uint64_t ac_hash_string(const char *s)
{
	return ac_hash_bytes(s, strlen(s));
}
