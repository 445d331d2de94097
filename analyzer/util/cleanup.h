/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Scope-bound cleanup (GNU C's `cleanup` attribute), the way drgn and
 * systemd write constructors: an object that fails half-way is destroyed
 * when its variable goes out of scope, so each failure is a plain
 * `return err;` instead of a `goto fail` ladder, and success hands the
 * object out with ac_steal().  Every destructor used here accepts NULL.
 */
#ifndef AIOCORE_CLEANUP_H
#define AIOCORE_CLEANUP_H

#include <stdlib.h>

#define _cleanup_(fn) __attribute__((cleanup(fn)))

static inline void ac_freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(ac_freep)

/* TYPE_cleanup(TYPE **) calling destroy(TYPE *): for _cleanup_(). */
#define AC_DEFINE_CLEANUP(type, destroy)                                  \
	static inline void destroy##_cleanup(type **p)                    \
	{                                                                 \
		destroy(*p);                                              \
	}

/* The pointer *pp, which the cleanup at scope end then no longer frees. */
#define ac_steal(pp)                                                      \
	({                                                                \
		__typeof__(*(pp)) steal_ = *(pp);                         \
		*(pp) = NULL;                                             \
		steal_;                                                   \
	})

#endif
