/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

struct ac_error ac_error_no_memory = {
	.code = AC_ERR_NO_MEMORY,
	.message = (char *)"out of memory",
};

struct ac_error *ac_error_vcreate(enum ac_error_code code, bool has_address,
				  uint64_t address, const char *fmt, va_list ap)
{
	struct ac_error *err = calloc(1, sizeof(*err));
	if (!err)
		return &ac_error_no_memory;
	if (vasprintf(&err->message, fmt, ap) < 0) {
		free(err);
		return &ac_error_no_memory;
	}
	err->code = code;
	err->has_address = has_address;
	err->address = address;
	return err;
}

struct ac_error *ac_error_create(enum ac_error_code code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct ac_error *err = ac_error_vcreate(code, false, 0, fmt, ap);
	va_end(ap);
	return err;
}

struct ac_error *ac_error_create_at(enum ac_error_code code, uint64_t address,
				    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct ac_error *err = ac_error_vcreate(code, true, address, fmt, ap);
	va_end(ap);
	return err;
}

struct ac_error *ac_error_prefix(struct ac_error *err, const char *fmt, ...)
{
	if (!err || err == &ac_error_no_memory)
		return err;
	char *prefix;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&prefix, fmt, ap);
	va_end(ap);
	if (n < 0)
		return err;
	char *joined;
	if (asprintf(&joined, "%s: %s", prefix, err->message) >= 0) {
		free(err->message);
		err->message = joined;
	}
	free(prefix);
	return err;
}

void ac_error_destroy(struct ac_error *err)
{
	if (!err || err == &ac_error_no_memory)
		return;
	free(err->message);
	free(err);
}

const char *ac_error_code_name(enum ac_error_code code)
{
	switch (code) {
	case AC_ERR_NO_MEMORY: return "no-memory";
	case AC_ERR_USAGE: return "usage";
	case AC_ERR_IO: return "io";
	case AC_ERR_FORMAT: return "format";
	case AC_ERR_MISMATCH: return "mismatch";
	case AC_ERR_NO_DEBUGINFO: return "no-debuginfo";
	case AC_ERR_LOOKUP: return "lookup";
	case AC_ERR_UNMAPPED: return "unmapped";
	case AC_ERR_NOT_IN_CORE: return "not-in-core";
	case AC_ERR_PROCESS: return "process";
	case AC_ERR_BAD_DATA: return "bad-data";
	case AC_ERR_ELFUTILS: return "elfutils";
	}
	return "unknown";
}
