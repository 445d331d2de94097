/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Block layer core (QEMU: block.c and block/io.c): the BDS list, in-flight
 * accounting, drained sections, and in the g2 profile the 2.x coroutine
 * emulation that seed 003 shows: bdrv_co_io_em() submits with
 * bdrv_co_io_em_complete and a CoroutineIOCompletion on its stack, and the
 * request coroutine starts at bdrv_co_do_rw / bdrv_aio_flush_co_entry.
 */
#include <stdlib.h>

#include "block/block.h"
#include "qemu/atomic.h"
#include "qemu/main-loop.h"

static QTAILQ_HEAD(, BlockDriverState) all_bdrv_states;
static bool all_bdrv_states_ready;

void blk_root_drained_begin(BlockBackend *blk);
void blk_root_drained_end(BlockBackend *blk);

void bdrv_register(BlockDriverState *bs)
{
	if (!all_bdrv_states_ready) {
		QTAILQ_INIT(&all_bdrv_states);
		all_bdrv_states_ready = true;
	}
	bs->aio_context = qemu_get_aio_context();
	QTAILQ_INSERT_TAIL(&all_bdrv_states, bs, bs_list);
}

AioContext *bdrv_get_aio_context(BlockDriverState *bs)
{
	return bs->aio_context;
}

void bdrv_inc_in_flight(BlockDriverState *bs)
{
	qatomic_inc(&bs->in_flight);
}

/* AIO_WAIT_WHILE() re-checks after every aio_poll() on this thread */
void bdrv_dec_in_flight(BlockDriverState *bs)
{
	qatomic_dec(&bs->in_flight);
}

void bdrv_drained_begin(BlockDriverState *bs)
{
	AioContext *ctx = bdrv_get_aio_context(bs);

	if (bs->quiesce_counter++ == 0) {
		/* stops external handlers of the node's own context only */
		aio_disable_external(ctx);
		if (bs->blk)
			blk_root_drained_begin(bs->blk);
	}
	AIO_WAIT_WHILE(ctx, qatomic_read(&bs->in_flight) > 0);
}

void bdrv_drained_end(BlockDriverState *bs)
{
	if (--bs->quiesce_counter == 0) {
		aio_enable_external(bdrv_get_aio_context(bs));
		if (bs->blk)
			blk_root_drained_end(bs->blk);
	}
}

void bdrv_drain_all(void)
{
	BlockDriverState *bs;

	QTAILQ_FOREACH(bs, &all_bdrv_states, bs_list)
		bdrv_drained_begin(bs);
	QTAILQ_FOREACH(bs, &all_bdrv_states, bs_list)
		bdrv_drained_end(bs);
}

#if AIOCORE_PROFILE == 2
/* the completion record that seed 003 reaches through common.opaque */
typedef struct CoroutineIOCompletion {
	Coroutine *coroutine;
	int ret;
} CoroutineIOCompletion;

static void bdrv_co_io_em_complete(void *opaque, int ret)
{
	CoroutineIOCompletion *co = opaque;

	co->ret = ret;
	qemu_coroutine_enter(co->coroutine);
}

static int coroutine_fn bdrv_co_io_em(BlockDriverState *bs, int64_t offset, unsigned bytes,
				      int type)
{
	CoroutineIOCompletion co = {
		.coroutine = qemu_coroutine_self(),
	};
	void *acb;

	acb = paio_submit(bs, offset, bytes, type, bdrv_co_io_em_complete, &co);
	qemu_coroutine_yield();
	free(acb);
	return co.ret;
}
#endif

int coroutine_fn bdrv_co_preadv(BlockDriverState *bs, int64_t offset, unsigned bytes)
{
#if AIOCORE_PROFILE == 2
	return bdrv_co_io_em(bs, offset, bytes, QEMU_AIO_READ);
#else
	return raw_co_prw(bs, offset, bytes, QEMU_AIO_READ);
#endif
}

