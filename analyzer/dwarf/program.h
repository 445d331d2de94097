/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A program: a target with its DWARF, as every decoder sees it.  Decoders
 * record what they could not read here ("notes"); any note makes the
 * result partial, and the renderers print them.
 */
#ifndef AIOCORE_PROGRAM_H
#define AIOCORE_PROGRAM_H

#include <stdarg.h>
#include <stddef.h>

#include "target/target.h"
#include "dwarf-lookup.h"
#include "util/util.h"

struct ac_program {
	struct ac_target *target;
	struct ac_dwarf *dwarf;
	char **notes;
	size_t n_notes;
	struct ac_backtrace **backtraces;  /* per thread index, lazily */
	bool scan_memory;   /* --scan-memory: also scan the heap for AioContexts */
};

/* Opens the target; no DWARF for the executable is fatal here. */
struct ac_error *ac_program_open(const struct ac_target_config *config,
				 struct ac_program **ret);
void ac_program_destroy(struct ac_program *prog);

/* Something unreadable that the views show and the verdict mentions. */
void ac_program_note(struct ac_program *prog, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Note an error (prefixed with what was being read) and destroy it. */
void ac_program_note_error(struct ac_program *prog, struct ac_error *err,
			   const char *what, ...)
	__attribute__((format(printf, 3, 4)));

/* Backtrace of thread i, unwound once and kept; NULL if it failed. */
const struct ac_backtrace *ac_program_backtrace(struct ac_program *prog,
						size_t thread_index);

/*
 * The symbol covering an address and the offset into it, through the
 * target's per-(module, pc) memo: BH callbacks and coroutine entries
 * repeat, and libdw walks a module's whole symbol table for each lookup.
 * A lookup error when no symbol covers it.
 */
struct ac_error *ac_program_symbol(struct ac_program *prog, uint64_t address,
				   const char **name, uint64_t *offset);
/* "name+0x10" or "0x7f..." for an address; into buf. */
const char *ac_program_symbolize(struct ac_program *prog, uint64_t address,
				 char *buf, size_t size);

#endif
