/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fd handlers and the blocking aio_poll() (QEMU: aio-posix.c, later
 * util/aio-posix.c).  A blocking aio_poll() announces itself by adding 2 to
 * notify_me and sleeps in qemu_poll_ns() -> ppoll().
 */
#include <stdlib.h>

#include "block/aio.h"
#include "qemu/atomic.h"
#include "aiocore-rt.h"

typedef struct GPollFD {
	int fd;
	unsigned short events;
	unsigned short revents;
} GPollFD;

struct AioHandler {
	GPollFD pfd;
	IOHandler *io_read;
	void *opaque;
	bool is_external;
	QLIST_ENTRY(AioHandler) node;
};

/* Handlers are only added while the runtime starts; never removed. */
void aio_set_fd_handler(AioContext *ctx, int fd, bool is_external,
			IOHandler *io_read, void *opaque)
{
	AioHandler *node = calloc(1, sizeof(*node));

	node->pfd.fd = fd;
	node->pfd.events = POLLIN;
	node->io_read = io_read;
	node->opaque = opaque;
	node->is_external = is_external;
#if AIOCORE_PROFILE == 2
	/* 2.x: under the AioContext's lock (here: while the runtime starts) */
	QLIST_INSERT_HEAD(&ctx->aio_handlers, node, node);
#else
	qemu_lockcnt_lock(&ctx->list_lock);
	QLIST_INSERT_HEAD(&ctx->aio_handlers, node, node);
	qemu_lockcnt_unlock(&ctx->list_lock);
#endif
}

static void aio_event_notifier_read(void *opaque);

struct event_notifier_handler {
	EventNotifier *notifier;
	EventNotifierHandler *io_read;
};

static void aio_event_notifier_read(void *opaque)
{
	struct event_notifier_handler *h = opaque;

	h->io_read(h->notifier);
}

void aio_set_event_notifier(AioContext *ctx, EventNotifier *notifier,
			    bool is_external, EventNotifierHandler *io_read)
{
	struct event_notifier_handler *h = calloc(1, sizeof(*h));

	h->notifier = notifier;
	h->io_read = io_read;
	aio_set_fd_handler(ctx, notifier->rfd, is_external, aio_event_notifier_read, h);
}

int aio_fill_pollfds(AioContext *ctx, struct pollfd *fds, int max)
{
	AioHandler *node;
	int n = 0;

	QLIST_FOREACH(node, &ctx->aio_handlers, node) {
		/* external handlers are not even polled while disabled */
		if (n < max && aio_node_check(ctx, node->is_external)) {
			fds[n].fd = node->pfd.fd;
			fds[n].events = node->pfd.events;
			fds[n].revents = 0;
			n++;
		}
	}
	return n;
}

/* Copies ppoll()'s results back into the handlers. */
void aio_set_revents(AioContext *ctx, const struct pollfd *fds, int n)
{
	AioHandler *node;
	int i;

	QLIST_FOREACH(node, &ctx->aio_handlers, node) {
		for (i = 0; i < n; i++) {
			if (fds[i].fd == node->pfd.fd) {
				node->pfd.revents = fds[i].revents;
				break;
			}
		}
	}
}

bool aio_pending(AioContext *ctx)
{
	AioHandler *node;

	QLIST_FOREACH(node, &ctx->aio_handlers, node)
		if ((node->pfd.revents & (POLLIN | POLLHUP | POLLERR)) &&
		    aio_node_check(ctx, node->is_external))
			return true;
	return false;
}

static bool aio_dispatch_handlers(AioContext *ctx)
{
	AioHandler *node;
	bool progress = false;

	QLIST_FOREACH(node, &ctx->aio_handlers, node) {
		unsigned short revents = node->pfd.revents;

		if (!(revents & (POLLIN | POLLHUP | POLLERR)) ||
		    !aio_node_check(ctx, node->is_external))
			continue;
		node->pfd.revents = 0;
		node->io_read(node->opaque);
		/* the context's own notifier does not count as progress */
		if (node->pfd.fd != ctx->notifier.rfd)
			progress = true;
	}
	return progress;
}

/* Walking aio_handlers: 2.9+ counts walkers in list_lock, 2.x in a plain int. */
static void handlers_walk_begin(AioContext *ctx)
{
#if AIOCORE_PROFILE == 2
	ctx->walking_handlers++;
#else
	qemu_lockcnt_inc(&ctx->list_lock);
#endif
}

static void handlers_walk_end(AioContext *ctx)
{
#if AIOCORE_PROFILE == 2
	ctx->walking_handlers--;
#else
	qemu_lockcnt_dec(&ctx->list_lock);
#endif
}

bool aio_dispatch(AioContext *ctx)
{
	bool progress;

	handlers_walk_begin(ctx);
	progress = aio_bh_poll(ctx);
	progress |= aio_dispatch_handlers(ctx);
	handlers_walk_end(ctx);
	return progress;
}

bool aio_poll(AioContext *ctx, bool blocking)
{
	struct pollfd fds[16];
	int64_t timeout;
	bool progress;
	int n, ret;

	handlers_walk_begin(ctx);
	if (blocking) {
		if (rt_buggy(RT_LOST_NOTIFY)) {
			qatomic_add(&ctx->notify_me, 2);  /* pre-5710a3e09f9b */
		} else {
			qatomic_set(&ctx->notify_me, qatomic_read(&ctx->notify_me) + 2);
			/* write notify_me before reading the BH flags */
			smp_mb();
		}
	}
	timeout = blocking ? aio_compute_timeout(ctx) : 0;

	n = aio_fill_pollfds(ctx, fds, 16);
	ret = qemu_poll_ns(fds, n, timeout);

	if (blocking) {
		if (rt_buggy(RT_LOST_NOTIFY))
			qatomic_sub(&ctx->notify_me, 2);
		else
			qatomic_store_release(&ctx->notify_me, qatomic_read(&ctx->notify_me) - 2);
		aio_notify_accept(ctx);
	}
	if (ret > 0)
		aio_set_revents(ctx, fds, n);

	progress = aio_bh_poll(ctx);
	progress |= aio_dispatch_handlers(ctx);
	handlers_walk_end(ctx);
	return progress;
}
