/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef AIOCORE_SYSEMU_IOTHREAD_H
#define AIOCORE_SYSEMU_IOTHREAD_H

#include "block/aio.h"

typedef struct IOThread {
	const char *id;
	QemuThread thread;
	AioContext *ctx;
	bool running;
	bool stopping;
	int thread_id;
} IOThread;

IOThread *iothread_create(const char *id);
AioContext *iothread_get_aio_context(IOThread *iothread);

#endif
