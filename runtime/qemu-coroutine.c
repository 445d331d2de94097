/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Coroutine create/enter/yield and a free pool (QEMU: qemu-coroutine.c). */
#include <assert.h>
#include <stdlib.h>

#include "block/aio.h"
#include "qemu/atomic.h"

static __thread QSLIST_HEAD(, Coroutine) alloc_pool;
static __thread unsigned alloc_pool_size;
#define POOL_MAX_SIZE 64

Coroutine *qemu_coroutine_create(CoroutineEntry *entry, void *opaque)
{
	Coroutine *co = QSLIST_FIRST(&alloc_pool);

	if (co) {
		QSLIST_REMOVE_HEAD(&alloc_pool, pool_next);
		alloc_pool_size--;
	} else {
		co = qemu_coroutine_new();
	}
	co->entry = entry;
	co->entry_arg = opaque;
#if AIOCORE_PROFILE == 2
	QTAILQ_INIT(&co->co_queue_wakeup);
#else
	QSIMPLEQ_INIT(&co->co_queue_wakeup);
#endif
	return co;
}

static void coroutine_delete(Coroutine *co)
{
	co->caller = NULL;
	if (alloc_pool_size < POOL_MAX_SIZE) {
		QSLIST_INSERT_HEAD(&alloc_pool, co, pool_next);
		alloc_pool_size++;
		return;
	}
	qemu_coroutine_delete(co);
}

void qemu_coroutine_enter(Coroutine *co)
{
	Coroutine *self = qemu_coroutine_self();
	CoroutineAction ret;

	assert(!co->caller);   /* entering a running coroutine is a bug */
	co->caller = self;
#if AIOCORE_PROFILE >= 5
	co->ctx = qemu_get_current_aio_context();
	smp_wmb();  /* store co->ctx before anything that could wake co */
#endif
	ret = qemu_coroutine_switch(self, co, COROUTINE_ENTER);
	if (ret == COROUTINE_TERMINATE)
		coroutine_delete(co);
}

void coroutine_fn qemu_coroutine_yield(void)
{
	Coroutine *self = qemu_coroutine_self();
	Coroutine *to = self->caller;

	assert(to);   /* yield outside a coroutine */
	self->caller = NULL;
	qemu_coroutine_switch(self, to, COROUTINE_YIELD);
}

void qemu_co_queue_init(CoQueue *queue)
{
#if AIOCORE_PROFILE == 2
	QTAILQ_INIT(&queue->entries);
#else
	QSIMPLEQ_INIT(&queue->entries);
#endif
}

void coroutine_fn qemu_co_queue_wait(CoQueue *queue)
{
	Coroutine *self = qemu_coroutine_self();

#if AIOCORE_PROFILE == 2
	QTAILQ_INSERT_TAIL(&queue->entries, self, co_queue_next);
#else
	QSIMPLEQ_INSERT_TAIL(&queue->entries, self, co_queue_next);
#endif
	qemu_coroutine_yield();
}

int qemu_co_queue_restart_all(CoQueue *queue)
{
	int n = 0;

#if AIOCORE_PROFILE == 2
	Coroutine *co;

	while ((co = QTAILQ_FIRST(&queue->entries))) {
		QTAILQ_REMOVE(&queue->entries, co, co_queue_next);
		aio_co_wake(co);
		n++;
	}
#else
	while (!QSIMPLEQ_EMPTY(&queue->entries)) {
		Coroutine *co = QSIMPLEQ_FIRST(&queue->entries);

		QSIMPLEQ_REMOVE_HEAD(&queue->entries, co_queue_next);
		aio_co_wake(co);
		n++;
	}
#endif
	return n;
}
