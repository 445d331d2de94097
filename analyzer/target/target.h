/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A target is one process image: a core file or a live process.  It owns
 * the Dwfl session (modules and their debuginfo), reads memory with
 * distinct errors for "not mapped" and "not in the core", and lists the
 * threads with their registers.  It never writes to what it reads.
 */
#ifndef AIOCORE_TARGET_H
#define AIOCORE_TARGET_H

#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/util.h"
#include "target-types.h"
#include "backtrace.h"
#include "jmpbuf.h"
#include "syscall.h"
#include "symbol-names.h"
#include "inline-scope.h"



struct ac_error *ac_target_open(const struct ac_target_config *config,
				struct ac_target **ret);
void ac_target_destroy(struct ac_target *target);

/* Where the image came from, for messages: the core's path or "pid N". */
const char *ac_target_name(const struct ac_target *target);
/*
 * The module's symbols by name, read with its sorted table (one pass over
 * the symbols for both); NULL without memory.  Lives as long as the target.
 */
const struct ac_symbol_names *ac_target_symbol_names(struct ac_target *target,
						     Dwfl_Module *mod);
/*
 * The innermost inlined subroutine at pc (relative to the CU's module) as
 * dwarf_getscopes() finds it, from per-CU tables kept by the target:
 * 1 found, 0 none, -1 ask dwarf_getscopes().
 */
int ac_target_innermost_inline(struct ac_target *target, Dwarf_Die *cudie, Dwarf_Addr pc,
				Dwarf_Die *ret);
/*
 * dwfl_module_addrinfo()'s answer, from the module's symbols sorted once
 * (libdw walks the whole symbol table for each address), and remembered
 * per (module, pc): threads' stacks and BH lists repeat the same pcs.
 */
const char *ac_target_addrinfo(struct ac_target *target, Dwfl_Module *mod, uint64_t pc,
			       GElf_Off *offset, GElf_Sym *sym);
/*
 * The module whose loaded segments hold address, or NULL.  Unlike
 * dwfl_addrmodule() this covers a segment's zero-filled tail (.bss past the
 * last file page), which a live process maps anonymously and so outside
 * the module's range in /proc/PID/maps.
 */
Dwfl_Module *ac_target_module_at(struct ac_target *target, uint64_t address);

/* The process id (its main thread's tid); 0 when the core does not say. */
pid_t ac_target_process_id(const struct ac_target *target);
enum ac_arch ac_target_arch(const struct ac_target *target);
const char *ac_target_arch_name(const struct ac_target *target);
unsigned ac_target_pointer_size(const struct ac_target *target);
bool ac_target_is_little_endian(const struct ac_target *target);

Dwfl *ac_target_dwfl(struct ac_target *target);
/* The main executable's module; NULL when it could not be found. */
Dwfl_Module *ac_target_main_module(struct ac_target *target);

/*
 * Memory.  Every read is checked: AC_ERR_UNMAPPED when no mapping covers the
 * range, AC_ERR_NOT_IN_CORE when a mapping does but its bytes were filtered
 * out or truncated away.  The error carries the first bad address.
 */
struct ac_error *ac_target_read(struct ac_target *target, uint64_t address,
				void *buf, size_t size);
struct ac_error *ac_target_read_u8(struct ac_target *target, uint64_t address,
				   uint8_t *ret);
struct ac_error *ac_target_read_u16(struct ac_target *target, uint64_t address,
				    uint16_t *ret);
struct ac_error *ac_target_read_u32(struct ac_target *target, uint64_t address,
				    uint32_t *ret);
struct ac_error *ac_target_read_u64(struct ac_target *target, uint64_t address,
				    uint64_t *ret);
/* An unsigned integer of size 1, 2, 4 or 8 in the target's byte order. */
struct ac_error *ac_target_read_uint(struct ac_target *target, uint64_t address,
				     size_t size, uint64_t *ret);
struct ac_error *ac_target_read_pointer(struct ac_target *target,
					uint64_t address, uint64_t *ret);
/* A NUL-terminated string of at most max_len bytes; *ret is malloc'd. */
struct ac_error *ac_target_read_string(struct ac_target *target,
				       uint64_t address, size_t max_len,
				       char **ret);

/*
 * For the decoder fuzzer only: after every successful read from a core,
 * hook may change the bytes in buf (mutated memory without rewriting the
 * core).  NULL turns it off.  Live processes are never hooked.
 */
typedef void ac_target_read_hook(void *arg, uint64_t address, void *buf,
				 size_t size);
void ac_target_set_read_hook(struct ac_target *target,
			     ac_target_read_hook *hook, void *arg);

/* Memory regions whose bytes can be read (for scans).  Index order. */
size_t ac_target_region_count(const struct ac_target *target);
bool ac_target_region(const struct ac_target *target, size_t index,
		      struct ac_region *ret);

/* Threads, in the order the target lists them (the core's notes). */
size_t ac_target_thread_count(const struct ac_target *target);
const struct ac_thread *ac_target_thread(const struct ac_target *target,
					 size_t index);
const struct ac_thread *ac_target_thread_by_tid(const struct ac_target *target,
						pid_t tid);

/*
 * Problems found that do not stop the analysis (truncated segments, a
 * library without debuginfo).  They make the result partial: exit code 1.
 */
size_t ac_target_warning_count(const struct ac_target *target);
const char *ac_target_warning(const struct ac_target *target, size_t index);
void ac_target_warn(struct ac_target *target, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Why the main executable has no DWARF (names its build-id and how to get
 * it), or NULL.  Views that decode structures treat it as fatal; `threads`
 * only warns.
 */
const struct ac_error *ac_target_debuginfo_error(const struct ac_target *target);

/*
 * When the image was taken, in seconds since the epoch: a core file's
 * modification time (gcore writes it as it dumps; a copy may not keep
 * it), or the time a live process was read.  0 when unknown.
 */
double ac_target_capture_time(const struct ac_target *target);
/* Both images are the same file (device and inode) or the same pid. */
bool ac_target_same_source(const struct ac_target *a, const struct ac_target *b);
/* The main executable's build-id in hex into buf; "" when unknown. */
void ac_target_main_build_id(struct ac_target *target, char *buf, size_t size);

/*
 * CPU time thread index used so far (NT_PRSTATUS pr_utime + pr_stime):
 * false when unknown (live targets; gdb's gcore leaves it 0, which reads
 * as 0, and kernel cores fill it).
 */
bool ac_target_thread_cpu_seconds(const struct ac_target *target, size_t index,
				  double *ret);

/* Live targets: how long the threads were stopped to read registers. */
double ac_target_stopped_seconds(const struct ac_target *target);

/* For backtrace.c: serve regs as a thread for one unwind; returns its tid. */
pid_t ac_target_set_pseudo_thread(struct ac_target *target,
				  const struct ac_thread *regs);

#endif
