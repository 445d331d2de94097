/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What each thread is blocked in, decoded from its frames and registers:
 * a futex wait on a QemuMutex (with the owner's tid from glibc's
 * __data.__owner), QemuCond, QemuEvent or QemuSemaphore; a poll (fds,
 * timeout); or an I/O system call with its fd, offset and length (the
 * syscall registers of frame 0, else the DWARF variables of libc's
 * inlined wrappers).  A pool worker's request (file-posix's
 * RawPosixAIOData) names the file through its block node.
 */
#ifndef AIOCORE_THREAD_WAIT_H
#define AIOCORE_THREAD_WAIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dwarf/dwarf.h"
#include "posix-aio.h"

enum ac_wait_kind {
	AC_WAIT_NONE,        /* running, or in nothing decoded */
	AC_WAIT_MUTEX,       /* QemuMutex / QemuRecMutex / the BQL */
	AC_WAIT_COND,        /* QemuCond */
	AC_WAIT_EVENT,       /* QemuEvent */
	AC_WAIT_SEMAPHORE,   /* QemuSemaphore */
	AC_WAIT_POLL,        /* poll / ppoll / epoll_wait */
	AC_WAIT_IO,          /* read/write/pread/preadv/fdatasync/io_submit/... */
	AC_WAIT_SYSCALL,     /* another system call (nanosleep, futex, ...) */
};

#define AC_WAIT_MAX_FDS 16

struct ac_thread_wait {
	size_t thread_index;
	pid_t tid;
	enum ac_wait_kind kind;
	char *blocked_in;        /* frame 0's function, libc decorations off */
	long frame;              /* the QEMU frame that explains it, or -1 */
	char *frame_text;        /* "#3 qemu_mutex_lock_impl", NULL if none */

	/* Locks: the object, and for a mutex its owner. */
	uint64_t object;
	const char *object_type; /* "QemuMutex", ... (static) */
	char *object_name;       /* "qemu_global_mutex" when a variable */
	bool has_owner;
	pid_t owner_tid;         /* 0: free */

	/* The system call (registers), when the thread sits in one. */
	bool in_syscall;
	struct ac_syscall syscall;

	/* Poll. */
	size_t n_fds;
	int fds[AC_WAIT_MAX_FDS];
	bool has_timeout;        /* false: waits forever */
	int64_t timeout_ms;

	/* I/O. */
	const char *io_call;     /* "pread64", ... (static) */
	int64_t fd;
	bool has_offset, has_length;
	int64_t offset;
	uint64_t length;
	const char *args_from;   /* "syscall registers" / "DWARF frame variables" */

	/* A pool worker's request: RawPosixAIOData (aio.address 0: none). */
	struct ac_posix_aio aio;
	char *problem;           /* what could not be read, or NULL */
};

struct ac_thread_waits {
	struct ac_thread_wait *items;   /* [i]: thread index i */
	size_t n;
};

struct ac_error *ac_thread_waits_decode(struct ac_program *prog,
					struct ac_thread_waits *ret);
void ac_thread_waits_deinit(struct ac_thread_waits *waits);

/* "asleep in ppoll (3 fds, no timeout)", "pread64(fd 9, offset 0, 4096 bytes)"; into buf. */
const char *ac_thread_wait_text(const struct ac_thread_wait *w, char *buf, size_t size);
const char *ac_wait_kind_name(enum ac_wait_kind kind);

#endif
