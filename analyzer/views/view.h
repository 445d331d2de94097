/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * views: ctx, bh-list, thread-pool, events, coroutines, diagnose.  Each one
 * decodes what it needs from a program and writes text or JSON to a FILE;
 * the view runner opens the target and maps the outcome to the exit codes.
 * The CLI and the gdb commands both call these, so they cannot drift apart.
 * May include the public header of every layer below (util, target,
 * dwarf, qemu, rules); the front ends (cli, gdb) sit above.
 */
#ifndef AIOCORE_VIEW_H
#define AIOCORE_VIEW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "util/util.h"
#include "target/target.h"
#include "dwarf/dwarf.h"
#include "qemu/qemu.h"

/* The exit codes of `aiocore VERB` and of the gdb commands ($aio_exit). */
enum ac_exit {
	AC_EXIT_OK = 0,       /* complete */
	AC_EXIT_PARTIAL = 1,  /* something unreadable; shown what could be */
	AC_EXIT_FATAL = 2,    /* cannot open, not a core, mismatch */
	AC_EXIT_FOUND = 3,    /* diagnose: a hang pattern was found */
	AC_EXIT_USAGE = 64,   /* bad command line */
};

struct ac_view_options {
	bool json;
	bool has_ctx;            /* --ctx ADDR: only this AioContext */
	uint64_t ctx;
	bool backtraces;         /* --bt: coroutine backtraces */
	bool dot;                /* --dot: Graphviz (waits) */
	bool scan_memory;        /* --scan-memory: heap scan for AioContexts too */
	/* diagnose --since EARLIER.core: the earlier core, opened like this one. */
	const struct ac_target_config *since;
};

/* --help lines for the view options, in the CLI and in gdb. */
#define AC_VIEW_OPTIONS_HELP                                                     \
	"  --ctx ADDR        only the AioContext at ADDR\n"                     \
	"  --bt              backtraces of suspended coroutines (coroutines)\n"   \
	"  --dot             Graphviz dot of the wait-for graph (waits)\n"

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
ac_view_fn ac_view_waits;

/*
 * The path to show for PAGE of docs/ ("patterns/lost-completion.md"): the
 * installed copy when this code runs installed and the page is there,
 * else "docs/PAGE" of the source tree (view-doc-path.c says why).  Written
 * into buf, which is returned.
 */
const char *ac_view_doc_path(const char *page, char *buf, size_t size);

struct ac_waits;
/* The wait-for tree as `aiocore waits` prints it (also diagnose's summary). */
void ac_view_waits_text(const struct ac_waits *waits, FILE *out);
struct ac_json;
/* The leaves (what the waits end on), or "looks idle": diagnose without a cause. */
void ac_view_waits_summary_text(const struct ac_waits *waits, FILE *out);
/* "waits": {"idle", "leaves"} into diagnose's JSON object. */
void ac_view_waits_summary_json(const struct ac_waits *waits, struct ac_json *json);

/*
 * Notes the program collected (unreadable memory, ...) after the view's own
 * output: "note: ..." lines in text; JSON views print them themselves.
 */
void ac_view_print_notes(struct ac_program *prog, FILE *out);
/* "notes": [...] as the last key of a JSON view's top object. */
void ac_view_json_notes(struct ac_program *prog, struct ac_json *json);
/*
 * A view that shows one item per AioContext (ctx, bh-list, thread-pool):
 * show() is called for each context --ctx selects; in text mode it starts
 * its item with a blank line when `shown` items came before, in JSON mode
 * it writes one element of the envelope's array.  It returns whether it
 * showed anything.  none_text is printed when nothing was shown.
 */
typedef bool ac_view_context_fn(struct ac_program *prog, const struct ac_aio_context *c,
				const struct ac_view_options *opts, FILE *out,
				struct ac_json *json, size_t shown);
struct ac_error *ac_view_each_context(struct ac_program *prog,
				      const struct ac_view_options *opts, FILE *out,
				      const char *schema, const char *json_key,
				      ac_view_context_fn *show,
				      const char *none_text);
/* "no AioContext found[ at that address]", as --ctx says. */
const char *ac_view_no_context(const struct ac_view_options *opts);
/*
 * A JSON view's envelope: {"schema": SCHEMA, "KEY": [ ... ], "notes": [...]}.
 * SCHEMA is "aiocore-VIEW/N" (docs/json.md): N grows when a field is
 * renamed or removed.
 */
void ac_view_json_begin(struct ac_json *json, FILE *out, const char *schema,
			const char *key);
void ac_view_json_end(struct ac_program *prog, struct ac_json *json);
/* The envelope's end after the array and any fields of the view's own. */
void ac_view_json_close(struct ac_program *prog, struct ac_json *json);

/*
 * The view runner (view-runner.c): what `aiocore VIEW` does after its
 * command line, shared with the gdb commands.  Opens the target, runs the
 * view into out, errors and warnings as "aiocore VIEW: ..." into err;
 * returns the exit code.
 */
int ac_view_run_target(const struct ac_view *view,
		       const struct ac_target_config *config,
		       const struct ac_view_options *opts, FILE *out, FILE *err);
/*
 * --ctx ADDR; false (message on err) when ADDR is not a number or the view
 * does not take --ctx.
 */
bool ac_view_ctx_option(struct ac_view_options *opts, const char *verb,
			const char *arg, FILE *err);
/*
 * Whether a view honours --ctx or --bt ("--ctx", "--bt"): only ctx,
 * bh-list, thread-pool and coroutines look at one AioContext, only
 * coroutines unwinds.  The others refuse them rather than ignore them:
 * ac_view_refuse_option() says so on err and returns true.
 */
bool ac_view_takes_option(const char *view, const char *option);
bool ac_view_refuse_option(const char *verb, const char *option, FILE *err);
/* The exit code an error maps to (AC_EXIT_OK for NULL). */
int ac_exit_code_for(const struct ac_error *err);
/* "aiocore VERB: message" on stream; destroys err; returns its exit code. */
int ac_report_error_to(FILE *stream, const char *verb, struct ac_error *err);
/* "aiocore VERB: warning: ..." per target warning; PARTIAL if any. */
int ac_report_warnings_to(FILE *stream, const char *verb,
			  const struct ac_target *target);
#endif
