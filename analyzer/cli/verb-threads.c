/* SPDX-License-Identifier: GPL-2.0-or-later */
/* aiocore threads: every thread and its backtrace. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "target/target.h"
#include "cli.h"
#include "util/util.h"

static const char threads_help[] =
	"Usage: aiocore threads [OPTIONS] CORE\n"
	"       aiocore threads [OPTIONS] --pid PID\n"
	"\n"
	"Print every thread with its backtrace: inline frames expanded, each\n"
	"frame with function, source position, module, and how it was found\n"
	"(registers, cfi, or the frame-pointer fallback).\n"
	"\nOptions:\n" AC_CLI_TARGET_HELP
	"  -h, --help        this text\n";

static void print_frame_text(size_t index, const struct ac_frame *f)
{
	printf("  #%-3zu 0x%016" PRIx64 " in %s", index, f->pc,
	       f->function ? f->function : "??");
	if (f->function && f->function_offset && !f->inlined)
		printf("+0x%" PRIx64, f->function_offset);
	if (f->inlined)
		printf(" (inlined)");
	if (f->file)
		printf(" at %s:%d", f->file, f->line);
	if (f->module)
		printf(" [%s]", f->module);
	printf(" via %s\n", ac_frame_how_name(f->how));
}

static void print_frame_json(struct ac_json *json, const struct ac_frame *f)
{
	ac_json_object_begin(json);
	ac_json_key(json, "pc");
	ac_json_address(json, f->pc);
	ac_json_key(json, "function");
	ac_json_string(json, f->function);
	ac_json_key(json, "offset");
	ac_json_uint(json, f->function_offset);
	ac_json_key(json, "inlined");
	ac_json_bool(json, f->inlined);
	ac_json_key(json, "file");
	ac_json_string(json, f->file);
	ac_json_key(json, "line");
	if (f->file)
		ac_json_int(json, f->line);
	else
		ac_json_null(json);
	ac_json_key(json, "module");
	ac_json_string(json, f->module);
	ac_json_key(json, "how");
	ac_json_string(json, ac_frame_how_name(f->how));
	ac_json_object_end(json);
}

static void print_header_text(struct ac_target *target)
{
	printf("%s: %s, %zu thread%s", ac_target_name(target),
	       ac_target_arch_name(target), ac_target_thread_count(target),
	       ac_target_thread_count(target) == 1 ? "" : "s");
	if (ac_target_stopped_seconds(target) > 0)
		printf(", stopped for %.3f ms to read registers",
		       ac_target_stopped_seconds(target) * 1e3);
	printf("\n");
}

int ac_verb_threads(int argc, char **argv)
{
	static const struct option long_options[] = {
		AC_CLI_TARGET_LONG_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ac_target_options opts = { 0 };
	int exit_code = AC_EXIT_OK, opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		if (ac_cli_target_option(&opts, opt, optarg, &exit_code))
			continue;
		if (opt == 'h') {
			fputs(threads_help, stdout);
			return AC_EXIT_OK;
		}
		fputs(threads_help, stderr);
		return AC_EXIT_USAGE;
	}
	if (exit_code)
		return exit_code;
	struct ac_target *target;
	exit_code = ac_cli_open_target(&opts, "threads", argc, argv, &target);
	if (exit_code)
		return exit_code;

	struct ac_json json;
	if (opts.json) {
		ac_json_init(&json, stdout, true);
		ac_json_object_begin(&json);
		ac_json_field_string(&json, "schema", "aiocore-threads/1");
		ac_json_key(&json, "target");
		ac_json_string(&json, ac_target_name(target));
		ac_json_key(&json, "arch");
		ac_json_string(&json, ac_target_arch_name(target));
		if (ac_target_stopped_seconds(target) > 0) {
			ac_json_key(&json, "stopped_seconds");
			ac_json_double(&json, ac_target_stopped_seconds(target));
		}
		ac_json_key(&json, "threads");
		ac_json_array_begin(&json);
	} else {
		print_header_text(target);
	}

	bool partial = false;
	for (size_t i = 0; i < ac_target_thread_count(target); i++) {
		const struct ac_thread *t = ac_target_thread(target, i);
		struct ac_backtrace *bt;
		struct ac_error *err = ac_backtrace_thread(target, t->tid, &bt);
		if (err) {
			partial = true;
			fprintf(stderr, "aiocore threads: thread %d: %s\n", t->tid,
				err->message);
			ac_error_destroy(err);
			continue;
		}
		if (bt->stop_error && bt->stop_error->code != AC_ERR_ELFUTILS)
			partial = true;
		if (opts.json) {
			ac_json_object_begin(&json);
			ac_json_key(&json, "tid");
			ac_json_int(&json, t->tid);
			ac_json_key(&json, "name");
			ac_json_string(&json, t->name[0] ? t->name : NULL);
			ac_json_key(&json, "frames");
			ac_json_array_begin(&json);
			for (size_t f = 0; f < bt->n_frames; f++)
				print_frame_json(&json, &bt->frames[f]);
			ac_json_array_end(&json);
			ac_json_key(&json, "unwind_stopped");
			ac_json_string(&json, bt->stop_error ? bt->stop_error->message : NULL);
			ac_json_object_end(&json);
		} else {
			printf("\nThread %d", t->tid);
			if (t->name[0])
				printf(" \"%s\"", t->name);
			printf(":\n");
			for (size_t f = 0; f < bt->n_frames; f++)
				print_frame_text(f, &bt->frames[f]);
			if (bt->stop_error)
				printf("  (%s)\n", bt->stop_error->message);
		}
		ac_backtrace_destroy(bt);
	}

	const struct ac_error *dbg = ac_target_debuginfo_error(target);
	if (opts.json) {
		ac_json_array_end(&json);
		ac_json_key(&json, "warnings");
		ac_json_array_begin(&json);
		for (size_t i = 0; i < ac_target_warning_count(target); i++)
			ac_json_string(&json, ac_target_warning(target, i));
		if (dbg)
			ac_json_string(&json, dbg->message);
		ac_json_array_end(&json);
		ac_json_object_end(&json);
		ac_json_finish(&json);
	}
	exit_code = ac_cli_report_warnings("threads", target);
	if (dbg) {
		fprintf(stderr, "aiocore threads: warning: %s\n", dbg->message);
		exit_code = AC_EXIT_PARTIAL;
	}
	if (partial)
		exit_code = AC_EXIT_PARTIAL;
	ac_target_destroy(target);
	return exit_code;
}
