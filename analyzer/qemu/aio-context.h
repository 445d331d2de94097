/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * AioContexts.  QEMU keeps no list of them: they are found from roots, the
 * statics qemu_aio_context and iohandler_ctx, the threads (iothread_run's
 * IOThread, aio_poll's ctx, the thread-local current context), thread
 * pools' back-links and the block graph (nodes' aio_context, backends'
 * ctx).  Scanning writable memory for GSources whose source_funcs is
 * &aio_source_funcs costs what the heap weighs: it runs only when
 * prog->scan_memory asks or no root names any.  Each is decoded by member name, with
 * the fallbacks the QEMU generations need, and tied to the thread that
 * polls it.
 */
#ifndef AIOCORE_AIO_CONTEXT_H
#define AIOCORE_AIO_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "dwarf/dwarf.h"

struct ac_aio_context {
	struct ac_object obj;
	char *found_as;              /* "qemu_aio_context", "memory scan", ... */
	bool is_main, is_iohandler;
	bool is_iothread;            /* IOThread.ctx of a thread in iothread_run */
	size_t iothread_index;       /* ... that thread */

	bool has_notify_me;          /* 2.4+; 2.1 has `dispatching` */
	uint32_t notify_me;
	bool has_dispatching, dispatching;
	bool has_notified, notified;
	int notifier_rfd, notifier_wfd;
	bool has_list_lock;          /* QemuLockCnt (2.9+) */
	uint32_t list_lock;
	bool has_external_disable_cnt;
	int64_t external_disable_cnt;
	uint64_t thread_pool;        /* 0: no pool yet */
	uint64_t co_schedule_bh;     /* 0: none (before 2.9) */
	uint64_t scheduled_coroutines;  /* first on the list, 0 if empty */

	pid_t home_tid;              /* 0: not known */
	size_t home_thread_index;
	long anchor_frame;           /* aio_poll / main_loop_wait frame, -1 */
	char *home_how;              /* how the home thread was decided */
	char *blocked_in;            /* "ppoll <- qemu_poll_ns <- aio_poll" */
	bool sleeping_in_poll;       /* home thread asleep in (p)poll/epoll */
	bool in_aio_poll;            /* ... inside aio_poll (not the glib path) */
};

struct ac_context_list {
	struct ac_aio_context *items;
	size_t n;
	/* The heap scan: run only when asked or when no root named any. */
	bool scan_ran, scan_asked;
	uint64_t scan_bytes;         /* read by it */
	size_t scan_only;            /* contexts only it found */
};

struct ac_error *ac_aio_contexts_find(struct ac_program *prog,
				      struct ac_context_list *ret);
void ac_context_list_deinit(struct ac_context_list *list);
const struct ac_aio_context *ac_context_list_find(const struct ac_context_list *list,
						  uint64_t address);
/* "main (qemu_aio_context)", "iohandler_ctx", "iothread"; static string. */
const char *ac_aio_context_role(const struct ac_aio_context *ctx);

#endif
