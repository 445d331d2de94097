/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The aiocore command line: one verb per file (verb-*.c), dispatched from the
 * table in main.c.  Exit codes are the same for every verb.
 */
#ifndef AIOCORE_CLI_H
#define AIOCORE_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "views/view.h"

struct ac_verb {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

/* Options every verb that opens a target accepts. */
struct ac_target_options {
	struct ac_target_config config;
	bool json;
};

/*
 * getopt_long table entries and parser for --exe, --sysroot, --debug-dir,
 * --pid and --json.  ac_cli_target_option() returns true when it consumed
 * the option.
 */
#define AC_CLI_TARGET_LONG_OPTIONS                         \
	{ "exe", required_argument, NULL, 0x100 },          \
	{ "sysroot", required_argument, NULL, 0x101 },      \
	{ "debug-dir", required_argument, NULL, 0x102 },    \
	{ "pid", required_argument, NULL, 0x103 },          \
	{ "json", no_argument, NULL, 0x104 }
#define AC_CLI_TARGET_HELP                                                     \
	"  --exe FILE        the executable (default: found from the core)\n"   \
	"  --sysroot DIR     look for the core's files under DIR\n"             \
	"  --debug-dir DIR   a .build-id/xx/rest.debug tree of debuginfo\n"    \
	"  --pid PID         read a live process instead of a core (read-only)\n" \
	"  -                 as CORE: read the core (compressed or not) from stdin\n" \
	"  --json            machine-readable output\n"
/* Help lines of the options only some views take. */
#define AC_CLI_CTX_HELP   "  --ctx ADDR        only the AioContext at ADDR\n"
#define AC_CLI_SCAN_HELP                                                       \
	"  --scan-memory     also scan the heap for AioContexts no root names\n"
#define AC_CLI_BT_HELP    "  --bt              backtraces of the suspended coroutines\n"
#define AC_CLI_BATCH_HELP "  --batch           many cores at once: aiocore diagnose --batch --help\n"
#define AC_CLI_SINCE_HELP                                                      \
	"  --since EARLIER   an earlier core of the same process (gcore, seconds\n" \
	"                    before CORE): no progress on a request in between\n"  \
	"                    is a hang (exit 3), progress is not (exit 0)\n"
bool ac_cli_target_option(struct ac_target_options *opts, int opt,
			  const char *arg, int *exit_code);
/* Checks that exactly one of CORE / --pid was given, then opens it. */
int ac_cli_open_target(struct ac_target_options *opts, const char *verb,
		       int argc, char **argv, struct ac_target **ret);

/* Print an error as "aiocore VERB: message" and map it to an exit code. */
int ac_cli_report_error(const char *verb, struct ac_error *err);
/* Print the target's warnings to stderr; returns PARTIAL if there were any. */
int ac_cli_report_warnings(const char *verb, const struct ac_target *target);

int ac_verb_threads(int argc, char **argv);
int ac_verb_reproduce(int argc, char **argv);
/* diagnose, ctx, bh-list, thread-pool, ...: the view named argv[0]. */
int ac_verb_view(int argc, char **argv);
/* diagnose --batch DIR|CORE...: many cores, one JSON line each. */
int ac_verb_batch(int argc, char **argv);

#endif
