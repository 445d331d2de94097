/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Threads and synchronisation primitives with QEMU's type names and layouts. */
#ifndef AIOCORE_QEMU_THREAD_H
#define AIOCORE_QEMU_THREAD_H

#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct QemuMutex {
	pthread_mutex_t lock;
	bool initialized;
} QemuMutex;

/* QEMU up to 6.x; 7.0 wrapped it in a struct of one QemuMutex, same address. */
typedef QemuMutex QemuRecMutex;

typedef struct QemuCond {
	pthread_cond_t cond;
	bool initialized;
} QemuCond;

typedef struct QemuSemaphore {
	sem_t sem;
	bool initialized;
} QemuSemaphore;

/*
 * Futex-based event: value is EV_SET (0), EV_FREE (1) or EV_BUSY (-1, seen
 * as 0xFFFFFFFF in the unsigned field): BUSY just means "a waiter sleeps".
 */
typedef struct QemuEvent {
	unsigned value;
	bool initialized;
} QemuEvent;

/* Futex flavour of QemuLockCnt: bits 0-1 state, count >> 2 walkers. */
typedef struct QemuLockCnt {
	unsigned count;
} QemuLockCnt;

typedef struct QemuThread {
	pthread_t thread;
} QemuThread;

#define QEMU_THREAD_JOINABLE 0
#define QEMU_THREAD_DETACHED 1

void qemu_mutex_init(QemuMutex *mutex);
void qemu_mutex_lock(QemuMutex *mutex);
void qemu_mutex_unlock(QemuMutex *mutex);

void qemu_cond_init(QemuCond *cond);
void qemu_cond_signal(QemuCond *cond);
void qemu_cond_broadcast(QemuCond *cond);
void qemu_cond_wait(QemuCond *cond, QemuMutex *mutex);
/* Returns false on timeout, like QEMU. */
bool qemu_cond_timedwait(QemuCond *cond, QemuMutex *mutex, int ms);

void qemu_sem_init(QemuSemaphore *sem, int init);
void qemu_sem_post(QemuSemaphore *sem);
/* Returns -1 on timeout, 0 otherwise, like QEMU. */
int qemu_sem_timedwait(QemuSemaphore *sem, int ms);

void qemu_event_init(QemuEvent *ev, bool init);
void qemu_event_set(QemuEvent *ev);
void qemu_event_reset(QemuEvent *ev);
void qemu_event_wait(QemuEvent *ev);

void qemu_lockcnt_init(QemuLockCnt *lockcnt);
void qemu_lockcnt_inc(QemuLockCnt *lockcnt);
void qemu_lockcnt_dec(QemuLockCnt *lockcnt);
void qemu_lockcnt_lock(QemuLockCnt *lockcnt);
void qemu_lockcnt_unlock(QemuLockCnt *lockcnt);
unsigned qemu_lockcnt_count(QemuLockCnt *lockcnt);

void qemu_thread_create(QemuThread *thread, const char *name,
			void *(*start_routine)(void *), void *arg, int mode);
void qemu_thread_join(QemuThread *thread);

/* A PTHREAD_MUTEX_RECURSIVE mutex: glibc keeps the owner's tid in __owner too. */
void qemu_rec_mutex_init(QemuRecMutex *mutex);
void qemu_rec_mutex_lock_impl(QemuRecMutex *mutex, const char *file, int line);
void qemu_rec_mutex_unlock(QemuRecMutex *mutex);
#define qemu_rec_mutex_lock(m) qemu_rec_mutex_lock_impl(m, __FILE__, __LINE__)

/* util/qemu-thread-posix.c timing helper */
void qemu_thread_naptime_us(unsigned us);

#endif
