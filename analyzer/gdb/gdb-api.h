/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libaiocore-gdb.so: the flat C ABI that gdb's Python (gdb-scripts/aiocore)
 * loads with ctypes.  The gdb commands print what aiocore_run() returns,
 * which is what `aiocore VIEW` prints, byte for byte: the same C code
 * renders both.  Only the aiocore_* symbols are exported.
 *
 * On a core, gdb passes the core's path and the library reads it itself.
 * On a live process that gdb holds under ptrace, gdb passes the pid and
 * callbacks that read memory and registers through gdb; nothing is written
 * and nothing is resumed.
 */
#ifndef AIOCORE_GDB_API_H
#define AIOCORE_GDB_API_H

#include <stddef.h>
#include <stdint.h>

#include "target/target.h"

/* Bumped when a struct or signature below changes; the script checks it. */
#define AIOCORE_GDB_ABI 1

struct aiocore_target {
	const char *core_path;       /* a core; or NULL and pid + callbacks */
	const char *exe_path;        /* NULL: found from the core */
	const char *sysroot;         /* NULL: none */
	const char *debug_dir;       /* NULL: the default */
	int pid;
	const struct ac_target_callbacks *callbacks;
};

int aiocore_abi_version(void);
/* sizeof(struct ac_thread) and AC_MAX_GREGS, to check the ctypes layout. */
size_t aiocore_abi_thread_size(void);
int aiocore_abi_max_gregs(void);

/*
 * `aiocore VIEW ARGV... TARGET`: argv holds the view options only
 * (--json, --ctx ADDR, --bt, -h).  Returns the stdout text (malloc'd, never
 * NULL unless out of memory); *err_text gets the stderr text ("aiocore
 * VIEW: ...", malloc'd, possibly empty) and *exit_code the CLI's exit code.
 */
char *aiocore_run(const char *view, int argc, const char *const *argv,
		  const struct aiocore_target *target, char **err_text,
		  int *exit_code);
void aiocore_free(void *p);

/* The view table, for gdb's commands, help and completion. */
int aiocore_view_count(void);
const char *aiocore_view_name(int index);
const char *aiocore_view_summary(int index);
const char *aiocore_view_help(int index);
/* The view options' lines of `aiocore VIEW --help`. */
const char *aiocore_view_options_help(void);

/*
 * For gdb's convenience functions: the AioContexts in the order the ctx
 * view lists them, and the BHs of one of them in bh-list's order.
 * *ret is a malloc'd array of *n addresses.  Returns 0, or the CLI's exit
 * code with the message in *err_text.
 */
int aiocore_context_addresses(const struct aiocore_target *target,
			      uint64_t **ret, size_t *n, char **err_text);
int aiocore_bh_addresses(const struct aiocore_target *target, uint64_t ctx,
			 uint64_t **ret, size_t *n, char **err_text);

#endif
