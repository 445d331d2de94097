/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Coroutines.  struct Coroutine is public here as it is in QEMU's
 * coroutine_int.h; the backend type CoroutineUContext is private to
 * coroutine-ucontext.c.
 */
#ifndef AIOCORE_QEMU_COROUTINE_H
#define AIOCORE_QEMU_COROUTINE_H

#include <stdbool.h>
#include <stddef.h>
#include "qemu/queue.h"

#define coroutine_fn

typedef struct Coroutine Coroutine;
typedef struct AioContext AioContext;
typedef void coroutine_fn CoroutineEntry(void *opaque);

typedef enum {
	COROUTINE_YIELD = 1,
	COROUTINE_TERMINATE = 2,
	COROUTINE_ENTER = 3,
} CoroutineAction;

struct Coroutine {
	CoroutineEntry *entry;
	void *entry_arg;
	Coroutine *caller;
	QSLIST_ENTRY(Coroutine) pool_next;
#if AIOCORE_PROFILE == 2
	/* QEMU 2.1-2.5 layout (seed 003) */
	QTAILQ_HEAD(, Coroutine) co_queue_wakeup;
	QTAILQ_ENTRY(Coroutine) co_queue_next;
#else
	size_t locks_held;
	AioContext *ctx;
	/* __func__ of whoever called aio_co_schedule(), while scheduled */
	const char *scheduled;
	QSIMPLEQ_ENTRY(Coroutine) co_queue_next;
	QSIMPLEQ_HEAD(, Coroutine) co_queue_wakeup;
	QSLIST_ENTRY(Coroutine) co_scheduled_next;
#endif
};

/* Coroutines waiting for something, e.g. a drained section to end. */
typedef struct CoQueue {
#if AIOCORE_PROFILE == 2
	QTAILQ_HEAD(, Coroutine) entries;
#else
	QSIMPLEQ_HEAD(, Coroutine) entries;
#endif
} CoQueue;

Coroutine *qemu_coroutine_create(CoroutineEntry *entry, void *opaque);
void qemu_coroutine_enter(Coroutine *co);
void coroutine_fn qemu_coroutine_yield(void);
Coroutine *qemu_coroutine_self(void);
bool qemu_in_coroutine(void);

void qemu_co_queue_init(CoQueue *queue);
void coroutine_fn qemu_co_queue_wait(CoQueue *queue);
/* Wakes every waiter; returns how many were woken. */
int qemu_co_queue_restart_all(CoQueue *queue);

/* Backend interface (coroutine-ucontext.c) */
Coroutine *qemu_coroutine_new(void);
void qemu_coroutine_delete(Coroutine *co);
CoroutineAction qemu_coroutine_switch(Coroutine *from, Coroutine *to,
				      CoroutineAction action);

#endif
