/* SPDX-License-Identifier: GPL-2.0-or-later */
/* IOThread: a thread running its own AioContext (QEMU: iothread.c). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "qemu/atomic.h"
#include "qemu/main-loop.h"
#include "sysemu/iothread.h"

/* QEMU 7.2+: co_tls_my_aiocontext; we keep the older names */
static __thread IOThread *my_iothread;
static __thread AioContext *my_aiocontext;

AioContext *qemu_get_current_aio_context(void)
{
	if (my_aiocontext)
		return my_aiocontext;
	return qemu_get_aio_context();
}

static void *iothread_run(void *opaque)
{
	IOThread *iothread = opaque;

	my_iothread = iothread;
	my_aiocontext = iothread->ctx;
	iothread->thread_id = (int)syscall(SYS_gettid);
	qatomic_set(&iothread->running, true);
	while (!qatomic_read(&iothread->stopping))
		aio_poll(iothread->ctx, true);
	return NULL;
}

IOThread *iothread_create(const char *id)
{
	IOThread *iothread = calloc(1, sizeof(*iothread));
	char name[16];

	iothread->id = id;
	iothread->ctx = aio_context_new();
	snprintf(name, sizeof(name), "IO %s", id);
	qemu_thread_create(&iothread->thread, name, iothread_run, iothread,
			   QEMU_THREAD_JOINABLE);
	while (!qatomic_read(&iothread->running))
		usleep(100);
	return iothread;
}

AioContext *iothread_get_aio_context(IOThread *iothread)
{
	return iothread->ctx;
}
