/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Walking a linked list in a core: bounded, and a cycle is detected (Brent)
 * instead of looping.  Usage:
 *
 *	struct ac_walk walk;
 *	ac_walk_init(&walk, AC_WALK_MAX);
 *	for (addr = first; addr; addr = next) {
 *		if (!ac_walk_step(&walk, addr))
 *			break;     // walk.problem says why
 *		...
 *	}
 */
#ifndef AIOCORE_LIST_WALK_H
#define AIOCORE_LIST_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longer than any list a healthy QEMU has. */
#define AC_WALK_MAX 100000

struct ac_walk {
	size_t steps, max;
	size_t power, lambda;
	uint64_t tortoise;
	const char *problem;   /* "cycle" or "too long", NULL while fine */
};

static inline void ac_walk_init(struct ac_walk *walk, size_t max)
{
	*walk = (struct ac_walk){ .max = max, .power = 1 };
}

static inline bool ac_walk_step(struct ac_walk *walk, uint64_t address)
{
	if (walk->steps > 0 && address == walk->tortoise) {
		walk->problem = "cycle";
		return false;
	}
	if (walk->steps >= walk->max) {
		walk->problem = "too long";
		return false;
	}
	if (walk->lambda == walk->power) {
		walk->tortoise = address;
		walk->power *= 2;
		walk->lambda = 0;
	} else if (walk->steps == 0) {
		walk->tortoise = address;
	}
	walk->steps++;
	walk->lambda++;
	return true;
}

#endif
