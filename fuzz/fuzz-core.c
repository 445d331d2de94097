/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: a mutated core through everything that reads a core.
 * The program is opened as `aiocore diagnose --exe EXE CORE` opens it
 * (DWARF of the executable only), every thread is unwound as `aiocore
 * threads` does, then one view of the table runs, in text (with --bt) or
 * in JSON.  Output goes to /dev/null;
 * only crashes, leaks and undefined behaviour count.
 *
 *   AIOCORE_FUZZ_EXE=build/runtime/aiocore-runtime-g5 fuzz-core CORPUS SEEDS
 *
 * The executable comes from the environment because a mutated core's file
 * notes name nothing useful; without it the notes are used as they are.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "target/backtrace.h"
#include "dwarf/program.h"
#include "views/view.h"

#include "fuzz-input.h"
#include "fuzz-view.h"

static const char *exe_path;
static FILE *devnull;
static size_t n_modes;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	exe_path = getenv("AIOCORE_FUZZ_EXE");
	/* A mutated build-id must never turn into a network request. */
	unsetenv("DEBUGINFOD_URLS");
	n_modes = fuzz_view_modes();
	devnull = fopen("/dev/null", "w");
	if (!devnull) {
		perror("/dev/null");
		abort();
	}
	return 0;
}

static void unwind_threads(struct ac_program *prog)
{
	struct ac_target *target = prog->target;
	for (size_t i = 0; i < ac_target_thread_count(target); i++) {
		const struct ac_thread *t = ac_target_thread(target, i);
		struct ac_backtrace *bt;
		struct ac_error *err = ac_backtrace_thread(target, t->tid, &bt);
		if (err) {
			ac_error_destroy(err);
			continue;
		}
		for (size_t f = 0; f < bt->n_frames; f++) {
			const struct ac_frame *frame = &bt->frames[f];
			fprintf(devnull, "%zu %s %s:%d %s %s\n", f,
				frame->function ? frame->function : "??",
				frame->file ? frame->file : "?", frame->line,
				frame->module ? frame->module : "?",
				ac_frame_how_name(frame->how));
		}
		if (bt->stop_error)
			fprintf(devnull, "stop: %s\n", bt->stop_error->message);
		ac_backtrace_destroy(bt);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_input_write(data, size);
	if (!path)
		return 0;
	struct ac_target_config config = {
		.core_path = path,
		.exe_path = exe_path,
		/* libc's compressed DWARF, inflated per input, was a third of
		 * the time; QEMU's structures are all in the executable. */
		.main_debuginfo_only = true,
	};
	struct ac_program *prog;
	struct ac_error *err = ac_program_open(&config, &prog);
	if (err) {
		ac_error_destroy(err);
		return 0;
	}
	for (size_t i = 0; i < ac_target_warning_count(prog->target); i++)
		fprintf(devnull, "%s\n", ac_target_warning(prog->target, i));
	unwind_threads(prog);
	/*
	 * One view per input, picked by the input's size: each view decodes
	 * the whole analysis again, and mutations change sizes often enough
	 * that every view gets its share.  The same input always runs the
	 * same view, so a finding replays.
	 */
	fuzz_view_run(prog, size % n_modes, devnull);
	ac_program_destroy(prog);
	return 0;
}
