/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The slice of QEMU's block layer the workload drives: one raw disk. */
#ifndef AIOCORE_BLOCK_BLOCK_H
#define AIOCORE_BLOCK_BLOCK_H

#include <stdint.h>
#include "block/aio.h"

typedef struct BlockDriverState BlockDriverState;
typedef struct BlockBackend BlockBackend;

typedef struct AIOCBInfo {
	void (*cancel_async)(BlockAIOCB *acb);
	AioContext *(*get_aio_context)(BlockAIOCB *acb);
	size_t aiocb_size;
} AIOCBInfo;

/* Header of every asynchronous request (QEMU 2.1 called it BlockDriverAIOCB). */
struct BlockAIOCB {
	const AIOCBInfo *aiocb_info;
	BlockDriverState *bs;
	BlockCompletionFunc *cb;
	void *opaque;
	int refcnt;
};

void *qemu_aio_get(const AIOCBInfo *aiocb_info, BlockDriverState *bs,
		   BlockCompletionFunc *cb, void *opaque);
void qemu_aio_unref(void *p);

/* QEMU_AIO_* request types (block/raw-aio.h) */
#define QEMU_AIO_READ         0x0001
#define QEMU_AIO_WRITE        0x0002
#define QEMU_AIO_IOCTL        0x0004
#define QEMU_AIO_FLUSH        0x0008
#define QEMU_AIO_DISCARD      0x0010

struct BlockDriverState {
	char filename[64];
	AioContext *aio_context;
	void *opaque;                   /* BDRVRawState */
	unsigned int in_flight;
	int quiesce_counter;
	/* QEMU walks bs->parents; the runtime has at most one BlockBackend */
	BlockBackend *blk;
	QTAILQ_ENTRY(BlockDriverState) bs_list;
};

struct BlockBackend {
	char name[32];
	BlockDriverState *root_bs;
	unsigned int in_flight;
	int quiesce_counter;
	CoQueue queued_requests;        /* requests held while drained */
	bool disable_request_queuing;
};

/* block.c / io.c */
BlockDriverState *bdrv_open_raw(const char *name, int fd);
void bdrv_register(BlockDriverState *bs);
AioContext *bdrv_get_aio_context(BlockDriverState *bs);
void bdrv_inc_in_flight(BlockDriverState *bs);
void bdrv_dec_in_flight(BlockDriverState *bs);
void bdrv_drained_begin(BlockDriverState *bs);
void bdrv_drained_end(BlockDriverState *bs);
void bdrv_drain_all(void);
int coroutine_fn bdrv_co_preadv(BlockDriverState *bs, int64_t offset, unsigned bytes);
int coroutine_fn bdrv_co_pwritev(BlockDriverState *bs, int64_t offset, unsigned bytes);
int coroutine_fn bdrv_co_flush(BlockDriverState *bs);

/* file-posix.c */
int coroutine_fn raw_co_prw(BlockDriverState *bs, int64_t offset, unsigned bytes, int type);
int coroutine_fn raw_co_flush_to_disk(BlockDriverState *bs);
void *paio_submit(BlockDriverState *bs, int64_t offset, unsigned bytes, int type,
		  BlockCompletionFunc *cb, void *opaque);

/* block-backend.c */
BlockBackend *blk_new(const char *name, BlockDriverState *bs);
BlockAIOCB *blk_aio_preadv(BlockBackend *blk, int64_t offset, unsigned bytes,
			   BlockCompletionFunc *cb, void *opaque);
BlockAIOCB *blk_aio_pwritev(BlockBackend *blk, int64_t offset, unsigned bytes,
			    BlockCompletionFunc *cb, void *opaque);
BlockAIOCB *blk_aio_flush(BlockBackend *blk, BlockCompletionFunc *cb, void *opaque);
void blk_drained_begin(BlockBackend *blk);
void blk_drained_end(BlockBackend *blk);

#endif
