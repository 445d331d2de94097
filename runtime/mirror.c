/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The end of a mirror block job (QEMU 2.5/2.6: block/mirror.c, blockjob.c),
 * reduced to the steps of seed 004:
 *   mirror_run:  bdrv_drained_begin(bs); block_job_defer_to_main_loop(mirror_exit)
 *   ...          the main loop dispatches iohandler_ctx: a virtio host
 *                notifier may submit a guest request on the drained node
 *   mirror_exit: wants the node idle before switching it, and bdrv_drained_end
 * ab27c3b5e740 also disables iohandler_ctx's external handlers for the
 * drained section; the iohandler-race variant leaves that out, and the
 * request that slips in keeps mirror_exit waiting in aio_poll for good.
 *
 * bql-poll-cycle (a model of GitLab #780): the job runs in an IOThread and
 * its exit BH runs there, under the BQL; mirror_exit ends by flushing the
 * source (bdrv_close -> bdrv_flush in #780).  The node belongs to the main
 * context, so the flush is handed to the main loop, and the BQL holder then
 * polls its own context until it is done: the main loop needs the BQL to
 * run the flush, and the IOThread never lets go of it.
 */
#include <errno.h>
#include <stdlib.h>

#include "block/block.h"
#include "qemu/atomic.h"
#include "qemu/main-loop.h"
#include "aiocore-rt.h"

typedef struct BlockJob {
	const char *id;
	BlockDriverState *bs;
	AioContext *aio_context;
	bool deferred_to_main_loop;
	bool busy;
} BlockJob;

typedef void BlockJobDeferToMainLoopFn(BlockJob *job, void *opaque);

typedef struct {
	BlockJob *job;
	AioContext *aio_context;
	BlockJobDeferToMainLoopFn *fn;
	void *opaque;
} BlockJobDeferToMainLoopData;

typedef struct MirrorBlockJob {
	BlockJob common;
	int ret;
	unsigned cycles;
} MirrorBlockJob;

typedef struct {
	int ret;
} MirrorExitData;

static void block_job_defer_to_main_loop_bh(void *opaque)
{
	BlockJobDeferToMainLoopData *data = opaque;

	/* the exit code runs under the BQL; the main loop already holds it */
	bool lock = !qemu_mutex_iothread_locked();

	if (lock)
		qemu_mutex_lock_iothread();
	data->job->deferred_to_main_loop = false;
	data->fn(data->job, data->opaque);
	free(data);
	if (lock)
		qemu_mutex_unlock_iothread();
}

static void block_job_defer_to_main_loop(BlockJob *job, BlockJobDeferToMainLoopFn *fn,
					 void *opaque)
{
	BlockJobDeferToMainLoopData *data = calloc(1, sizeof(*data));

	data->job = job;
	data->aio_context = job->aio_context;
	data->fn = fn;
	data->opaque = opaque;
	job->deferred_to_main_loop = true;
	/*
	 * bql-poll-cycle: the exit runs in the job's own context (an IOThread),
	 * like the job_exit BH that #780's migration thread ran in its aio_poll.
	 */
	aio_bh_schedule_oneshot(rt_buggy(RT_BQL_POLL_CYCLE) ? job->aio_context :
				qemu_get_aio_context(),
				block_job_defer_to_main_loop_bh, data);
}

typedef struct BdrvFlushData {
	BlockDriverState *bs;
	AioContext *waiter;
	int ret;
	bool done;
} BdrvFlushData;

/* In the node's context: the flush itself (the memfd needs none). */
static void bdrv_flush_bh(void *opaque)
{
	BdrvFlushData *data = opaque;

	data->ret = 0;
	RT_COUNT(completed);
	qatomic_store_release(&data->done, true);
	aio_notify(data->waiter);
}

/*
 * bdrv_flush() outside a coroutine: the flush runs in the node's context
 * and the caller polls until it is done.
 */
static int bdrv_flush(BlockDriverState *bs)
{
	AioContext *ctx = bdrv_get_aio_context(bs);
	BdrvFlushData data = { .bs = bs, .ret = -EINPROGRESS };
	QEMUBH *bh;

	RT_COUNT(submitted);
	if (ctx == qemu_get_current_aio_context()) {
		data.waiter = ctx;
		bdrv_flush_bh(&data);
		return data.ret;
	}
	if (rt_buggy(RT_BQL_POLL_CYCLE)) {
		/*
		 * #780: wait in our own context.  Only the main loop runs
		 * bdrv_flush_bh, and it waits for the BQL that we hold.
		 */
		data.waiter = qemu_get_current_aio_context();
	} else {
		/* we hold the BQL: poll the main context ourselves */
		data.waiter = qemu_mutex_iothread_locked() ? qemu_get_aio_context() : ctx;
	}
	bh = aio_bh_new(ctx, bdrv_flush_bh, &data);
	qemu_bh_schedule(bh);
	AIO_WAIT_WHILE(data.waiter, !qatomic_load_acquire(&data.done));
	qemu_bh_delete(bh);
	return data.ret;
}

static void mirror_exit(BlockJob *job, void *opaque)
{
	MirrorBlockJob *s = (MirrorBlockJob *)job;
	MirrorExitData *data = opaque;
	BlockDriverState *src = job->bs;

	/*
	 * Switching the node needs it idle (3f09bfbc7be asserts it).  The
	 * drained section guaranteed that, unless a request slipped in.
	 */
	AIO_WAIT_WHILE(qemu_get_aio_context(), qatomic_read(&src->in_flight) > 0);

	s->ret = data->ret;
	free(data);
	bdrv_drained_end(src);
	if (!rt_buggy(RT_IOHANDLER_RACE))
		aio_enable_external(iohandler_get_aio_context());
	/* bql-poll-cycle: mirror_exit_common -> ... -> bdrv_close -> bdrv_flush */
	if (rt_variant == RT_BQL_POLL_CYCLE)
		bdrv_flush(src);
	job->busy = false;
	s->cycles++;
	RT_COUNT(iterations);
}

static void mirror_run(void *opaque)
{
	MirrorBlockJob *s = opaque;
	BlockDriverState *bs = s->common.bs;
	MirrorExitData *data;

	/* (the copy loop is elided: the job is "ready" and told to complete) */
	data = calloc(1, sizeof(*data));
	data->ret = 0;

	/* before we switch to the target in mirror_exit, make sure data doesn't change */
	bdrv_drained_begin(bs);
	if (!rt_buggy(RT_IOHANDLER_RACE)) {
		/* ab27c3b5e740: virtio host notifiers run on iohandler_ctx */
		aio_disable_external(iohandler_get_aio_context());
	}
	block_job_defer_to_main_loop(&s->common, mirror_exit, data);
}

static MirrorBlockJob *mirror_job;

/* block-job-complete: start the final step of the job on the main loop. */
void mirror_complete_bh(void *opaque)
{
	(void)opaque;
	if (!mirror_job || mirror_job->common.busy)
		return;
	mirror_job->common.busy = true;
	mirror_run(mirror_job);
}

bool mirror_job_busy(void)
{
	return mirror_job && mirror_job->common.busy;
}

/* bql-poll-cycle: the job runs in an IOThread. */
void mirror_set_aio_context(AioContext *ctx)
{
	if (mirror_job)
		mirror_job->common.aio_context = ctx;
}

void mirror_start(BlockDriverState *bs)
{
	mirror_job = calloc(1, sizeof(*mirror_job));
	mirror_job->common.id = "mirror0";
	mirror_job->common.bs = bs;
	mirror_job->common.aio_context = bdrv_get_aio_context(bs);
}
