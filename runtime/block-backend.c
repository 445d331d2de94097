/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * BlockBackend, the device side of a disk (QEMU: block/block-backend.c).
 * In the g5/g10 profiles every request is a coroutine starting at
 * blk_aio_read_entry / blk_aio_write_entry / blk_aio_flush_entry; the g2
 * profile hands over to the 2.x entry points in io.c.
 *
 * Requests that arrive while the backend is quiesced wait on
 * queued_requests.  Unlike QEMU 5.0+, which drops the in-flight count while
 * a request waits, the runtime keeps it counted: a request that slipped in
 * past a drain (iohandler-race) then stays visible as in flight on the
 * drained node, and whoever waits for the node to go idle waits forever.
 */
#include <stdio.h>
#include <stdlib.h>

#include "block/block.h"
#include "qemu/atomic.h"

#define NOT_DONE 0x7fffffff

BlockBackend *blk_new(const char *name, BlockDriverState *bs)
{
	BlockBackend *blk = calloc(1, sizeof(*blk));

	snprintf(blk->name, sizeof(blk->name), "%s", name);
	blk->root_bs = bs;
	bs->blk = blk;
	qemu_co_queue_init(&blk->queued_requests);
	return blk;
}

void blk_root_drained_begin(BlockBackend *blk)
{
	blk->quiesce_counter++;
}

void blk_root_drained_end(BlockBackend *blk)
{
	if (--blk->quiesce_counter == 0)
		qemu_co_queue_restart_all(&blk->queued_requests);
}

void coroutine_fn blk_wait_while_drained(BlockBackend *blk)
{
	while (blk->quiesce_counter && !blk->disable_request_queuing)
		qemu_co_queue_wait(&blk->queued_requests);
}

#if AIOCORE_PROFILE == 2
BlockAIOCB *bdrv_aio_rw(BlockDriverState *bs, int64_t offset, unsigned bytes, bool is_write,
			BlockCompletionFunc *cb, void *opaque);
BlockAIOCB *bdrv_aio_flush(BlockDriverState *bs, BlockCompletionFunc *cb, void *opaque);

BlockAIOCB *blk_aio_preadv(BlockBackend *blk, int64_t offset, unsigned bytes,
			   BlockCompletionFunc *cb, void *opaque)
{
	return bdrv_aio_rw(blk->root_bs, offset, bytes, false, cb, opaque);
}

BlockAIOCB *blk_aio_pwritev(BlockBackend *blk, int64_t offset, unsigned bytes,
			    BlockCompletionFunc *cb, void *opaque)
{
	return bdrv_aio_rw(blk->root_bs, offset, bytes, true, cb, opaque);
}

BlockAIOCB *blk_aio_flush(BlockBackend *blk, BlockCompletionFunc *cb, void *opaque)
{
	return bdrv_aio_flush(blk->root_bs, cb, opaque);
}
#else
typedef struct BlkRwCo {
	BlockBackend *blk;
	int64_t offset;
	int ret;
} BlkRwCo;

typedef struct BlkAioEmAIOCB {
	BlockAIOCB common;
	BlkRwCo rwco;
	unsigned bytes;
	bool has_returned;
} BlkAioEmAIOCB;

static const AIOCBInfo blk_aio_em_aiocb_info = {
	.aiocb_size = sizeof(BlkAioEmAIOCB),
};

static void blk_aio_complete(BlkAioEmAIOCB *acb)
{
	/* if the coroutine finished before blk_aio_prwv() returned, wait for it */
	if (acb->has_returned) {
		bdrv_dec_in_flight(acb->common.bs);
		acb->common.cb(acb->common.opaque, acb->rwco.ret);
		qemu_aio_unref(acb);
	}
}

static void blk_aio_complete_bh(void *opaque)
{
	blk_aio_complete(opaque);
}

static BlockAIOCB *blk_aio_prwv(BlockBackend *blk, int64_t offset, unsigned bytes,
				CoroutineEntry *co_entry, BlockCompletionFunc *cb, void *opaque)
{
	BlkAioEmAIOCB *acb = qemu_aio_get(&blk_aio_em_aiocb_info, blk->root_bs, cb, opaque);
	Coroutine *co;

	acb->rwco.blk = blk;
	acb->rwco.offset = offset;
	acb->rwco.ret = NOT_DONE;
	acb->bytes = bytes;
	acb->has_returned = false;
	bdrv_inc_in_flight(blk->root_bs);

	co = qemu_coroutine_create(co_entry, acb);
	qemu_coroutine_enter(co);

	acb->has_returned = true;
	if (acb->rwco.ret != NOT_DONE)
		aio_bh_schedule_oneshot(bdrv_get_aio_context(blk->root_bs), blk_aio_complete_bh, acb);
	return &acb->common;
}

static void coroutine_fn blk_aio_read_entry(void *opaque)
{
	BlkAioEmAIOCB *acb = opaque;
	BlkRwCo *rwco = &acb->rwco;

	blk_wait_while_drained(rwco->blk);
	rwco->ret = bdrv_co_preadv(rwco->blk->root_bs, rwco->offset, acb->bytes);
	blk_aio_complete(acb);
}

static void coroutine_fn blk_aio_write_entry(void *opaque)
{
	BlkAioEmAIOCB *acb = opaque;
	BlkRwCo *rwco = &acb->rwco;

	blk_wait_while_drained(rwco->blk);
	rwco->ret = bdrv_co_pwritev(rwco->blk->root_bs, rwco->offset, acb->bytes);
	blk_aio_complete(acb);
}

static void coroutine_fn blk_aio_flush_entry(void *opaque)
{
	BlkAioEmAIOCB *acb = opaque;
	BlkRwCo *rwco = &acb->rwco;

	blk_wait_while_drained(rwco->blk);
	rwco->ret = bdrv_co_flush(rwco->blk->root_bs);
	blk_aio_complete(acb);
}

BlockAIOCB *blk_aio_preadv(BlockBackend *blk, int64_t offset, unsigned bytes,
			   BlockCompletionFunc *cb, void *opaque)
{
	return blk_aio_prwv(blk, offset, bytes, blk_aio_read_entry, cb, opaque);
}

BlockAIOCB *blk_aio_pwritev(BlockBackend *blk, int64_t offset, unsigned bytes,
			    BlockCompletionFunc *cb, void *opaque)
{
	return blk_aio_prwv(blk, offset, bytes, blk_aio_write_entry, cb, opaque);
}

BlockAIOCB *blk_aio_flush(BlockBackend *blk, BlockCompletionFunc *cb, void *opaque)
{
	return blk_aio_prwv(blk, 0, 0, blk_aio_flush_entry, cb, opaque);
}
#endif

/* QEMU: block/io.c qemu_aio_get()/qemu_aio_unref() */
void *qemu_aio_get(const AIOCBInfo *aiocb_info, BlockDriverState *bs,
		   BlockCompletionFunc *cb, void *opaque)
{
	BlockAIOCB *acb = calloc(1, aiocb_info->aiocb_size);

	acb->aiocb_info = aiocb_info;
	acb->bs = bs;
	acb->cb = cb;
	acb->opaque = opaque;
	acb->refcnt = 1;
	return acb;
}

void qemu_aio_unref(void *p)
{
	BlockAIOCB *acb = p;

	if (--acb->refcnt == 0)
		free(acb);
}
