/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The types every part of the target layer shares: a thread's registers,
 * how a target is opened, its architecture and memory regions.  The
 * backends (core-file, live-process, module-finder, link-map) include
 * this, not target.h, which sits above them.
 */
#ifndef AIOCORE_TARGET_TYPES_H
#define AIOCORE_TARGET_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ac_target;

/* Registers of a thread, as the kernel stores them (prstatus pr_reg). */
#define AC_MAX_GREGS 34
struct ac_thread {
	pid_t tid;
	char name[32];          /* "" when the target does not say */
	uint64_t gregs[AC_MAX_GREGS];
	unsigned n_gregs;
	uint64_t tls_base;      /* x86_64 fs_base, aarch64 tpidr_el0; 0 if unknown */
};

/*
 * A live process that another tracer (gdb) already holds: it supplies the
 * threads' registers and the memory; modules still come from /proc/PID.
 */
struct ac_target_callbacks {
	/* 0, or -1 when the bytes cannot be read. */
	int (*read_memory)(void *arg, uint64_t address, void *buf, size_t size);
	size_t (*thread_count)(void *arg);
	/* Fill tid, name, gregs (prstatus order), n_gregs, tls_base; 0 or -1. */
	int (*thread)(void *arg, size_t index, struct ac_thread *ret);
	void *arg;
};

struct ac_target_config {
	const char *core_path;  /* core file, possibly .gz/.xz/.zst */
	pid_t pid;              /* live process, used when core_path is NULL */
	const struct ac_target_callbacks *callbacks;  /* with pid: from gdb */
	const char *exe_path;   /* --exe: the main executable */
	const char *sysroot;    /* --sysroot: prefix for the core's paths */
	const char *debug_dir;  /* --debug-dir: .build-id/xx/rest.debug tree */
	/*
	 * Load DWARF for the executable only: QEMU's structures are all there,
	 * and libc's (compressed) DWARF dominated diagnose's time.  Libraries
	 * still unwind through .eh_frame and name frames from their symbols.
	 */
	bool main_debuginfo_only;
};

enum ac_arch {
	AC_ARCH_X86_64,
	AC_ARCH_AARCH64,
};

/* Memory regions whose bytes can be read (for scans).  Index order. */
struct ac_region {
	uint64_t start;
	uint64_t size;
	bool writable;
};

#endif
