/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The AioContext thread pool (QEMU: thread-pool.c, later util/thread-pool.c).
 * ThreadPool and ThreadPoolElement are private to this file, as in QEMU
 * (ThreadPoolAio / ThreadPoolElementAio in the g10 profile).
 *
 * A request's life: QUEUED on request_list and head; a worker_thread takes
 * it (ACTIVE), runs func(arg), stores ret, then DONE and schedules
 * completion_bh; thread_pool_completion_bh, on the pool's home thread,
 * removes DONE elements from head and calls common.cb(common.opaque, ret).
 */
#include <errno.h>
#include <stdlib.h>

#include "block/block.h"
#include "qemu/atomic.h"
#include "aiocore-rt.h"

enum ThreadState {
	THREAD_QUEUED,
	THREAD_ACTIVE,
	THREAD_DONE,
#if AIOCORE_PROFILE == 2
	THREAD_CANCELED,     /* 2.1: stolen from the queue by a cancel */
#endif
};

typedef struct ThreadPoolElement ThreadPoolElement;

struct ThreadPoolElement {
	BlockAIOCB common;
	ThreadPool *pool;
	ThreadPoolFunc *func;
	void *arg;
	/* written by the worker, read by the completion BH */
	enum ThreadState state;
	int ret;
	/* on request_list while QUEUED */
	QTAILQ_ENTRY(ThreadPoolElement) reqs;
	/* on head from submission to completion */
	QLIST_ENTRY(ThreadPoolElement) all;
};

struct ThreadPool {
	AioContext *ctx;
	QEMUBH *completion_bh;
	QemuMutex lock;
#if AIOCORE_PROFILE == 2
	QemuCond check_cancel;   /* 2.1: a cancel waits here for its request */
#endif
	QemuCond worker_stopped;
#if AIOCORE_PROFILE == 2
	QemuSemaphore sem;
	int max_threads;
#else
	QemuCond request_cond;
#endif
	QEMUBH *new_thread_bh;
	QLIST_HEAD(, ThreadPoolElement) head;
	QTAILQ_HEAD(, ThreadPoolElement) request_list;
	int cur_threads;
	int idle_threads;
	int new_threads;     /* backlog of threads to start */
	int pending_threads; /* threads created but not running yet */
#if AIOCORE_PROFILE == 2
	int pending_cancellations;  /* cancels waiting on check_cancel */
	bool stopping;
#else
	int min_threads;
	int max_threads;
#endif
};

#if AIOCORE_PROFILE >= 5
/* thread_pool_submit_co()'s completion record, found via common.opaque */
typedef struct ThreadPoolCo {
	Coroutine *co;
	int ret;
} ThreadPoolCo;
#endif

int thread_pool_max_threads = 4;

static void *worker_thread(void *opaque)
{
	ThreadPool *pool = opaque;

	qemu_mutex_lock(&pool->lock);
	pool->pending_threads--;

	while (pool->cur_threads <= pool->max_threads) {
		ThreadPoolElement *req;
		int ret;

		if (QTAILQ_EMPTY(&pool->request_list)) {
			pool->idle_threads++;
#if AIOCORE_PROFILE == 2
			qemu_mutex_unlock(&pool->lock);
			ret = qemu_sem_timedwait(&pool->sem, 10000);
			qemu_mutex_lock(&pool->lock);
			pool->idle_threads--;
			if (ret == -1 && QTAILQ_EMPTY(&pool->request_list))
				break;    /* idle for 10 s: exit */
			if (ret == -1 || pool->stopping)
				continue;
#else
			ret = qemu_cond_timedwait(&pool->request_cond, &pool->lock, 10000);
			pool->idle_threads--;
			if (!ret && QTAILQ_EMPTY(&pool->request_list) &&
			    pool->cur_threads > pool->min_threads)
				break;    /* idle for 10 s: exit */
#endif
			continue;
		}

		req = QTAILQ_FIRST(&pool->request_list);
		QTAILQ_REMOVE(&pool->request_list, req, reqs);
		req->state = THREAD_ACTIVE;
		qemu_mutex_unlock(&pool->lock);

		ret = req->func(req->arg);

		req->ret = ret;
		/* write ret before state; pairs with the completion BH's smp_rmb() */
		smp_wmb();
		rt_hook_worker_before_done(req->arg);
		*(volatile enum ThreadState *)&req->state = THREAD_DONE;
#if AIOCORE_PROFILE == 2
		qemu_mutex_lock(&pool->lock);
		if (pool->pending_cancellations)
			qemu_cond_broadcast(&pool->check_cancel);
		qemu_mutex_unlock(&pool->lock);
#endif

		qemu_bh_schedule(pool->completion_bh);
		rt_hook_worker_after_schedule(req->arg);

		qemu_mutex_lock(&pool->lock);
	}

	pool->cur_threads--;
	qemu_cond_signal(&pool->worker_stopped);
	qemu_mutex_unlock(&pool->lock);
	return NULL;
}

