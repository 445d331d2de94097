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
 */
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

	data->job->deferred_to_main_loop = false;
	data->fn(data->job, data->opaque);
	free(data);
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
	aio_bh_schedule_oneshot(qemu_get_aio_context(), block_job_defer_to_main_loop_bh, data);
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

void mirror_start(BlockDriverState *bs)
{
	mirror_job = calloc(1, sizeof(*mirror_job));
	mirror_job->common.id = "mirror0";
	mirror_job->common.bs = bs;
	mirror_job->common.aio_context = bdrv_get_aio_context(bs);
}
