/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The raw POSIX driver (QEMU: block/raw-posix.c, later block/file-posix.c):
 * requests run in the thread pool as handle_aiocb_<kind>(RawPosixAIOData *),
 * so ThreadPoolElement.func names the kind of a request and arg->aio_type
 * holds its QEMU_AIO_* type.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "block/block.h"
#include "aiocore-rt.h"

typedef struct BDRVRawState {
	int fd;
} BDRVRawState;

typedef struct RawPosixAIOData {
	BlockDriverState *bs;
	int aio_type;
	int aio_fildes;
	off_t aio_offset;
	uint64_t aio_nbytes;
	char buf[512];
} RawPosixAIOData;

static int handle_aiocb_rw(void *opaque)
{
	RawPosixAIOData *aiocb = opaque;
	ssize_t len;

	rt_hook_io(aiocb);
	if (aiocb->aio_type & QEMU_AIO_WRITE)
		len = pwrite(aiocb->aio_fildes, aiocb->buf, aiocb->aio_nbytes, aiocb->aio_offset);
	else
		len = pread(aiocb->aio_fildes, aiocb->buf, aiocb->aio_nbytes, aiocb->aio_offset);
	if (len < 0)
		return -errno;
	return 0;
}

static int handle_aiocb_flush(void *opaque)
{
	RawPosixAIOData *aiocb = opaque;

	rt_hook_io(aiocb);
	if (fdatasync(aiocb->aio_fildes) < 0)
		return -errno;
	return 0;
}

static void raw_prepare(RawPosixAIOData *acb, BlockDriverState *bs, int64_t offset,
			unsigned bytes, int type)
{
	BDRVRawState *s = bs->opaque;

	acb->bs = bs;
	acb->aio_type = type;
	acb->aio_fildes = s->fd;
	acb->aio_offset = offset;
	acb->aio_nbytes = bytes > sizeof(acb->buf) ? sizeof(acb->buf) : bytes;
	rt_hook_submit(acb, type);
}

#if AIOCORE_PROFILE >= 5
static int coroutine_fn raw_thread_pool_submit(BlockDriverState *bs, ThreadPoolFunc *func,
					       void *arg)
{
	ThreadPool *pool = aio_get_thread_pool(bdrv_get_aio_context(bs));

	return thread_pool_submit_co(pool, func, arg);
}

int coroutine_fn raw_co_prw(BlockDriverState *bs, int64_t offset, unsigned bytes, int type)
{
	RawPosixAIOData acb;

	raw_prepare(&acb, bs, offset, bytes, type);
	return raw_thread_pool_submit(bs, handle_aiocb_rw, &acb);
}

int coroutine_fn raw_co_flush_to_disk(BlockDriverState *bs)
{
	RawPosixAIOData acb;

	raw_prepare(&acb, bs, 0, 0, QEMU_AIO_FLUSH);
	return raw_thread_pool_submit(bs, handle_aiocb_flush, &acb);
}
#endif

/*
 * Callback-style submission (2.x raw_aio_submit -> paio_submit): returns the
 * RawPosixAIOData, which the caller frees once cb has run, so that arg
 * stays valid for as long as the element is on pool->head.
 */
void *paio_submit(BlockDriverState *bs, int64_t offset, unsigned bytes, int type,
		  BlockCompletionFunc *cb, void *opaque)
{
	RawPosixAIOData *acb = calloc(1, sizeof(*acb));
	ThreadPool *pool = aio_get_thread_pool(bdrv_get_aio_context(bs));

	raw_prepare(acb, bs, offset, bytes, type);
	thread_pool_submit_aio(pool, type & QEMU_AIO_FLUSH ? handle_aiocb_flush : handle_aiocb_rw,
			       acb, cb, opaque);
	return acb;
}

BlockDriverState *bdrv_open_raw(const char *name, int fd)
{
	BlockDriverState *bs = calloc(1, sizeof(*bs));
	BDRVRawState *s = calloc(1, sizeof(*s));

	snprintf(bs->filename, sizeof(bs->filename), "%s", name);
	s->fd = fd;
	bs->opaque = s;
	bdrv_register(bs);
	return bs;
}
