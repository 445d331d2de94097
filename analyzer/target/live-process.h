/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A live process, read-only: registers are read with the threads stopped
 * under ptrace only for as long as that takes, memory through /proc/PID/mem.
 * Nothing is ever written, and no function is called in the process.
 */
#ifndef AIOCORE_LIVE_PROCESS_H
#define AIOCORE_LIVE_PROCESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/util.h"
#include "target-types.h"

struct ac_live {
	pid_t pid;
	int mem_fd;
	enum ac_arch arch;
	struct ac_thread *threads;
	size_t n_threads;
	double stopped_seconds;
	const struct ac_target_callbacks *callbacks;  /* NULL: our own ptrace */
	struct ac_region *regions;   /* readable mappings, from /proc/PID/maps */
	size_t n_regions;
};

struct ac_error *ac_live_open(pid_t pid, struct ac_live **ret);
/* Registers and memory from a tracer that already holds the process. */
struct ac_error *ac_live_open_callbacks(pid_t pid,
					const struct ac_target_callbacks *callbacks,
					struct ac_live **ret);
void ac_live_destroy(struct ac_live *live);
struct ac_error *ac_live_read(struct ac_live *live, uint64_t address, void *buf,
			      size_t size);

#endif
