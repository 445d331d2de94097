/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * AioContext: one event loop (a GSource in the main loop, or an IOThread's
 * own loop).  Field names and order follow QEMU's include/block/aio.h for the
 * selected AIOCORE_PROFILE; see docs/reproduce.md.
 */
#ifndef AIOCORE_BLOCK_AIO_H
#define AIOCORE_BLOCK_AIO_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include "qemu/queue.h"
#include "qemu/thread.h"
#include "qemu/coroutine.h"
#include "block/thread-pool.h"

/* The bits of glib's GSource a decoder needs: source_funcs comes first. */
typedef struct GSource GSource;
typedef struct GSourceFuncs {
	bool (*prepare)(GSource *source, int *timeout);
	bool (*check)(GSource *source);
	bool (*dispatch)(GSource *source, void *callback, void *user_data);
	void (*finalize)(GSource *source);
} GSourceFuncs;
struct GSource {
	const GSourceFuncs *source_funcs;
	unsigned ref_count;
	int priority;
	unsigned flags;
};

typedef struct EventNotifier {
	int rfd;
	int wfd;
#if AIOCORE_PROFILE >= 10
	bool initialized;
#endif
} EventNotifier;

typedef struct QEMUBH QEMUBH;
typedef void QEMUBHFunc(void *opaque);
typedef void IOHandler(void *opaque);
typedef void EventNotifierHandler(EventNotifier *n);
typedef struct AioHandler AioHandler;
typedef QLIST_HEAD(, AioHandler) AioHandlerList;

#if AIOCORE_PROFILE >= 5
typedef QSLIST_HEAD(, QEMUBH) BHList;
typedef struct BHListSlice BHListSlice;
struct BHListSlice {
	BHList bh_list;
	QSIMPLEQ_ENTRY(BHListSlice) next;
};
typedef QSIMPLEQ_HEAD(, BHListSlice) BHListSliceHead;
#endif

#if AIOCORE_PROFILE == 2
/*
 * QEMU 2.8's AioContext (2.1 differs: RFifoLock lock, dispatching for
 * notify_me/notified; see docs/real-qemu.md).  Before 2.9 the lists are
 * guarded by walking counters and bh_lock, not a QemuLockCnt, and there is
 * no aio_co_schedule() (scheduled_coroutines, co_schedule_bh).
 */
typedef struct AioContext {
	GSource source;              /* first: validated via source_funcs */
	QemuRecMutex lock;           /* aio_context_acquire() */
	AioHandlerList aio_handlers;
	int walking_handlers;        /* home thread only */
	/* as below: bit 0 main loop in prepare..check, 2 per blocking aio_poll() */
	uint32_t notify_me;
	QemuMutex bh_lock;           /* adding to and freeing from first_bh */
	QEMUBH *first_bh;
	int walking_bh;              /* aio_bh_poll() nesting, home thread only */
	bool notified;
	EventNotifier notifier;
	ThreadPool *thread_pool;
	int external_disable_cnt;
	int epollfd;
} AioContext;
#else
typedef struct AioContext {
	GSource source;              /* first: validated via source_funcs */
	QemuRecMutex lock;           /* aio_context_acquire() (up to 8.x) */
	AioHandlerList aio_handlers;
#if AIOCORE_PROFILE >= 5
	AioHandlerList deleted_aio_handlers;
#endif
	/*
	 * Bit 0: the main loop is between aio_ctx_prepare and aio_ctx_check;
	 * bits 1..31: 2 per blocking aio_poll() in flight.  aio_notify() only
	 * kicks the eventfd when this is non-zero.
	 */
	uint32_t notify_me;
	QemuLockCnt list_lock;
	BHList bh_list;
	BHListSliceHead bh_slice_list;
	bool notified;
	EventNotifier notifier;
	QSLIST_HEAD(, Coroutine) scheduled_coroutines;
	QEMUBH *co_schedule_bh;
	ThreadPool *thread_pool;
	int external_disable_cnt;
	int poll_disable_cnt;
	int epollfd;
} AioContext;
#endif

extern const GSourceFuncs aio_source_funcs;

AioContext *aio_context_new(void);
#if AIOCORE_PROFILE < 10
/* The AioContext lock, a QemuRecMutex (QEMU 9.0 removed it). */
void aio_context_acquire(AioContext *ctx);
void aio_context_release(AioContext *ctx);
#endif
GSource *aio_get_g_source(AioContext *ctx);

QEMUBH *aio_bh_new_full(AioContext *ctx, QEMUBHFunc *cb, void *opaque, const char *name);
#define aio_bh_new(ctx, cb, opaque) aio_bh_new_full((ctx), (cb), (opaque), #cb)
void aio_bh_schedule_oneshot_full(AioContext *ctx, QEMUBHFunc *cb, void *opaque,
				  const char *name);
#define aio_bh_schedule_oneshot(ctx, cb, opaque) \
	aio_bh_schedule_oneshot_full((ctx), (cb), (opaque), #cb)
void qemu_bh_schedule(QEMUBH *bh);
void qemu_bh_cancel(QEMUBH *bh);
void qemu_bh_delete(QEMUBH *bh);
int aio_bh_poll(AioContext *ctx);
/* True if the BH would run on the next aio_bh_poll() (tests, inject mode). */
bool aio_bh_is_runnable(QEMUBH *bh);
int64_t aio_compute_timeout(AioContext *ctx);

void aio_notify(AioContext *ctx);
void aio_notify_accept(AioContext *ctx);
bool aio_prepare(AioContext *ctx);
bool aio_pending(AioContext *ctx);
bool aio_dispatch(AioContext *ctx);
bool aio_poll(AioContext *ctx, bool blocking);

void aio_set_fd_handler(AioContext *ctx, int fd, bool is_external,
			IOHandler *io_read, void *opaque);
void aio_set_event_notifier(AioContext *ctx, EventNotifier *notifier,
			    bool is_external, EventNotifierHandler *io_read);
/* Appends ctx's fds to fds (at most max); returns how many were added. */
int aio_fill_pollfds(AioContext *ctx, struct pollfd *fds, int max);

static inline void aio_disable_external(AioContext *ctx)
{
	__atomic_fetch_add(&ctx->external_disable_cnt, 1, __ATOMIC_SEQ_CST);
}
static inline void aio_enable_external(AioContext *ctx)
{
	if (__atomic_fetch_sub(&ctx->external_disable_cnt, 1, __ATOMIC_SEQ_CST) == 1)
		aio_notify(ctx);
}
static inline bool aio_node_check(AioContext *ctx, bool is_external)
{
	return !is_external || !__atomic_load_n(&ctx->external_disable_cnt, __ATOMIC_RELAXED);
}

void aio_co_schedule(AioContext *ctx, Coroutine *co);
void aio_co_wake(Coroutine *co);
ThreadPool *aio_get_thread_pool(AioContext *ctx);
AioContext *qemu_get_current_aio_context(void);

int event_notifier_init(EventNotifier *e, int active);
int event_notifier_set(EventNotifier *e);
int event_notifier_test_and_clear(EventNotifier *e);

/* qemu-timer.c */
int qemu_poll_ns(struct pollfd *fds, unsigned nfds, int64_t timeout);

#endif
