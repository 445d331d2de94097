/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pthread wrappers with QEMU's names (QEMU: util/qemu-thread-posix.c). */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qemu/atomic.h"
#include "qemu/thread.h"

static void error_exit(int err, const char *msg)
{
	fprintf(stderr, "aiocore-runtime: %s: %s\n", msg, strerror(err));
	abort();
}

void qemu_mutex_init(QemuMutex *mutex)
{
	int err = pthread_mutex_init(&mutex->lock, NULL);

	if (err)
		error_exit(err, __func__);
	mutex->initialized = true;
}

void qemu_mutex_lock(QemuMutex *mutex)
{
	int err = pthread_mutex_lock(&mutex->lock);

	if (err)
		error_exit(err, __func__);
}

void qemu_mutex_unlock(QemuMutex *mutex)
{
	int err = pthread_mutex_unlock(&mutex->lock);

	if (err)
		error_exit(err, __func__);
}

void qemu_cond_init(QemuCond *cond)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (pthread_cond_init(&cond->cond, &attr))
		error_exit(errno, __func__);
	pthread_condattr_destroy(&attr);
	cond->initialized = true;
}

void qemu_cond_signal(QemuCond *cond)
{
	pthread_cond_signal(&cond->cond);
}

void qemu_cond_broadcast(QemuCond *cond)
{
	pthread_cond_broadcast(&cond->cond);
}

void qemu_cond_wait(QemuCond *cond, QemuMutex *mutex)
{
	pthread_cond_wait(&cond->cond, &mutex->lock);
}

static void compute_abs_deadline(struct timespec *ts, int ms, clockid_t clock)
{
	clock_gettime(clock, ts);
	ts->tv_nsec += (ms % 1000) * 1000000L;
	ts->tv_sec += ms / 1000 + ts->tv_nsec / 1000000000L;
	ts->tv_nsec %= 1000000000L;
}

bool qemu_cond_timedwait(QemuCond *cond, QemuMutex *mutex, int ms)
{
	struct timespec ts;
	int err;

	compute_abs_deadline(&ts, ms, CLOCK_MONOTONIC);
	err = pthread_cond_timedwait(&cond->cond, &mutex->lock, &ts);
	if (err && err != ETIMEDOUT)
		error_exit(err, __func__);
	return err != ETIMEDOUT;
}

void qemu_sem_init(QemuSemaphore *sem, int init)
{
	if (sem_init(&sem->sem, 0, init) < 0)
		error_exit(errno, __func__);
	sem->initialized = true;
}

void qemu_sem_post(QemuSemaphore *sem)
{
	sem_post(&sem->sem);
}

int qemu_sem_timedwait(QemuSemaphore *sem, int ms)
{
	struct timespec ts;
	int rc;

	compute_abs_deadline(&ts, ms, CLOCK_REALTIME);
	do {
		rc = sem_timedwait(&sem->sem, &ts);
	} while (rc == -1 && errno == EINTR);
	return rc == -1 ? -1 : 0;
}

/*
 * QemuLockCnt, futex flavour reduced to what the runtime needs: walkers
 * count in units of 4, bit 0 is a lock for list surgery.
 */
void qemu_lockcnt_init(QemuLockCnt *lockcnt)
{
	lockcnt->count = 0;
}

void qemu_lockcnt_inc(QemuLockCnt *lockcnt)
{
	qatomic_add(&lockcnt->count, 4);
}

void qemu_lockcnt_dec(QemuLockCnt *lockcnt)
{
	qatomic_sub(&lockcnt->count, 4);
}

void qemu_lockcnt_lock(QemuLockCnt *lockcnt)
{
	while (qatomic_fetch_or(&lockcnt->count, 1) & 1)
		sched_yield();
}

void qemu_lockcnt_unlock(QemuLockCnt *lockcnt)
{
	qatomic_and(&lockcnt->count, ~1u);
}

unsigned qemu_lockcnt_count(QemuLockCnt *lockcnt)
{
	return qatomic_read(&lockcnt->count) >> 2;
}

struct QemuThreadArgs {
	void *(*start_routine)(void *);
	void *arg;
	char name[16];
};

static void *qemu_thread_start(void *args)
{
	struct QemuThreadArgs *qemu_thread_args = args;
	void *(*start_routine)(void *) = qemu_thread_args->start_routine;
	void *arg = qemu_thread_args->arg;

	/* named from inside: the name is visible in /proc and in the core */
	pthread_setname_np(pthread_self(), qemu_thread_args->name);
	free(qemu_thread_args);
	return start_routine(arg);
}

void qemu_thread_create(QemuThread *thread, const char *name,
			void *(*start_routine)(void *), void *arg, int mode)
{
	struct QemuThreadArgs *args = calloc(1, sizeof(*args));
	pthread_attr_t attr;
	int err;

	args->start_routine = start_routine;
	args->arg = arg;
	snprintf(args->name, sizeof(args->name), "%s", name);
	pthread_attr_init(&attr);
	/* 1 MiB instead of 8: keeps the runtime's cores small */
	pthread_attr_setstacksize(&attr, 1024 * 1024);
	if (mode == QEMU_THREAD_DETACHED)
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&thread->thread, &attr, qemu_thread_start, args);
	if (err)
		error_exit(err, __func__);
	pthread_attr_destroy(&attr);
}

void qemu_thread_join(QemuThread *thread)
{
	pthread_join(thread->thread, NULL);
}

void qemu_thread_naptime_us(unsigned us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000L };

	nanosleep(&ts, NULL);
}

void qemu_rec_mutex_init(QemuRecMutex *mutex)
{
	pthread_mutexattr_t attr;
	int err;

	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	err = pthread_mutex_init(&mutex->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	if (err)
		error_exit(err, __func__);
	mutex->initialized = true;
}

void qemu_rec_mutex_lock_impl(QemuRecMutex *mutex, const char *file, int line)
{
	int err = pthread_mutex_lock(&mutex->lock);

	(void)line;
	if (err)
		error_exit(err, file);
}

void qemu_rec_mutex_unlock(QemuRecMutex *mutex)
{
	qemu_mutex_unlock(mutex);
}
