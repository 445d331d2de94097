/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * aiocore diagnose | ctx | bh-list | thread-pool | events | coroutines:
 * open the program, run the view of the same name, map the result to an
 * exit code.  argv[0] is the verb.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "views/view.h"

static void help(FILE *out, const struct ac_view *view)
{
	fprintf(out,
		"Usage: aiocore %s [OPTIONS] CORE|-\n"
		"       aiocore %s [OPTIONS] --pid PID\n\n%s"
		"\nOptions:\n" AC_CLI_TARGET_HELP AC_CLI_SCAN_HELP "%s%s%s"
		"  -h, --help        this text\n",
		view->name, view->name, view->help,
		ac_view_takes_option(view->name, "--ctx") ? AC_CLI_CTX_HELP : "",
		ac_view_takes_option(view->name, "--bt") ? AC_CLI_BT_HELP : "",
		!strcmp(view->name, "diagnose") ? AC_CLI_BATCH_HELP AC_CLI_SINCE_HELP : "");
}

int ac_verb_view(int argc, char **argv)
{
	const struct ac_view *view = ac_view_find(argv[0]);
	if (!view)
		return AC_EXIT_USAGE;
	static const struct option long_options[] = {
		AC_CLI_TARGET_LONG_OPTIONS,
		{ "ctx", required_argument, NULL, 0x200 },
		{ "bt", no_argument, NULL, 0x201 },
		{ "dot", no_argument, NULL, 0x202 },
		{ "since", required_argument, NULL, 0x203 },
		{ "scan-memory", no_argument, NULL, 0x204 },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ac_target_options topts = { 0 };
	struct ac_view_options vopts = { 0 };
	struct ac_target_config since = { 0 };
	int exit_code = AC_EXIT_OK, opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		if (ac_cli_target_option(&topts, opt, optarg, &exit_code))
			continue;
		if (opt == 0x201 && ac_view_refuse_option(view->name, "--bt", stderr))
			return AC_EXIT_USAGE;
		if (opt == 0x200) {
			if (!ac_view_ctx_option(&vopts, view->name, optarg, stderr))
				return AC_EXIT_USAGE;
		} else if (opt == 0x201) {
			vopts.backtraces = true;
		} else if (opt == 0x202) {
			vopts.dot = true;
		} else if (opt == 0x204) {
			vopts.scan_memory = true;
		} else if (opt == 0x203 && view->run == ac_view_diagnose) {
			since.core_path = optarg;
		} else if (opt == 'h') {
			help(stdout, view);
			return AC_EXIT_OK;
		} else {
			help(stderr, view);
			return AC_EXIT_USAGE;
		}
	}
	if (exit_code)
		return exit_code;
	vopts.json = topts.json;
	int n_args = argc - optind;
	if (n_args > 1 || (n_args == 1) == (topts.config.pid > 0)) {
		fprintf(stderr, "aiocore %s: give one core file, or --pid PID (see aiocore %s --help)\n",
			view->name, view->name);
		return AC_EXIT_USAGE;
	}
	if (n_args == 1)
		topts.config.core_path = argv[optind];
	if (since.core_path) {
		/* The earlier core is found and checked like CORE. */
		const char *path = since.core_path;
		since = topts.config;
		since.core_path = path;
		since.pid = 0;
		since.callbacks = NULL;
		since.main_debuginfo_only = view->main_debuginfo_only;
		vopts.since = &since;
	}
	exit_code = ac_view_run_target(view, &topts.config, &vopts, stdout, stderr);
	fflush(stdout);
	return exit_code;
}

