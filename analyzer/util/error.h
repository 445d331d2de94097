/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One error object for the whole library.  Functions that can fail return a
 * struct ac_error * (NULL means success) and write their result through a
 * trailing out-parameter, which is left untouched on failure.  A lookup error
 * (AC_ERR_LOOKUP) is meant to be caught: decoders use it to fall back from
 * one QEMU generation's layout to another's.
 */
#ifndef AIOCORE_ERROR_H
#define AIOCORE_ERROR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ac_error_code {
	AC_ERR_NO_MEMORY = 1,
	AC_ERR_USAGE,        /* bad arguments from the caller */
	AC_ERR_IO,           /* a file could not be opened or read */
	AC_ERR_FORMAT,       /* not an ELF file, not a core, unsupported arch */
	AC_ERR_MISMATCH,     /* executable does not belong to the core */
	AC_ERR_NO_DEBUGINFO, /* no DWARF found for a module */
	AC_ERR_LOOKUP,       /* symbol, type, member or enumerator not found */
	AC_ERR_UNMAPPED,     /* address not mapped in the process */
	AC_ERR_NOT_IN_CORE,  /* mapped, but its bytes are not in the core */
	AC_ERR_PROCESS,      /* live process cannot be attached or read */
	AC_ERR_BAD_DATA,     /* the target's memory makes no sense (hostile) */
	AC_ERR_ELFUTILS,     /* an elfutils call failed for another reason */
};

struct ac_error {
	enum ac_error_code code;
	bool has_address;
	uint64_t address;
	char *message;
};

/* Returned when allocating an error fails; never freed. */
extern struct ac_error ac_error_no_memory;

struct ac_error *ac_error_create(enum ac_error_code code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
struct ac_error *ac_error_create_at(enum ac_error_code code, uint64_t address,
				    const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
struct ac_error *ac_error_vcreate(enum ac_error_code code, bool has_address,
				  uint64_t address, const char *fmt, va_list ap);
/* Prefix the message with more context ("reading AioContext.notify_me: ..."). */
struct ac_error *ac_error_prefix(struct ac_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ac_error_destroy(struct ac_error *err);
const char *ac_error_code_name(enum ac_error_code code);

/* Discard an error that the caller has handled (e.g. a lookup fallback). */
static inline bool ac_error_catch(struct ac_error **err, enum ac_error_code code)
{
	if (*err && (*err)->code == code) {
		ac_error_destroy(*err);
		*err = NULL;
		return true;
	}
	return false;
}

#define _cleanup_error_ __attribute__((cleanup(ac_error_cleanup)))
static inline void ac_error_cleanup(struct ac_error **err)
{
	ac_error_destroy(*err);
}

#endif
