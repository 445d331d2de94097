/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: one fixed core, opened once, with mutated memory.
 *
 *   AIOCORE_FUZZ_CORE=convert-10.0.core [AIOCORE_FUZZ_EXE=qemu-img] \
 *       fuzz-decoders CORPUS
 *
 * Opening a program (libdwfl, DWARF index) costs far more than decoding
 * it, so this target opens the core once and mutates only what the
 * decoders read.  At start it runs every view once and records the core
 * bytes they read: the "read set", a sorted list of address ranges.  An
 * input is laid over the read set (byte i + 1 of the input replaces byte i
 * of the ranges, concatenated); reads outside it, or past the input's end,
 * see the core.  So the mutations land on exactly the pointers, counts,
 * states and strings the decoders follow, and a mutated pointer leads the
 * walks to memory the seed never reached.
 *
 * Byte 0 of an input picks the view of ac_view_at() and text (with --bt)
 * or JSON: each view rebuilds the whole analysis, so one of the 14 modes
 * per input is many times the rate of all of them (fuzz-view.h).  Output goes to
 * /dev/null; only crashes, leaks, undefined behaviour and timeouts count.
 *
 * AIOCORE_FUZZ_SEED_OUT=DIR writes one seed per view and mode (that byte,
 * then the unmutated read set) into DIR and exits; fuzz/run.sh starts
 * every corpus with them.  Threads are unwound once at start (ac_program keeps
 * them); coroutine backtraces unwind per input from mutated contexts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"
#include "dwarf/program.h"
#include "views/view.h"

#include "fuzz-view.h"

struct range {
	uint64_t start, end;      /* [start, end) in the target */
	size_t input_offset;      /* where its bytes start in an input */
};

static struct ac_program *prog;
static FILE *devnull;
static struct range *ranges;
static size_t n_ranges, read_set_size;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
	fprintf(stderr, "fuzz-decoders: %s\n", what);
	exit(2);
}

/* Recording: every read while the views run once, unmerged. */
static struct range *reads;
static size_t n_reads;

static void record_read(void *arg, uint64_t address, void *buf, size_t size)
{
	(void)arg;
	(void)buf;
	struct range *slot = ac_array_slot(reads, n_reads);
	if (!slot)
		die("out of memory recording reads");
	slot->start = address;
	slot->end = address + size;
	n_reads++;
}

static int by_start(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* The recorded reads, sorted and merged into the read set. */
static void merge_reads(void)
{
	qsort(reads, n_reads, sizeof(*reads), by_start);
	ranges = calloc(n_reads ? n_reads : 1, sizeof(*ranges));
	if (!ranges)
		die("out of memory merging reads");
	for (size_t i = 0; i < n_reads; i++) {
		struct range *last = n_ranges ? &ranges[n_ranges - 1] : NULL;
		if (last && reads[i].start <= last->end) {
			if (reads[i].end > last->end)
				last->end = reads[i].end;
			continue;
		}
		ranges[n_ranges++] = reads[i];
	}
	for (size_t i = 0; i < n_ranges; i++) {
		ranges[i].input_offset = read_set_size;
		read_set_size += ranges[i].end - ranges[i].start;
	}
	free(reads);
}

/* The input being run, laid over the read set. */
static const uint8_t *input;
static size_t input_size;

static void overlay_input(void *arg, uint64_t address, void *buf, size_t size)
{
	(void)arg;
	uint64_t end = address + size;
	/* The first range that ends after address. */
	size_t lo = 0, hi = n_ranges;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ranges[mid].end <= address)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < n_ranges && ranges[i].start < end; i++) {
		uint64_t from = ranges[i].start > address ? ranges[i].start : address;
		uint64_t to = ranges[i].end < end ? ranges[i].end : end;
		size_t in = ranges[i].input_offset + (size_t)(from - ranges[i].start);
		if (in >= input_size)
			return;
		size_t n = (size_t)(to - from);
		if (n > input_size - in)
			n = input_size - in;
		memcpy((uint8_t *)buf + (from - address), input + in, n);
	}
}

static size_t n_modes;

static void run_view(size_t mode)
{
	fuzz_view_run(prog, mode, devnull);
	/* Notes are per program; an input's notes must not pile up. */
	ac_strings_free(&prog->notes, &prog->n_notes);
}

/* One seed per view and mode: byte 0, then the unmutated read set. */
static void write_seed(const char *path, size_t seed_view)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		die("cannot write the seed");
	uint8_t *buf = malloc(read_set_size + 1);
	if (!buf)
		die("out of memory writing the seed");
	buf[0] = (uint8_t)seed_view;
	for (size_t i = 0; i < n_ranges; i++) {
		struct ac_error *err = ac_target_read(prog->target, ranges[i].start,
						      buf + 1 + ranges[i].input_offset,
						      ranges[i].end - ranges[i].start);
		if (err)
			die("a read of the read set failed the second time");
	}
	if (fwrite(buf, 1, read_set_size + 1, f) != read_set_size + 1 ||
	    fclose(f) != 0)
		die("cannot write the seed");
	free(buf);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* A build-id must never turn into a network request. */
	unsetenv("DEBUGINFOD_URLS");
	const char *core = getenv("AIOCORE_FUZZ_CORE");
	if (!core)
		die("set AIOCORE_FUZZ_CORE to the core to mutate");
	devnull = fopen("/dev/null", "w");
	if (!devnull)
		die("cannot open /dev/null");
	struct ac_target_config config = {
		.core_path = core,
		.exe_path = getenv("AIOCORE_FUZZ_EXE"),
	};
	struct ac_error *err = ac_program_open(&config, &prog);
	if (err) {
		fprintf(stderr, "fuzz-decoders: %s\n", err->message);
		exit(2);
	}
	for (size_t i = 0; i < ac_target_thread_count(prog->target); i++)
		ac_program_backtrace(prog, i);
	n_modes = fuzz_view_modes();
	ac_target_set_read_hook(prog->target, record_read, NULL);
	for (size_t i = 0; i < n_modes; i++)
		run_view(i);
	ac_target_set_read_hook(prog->target, NULL, NULL);
	merge_reads();
	fprintf(stderr, "fuzz-decoders: %s: read set of %zu bytes in %zu ranges\n",
		core, read_set_size, n_ranges);
	const char *seeds = getenv("AIOCORE_FUZZ_SEED_OUT");
	if (seeds) {
		for (size_t i = 0; i < n_modes; i++) {
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s-%s.seed", seeds,
				 ac_view_at(i / 2)->name, i % 2 ? "json" : "text");
			write_seed(path, i);
		}
		exit(0);
	}
	ac_target_set_read_hook(prog->target, overlay_input, NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	/* Byte 0 picks one view and text or JSON: each input decodes once. */
	size_t which = data[0] % n_modes;
	input = data + 1;
	input_size = size - 1;
	run_view(which);
	input = NULL;
	input_size = 0;
	return 0;
}