static void do_spawn_thread(ThreadPool *pool)
{
	QemuThread t;

	/* runs with pool->lock held */
	if (!pool->new_threads)
		return;
	pool->new_threads--;
	pool->pending_threads++;
	qemu_thread_create(&t, "worker", worker_thread, pool, QEMU_THREAD_DETACHED);
}

static void spawn_thread_bh_fn(void *opaque)
{
	ThreadPool *pool = opaque;

	qemu_mutex_lock(&pool->lock);
	while (pool->new_threads)
		do_spawn_thread(pool);
	qemu_mutex_unlock(&pool->lock);
}

static void spawn_thread(ThreadPool *pool)
{
	pool->cur_threads++;
	pool->new_threads++;
	/*
	 * Start threads from a BH on the home thread: creating threads from
	 * inside a vCPU thread would inherit its signal mask and affinity.
	 */
	if (!pool->pending_threads)
		qemu_bh_schedule(pool->new_thread_bh);
}

static void thread_pool_completion_bh(void *opaque)
{
	ThreadPool *pool = opaque;
	ThreadPoolElement *elem, *next;

restart:
	QLIST_FOREACH_SAFE(elem, &pool->head, all, next) {
#if AIOCORE_PROFILE == 2
		/* a canceled request is released without its callback */
		if (*(volatile enum ThreadState *)&elem->state == THREAD_CANCELED) {
			QLIST_REMOVE(elem, all);
			qemu_aio_unref(elem);
			continue;
		}
#endif
		if (*(volatile enum ThreadState *)&elem->state != THREAD_DONE)
			continue;

		QLIST_REMOVE(elem, all);
		if (elem->common.cb) {
			/* read state before ret */
			smp_rmb();

			/*
			 * 3c80ca158c96: schedule ourselves in case cb() calls
			 * aio_poll() to wait for another request that completed
			 * at the same time.  The nested-poll variant leaves it out.
			 */
			if (!rt_buggy(RT_NESTED_POLL))
				qemu_bh_schedule(pool->completion_bh);

			elem->common.cb(elem->common.opaque, elem->ret);

			/*
			 * The restart below walks the list again anyway, so a
			 * schedule that raced with us can be dropped.  Absent from
			 * the 2014-2015 code the two historical variants model.
			 */
			if (!rt_buggy(RT_NESTED_POLL) && !rt_buggy(RT_LOST_COMPLETION))
				qemu_bh_cancel(pool->completion_bh);

			qemu_aio_unref(elem);
			goto restart;
		}
		qemu_aio_unref(elem);
	}
	rt_hook_completion_walk_done(pool, pool->completion_bh);
}

#if AIOCORE_PROFILE == 2
/*
 * 2.1's synchronous cancel: steal a queued request (taking its semaphore
 * count, so no worker looks for it), else wait until a worker is done.
 */
static void thread_pool_cancel(BlockAIOCB *acb)
{
	ThreadPoolElement *elem = (ThreadPoolElement *)acb;
	ThreadPool *pool = elem->pool;

	qemu_mutex_lock(&pool->lock);
	if (elem->state == THREAD_QUEUED && qemu_sem_timedwait(&pool->sem, 0) == 0) {
		QTAILQ_REMOVE(&pool->request_list, elem, reqs);
		elem->state = THREAD_CANCELED;
		qemu_bh_schedule(pool->completion_bh);
	} else {
		pool->pending_cancellations++;
		while (elem->state != THREAD_CANCELED && elem->state != THREAD_DONE)
			qemu_cond_wait(&pool->check_cancel, &pool->lock);
		pool->pending_cancellations--;
	}
	qemu_mutex_unlock(&pool->lock);
	thread_pool_completion_bh(pool);
}
#else
static void thread_pool_cancel(BlockAIOCB *acb)
{
	ThreadPoolElement *elem = (ThreadPoolElement *)acb;
	ThreadPool *pool = elem->pool;

	qemu_mutex_lock(&pool->lock);
	if (elem->state == THREAD_QUEUED) {
		QTAILQ_REMOVE(&pool->request_list, elem, reqs);
		elem->state = THREAD_DONE;
		elem->ret = -ECANCELED;
		qemu_bh_schedule(pool->completion_bh);
	}
	qemu_mutex_unlock(&pool->lock);
}
#endif

