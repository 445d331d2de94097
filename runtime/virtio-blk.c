/* SPDX-License-Identifier: GPL-2.0-or-later */
/* virtio-blk's request path (QEMU: hw/block/virtio-blk.c), much reduced. */
#include <stdlib.h>

#include "hw/virtio-blk.h"
#include "qemu/main-loop.h"
#include "aiocore-rt.h"

#define DISK_SECTORS 2048

static void virtio_blk_free_rcu(struct rcu_head *head)
{
	VirtIOBlockReq *req = (VirtIOBlockReq *)((char *)head - offsetof(VirtIOBlockReq, rcu));

	free(req);
}

static void virtio_blk_req_complete(VirtIOBlockReq *req, int ret)
{
	VirtIOBlock *s = req->dev;
	int type = req->type;

	s->inflight--;
	RT_COUNT(completed);
	/* event-lost-wakeup: requests are freed after a grace period */
	if (rt_variant == RT_EVENT_LOST_WAKEUP || rt_variant == RT_FIXED)
		call_rcu1(&req->rcu, virtio_blk_free_rcu);
	else
		free(req);
	guest_complete(s, type, ret);
}

/* werror=stop: stop the VM (which drains all I/O) and let the guest retry */
static void virtio_blk_handle_rw_error(VirtIOBlockReq *req, int error)
{
	(void)error;
	vm_stop();
	guest_io_error(req->dev);
}

static void virtio_blk_rw_complete(void *opaque, int ret)
{
	VirtIOBlockReq *req = opaque;

	if (req->direct_bs) {
		bdrv_dec_in_flight(req->direct_bs);
		free(req->paio);
	}
	if (ret < 0)
		virtio_blk_handle_rw_error(req, -ret);
	virtio_blk_req_complete(req, ret);
}

static void virtio_blk_flush_complete(void *opaque, int ret)
{
	virtio_blk_rw_complete(opaque, ret);
}

void virtio_blk_handle_request(VirtIOBlock *s, int type)
{
	VirtIOBlockReq *req = calloc(1, sizeof(*req));
	int64_t offset = (int64_t)(s->seq++ * 7 % DISK_SECTORS) * 512;

	req->dev = s;
	req->type = type;
	s->inflight++;
	RT_COUNT(submitted);
	switch (type) {
	case QEMU_AIO_READ:
		blk_aio_preadv(s->blk, offset, 512, virtio_blk_rw_complete, req);
		break;
	case QEMU_AIO_WRITE:
		blk_aio_pwritev(s->blk, offset, 512, virtio_blk_rw_complete, req);
		break;
	default:
		blk_aio_flush(s->blk, virtio_blk_flush_complete, req);
		break;
	}
}

/* A request that bypasses the coroutine layer: cb runs in the completion BH. */
void virtio_blk_submit_direct(VirtIOBlock *s, BlockDriverState *bs, int type)
{
	VirtIOBlockReq *req = calloc(1, sizeof(*req));
	int64_t offset = (int64_t)(s->seq++ * 7 % DISK_SECTORS) * 512;

	req->dev = s;
	req->type = type;
	req->direct_bs = bs;
	s->inflight++;
	RT_COUNT(submitted);
	bdrv_inc_in_flight(bs);
	req->paio = paio_submit(bs, offset, 512, type, virtio_blk_rw_complete, req);
}

static void virtio_blk_handle_output(VirtIOBlock *s)
{
	while (s->avail > 0) {
		s->avail--;
		virtio_blk_handle_request(s, guest_next_type(s));
	}
}

static void virtio_queue_host_notifier_read(EventNotifier *n)
{
	VirtIOBlock *s = (VirtIOBlock *)((char *)n - offsetof(VirtIOBlock, host_notifier));

	if (event_notifier_test_and_clear(n))
		virtio_blk_handle_output(s);
}

VirtIOBlock *virtio_blk_device_realize(BlockBackend *blk)
{
	VirtIOBlock *s = calloc(1, sizeof(*s));

	s->blk = blk;
	event_notifier_init(&s->host_notifier, 0);
	/* external: aio_disable_external(iohandler_ctx) silences it */
	aio_set_event_notifier(iohandler_get_aio_context(), &s->host_notifier, true,
			       virtio_queue_host_notifier_read);
	return s;
}
