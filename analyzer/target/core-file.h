/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An ELF core file as untrusted input: its PT_LOAD segments (and which of
 * their bytes are really in the file), and the notes that describe threads
 * and mapped files.  Knows nothing of DWARF.
 */
#ifndef AIOCORE_CORE_FILE_H
#define AIOCORE_CORE_FILE_H

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"
#include "target-types.h"

struct ac_core_segment {
	uint64_t vaddr;
	uint64_t memsz;
	uint64_t offset;
	uint64_t filesz;       /* as the header says */
	uint64_t present;      /* bytes of filesz really in the file */
	uint32_t flags;        /* PF_R | PF_W | PF_X */
};

struct ac_core_file_entry {
	uint64_t start, end, file_offset;   /* file_offset in bytes */
	const char *path;                   /* points into the note data */
};

/* One page of the core file, read once: decoders read a few bytes at a time. */
struct ac_core_page {
	uint64_t index;          /* file offset / AC_CORE_PAGE */
	uint32_t len;            /* bytes valid (short at the end of the file) */
	bool valid;
	uint8_t data[4096];
};
#define AC_CORE_PAGE 4096
#define AC_CORE_CACHE_PAGES 64

struct ac_core {
	char *path;
	int fd;
	struct ac_core_page *cache;         /* AC_CORE_CACHE_PAGES, lazily */
	Elf *elf;
	uint64_t file_size;
	enum ac_arch arch;
	bool little_endian;

	struct ac_core_segment *segments;
	size_t n_segments;

	struct ac_thread *threads;
	size_t n_threads;
	/* CPU time per thread (pr_utime + pr_stime), < 0 unknown; not in
	 * ac_thread, whose layout is the gdb library's ABI. */
	double *cpu_seconds;

	struct ac_core_file_entry *files;   /* NT_FILE */
	size_t n_files;

	pid_t process_id;                   /* NT_PRPSINFO pr_pid; 0 if none */
	char process_name[17];              /* NT_PRPSINFO pr_fname */
	char process_args[81];              /* NT_PRPSINFO pr_psargs */
	int signal;                         /* pr_cursig of the first thread */
	uint64_t entry;                     /* AT_ENTRY: finds the executable */
	uint64_t execfn;                    /* AT_EXECFN: its path, in memory */

	uint64_t expected_size;             /* end of the last segment, per the headers */
	bool notes_truncated;
	char **problems;                    /* truncation etc., for warnings */
	size_t n_problems;
};

/* display_path names the file in messages (the .zst the user gave). */
struct ac_error *ac_core_open(const char *path, const char *display_path,
			      struct ac_core **ret);
void ac_core_destroy(struct ac_core *core);

/*
 * Read size bytes at address.  AC_ERR_UNMAPPED: no segment covers some of
 * it; AC_ERR_NOT_IN_CORE: a segment does, but the bytes were filtered out
 * (filesz < memsz) or cut off by truncation.
 */
struct ac_error *ac_core_read(struct ac_core *core, uint64_t address, void *buf,
			      size_t size);

/* The segment containing address, or NULL. */
const struct ac_core_segment *ac_core_segment_at(const struct ac_core *core,
						 uint64_t address);

#endif
