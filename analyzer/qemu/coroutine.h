/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Coroutines.  QEMU keeps no list of live coroutines, so they are reached
 * from what refers to them ("seeds": a context's scheduled_coroutines, a
 * thread-pool element's completion record) and from each thread's current
 * coroutine (the thread-local `current`, `co_tls_current` since 7.2).  A
 * suspended coroutine (caller == NULL) is a CoroutineUContext whose env is
 * the sigjmp_buf of its last qemu_coroutine_switch(); jmpbuf.c turns it into
 * registers and libdwfl unwinds from there, through CFI.
 */
#ifndef AIOCORE_COROUTINE_H
#define AIOCORE_COROUTINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "target/target.h"
#include "dwarf/dwarf.h"

struct ac_coroutine_seed {
	uint64_t address;
	/*
	 * "scheduled on ctx 0x..", "waiting on ThreadPoolElement 0x..",
	 * "waiting on NBD reply, NBDClientRequest 0x.."
	 */
	const char *source;
};

struct ac_coroutine {
	uint64_t address;
	char *source;           /* where it was found; ", "-joined; NULL if none */
	uint64_t entry;
	char *entry_name;       /* symbol of entry, or "0x..." */
	uint64_t entry_arg;
	uint64_t caller;
	bool running;           /* caller != 0 */
	pid_t current_in_tid;   /* 0 if not current in a thread */
	uint64_t ctx;           /* Coroutine.ctx (2.9+), 0 if none */
	char *scheduled;        /* Coroutine.scheduled string (5.x+), NULL if none */
	bool has_context;       /* saved_regs were read from env */
	struct ac_thread saved_regs;  /* from env (tid 0) */
	struct ac_backtrace *bt;      /* NULL unless requested and suspended */
	char *problem;          /* what could not be read, NULL if all was */
};

struct ac_coroutine_list {
	struct ac_coroutine *items;
	size_t n;
};

/*
 * Decode the coroutines given as seeds plus each thread's current
 * coroutine (a thread's own stack, the "leader" with no entry, is left
 * out).  Deduplicated by address.  Unreadable things become program notes;
 * with backtraces, each suspended coroutine is unwound from its env.
 */
struct ac_error *ac_coroutines_decode(struct ac_program *prog,
				      const struct ac_coroutine_seed *seeds,
				      size_t n_seeds, bool backtraces,
				      struct ac_coroutine_list *ret);
void ac_coroutine_list_deinit(struct ac_coroutine_list *list);

/*
 * Seeds from the main context: qemu_aio_context->scheduled_coroutines
 * (through co_scheduled_next) and the coroutines waiting on its thread
 * pool's elements (common.cb thread_pool_co_cb -> ThreadPoolCo.co,
 * bdrv_co_io_em_complete -> CoroutineIOCompletion.coroutine), and each NBD
 * client node's request coroutines and 5.2's connection_co.  The sources
 * are malloc'd; free with ac_coroutine_seeds_free().
 */
struct ac_error *ac_coroutine_seeds_collect(struct ac_program *prog,
					    struct ac_coroutine_seed **seeds,
					    size_t *n);
void ac_coroutine_seeds_free(struct ac_coroutine_seed *seeds, size_t n);

#endif
