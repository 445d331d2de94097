/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A real ac_program on the test process itself, with threads and stacks
 * made by hand: the rules and decoders under test read the process's own
 * memory (process_vm_readv, so a wild pointer is an honest "cannot be
 * read") and its own DWARF, and see the threads the test describes, their
 * backtraces already "unwound" to the frames the test names.
 */
#ifndef AIOCORE_TEST_HAND_PROGRAM_H
#define AIOCORE_TEST_HAND_PROGRAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dwarf/dwarf.h"
#include "qemu/qemu.h"
#include "rules/finding.h"

#define HAND_MAX_FRAMES 16

struct hand_thread {
	pid_t tid;
	const char *name;
	/*
	 * Innermost first, up to the first NULL.  "fn" is a frame of fn in
	 * the executable, "fn@libc.so.6" one in a library, "?@libc.so.6" a
	 * nameless frame in a library.
	 */
	const char *frames[HAND_MAX_FRAMES];
};

/* Fails the current cmocka test if the program cannot be opened. */
struct ac_program *hand_program_open(const struct hand_thread *threads, size_t n);
/*
 * The same on a snapshot: a forked copy of this process, paused, whose
 * memory stays as it was at the fork.  For decoders that scan memory: in
 * this process they would also find the copies an earlier analysis left
 * in freed buffers.  The snapshot's pid is the program's process id.
 */
pid_t hand_snapshot(void);
void hand_snapshot_end(pid_t pid);
/*
 * threads[this_thread] is the thread that opens the program (or made the
 * snapshot): it gets its real thread pointer, so that its thread-locals and
 * glibc's pointer guard can be read.  The others have none, like threads of
 * a core without it.  HAND_NO_THREAD: none has one.
 */
#define HAND_NO_THREAD ((size_t)-1)
struct ac_program *hand_program_open_pid(pid_t pid, const struct hand_thread *threads,
					 size_t n, size_t this_thread);
/*
 * The same with x86_64 prstatus registers per thread (regs[i], 27 each):
 * for decoders of syscall arguments.  Without, every register is 0 (an
 * orig_rax of 0 reads as read(2)); a %rsp of 0 becomes the real stack's.
 */
struct ac_program *hand_program_open_regs(const struct hand_thread *threads, size_t n,
					  const uint64_t (*regs)[27]);
/* Both: a snapshot's threads with registers (a %rsp on a coroutine's stack). */
struct ac_program *hand_program_open_pid_regs(pid_t pid, const struct hand_thread *threads,
					      size_t n, size_t this_thread,
					      const uint64_t (*regs)[27]);
void hand_program_close(struct ac_program *prog);
/* One thread, this one, in main(): for decoders that look at no stack. */
struct ac_program *hand_program_self(void);

#endif

/* The finding's evidence line named what; fails the test if none. */
const struct ac_evidence *hand_evidence(const struct ac_finding *f, const char *what);
/* Whether some program note contains text. */
bool hand_noted(const struct ac_program *prog, const char *text);
/* Whether some line of findings->checked contains text. */
bool hand_checked(const struct ac_findings *findings, const char *text);
/* Runs rule over a on a hand program of these threads; returns findings->n. */
size_t hand_run_rule(void (*rule)(struct ac_program *, const struct ac_analysis *,
				  struct ac_findings *),
		     const struct hand_thread *threads, size_t n,
		     const struct ac_analysis *a, struct ac_findings *findings);
/* The only finding, of this pattern and confidence; fails the test if not. */
const struct ac_finding *hand_finding(const struct ac_findings *findings,
				      const char *pattern_id, enum ac_confidence confidence);

/*
 * For decoder tests linked with the reference runtime, whose structures
 * live in this process.  hand_context: an AioContext as the aio-context
 * decoder would hand it over (object only; the test fills the rest).
 * hand_poke: store value into a pointer-sized member of a private struct
 * (QEMUBH, ThreadPoolElement) found by name through the DWARF, to make
 * the hostile shapes (cycles, wild pointers) no API would build.  Returns
 * the old value.
 */
void hand_context(struct ac_program *prog, uint64_t address, struct ac_aio_context *ret);
uint64_t hand_poke(struct ac_program *prog, const char *type, const char *hint,
		   uint64_t address, const char *member, uint64_t value);
