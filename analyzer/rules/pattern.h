/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The catalogue of known hang patterns (pattern.c): what never changes per
 * core, the upstream fix, the affected versions, the mechanism.  Ids are
 * stable: they appear in the output, the docs and the test names.
 */
#ifndef AIOCORE_PATTERN_H
#define AIOCORE_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

#include "qemu/qemu.h"

struct ac_pattern {
	const char *id;           /* stable: output, docs, test names */
	const char *title;
	const char *fix_commit;   /* upstream QEMU commit, NULL if none */
	const char *fix_title;
	const char *affected;     /* QEMU versions */
	/* First upstream release with fix_commit; NULL if there is no fix. */
	const struct ac_qemu_release *fixed_in;
	const char *mechanism;    /* one sentence */
	bool no_replay;           /* no `aiocore reproduce` for it */
};

const struct ac_pattern *ac_pattern_find(const char *id);
const struct ac_pattern *ac_pattern_at(size_t index);  /* NULL past the end */

#endif
