/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Backtraces through libdwfl, with inline frames expanded and, for every
 * frame, how it was found.
 */
#ifndef AIOCORE_BACKTRACE_H
#define AIOCORE_BACKTRACE_H

#include "target-types.h"

enum ac_frame_how {
	AC_FRAME_REGISTERS,  /* frame 0: straight from the thread's registers */
	AC_FRAME_CFI,        /* caller found through .eh_frame/.debug_frame */
	AC_FRAME_FALLBACK,   /* no CFI for the callee: the arch's frame-pointer
				fallback unwinder found it */
};

#define AC_FRAME_MAX_REGS 33

struct ac_frame {
	uint64_t pc;            /* return address or, for frame 0, the pc */
	enum ac_frame_how how;  /* of the physical frame this entry belongs to */
	bool inlined;           /* inlined into the next entry (same pc) */
	char *function;         /* NULL when no symbol covers the pc */
	uint64_t function_offset;
	char *file;             /* NULL when there is no line information */
	int line;
	char *module;           /* module basename, NULL if none */
	/*
	 * Registers libdwfl knows in this physical frame, by DWARF number
	 * (x86_64 0-16, aarch64 0-32); bit n of regs_valid: regs[n] is known.
	 * In callers, callee-saved registers are known, caller-saved ones
	 * usually not.  For frame-variable.c.
	 */
	uint64_t regs[AC_FRAME_MAX_REGS];
	uint64_t regs_valid;
};

struct ac_backtrace {
	pid_t tid;
	size_t n_frames;
	struct ac_frame *frames;
	/* Why unwinding stopped before the outermost frame, or NULL. */
	struct ac_error *stop_error;
};

/* Frames of one thread of the target. */
struct ac_error *ac_backtrace_thread(struct ac_target *target, pid_t tid,
				     struct ac_backtrace **ret);
/*
 * Frames starting from a register set that is not a real thread (a
 * suspended coroutine's saved context).  regs->tid is ignored; n_gregs must
 * be the architecture's count (27 on x86_64, 34 on aarch64).
 */
struct ac_error *ac_backtrace_registers(struct ac_target *target,
					const struct ac_thread *regs,
					struct ac_backtrace **ret);
void ac_backtrace_destroy(struct ac_backtrace *bt);
/*
 * A libc symbol without its decorations, into buf: "__GI___lll_lock_wait"
 * -> "lll_lock_wait", "__poll@GLIBC_2.2.5" -> "poll".  With or without
 * libc's debuginfo the same function then has the same name.
 */
const char *ac_symbol_base_name(const char *name, char *buf, size_t size);

/*
 * Keep the first n_frames frames, as the whole backtrace: what lies below
 * them is known to be stale (a signal frame long returned), not an error.
 */
void ac_backtrace_truncate(struct ac_backtrace *bt, size_t n_frames);

/* Index of the first frame (inlined entries included) running function, or -1. */
long ac_backtrace_find_function(const struct ac_backtrace *bt, const char *function);
const char *ac_frame_how_name(enum ac_frame_how how);

#endif
