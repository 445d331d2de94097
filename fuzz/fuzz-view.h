/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fuzz targets run one view per input, not all of them: each view
 * decodes the whole analysis again.  A "mode" numbers the views of
 * ac_view_at() twice over, text (with --bt) and JSON.
 */
#ifndef AIOCORE_FUZZ_VIEW_H
#define AIOCORE_FUZZ_VIEW_H

#include <stddef.h>
#include <stdio.h>

#include "views/view.h"

/* How many modes there are: 2 x the views of the table. */
static inline size_t fuzz_view_modes(void)
{
	size_t n = 0;
	while (ac_view_at(n))
		n++;
	return 2 * n;
}

/* Run mode `mode` (< fuzz_view_modes()) to out; only crashes count. */
static inline void fuzz_view_run(struct ac_program *prog, size_t mode, FILE *out)
{
	struct ac_view_options opts = {
		.json = mode % 2,
		.backtraces = true,
	};
	enum ac_view_result result;
	struct ac_error *err = ac_view_run(ac_view_at(mode / 2), prog, &opts, out,
					   &result);
	if (err)
		ac_error_destroy(err);
	fflush(out);
}

#endif
