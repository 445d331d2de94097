/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The C side of the gdb commands: a front end like the CLI's verb-view.c,
 * sharing its code (ac_view_run_target, views/view-runner.c), so the two
 * print the same bytes.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdb-api.h"
#include "qemu/qemu.h"
#include "views/view.h"

int aiocore_abi_version(void)
{
	return AIOCORE_GDB_ABI;
}

size_t aiocore_abi_thread_size(void)
{
	return sizeof(struct ac_thread);
}

int aiocore_abi_max_gregs(void)
{
	return AC_MAX_GREGS;
}

void aiocore_free(void *p)
{
	free(p);
}

static void target_config(const struct aiocore_target *target,
			  struct ac_target_config *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->core_path = target->core_path;
	ret->exe_path = target->exe_path;
	ret->sysroot = target->sysroot;
	ret->debug_dir = target->debug_dir;
	if (!target->core_path) {
		ret->pid = target->pid;
		ret->callbacks = target->callbacks;
	}
}

/* Two memstreams standing for the CLI's stdout and stderr. */
struct streams {
	char *out_text, *err_text;
	size_t out_size, err_size;
	FILE *out, *err;
};

static bool streams_open(struct streams *s)
{
	memset(s, 0, sizeof(*s));
	s->out = open_memstream(&s->out_text, &s->out_size);
	s->err = open_memstream(&s->err_text, &s->err_size);
	if (s->out && s->err)
		return true;
	if (s->out)
		fclose(s->out);
	if (s->err)
		fclose(s->err);
	free(s->out_text);
	free(s->err_text);
	return false;
}

/* Close both; returns the out text and hands the err text to *err_text. */
static char *streams_close(struct streams *s, char **err_text)
{
	fclose(s->out);
	fclose(s->err);
	if (err_text)
		*err_text = s->err_text;
	else
		free(s->err_text);
	return s->out_text;
}

static void view_help(FILE *out, const struct ac_view *view)
{
	fprintf(out, "Usage: aio-%s [OPTIONS]\n\n%s\nOptions:\n"
		"  --json            machine-readable output\n%s%s"
		"  -h, --help        this text\n",
		view->name, view->help,
		ac_view_takes_option(view->name, "--ctx") ? "  --ctx ADDR        only the AioContext at ADDR\n" : "",
		ac_view_takes_option(view->name, "--bt") ? "  --bt              backtraces of suspended coroutines\n" : "");
}

/* The view options, as `aiocore VIEW` reads them; 0 or an exit code. */
static int parse_options(const struct ac_view *view, int argc,
			 const char *const *argv, struct ac_view_options *opts,
			 bool *help, FILE *out, FILE *err)
{
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		if (!strcmp(arg, "--json")) {
			opts->json = true;
		} else if (!strcmp(arg, "--bt")) {
			if (ac_view_refuse_option(view->name, "--bt", err))
				return AC_EXIT_USAGE;
			opts->backtraces = true;
		} else if (!strcmp(arg, "--dot")) {
			opts->dot = true;
		} else if (!strcmp(arg, "--ctx") || !strncmp(arg, "--ctx=", 6)) {
			const char *value = arg[5] == '=' ? arg + 6 : NULL;
			if (!value) {
				if (i + 1 == argc) {
					fprintf(err, "aiocore %s: option '--ctx' requires an argument\n",
						view->name);
					return AC_EXIT_USAGE;
				}
				value = argv[++i];
			}
			if (!ac_view_ctx_option(opts, view->name, value, err))
				return AC_EXIT_USAGE;
		} else if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			view_help(out, view);
			*help = true;
			return AC_EXIT_OK;
		} else {
			fprintf(err, "aiocore %s: unrecognized argument '%s'\n",
				view->name, arg);
			view_help(err, view);
			return AC_EXIT_USAGE;
		}
	}
	return AC_EXIT_OK;
}

