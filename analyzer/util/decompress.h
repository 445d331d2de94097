/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Compressed cores (core.gz, core.xz, core.zst) are read directly: they are
 * decompressed once into a temporary file, sparse where pages are zero (a
 * core of a 64 GiB guest is mostly holes), and that file is what the ELF
 * reader opens.  The temporary file lives in $TMPDIR (or /tmp), is created
 * mode 0600 (cores hold secrets), and is removed by ac_decompressed_remove(),
 * at normal exit, and on SIGINT/SIGTERM/SIGHUP.
 */
#ifndef AIOCORE_DECOMPRESS_H
#define AIOCORE_DECOMPRESS_H

#include <stdint.h>

#include "error.h"

enum ac_compression {
	AC_COMPRESSION_NONE,
	AC_COMPRESSION_GZIP,
	AC_COMPRESSION_XZ,
	AC_COMPRESSION_ZSTD,
};

/*
 * Detect by magic bytes, not by file name.  A file too short to hold any
 * magic (including an empty one) is AC_COMPRESSION_NONE.  AC_ERR_IO if the
 * file cannot be opened or read.
 */
struct ac_error *ac_compression_detect(const char *path, enum ac_compression *ret);

/* "none", "gzip", "xz", "zstd" ("unknown" for anything else). */
const char *ac_compression_name(enum ac_compression c);

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
 * Decompress path into a new sparse temporary file in $TMPDIR (or /tmp).
 * *ret_path is malloc'd; the caller removes it with ac_decompressed_remove().
 * Until then it is registered for removal at exit() and on SIGINT, SIGTERM
 * and SIGHUP (the handler is only installed where the disposition is still
 * SIG_DFL; a program with its own handler calls
 * ac_decompressed_remove_all() from it).
 *
 * Errors: AC_ERR_USAGE for AC_COMPRESSION_NONE; AC_ERR_IO if path cannot be
 * read or the temporary file cannot be created or written (disk full names
 * the directory); AC_ERR_FORMAT for corrupt or truncated compressed data or
 * output over the size cap; AC_ERR_NO_MEMORY.  On error no temporary file is
 * left behind.
 */
struct ac_error *ac_decompress_to_temp(const char *path, enum ac_compression c,
				       char **ret_path);
/* The same with options (opts may be NULL). */
struct ac_error *ac_decompress_to_temp_opts(const char *path, enum ac_compression c,
					    const struct ac_decompress_options *opts,
					    char **ret_path);

/* Unlink, unregister and free a path from ac_decompress_to_temp(); NULL is a no-op. */
void ac_decompressed_remove(char *temp_path);

/*
 * Unlink every registered temporary file (in this process only).
 * Async-signal-safe: meant for an application's own signal handler.
 */
void ac_decompressed_remove_all(void);

#endif
