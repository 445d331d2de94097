/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What `aiocore VIEW` does after its command line, shared by both front
 * ends (cli/verb-view.c and gdb/gdb-api.c): open the program, run the view,
 * report errors and warnings as "aiocore VIEW: ...", map them to the
 * documented exit codes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "view.h"

int ac_exit_code_for(const struct ac_error *err)
{
	if (!err)
		return AC_EXIT_OK;
	switch (err->code) {
	case AC_ERR_USAGE:
		return AC_EXIT_USAGE;
	case AC_ERR_UNMAPPED:
	case AC_ERR_NOT_IN_CORE:
	case AC_ERR_BAD_DATA:
	case AC_ERR_LOOKUP:
	case AC_ERR_NO_DEBUGINFO:  /* threads and symbols are still shown */
		return AC_EXIT_PARTIAL;
	default:
		return AC_EXIT_FATAL;
	}
}

int ac_report_error_to(FILE *stream, const char *verb, struct ac_error *err)
{
	int code = ac_exit_code_for(err);
	fprintf(stream, "aiocore %s: %s\n", verb, err->message);
	ac_error_destroy(err);
	return code;
}

int ac_report_warnings_to(FILE *stream, const char *verb,
			      const struct ac_target *target)
{
	size_t n = ac_target_warning_count(target);
	for (size_t i = 0; i < n; i++)
		fprintf(stream, "aiocore %s: warning: %s\n", verb,
			ac_target_warning(target, i));
	return n ? AC_EXIT_PARTIAL : AC_EXIT_OK;
}

bool ac_view_takes_option(const char *view, const char *option)
{
	static const char *const with_ctx[] = { "ctx", "bh-list", "thread-pool", "coroutines" };
	if (!strcmp(option, "--bt"))
		return !strcmp(view, "coroutines");
	for (size_t i = 0; i < sizeof(with_ctx) / sizeof(with_ctx[0]); i++)
		if (!strcmp(view, with_ctx[i]))
			return !strcmp(option, "--ctx");
	return false;
}

bool ac_view_refuse_option(const char *verb, const char *option, FILE *err)
{
	if (ac_view_takes_option(verb, option))
		return false;
	fprintf(err, "aiocore %s: %s is not an option of %s (see aiocore %s --help)\n",
		verb, option, verb, verb);
	return true;
}

bool ac_view_ctx_option(struct ac_view_options *opts, const char *verb,
			    const char *arg, FILE *err)
{
	if (ac_view_refuse_option(verb, "--ctx", err))
		return false;
	char *end;
	errno = 0;
	uint64_t ctx = strtoull(arg, &end, 0);
	if (errno || *end || end == arg) {
		fprintf(err, "aiocore %s: --ctx %s: not an address\n", verb, arg);
		return false;
	}
	opts->ctx = ctx;
	opts->has_ctx = true;
	return true;
}

int ac_view_run_target(const struct ac_view *view,
		    const struct ac_target_config *config,
		    const struct ac_view_options *opts, FILE *out, FILE *err)
{
	struct ac_program *prog;
	struct ac_target_config cfg = *config;
	cfg.main_debuginfo_only = view->main_debuginfo_only;
	struct ac_error *error = ac_program_open(&cfg, &prog);
	if (error)
		return ac_report_error_to(err, view->name, error);
	enum ac_view_result result;
	int exit_code;
	prog->scan_memory = opts->scan_memory;
	error = ac_view_run(view, prog, opts, out, &result);
	if (error) {
		exit_code = ac_report_error_to(err, view->name, error);
	} else {
		exit_code = ac_report_warnings_to(err, view->name, prog->target);
		if (prog->n_notes)
			exit_code = AC_EXIT_PARTIAL;
		if (result == AC_VIEW_FOUND)
			exit_code = AC_EXIT_FOUND;
	}
	fflush(out);
	ac_program_destroy(prog);
	return exit_code;
}
