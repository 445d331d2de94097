/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target, the cheap one: only the ELF core layer (core-file.c):
 * headers, segments, notes (threads, NT_FILE, auxv, prpsinfo), then reads
 * at the addresses the notes point to and at the edges of every segment.
 * No DWARF and no libdwfl, so it runs thousands of inputs a second.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "target/core-file.h"

#include "fuzz-input.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	devnull = fopen("/dev/null", "w");
	if (!devnull) {
		perror("/dev/null");
		abort();
	}
	return 0;
}

/* Bounded: a hostile header may claim thousands of segments. */
enum { MAX_READS = 4096, READ_SIZE = 64 };

static void read_at(struct ac_core *core, uint64_t address, size_t *budget)
{
	if (*budget == 0)
		return;
	(*budget)--;
	uint8_t buf[READ_SIZE];
	struct ac_error *err = ac_core_read(core, address, buf, sizeof(buf));
	if (err)
		ac_error_destroy(err);
	/* Also the single-segment lookup the target uses for regions. */
	(void)ac_core_segment_at(core, address);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_input_write(data, size);
	if (!path)
		return 0;
	struct ac_core *core;
	struct ac_error *err = ac_core_open(path, "fuzz.core", &core);
	if (err) {
		ac_error_destroy(err);
		return 0;
	}
	size_t budget = MAX_READS;
	for (size_t i = 0; i < core->n_segments; i++) {
		const struct ac_core_segment *seg = &core->segments[i];
		read_at(core, seg->vaddr, &budget);
		read_at(core, seg->vaddr + seg->memsz - READ_SIZE / 2, &budget);
		read_at(core, seg->vaddr + seg->present - READ_SIZE / 2, &budget);
	}
	for (size_t i = 0; i < core->n_threads; i++) {
		const struct ac_thread *t = &core->threads[i];
		for (unsigned r = 0; r < t->n_gregs && r < AC_MAX_GREGS; r++)
			read_at(core, t->gregs[r], &budget);
		read_at(core, t->tls_base, &budget);
	}
	for (size_t i = 0; i < core->n_files; i++) {
		const struct ac_core_file_entry *f = &core->files[i];
		/* The path points into the note data: it must be a C string. */
		fprintf(devnull, "%s\n", f->path);
		read_at(core, f->start, &budget);
		read_at(core, f->end - 1, &budget);
	}
	read_at(core, core->entry, &budget);
	read_at(core, core->execfn, &budget);
	ac_core_destroy(core);
	return 0;
}
