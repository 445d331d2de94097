/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fuzz targets hand the input to the library as a file, the way a user
 * does: one memfd, rewritten for every input, named /proc/self/fd/N.
 */
#ifndef AIOCORE_FUZZ_INPUT_H
#define AIOCORE_FUZZ_INPUT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static int fuzz_input_fd = -1;
static char fuzz_input_path[64];

/* The input's path, or NULL when it could not be written. */
static inline const char *fuzz_input_write(const uint8_t *data, size_t size)
{
	if (fuzz_input_fd < 0) {
		fuzz_input_fd = memfd_create("aiocore-fuzz-core", MFD_CLOEXEC);
		if (fuzz_input_fd < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(fuzz_input_path, sizeof(fuzz_input_path),
			 "/proc/self/fd/%d", fuzz_input_fd);
	}
	if (ftruncate(fuzz_input_fd, 0) != 0)
		return NULL;
	size_t done = 0;
	while (done < size) {
		ssize_t n = pwrite(fuzz_input_fd, data + done, size - done,
				   (off_t)done);
		if (n <= 0)
			return NULL;
		done += (size_t)n;
	}
	return fuzz_input_path;
}

#endif
