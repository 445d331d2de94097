/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef AIOCORE_BLOCK_THREAD_POOL_H
#define AIOCORE_BLOCK_THREAD_POOL_H

/*
 * QEMU 10.0 renamed the AioContext pool and its element (a different,
 * GThreadPool-based "ThreadPool" appeared for migration).  The macros keep
 * one source tree while DWARF shows the names of the profile.
 */
#if AIOCORE_PROFILE >= 10
#define ThreadPool ThreadPoolAio
#define ThreadPoolElement ThreadPoolElementAio
#endif

typedef struct ThreadPool ThreadPool;
typedef struct AioContext AioContext;
typedef struct BlockAIOCB BlockAIOCB;
typedef int ThreadPoolFunc(void *opaque);
typedef void BlockCompletionFunc(void *opaque, int ret);

ThreadPool *thread_pool_new(AioContext *ctx);
BlockAIOCB *thread_pool_submit_aio(ThreadPool *pool, ThreadPoolFunc *func, void *arg,
				   BlockCompletionFunc *cb, void *opaque);
int thread_pool_submit_co(ThreadPool *pool, ThreadPoolFunc *func, void *arg);

/* Counters for tests and the workload: elements on pool->head by state. */
struct thread_pool_stats {
	int queued, active, done, threads, idle;
};
void thread_pool_get_stats(ThreadPool *pool, struct thread_pool_stats *st);
extern int thread_pool_max_threads;

#endif
