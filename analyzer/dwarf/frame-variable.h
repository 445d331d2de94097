/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Parameters and locals of a frame, by name, from their DWARF location
 * expressions and the registers libdwfl recovered for that frame.  This is
 * how the analyzer learns which QemuEvent a thread waits on
 * (qemu_event_wait's `ev`), which AioContext it polls (aio_poll's `ctx`) or
 * which IOThread it runs (iothread_run's `opaque`).
 *
 * Frame indexes are those of struct ac_backtrace: inlined entries count.
 * A value the frame cannot know (a caller-saved register in a caller, a
 * variable the compiler dropped, an entry value no call site describes) is
 * an AC_ERR_LOOKUP error whose message says why; never a guess.
 */
#ifndef AIOCORE_FRAME_VARIABLE_H
#define AIOCORE_FRAME_VARIABLE_H

#include <stddef.h>
#include <stdint.h>

#include "target/target.h"
#include "util/util.h"
#include "program.h"

/*
 * Value of the scalar or pointer variable `name` visible at frame
 * frame_index of thread thread_index (zero-extended to 64 bits).
 * AC_ERR_LOOKUP when it does not exist there or is optimized out (the
 * message says which); AC_ERR_USAGE for an aggregate or a bad index.
 */
struct ac_error *ac_frame_variable_uint(struct ac_program *prog,
					size_t thread_index, size_t frame_index,
					const char *name, uint64_t *ret);

/* The same on any backtrace of prog's target (e.g. a coroutine's). */
struct ac_error *ac_frame_variable_uint_bt(struct ac_program *prog,
					   const struct ac_backtrace *bt,
					   size_t frame_index, const char *name,
					   uint64_t *ret);

#endif
