/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "array.h"

/*
 * The capacity an allocated array of n elements has: the next power of
 * two of at least 4 (4 for an emptied one).  Growing only when n reaches
 * it keeps that true without storing it.
 */
static bool full(size_t n)
{
	return n >= 4 && (n & (n - 1)) == 0;
}

void *ac_array_grow(void *items, size_t n, size_t elem_size)
{
	if (items && !full(n))
		return items;
	size_t cap = n < 4 ? 4 : 2 * n;
	if (cap < n || (elem_size && cap > SIZE_MAX / elem_size))
		return NULL;
	return realloc(items, cap * elem_size);
}

bool ac_strings_vappendf(char ***items, size_t *n, const char *fmt, va_list ap)
{
	char **slot = ac_array_slot(*items, *n);
	if (!slot || vasprintf(slot, fmt, ap) < 0)
		return false;
	(*n)++;
	return true;
}

bool ac_strings_appendf(char ***items, size_t *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bool ok = ac_strings_vappendf(items, n, fmt, ap);
	va_end(ap);
	return ok;
}

void ac_strings_free(char ***items, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*items)[i]);
	free(*items);
	*items = NULL;
	*n = 0;
}
