/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * aiocore coroutines: the coroutines that can be reached (each thread's
 * current one, the main context's scheduled ones, those waiting on its
 * thread pool's requests), with entry point, state and, with --bt, the
 * backtrace of each suspended one unwound from its saved context.
 */
#include <inttypes.h>

#include "qemu/qemu.h"
#include "target/target.h"
#include "util/util.h"
#include "view.h"

static const char *state_name(const struct ac_coroutine *co)
{
	return co->running ? "running" : "suspended";
}

static void print_frame_text(FILE *out, size_t index, const struct ac_frame *f)
{
	fprintf(out, "  #%-3zu 0x%016" PRIx64 " in %s", index, f->pc,
		f->function ? f->function : "??");
	if (f->function && f->function_offset && !f->inlined)
		fprintf(out, "+0x%" PRIx64, f->function_offset);
	if (f->inlined)
		fprintf(out, " (inlined)");
	if (f->file)
		fprintf(out, " at %s:%d", f->file, f->line);
	if (f->module)
		fprintf(out, " [%s]", f->module);
	fprintf(out, " via %s\n", ac_frame_how_name(f->how));
}

static void print_text(FILE *out, const struct ac_coroutine *co)
{
	fprintf(out, "Coroutine 0x%" PRIx64, co->address);
	if (co->problem && !co->entry_name) {
		fprintf(out, "  <unreadable: %s>\n", co->problem);
		if (co->source)
			fprintf(out, "  source: %s\n", co->source);
		return;
	}
	fprintf(out, "  entry %s (arg 0x%" PRIx64 ")  %s", co->entry_name, co->entry_arg,
		state_name(co));
	if (co->current_in_tid)
		fprintf(out, " (current in thread %d)", co->current_in_tid);
	fputc('\n', out);
	if (co->source)
		fprintf(out, "  source: %s\n", co->source);
	if (co->running)
		fprintf(out, "  caller: 0x%" PRIx64 "\n", co->caller);
	if (co->ctx)
		fprintf(out, "  ctx: 0x%" PRIx64 "\n", co->ctx);
	if (co->scheduled)
		fprintf(out, "  scheduled by: %s\n", co->scheduled);
	if (co->problem)
		fprintf(out, "  <%s>\n", co->problem);
	if (co->current_in_tid && co->running)
		fprintf(out, "  (its frames are on thread %d's stack: aiocore threads)\n",
			co->current_in_tid);
	if (!co->bt)
		return;
	for (size_t i = 0; i < co->bt->n_frames; i++)
		print_frame_text(out, i, &co->bt->frames[i]);
	if (co->bt->stop_error)
		fprintf(out, "  (%s)\n", co->bt->stop_error->message);
}

static void print_frame_json(struct ac_json *j, const struct ac_frame *f)
{
	ac_json_object_begin(j);
	ac_json_key(j, "pc");
	ac_json_address(j, f->pc);
	ac_json_key(j, "function");
	ac_json_string(j, f->function);
	ac_json_key(j, "offset");
	ac_json_uint(j, f->function_offset);
	ac_json_key(j, "file");
	ac_json_string(j, f->file);
	ac_json_key(j, "line");
	if (f->file)
		ac_json_int(j, f->line);
	else
		ac_json_null(j);
	ac_json_key(j, "module");
	ac_json_string(j, f->module);
	ac_json_key(j, "inlined");
	ac_json_bool(j, f->inlined);
	ac_json_key(j, "how");
	ac_json_string(j, ac_frame_how_name(f->how));
	ac_json_object_end(j);
}

static void print_json(struct ac_json *j, struct ac_target *target,
		       const struct ac_coroutine *co, bool backtraces)
{
	ac_json_object_begin(j);
	ac_json_key(j, "address");
	ac_json_address(j, co->address);
	ac_json_key(j, "entry");
	ac_json_address(j, co->entry);
	ac_json_key(j, "entry_name");
	ac_json_string(j, co->entry_name);
	ac_json_key(j, "entry_arg");
	ac_json_address(j, co->entry_arg);
	ac_json_key(j, "state");
	ac_json_string(j, co->entry_name ? state_name(co) : NULL);
	ac_json_key(j, "caller");
	ac_json_address(j, co->caller);
	ac_json_key(j, "current_in_tid");
	if (co->current_in_tid)
		ac_json_int(j, co->current_in_tid);
	else
		ac_json_null(j);
	ac_json_key(j, "source");
	ac_json_string(j, co->source);
	ac_json_key(j, "ctx");
	if (co->ctx)
		ac_json_address(j, co->ctx);
	else
		ac_json_null(j);
	ac_json_key(j, "scheduled");
	ac_json_string(j, co->scheduled);
	ac_json_key(j, "saved_context");
	if (co->has_context) {
		enum ac_arch arch = ac_target_arch(target);
		ac_json_object_begin(j);
		ac_json_key(j, "sp");
		ac_json_address(j, ac_registers_sp(arch, &co->saved_regs));
		ac_json_key(j, "pc");
		ac_json_address(j, ac_registers_pc(arch, &co->saved_regs));
		ac_json_key(j, "fp");
		ac_json_address(j, ac_registers_fp(arch, &co->saved_regs));
		ac_json_object_end(j);
	} else {
		ac_json_null(j);
	}
	ac_json_key(j, "problem");
	ac_json_string(j, co->problem);
	if (backtraces) {
		ac_json_key(j, "backtrace");
		if (co->bt) {
			ac_json_array_begin(j);
			for (size_t i = 0; i < co->bt->n_frames; i++)
				print_frame_json(j, &co->bt->frames[i]);
			ac_json_array_end(j);
		} else {
			ac_json_null(j);
		}
		ac_json_key(j, "unwind_stopped");
		ac_json_string(j, co->bt && co->bt->stop_error ?
			       co->bt->stop_error->message : NULL);
	}
	ac_json_object_end(j);
}

struct ac_error *ac_view_coroutines(struct ac_program *prog,
				    const struct ac_view_options *opts, FILE *out,
				    enum ac_view_result *result)
{
	*result = AC_VIEW_OK;
	struct ac_coroutine_seed *seeds = NULL;
	size_t n_seeds = 0;
	struct ac_error *err = ac_coroutine_seeds_collect(prog, &seeds, &n_seeds);
	if (err) {
		/* Threads' current coroutines can still be shown. */
		ac_program_note_error(prog, err, "coroutine seeds");
		seeds = NULL;
		n_seeds = 0;
	}
	struct ac_coroutine_list list;
	err = ac_coroutines_decode(prog, seeds, n_seeds, opts->backtraces, &list);
	ac_coroutine_seeds_free(seeds, n_seeds);
	if (err)
		return err;

	/* Coroutines do not belong to one AioContext until 2.9 (Coroutine.ctx). */
	if (opts->json) {
		struct ac_json j;
		ac_view_json_begin(&j, out, "aiocore-coroutines/1", "coroutines");
		for (size_t i = 0; i < list.n; i++) {
			if (opts->has_ctx && list.items[i].ctx != opts->ctx)
				continue;
			print_json(&j, prog->target, &list.items[i], opts->backtraces);
		}
		ac_view_json_end(prog, &j);
	} else {
		size_t shown = 0;
		for (size_t i = 0; i < list.n; i++) {
			if (opts->has_ctx && list.items[i].ctx != opts->ctx)
				continue;
			if (shown++)
				fputc('\n', out);
			print_text(out, &list.items[i]);
		}
		if (!shown)
			fprintf(out, "no coroutine found (none scheduled, waiting on a "
				"thread-pool request, or current in a thread)\n");
	}
	ac_coroutine_list_deinit(&list);
	return NULL;
}