int coroutine_fn bdrv_co_pwritev(BlockDriverState *bs, int64_t offset, unsigned bytes)
{
#if AIOCORE_PROFILE == 2
	return bdrv_co_io_em(bs, offset, bytes, QEMU_AIO_WRITE);
#else
	return raw_co_prw(bs, offset, bytes, QEMU_AIO_WRITE);
#endif
}

int coroutine_fn bdrv_co_flush(BlockDriverState *bs)
{
#if AIOCORE_PROFILE == 2
	return bdrv_co_io_em(bs, 0, 0, QEMU_AIO_FLUSH);
#else
	return raw_co_flush_to_disk(bs);
#endif
}

#if AIOCORE_PROFILE == 2
void coroutine_fn blk_wait_while_drained(BlockBackend *blk);

typedef struct BlockRequest {
	int64_t offset;
	unsigned bytes;
	int error;
} BlockRequest;

typedef struct BlockAIOCBCoroutine {
	BlockAIOCB common;
	BlockRequest req;
	bool is_write;
	QEMUBH *bh;
} BlockAIOCBCoroutine;

static const AIOCBInfo bdrv_em_co_aiocb_info = {
	.aiocb_size = sizeof(BlockAIOCBCoroutine),
};

static void bdrv_co_em_bh(void *opaque)
{
	BlockAIOCBCoroutine *acb = opaque;

	bdrv_dec_in_flight(acb->common.bs);
	acb->common.cb(acb->common.opaque, acb->req.error);
	qemu_bh_delete(acb->bh);
	qemu_aio_unref(acb);
}

static void bdrv_co_complete(BlockAIOCBCoroutine *acb)
{
	acb->bh = aio_bh_new(bdrv_get_aio_context(acb->common.bs), bdrv_co_em_bh, acb);
	qemu_bh_schedule(acb->bh);
}

/* entry of read/write request coroutines in 2.x */
static void coroutine_fn bdrv_co_do_rw(void *opaque)
{
	BlockAIOCBCoroutine *acb = opaque;
	BlockDriverState *bs = acb->common.bs;

	if (bs->blk)
		blk_wait_while_drained(bs->blk);
	if (acb->is_write)
		acb->req.error = bdrv_co_pwritev(bs, acb->req.offset, acb->req.bytes);
	else
		acb->req.error = bdrv_co_preadv(bs, acb->req.offset, acb->req.bytes);
	bdrv_co_complete(acb);
}

static void coroutine_fn bdrv_aio_flush_co_entry(void *opaque)
{
	BlockAIOCBCoroutine *acb = opaque;
	BlockDriverState *bs = acb->common.bs;

	if (bs->blk)
		blk_wait_while_drained(bs->blk);
	acb->req.error = bdrv_co_flush(bs);
	bdrv_co_complete(acb);
}

static BlockAIOCB *bdrv_co_aio_start(BlockDriverState *bs, CoroutineEntry *entry,
				     int64_t offset, unsigned bytes, bool is_write,
				     BlockCompletionFunc *cb, void *opaque)
{
	BlockAIOCBCoroutine *acb = qemu_aio_get(&bdrv_em_co_aiocb_info, bs, cb, opaque);
	Coroutine *co;

	acb->req.offset = offset;
	acb->req.bytes = bytes;
	acb->is_write = is_write;
	bdrv_inc_in_flight(bs);
	co = qemu_coroutine_create(entry, acb);
	qemu_coroutine_enter(co);
	return &acb->common;
}

BlockAIOCB *bdrv_aio_rw(BlockDriverState *bs, int64_t offset, unsigned bytes, bool is_write,
			BlockCompletionFunc *cb, void *opaque)
{
	return bdrv_co_aio_start(bs, bdrv_co_do_rw, offset, bytes, is_write, cb, opaque);
}

BlockAIOCB *bdrv_aio_flush(BlockDriverState *bs, BlockCompletionFunc *cb, void *opaque)
{
	return bdrv_co_aio_start(bs, bdrv_aio_flush_co_entry, 0, 0, false, cb, opaque);
}
#endif
