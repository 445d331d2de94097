/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Growable arrays held as a pointer and a count, the way every list in the
 * analyzer is held (struct { T *items; size_t n; }).  The capacity follows
 * from the count (0, then 4, 8, 16, ...), so the structs need no capacity
 * field and a push is amortized O(1) instead of one realloc per element.
 *
 *	struct ac_finding *f = ac_array_slot(findings->items, findings->n);
 *	if (!f)
 *		return NULL;              // no memory; the array is unchanged
 *	... fill *f ...;
 *	findings->n++;                    // the caller commits the slot
 */
#ifndef AIOCORE_ARRAY_H
#define AIOCORE_ARRAY_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/*
 * Room for element n (0-based) of an array of n elements of elem_size
 * bytes: returns the array (moved or not), or NULL when out of memory or
 * when the size would overflow, leaving items untouched.
 */
void *ac_array_grow(void *items, size_t n, size_t elem_size);

/* A zeroed slot at items[n], items grown when needed; NULL on no memory. */
#define ac_array_slot(items, n)                                                 \
	({                                                                      \
		__typeof__(items) *ac_ptr_ = &(items);                          \
		size_t ac_n_ = (n);                                             \
		__typeof__(items) ac_grown_ =                                    \
			ac_array_grow(*ac_ptr_, ac_n_, sizeof(**ac_ptr_));      \
		if (ac_grown_) {                                                \
			*ac_ptr_ = ac_grown_;                                   \
			memset(&ac_grown_[ac_n_], 0, sizeof(*ac_grown_));       \
			ac_grown_ = &ac_grown_[ac_n_];                          \
		}                                                               \
		ac_grown_;                                                      \
	})

/*
 * Append a formatted, malloc'd string to a string array (notes, warnings,
 * the rules' "checked" lines); false when out of memory (nothing added).
 */
bool ac_strings_appendf(char ***items, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool ac_strings_vappendf(char ***items, size_t *n, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* Free every string and the array; *items = NULL, *n = 0. */
void ac_strings_free(char ***items, size_t *n);

#endif
