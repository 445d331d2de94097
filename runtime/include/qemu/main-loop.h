/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef AIOCORE_QEMU_MAIN_LOOP_H
#define AIOCORE_QEMU_MAIN_LOOP_H

#include <stdbool.h>
#include "block/aio.h"

int qemu_init_main_loop(void);
AioContext *qemu_get_aio_context(void);
AioContext *iohandler_get_aio_context(void);
void main_loop_wait(int nonblocking);
void qemu_mutex_lock_iothread(void);
void qemu_mutex_unlock_iothread(void);
bool qemu_mutex_iothread_locked(void);

/* cpus.c: the VM run state, stopped on an I/O error with werror=stop */
void vm_stop(void);
void vm_start(void);
bool runstate_is_running(void);

/* AIO_WAIT_WHILE, reduced to the home-context case the runtime needs. */
typedef struct AioWait {
	unsigned num_waiters;
} AioWait;
extern AioWait global_aio_wait;
#define AIO_WAIT_WHILE(ctx, cond) ({                                    \
	bool waited_ = false;                                           \
	__atomic_fetch_add(&global_aio_wait.num_waiters, 1, __ATOMIC_SEQ_CST); \
	while ((cond)) {                                                \
		aio_poll((ctx), true);                                  \
		waited_ = true;                                         \
	}                                                               \
	__atomic_fetch_sub(&global_aio_wait.num_waiters, 1, __ATOMIC_SEQ_CST); \
	waited_;                                                        \
})

#endif
