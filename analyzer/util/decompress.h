/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Cores compressed (core.gz, core.xz, core.zst) or arriving on a pipe
 * (`zstd -dc core.zst | aiocore diagnose -`) are spooled once into a
 * temporary file, sparse where pages are zero (a core of a 64 GiB guest is
 * mostly holes), and that file is what the ELF reader opens.
 *
 * Why a file and not dwelf_elf_begin(), which decompresses into memory: a
 * core is as large as the process (often many GiB, mostly zero pages), and
 * memory is what the machine of a hung QEMU has least of; a sparse file
 * costs disk only for the non-zero pages, and aiocore reads the few pages it
 * needs with pread.  A pipe cannot be read at random offsets at all.
 *
 * The temporary file has no name: it is created with O_TMPFILE (or unlinked
 * the moment mkstemp made it) in $TMPDIR (or /tmp), mode 0600 (cores hold
 * secrets), and lives only as an open descriptor, so no signal (SIGPIPE,
 * SIGKILL) can leave it behind.
 */
#ifndef AIOCORE_DECOMPRESS_H
#define AIOCORE_DECOMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum ac_compression {
	AC_COMPRESSION_NONE,
	AC_COMPRESSION_GZIP,
	AC_COMPRESSION_XZ,
	AC_COMPRESSION_ZSTD,
};

/* Magic bytes needed to tell the formats apart. */
#define AC_COMPRESSION_MAGIC_SIZE 6

/*
 * Detect by magic bytes, not by file name.  A file too short to hold any
 * magic (including an empty one) is AC_COMPRESSION_NONE.  AC_ERR_IO if the
 * file cannot be opened or read, or is not a regular file.
 */
struct ac_error *ac_compression_detect(const char *path, enum ac_compression *ret);
/* The same from the first n bytes of a stream. */
enum ac_compression ac_compression_detect_bytes(const unsigned char *magic, size_t n);

/* "none", "gzip", "xz", "zstd" ("unknown" for anything else). */
const char *ac_compression_name(enum ac_compression c);

/*
 * Open an input file for reading without ever blocking in open(): a FIFO
 * or a device named as a core or --exe would otherwise wait for a writer
 * forever.  Opened O_NONBLOCK, then refused ("PATH: not a regular file")
 * unless fstat says regular; "-" is standard input (a pipe is fine there)
 * when allow_stdin.  The descriptor is blocking again on return.
 */
struct ac_error *ac_input_open(const char *path, bool allow_stdin, int *ret_fd);

/* Hard cap on the decompressed size unless the caller sets another. */
#define AC_DECOMPRESS_DEFAULT_MAX_SIZE (UINT64_C(1) << 40) /* 1 TiB */

struct ac_decompress_options {
	/*
	 * Called from time to time (every 64 MiB of output) and once at the
	 * end with the total; NULL for none.  The library prints nothing.
	 */
	void (*progress)(uint64_t bytes_out, void *arg);
	void *progress_arg;
	/* Fail with AC_ERR_FORMAT past this many bytes; 0 means the default. */
	uint64_t max_size;
};

/*
 * Spool in_fd (read from its current position) into a new nameless sparse
 * temporary file, decompressing it as c (AC_COMPRESSION_NONE copies: a
 * pipe).  prefix/prefix_len are bytes already read from in_fd (the magic),
 * decoded before the rest.  name is for messages.  *ret_fd is the open
 * temporary file; the caller closes it.
 *
 * Errors: AC_ERR_IO if in_fd cannot be read or the temporary file cannot be
 * created or written (disk full names the directory); AC_ERR_FORMAT for
 * corrupt or truncated compressed data or output over the size cap;
 * AC_ERR_NO_MEMORY.
 */
struct ac_error *ac_decompress_fd_to_temp(int in_fd, const char *name, enum ac_compression c,
					  const void *prefix, size_t prefix_len,
					  const struct ac_decompress_options *opts,
					  int *ret_fd);

/*
 * Decompress the file path the same way.  *ret_path is "/proc/self/fd/N",
 * a name for the open nameless file that open() and libelf accept;
 * ac_decompressed_remove() closes it.  AC_ERR_USAGE for
 * AC_COMPRESSION_NONE.
 */
struct ac_error *ac_decompress_to_temp(const char *path, enum ac_compression c,
				       char **ret_path);
/* The same with options (opts may be NULL). */
struct ac_error *ac_decompress_to_temp_opts(const char *path, enum ac_compression c,
					    const struct ac_decompress_options *opts,
					    char **ret_path);

/* Close and free a path from ac_decompress_to_temp(); NULL is a no-op. */
void ac_decompressed_remove(char *temp_path);

#endif
