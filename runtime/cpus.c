/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The BQL and the VM run state (QEMU: cpus.c, later system/cpus.c). */
#include "qemu/atomic.h"
#include "block/block.h"
#include "qemu/main-loop.h"

/* QEMU 9.0 renamed it "bql"; we model the older name. */
static QemuMutex qemu_global_mutex;
static __thread bool iothread_locked;
static bool vm_running = true;
AioWait global_aio_wait;

void qemu_mutex_lock_iothread(void)
{
	if (!qemu_global_mutex.initialized)
		qemu_mutex_init(&qemu_global_mutex);
	qemu_mutex_lock(&qemu_global_mutex);
	iothread_locked = true;
}

void qemu_mutex_unlock_iothread(void)
{
	iothread_locked = false;
	qemu_mutex_unlock(&qemu_global_mutex);
}

bool qemu_mutex_iothread_locked(void)
{
	return iothread_locked;
}

/* do_vm_stop(): stop the guest and wait for in-flight I/O to settle. */
void vm_stop(void)
{
	if (!qatomic_read(&vm_running))
		return;
	qatomic_set(&vm_running, false);
	bdrv_drain_all();
}

void vm_start(void)
{
	qatomic_set(&vm_running, true);
}

bool runstate_is_running(void)
{
	return qatomic_read(&vm_running);
}