char *aiocore_run(const char *name, int argc, const char *const *argv,
		  const struct aiocore_target *target, char **err_text,
		  int *exit_code)
{
	struct streams s;
	if (!streams_open(&s)) {
		*exit_code = AC_EXIT_FATAL;
		if (err_text)
			*err_text = NULL;
		return NULL;
	}
	const struct ac_view *view = name ? ac_view_find(name) : NULL;
	if (!view) {
		fprintf(s.err, "aiocore: unknown view '%s'\n", name ? name : "(null)");
		*exit_code = AC_EXIT_USAGE;
		return streams_close(&s, err_text);
	}
	struct ac_view_options opts = { 0 };
	bool help = false;
	*exit_code = parse_options(view, argc, argv, &opts, &help, s.out, s.err);
	if (*exit_code == AC_EXIT_OK && !help) {
		struct ac_target_config config;
		target_config(target, &config);
		*exit_code = ac_view_run_target(view, &config, &opts, s.out, s.err);
	}
	return streams_close(&s, err_text);
}

int aiocore_view_count(void)
{
	int n = 0;
	while (ac_view_at(n))
		n++;
	return n;
}

const char *aiocore_view_name(int index)
{
	const struct ac_view *view = index >= 0 ? ac_view_at(index) : NULL;
	return view ? view->name : NULL;
}

const char *aiocore_view_summary(int index)
{
	const struct ac_view *view = index >= 0 ? ac_view_at(index) : NULL;
	return view ? view->summary : NULL;
}

const char *aiocore_view_help(int index)
{
	const struct ac_view *view = index >= 0 ? ac_view_at(index) : NULL;
	return view ? view->help : NULL;
}

const char *aiocore_view_options_help(void)
{
	return AC_VIEW_OPTIONS_HELP;
}

static int fail(struct ac_error *err, const char *what, char **err_text)
{
	int code = ac_exit_code_for(err);
	if (err_text && asprintf(err_text, "aiocore %s: %s", what, err->message) < 0)
		*err_text = NULL;
	ac_error_destroy(err);
	return code;
}

/*
 * Open the program and find its AioContexts, for a convenience function;
 * 0 or an exit code (then nothing is left open).
 */
static int open_contexts(const struct aiocore_target *target, const char *what,
			 struct ac_program **prog, struct ac_context_list *list,
			 char **err_text)
{
	struct ac_target_config config;
	target_config(target, &config);
	struct ac_error *err = ac_program_open(&config, prog);
	if (err)
		return fail(err, what, err_text);
	err = ac_aio_contexts_find(*prog, list);
	if (err) {
		ac_program_destroy(*prog);
		return fail(err, what, err_text);
	}
	return AC_EXIT_OK;
}

int aiocore_context_addresses(const struct aiocore_target *target,
			      uint64_t **ret, size_t *n, char **err_text)
{
	struct ac_program *prog;
	struct ac_context_list list;
	int code = open_contexts(target, "ctx", &prog, &list, err_text);
	if (code)
		return code;
	uint64_t *addresses = calloc(list.n ? list.n : 1, sizeof(*addresses));
	if (!addresses) {
		code = fail(&ac_error_no_memory, "ctx", err_text);
	} else {
		for (size_t i = 0; i < list.n; i++)
			addresses[i] = list.items[i].obj.address;
		*ret = addresses;
		*n = list.n;
	}
	ac_context_list_deinit(&list);
	ac_program_destroy(prog);
	return code;
}

int aiocore_bh_addresses(const struct aiocore_target *target, uint64_t ctx,
			 uint64_t **ret, size_t *n, char **err_text)
{
	struct ac_program *prog;
	struct ac_context_list list;
	int code = open_contexts(target, "bh-list", &prog, &list, err_text);
	if (code)
		return code;
	const struct ac_aio_context *c = ac_context_list_find(&list, ctx);
	struct ac_bh_list bhs = { 0 };
	struct ac_error *err;
	if (!c)
		err = ac_error_create(AC_ERR_USAGE, "0x%" PRIx64 " is not an AioContext (see aio-ctx)", ctx);
	else
		err = ac_bhs_decode(prog, c, &bhs);
	uint64_t *addresses = NULL;
	if (!err) {
		addresses = calloc(bhs.n ? bhs.n : 1, sizeof(*addresses));
		if (!addresses)
			err = &ac_error_no_memory;
	}
	if (err) {
		code = fail(err, "bh-list", err_text);
	} else {
		for (size_t i = 0; i < bhs.n; i++)
			addresses[i] = bhs.items[i].address;
		*ret = addresses;
		*n = bhs.n;
	}
	ac_bh_list_deinit(&bhs);
	ac_context_list_deinit(&list);
	ac_program_destroy(prog);
	return code;
}
