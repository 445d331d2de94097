/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Coroutine locks (util/qemu-coroutine-lock.c): a CoMutex's holder and
 * waiters, a CoQueue's waiters.  Layouts: a CoQueue is a list of
 * Coroutines through co_queue_next (QTAILQ in 2.1, QSIMPLEQ after); a
 * CoMutex is `locked` + a CoQueue before 2.9 (holder from 2.5 on), and from
 * 2.9 lock-free lists of CoWaitRecord (to_pop in order, then from_push,
 * pushed newest first) with `holder`.
 *
 * QEMU keeps no list of its locks: they are found where QEMU puts them.
 * Block drivers' state (qcow2's `lock`, NBD's send/receive mutexes and
 * free_sema), each node's tracked requests' wait_queue and flush_queue,
 * and the state a known coroutine's entry argument points to (qemu-img
 * convert's ImgConvertState.lock).  Found locks name more coroutines
 * (holders, waiters), whose entry arguments are looked at in turn: bounded.
 */
#ifndef AIOCORE_CO_LOCK_H
#define AIOCORE_CO_LOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dwarf/dwarf.h"

enum ac_co_lock_kind { AC_CO_MUTEX, AC_CO_QUEUE };

/* More waiters than any real lock has; a longer list is cut with a note. */
#define AC_CO_LOCK_MAX_WAITERS 4096

struct ac_co_lock {
	enum ac_co_lock_kind kind;
	uint64_t address;
	char *name;              /* "BDRVQcow2State.lock of node \"n\" (qcow2 f)" */
	bool locked;             /* CoMutex: locked (or a waiter count) != 0 */
	uint64_t holder;         /* CoMutex.holder, 0 if free or not recorded */
	bool has_holder;         /* this layout has CoMutex.holder (2.1 has not) */
	uint64_t *waiters;       /* coroutines, in wake-up order */
	size_t n_waiters;
	char *problem;           /* why the waiter walk stopped early, or NULL */
};

struct ac_co_lock_list {
	struct ac_co_lock *items;
	size_t n;
};

/* One lock of the given kind at address; name is copied. */
struct ac_error *ac_co_lock_decode(struct ac_program *prog, enum ac_co_lock_kind kind,
				   uint64_t address, const char *name,
				   struct ac_co_lock *ret);
void ac_co_lock_deinit(struct ac_co_lock *lock);

/*
 * Every lock found from the roots above plus the entry arguments of the
 * given coroutines (and of those the locks name).  Only locks with a holder
 * or a waiter are kept.  Unreadable parts become program notes.
 */
struct ac_error *ac_co_locks_find(struct ac_program *prog, const uint64_t *coroutines,
				  size_t n_coroutines, struct ac_co_lock_list *ret);
void ac_co_lock_list_deinit(struct ac_co_lock_list *list);

/* The lock that coroutine co waits on, or NULL. */
const struct ac_co_lock *ac_co_lock_waited_by(const struct ac_co_lock_list *list,
					      uint64_t co);

#endif