static AioContext *thread_pool_get_aio_context(BlockAIOCB *acb)
{
	ThreadPoolElement *elem = (ThreadPoolElement *)acb;

	return elem->pool->ctx;
}

/* elem->common.aiocb_info == &thread_pool_aiocb_info identifies an element */
static const AIOCBInfo thread_pool_aiocb_info = {
	.aiocb_size = sizeof(ThreadPoolElement),
	.cancel_async = thread_pool_cancel,
	.get_aio_context = thread_pool_get_aio_context,
};

BlockAIOCB *thread_pool_submit_aio(ThreadPool *pool, ThreadPoolFunc *func, void *arg,
				   BlockCompletionFunc *cb, void *opaque)
{
	ThreadPoolElement *req;

	req = qemu_aio_get(&thread_pool_aiocb_info, NULL, cb, opaque);
	req->func = func;
	req->arg = arg;
	req->state = THREAD_QUEUED;
	req->pool = pool;

	QLIST_INSERT_HEAD(&pool->head, req, all);

	qemu_mutex_lock(&pool->lock);
	if (pool->idle_threads == 0 && pool->cur_threads < pool->max_threads)
		spawn_thread(pool);
	QTAILQ_INSERT_TAIL(&pool->request_list, req, reqs);
	qemu_mutex_unlock(&pool->lock);
#if AIOCORE_PROFILE == 2
	qemu_sem_post(&pool->sem);
#else
	qemu_cond_signal(&pool->request_cond);
#endif
	return &req->common;
}

#if AIOCORE_PROFILE >= 5
static void thread_pool_co_cb(void *opaque, int ret)
{
	ThreadPoolCo *co = opaque;

	co->ret = ret;
	aio_co_wake(co->co);
}

int coroutine_fn thread_pool_submit_co(ThreadPool *pool, ThreadPoolFunc *func, void *arg)
{
	ThreadPoolCo tpc = { .co = qemu_coroutine_self(), .ret = -EINPROGRESS };

	thread_pool_submit_aio(pool, func, arg, thread_pool_co_cb, &tpc);
	qemu_coroutine_yield();
	return tpc.ret;
}
#endif

ThreadPool *thread_pool_new(AioContext *ctx)
{
	ThreadPool *pool = calloc(1, sizeof(*pool));

	pool->ctx = ctx;
	pool->completion_bh = aio_bh_new(ctx, thread_pool_completion_bh, pool);
	qemu_mutex_init(&pool->lock);
	qemu_cond_init(&pool->worker_stopped);
#if AIOCORE_PROFILE == 2
	qemu_cond_init(&pool->check_cancel);
	qemu_sem_init(&pool->sem, 0);
#else
	qemu_cond_init(&pool->request_cond);
	pool->min_threads = 0;
#endif
	pool->max_threads = thread_pool_max_threads;
	pool->new_thread_bh = aio_bh_new(ctx, spawn_thread_bh_fn, pool);
	QLIST_INIT(&pool->head);
	QTAILQ_INIT(&pool->request_list);
	return pool;
}

void thread_pool_get_stats(ThreadPool *pool, struct thread_pool_stats *st)
{
	ThreadPoolElement *elem;

	st->queued = st->active = st->done = 0;
	QLIST_FOREACH(elem, &pool->head, all) {
		switch (*(volatile enum ThreadState *)&elem->state) {
		case THREAD_QUEUED: st->queued++; break;
		case THREAD_ACTIVE: st->active++; break;
		case THREAD_DONE: st->done++; break;
		default: break;   /* 2.1's THREAD_CANCELED: on its way out */
		}
	}
	qemu_mutex_lock(&pool->lock);
	st->threads = pool->cur_threads;
	st->idle = pool->idle_threads;
	qemu_mutex_unlock(&pool->lock);
}
