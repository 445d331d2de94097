/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Views: ctx, bh-list, thread-pool, events, coroutines, diagnose.  Each one
 * decodes what it needs from a program and writes text or JSON to a FILE.
 * The CLI and the gdb commands both call these, so they cannot drift apart.
 */
#ifndef AIOCORE_VIEW_H
#define AIOCORE_VIEW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "program.h"

struct ac_view_options {
	bool json;
	bool has_ctx;            /* --ctx ADDR: only this AioContext */
	uint64_t ctx;
	bool backtraces;         /* --bt: coroutine backtraces */
};

/* What a view found, for the exit code. */
enum ac_view_result {
	AC_VIEW_OK,
	AC_VIEW_FOUND,           /* diagnose: a pattern matched */
};

typedef struct ac_error *ac_view_fn(struct ac_program *prog,
				    const struct ac_view_options *opts,
				    FILE *out, enum ac_view_result *result);

struct ac_view {
	const char *name;
	const char *summary;
	const char *help;        /* what the view shows, for --help */
	ac_view_fn *run;
	/* Needs no DWARF of the libraries (see ac_target_config). */
	bool main_debuginfo_only;
};

const struct ac_view *ac_view_find(const char *name);
/*
 * Run a view and, in text mode, the program's notes after it: exactly what
 * `aiocore VIEW` prints on stdout.  Every front end goes through here.
 */
struct ac_error *ac_view_run(const struct ac_view *view, struct ac_program *prog,
			     const struct ac_view_options *opts, FILE *out,
			     enum ac_view_result *result);
const struct ac_view *ac_view_at(size_t index);

ac_view_fn ac_view_ctx;
ac_view_fn ac_view_bh_list;
ac_view_fn ac_view_thread_pool;
ac_view_fn ac_view_events;
ac_view_fn ac_view_coroutines;
ac_view_fn ac_view_diagnose;

/*
 * Notes the program collected (unreadable memory, ...) after the view's own
 * output: "note: ..." lines in text; JSON views print them themselves.
 */
void ac_view_print_notes(struct ac_program *prog, FILE *out);
struct ac_json;
/* "notes": [...] as the last key of a JSON view's top object. */
void ac_view_json_notes(struct ac_program *prog, struct ac_json *json);
/* A JSON view's envelope: {"KEY": [ ... ], "notes": [...]} */
void ac_view_json_begin(struct ac_json *json, FILE *out, const char *key);
void ac_view_json_end(struct ac_program *prog, struct ac_json *json);

#endif
