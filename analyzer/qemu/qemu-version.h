/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which QEMU release the core's executable is, from the `--version` text
 * every QEMU program keeps in its .rodata:
 *
 *   "qemu-img version 7.2.22\nCopyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers"
 *   "%s version 7.2.22\nCopyright ..."                (qemu-io: its name at run time)
 *   "%s 7.2.22\nWritten by Anthony Liguori.\n\nCopyright ..."   (qemu-nbd)
 *   "QEMU emulator version 2.6.0 (Debian ...), Copyright (c) 2003-2008 Fabrice Bellard"
 *                                                     (up to 2.6, one line)
 *   "QEMU v2.1.2"   (the VHDX creator: qemu-io up to 2.6 keeps only this)
 *
 * The executable is read through libelf from its file, never from the core.
 */
#ifndef AIOCORE_QEMU_VERSION_H
#define AIOCORE_QEMU_VERSION_H

#include <stdbool.h>
#include <stddef.h>

#include "util/util.h"

struct ac_target;

/* A QEMU release number. */
struct ac_qemu_release {
	unsigned int major, minor, micro;
};

/* Longest "--version" line accepted; real ones are under 100 characters. */
#define AC_QEMU_VERSION_LINE_MAX 256

struct ac_qemu_version {
	struct ac_qemu_release release;
	/* "qemu-io version 7.2.22 (Debian 1:7.2+dfsg-7)": the line as printed */
	char line[AC_QEMU_VERSION_LINE_MAX + 64];
	/* "7.2.22 (Debian 1:7.2+dfsg-7)": the release and package version */
	char version[AC_QEMU_VERSION_LINE_MAX];
};

/*
 * Finds the version text in buf (any bytes, size bytes, need not end in
 * NUL).  prog_name replaces a "%s" program name (qemu-io, qemu-nbd); NULL
 * for "qemu".  AC_ERR_LOOKUP if there is none; *ret untouched on failure.
 */
struct ac_error *ac_qemu_version_parse(const void *buf, size_t size,
				       const char *prog_name,
				       struct ac_qemu_version *ret);

/*
 * The same, from the read-only data of the target's main executable.
 * AC_ERR_LOOKUP when the executable holds no QEMU version text (not QEMU,
 * the reference runtime) or its file is not at hand.
 */
struct ac_error *ac_qemu_version_read(struct ac_target *target,
				      struct ac_qemu_version *ret);

/* <0, 0, >0 as a is older than, the same as, newer than b. */
int ac_qemu_release_compare(const struct ac_qemu_release *a,
			    const struct ac_qemu_release *b);

#endif
