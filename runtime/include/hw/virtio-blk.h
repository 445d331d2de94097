/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A virtio-blk device reduced to its request path.  The "guest" (workload.c)
 * makes requests available and kicks the host notifier, an EventNotifier
 * handled on iohandler_ctx as an external handler, like QEMU's non-dataplane
 * virtio host notifiers.
 */
#ifndef AIOCORE_HW_VIRTIO_BLK_H
#define AIOCORE_HW_VIRTIO_BLK_H

#include "block/block.h"
#include "qemu/rcu.h"

typedef struct VirtIOBlock {
	BlockBackend *blk;
	EventNotifier host_notifier;
	unsigned avail;       /* made available by the guest, not yet popped */
	unsigned inflight;    /* popped, not yet completed */
	unsigned seq;
} VirtIOBlock;

typedef struct VirtIOBlockReq {
	VirtIOBlock *dev;
	int type;             /* QEMU_AIO_* */
	BlockDriverState *direct_bs;   /* set when submitted with paio_submit() */
	void *paio;
	struct rcu_head rcu;
} VirtIOBlockReq;

VirtIOBlock *virtio_blk_device_realize(BlockBackend *blk);
void virtio_blk_handle_request(VirtIOBlock *s, int type);
void virtio_blk_submit_direct(VirtIOBlock *s, BlockDriverState *bs, int type);

/* workload.c: the guest driver */
int guest_next_type(VirtIOBlock *s);
void guest_complete(VirtIOBlock *s, int type, int ret);
void guest_io_error(VirtIOBlock *s);

#endif
