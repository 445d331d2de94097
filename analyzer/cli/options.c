/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Options and error reporting shared by every verb. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>

#include "cli.h"

bool ac_cli_target_option(struct ac_target_options *opts, int opt,
			  const char *arg, int *exit_code)
{
	switch (opt) {
	case 0x100: opts->config.exe_path = arg; return true;
	case 0x101: opts->config.sysroot = arg; return true;
	case 0x102: opts->config.debug_dir = arg; return true;
	case 0x104: opts->json = true; return true;
	case 0x103: {
		char *end;
		errno = 0;
		long pid = strtol(arg, &end, 10);
		if (errno || *end || pid <= 0 || pid > INT_MAX) {
			fprintf(stderr, "aiocore: --pid %s: not a process id\n", arg);
			*exit_code = AC_EXIT_USAGE;
		}
		opts->config.pid = (pid_t)pid;
		return true;
	}
	}
	return false;
}

int ac_cli_report_error(const char *verb, struct ac_error *err)
{
	return ac_report_error_to(stderr, verb, err);
}

int ac_cli_report_warnings(const char *verb, const struct ac_target *target)
{
	return ac_report_warnings_to(stderr, verb, target);
}

int ac_cli_open_target(struct ac_target_options *opts, const char *verb,
		       int argc, char **argv, struct ac_target **ret)
{
	int n_args = argc - optind;
	if (n_args > 1 || (n_args == 1 && opts->config.pid > 0) ||
	    (n_args == 0 && opts->config.pid <= 0)) {
		fprintf(stderr, "aiocore %s: give one core file, or --pid PID (see aiocore %s --help)\n",
			verb, verb);
		return AC_EXIT_USAGE;
	}
	if (n_args == 1)
		opts->config.core_path = argv[optind];
	struct ac_error *err = ac_target_open(&opts->config, ret);
	if (err)
		return ac_cli_report_error(verb, err);
	return AC_EXIT_OK;
}
