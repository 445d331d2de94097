/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bottom halves, aio_notify() and the GSource glue of an AioContext
 * (QEMU: async.c, later util/async.c).  QEMUBH is private to this file, as in
 * QEMU, so a DWARF reader has to find it through this compilation unit.
 *
 * The historical orderings selected by --variant live next to today's ones:
 *   lost-completion  qemu_bh_schedule/aio_bh_poll before e8d3b1a25f28
 *   lost-notify      notify_me as a seq-cst RMW before 5710a3e09f9b
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "block/aio.h"
#include "qemu/atomic.h"
#include "qemu/main-loop.h"
#include "aiocore-rt.h"

#if AIOCORE_PROFILE >= 10
typedef struct MemReentrancyGuard {
	bool engaged_in_io;
} MemReentrancyGuard;
#endif

#if AIOCORE_PROFILE >= 5
/* An enum, not macros: decoders read these values from DWARF. */
enum {
	BH_PENDING   = (1 << 0), /* on ctx->bh_list (or a slice of it) */
	BH_SCHEDULED = (1 << 1), /* will run on the next aio_bh_poll() */
	BH_DELETED   = (1 << 2), /* free it after the next aio_bh_poll() */
	BH_ONESHOT   = (1 << 3), /* free it after it ran once */
	BH_IDLE      = (1 << 4), /* does not count as progress */
};
#endif

struct QEMUBH {
	AioContext *ctx;
#if AIOCORE_PROFILE == 2
	QEMUBHFunc *cb;
	void *opaque;
	QEMUBH *next;
	bool scheduled;
	bool idle;
	bool deleted;
#else
	const char *name;
	QEMUBHFunc *cb;
	void *opaque;
	QSLIST_ENTRY(QEMUBH) next;
	unsigned flags;
#if AIOCORE_PROFILE >= 10
	MemReentrancyGuard *reentrancy_guard;
#endif
#endif
};

/*
 * lost-completion in inject mode: a one-entry model of the home thread's
 * store buffer.  aio_bh_poll()'s "not scheduled any more" store is parked
 * here while the callback runs; our own reads see it (store forwarding),
 * other threads do not until a full barrier or the end of the BH drains it.
 */
static __thread QEMUBH *sb_bh;

static void sb_drain(void)
{
	QEMUBH *bh = sb_bh;

	if (!bh)
		return;
	sb_bh = NULL;
#if AIOCORE_PROFILE == 2
	*(volatile bool *)&bh->scheduled = false;
#else
	__atomic_fetch_and(&bh->flags, ~(unsigned)(BH_PENDING | BH_SCHEDULED | BH_IDLE),
			   __ATOMIC_RELAXED);
#endif
}

/* smp_mb() as the pre-e8d3b1a25f28 code used it: it drains our store buffer. */
static void smp_mb_draining(void)
{
	sb_drain();
	smp_mb();
}

bool aio_bh_clear_is_buffered(QEMUBH *bh)
{
	return sb_bh == bh;
}

/* ---------------------------------------------------------------- notify */

void aio_notify(AioContext *ctx)
{
#if AIOCORE_PROFILE >= 5
	if (!rt_buggy(RT_LOST_NOTIFY)) {
		/*
		 * 5.2+: record the notification first, then look at notify_me;
		 * pairs with the smp_mb() after setting notify_me in
		 * aio_ctx_prepare() and aio_poll().
		 */
		smp_wmb();
		qatomic_set(&ctx->notified, true);
		smp_mb();
		if (qatomic_read(&ctx->notify_me))
			event_notifier_set(&ctx->notifier);
		return;
	}
#endif
	/* up to 5.1: notified only records that the eventfd was written */
	smp_mb();
	if (qatomic_read(&ctx->notify_me)) {
		event_notifier_set(&ctx->notifier);
		qatomic_mb_set(&ctx->notified, true);
	}
}

void aio_notify_accept(AioContext *ctx)
{
#if AIOCORE_PROFILE >= 5
	if (!rt_buggy(RT_LOST_NOTIFY)) {
		qatomic_set(&ctx->notified, false);
		/* read BH flags and fds after clearing notified */
		smp_mb();
		return;
	}
#endif
	if (qatomic_xchg(&ctx->notified, false))
		event_notifier_test_and_clear(&ctx->notifier);
}

static void aio_context_notifier_cb(EventNotifier *e)
{
	event_notifier_test_and_clear(e);
}

/* ------------------------------------------------------------ bottom halves */

QEMUBH *aio_bh_new_full(AioContext *ctx, QEMUBHFunc *cb, void *opaque, const char *name)
{
	QEMUBH *bh = calloc(1, sizeof(*bh));

	bh->ctx = ctx;
	bh->cb = cb;
	bh->opaque = opaque;
#if AIOCORE_PROFILE == 2
	(void)name;
	/* 2.x: every BH lives on first_bh until it is deleted */
	qemu_mutex_lock(&ctx->bh_lock);
	bh->next = ctx->first_bh;
	smp_wmb();  /* publish the fields before the list pointer */
	ctx->first_bh = bh;
	qemu_mutex_unlock(&ctx->bh_lock);
#else
	bh->name = name;
#endif
	return bh;
}

#if AIOCORE_PROFILE >= 5
/* 5.0+ (8c6b0356b539): a BH is on bh_list only while BH_PENDING. */
static void aio_bh_enqueue(QEMUBH *bh, unsigned new_flags)
{
	AioContext *ctx = bh->ctx;
	unsigned old_flags;

	/* the fetch_or is a full barrier: the caller's stores come first */
	old_flags = qatomic_fetch_or(&bh->flags, BH_PENDING | new_flags);
	if (!(old_flags & BH_PENDING))
		QSLIST_INSERT_HEAD_ATOMIC(&ctx->bh_list, bh, next);
	aio_notify(ctx);
}

static QEMUBH *aio_bh_dequeue(BHList *head, unsigned *flags)
{
	QEMUBH *bh = QSLIST_FIRST(head);

	if (!bh)
		return NULL;
	QSLIST_REMOVE_HEAD(head, next);

	if (rt_buggy(RT_LOST_COMPLETION)) {
		/*
		 * pre-e8d3b1a25f28 shape: a plain read and a plain store to
		 * clear, followed only by a read barrier.  The store may still
		 * be invisible to a worker while the callback runs.
		 */
		*flags = *(volatile unsigned *)&bh->flags;
		if (rt_trap_buffer_bh_clear())
			sb_bh = bh;
		else
			*(volatile unsigned *)&bh->flags =
				*flags & ~(unsigned)(BH_PENDING | BH_SCHEDULED | BH_IDLE);
		smp_rmb();
		return bh;
	}
	/* full barrier: clearing the flags comes before reading the callback's data */
	*flags = qatomic_fetch_and(&bh->flags, ~(unsigned)(BH_PENDING | BH_SCHEDULED | BH_IDLE));
	return bh;
}
#endif

void aio_bh_schedule_oneshot_full(AioContext *ctx, QEMUBHFunc *cb, void *opaque,
				  const char *name)
{
#if AIOCORE_PROFILE == 2
	QEMUBH *bh = aio_bh_new_full(ctx, cb, opaque, name);

	/* 2.8+: born scheduled and deleted, freed after it ran */
	bh->deleted = true;
	qatomic_mb_set(&bh->scheduled, true);
	aio_notify(ctx);
#else
	QEMUBH *bh = aio_bh_new_full(ctx, cb, opaque, name);

	aio_bh_enqueue(bh, BH_SCHEDULED | BH_ONESHOT);
#endif
}

/* The schedule that e8d3b1a25f28 replaced: early return on a plain read. */
static void qemu_bh_schedule_pre_e8d3b1a(QEMUBH *bh)
{
#if AIOCORE_PROFILE == 2
	bool scheduled = sb_bh == bh ? false : *(volatile bool *)&bh->scheduled;

	if (scheduled)
		return;      /* no barrier: our DONE store may not be visible yet */
	bh->idle = false;
	smp_mb_draining();
	bh->scheduled = true;
	aio_notify(bh->ctx);
#else
	unsigned flags = sb_bh == bh ? 0 : *(volatile unsigned *)&bh->flags;

	if (flags & BH_SCHEDULED)
		return;
	smp_mb_draining();
	aio_bh_enqueue(bh, BH_SCHEDULED);
#endif
}

void qemu_bh_schedule(QEMUBH *bh)
{
	if (rt_buggy(RT_LOST_COMPLETION)) {
		qemu_bh_schedule_pre_e8d3b1a(bh);
		return;
	}
#if AIOCORE_PROFILE == 2
	/* e8d3b1a25f28: the xchg orders the caller's stores before the check */
	bh->idle = false;
	if (qatomic_xchg(&bh->scheduled, true) == false)
		aio_notify(bh->ctx);
#else
	aio_bh_enqueue(bh, BH_SCHEDULED);
#endif
}

void qemu_bh_cancel(QEMUBH *bh)
{
#if AIOCORE_PROFILE == 2
	qatomic_mb_set(&bh->scheduled, false);
#else
	qatomic_and(&bh->flags, ~(unsigned)BH_SCHEDULED);
#endif
}

void qemu_bh_delete(QEMUBH *bh)
{
#if AIOCORE_PROFILE == 2
	bh->scheduled = false;
	qatomic_mb_set(&bh->deleted, true);
#else
	aio_bh_enqueue(bh, BH_DELETED);
#endif
}

static void aio_bh_call(QEMUBH *bh)
{
#if AIOCORE_PROFILE >= 10
	bool last_engaged_in_io = false;

	if (bh->reentrancy_guard) {
		last_engaged_in_io = bh->reentrancy_guard->engaged_in_io;
		bh->reentrancy_guard->engaged_in_io = false;
	}
	bh->cb(bh->opaque);
	if (bh->reentrancy_guard)
		bh->reentrancy_guard->engaged_in_io = last_engaged_in_io;
#else
	bh->cb(bh->opaque);
#endif
}

#if AIOCORE_PROFILE == 2
int aio_bh_poll(AioContext *ctx)
{
	QEMUBH *bh, **bhp, *next;
	int ret = 0;
	bool deleted = false;

	rt_hook_before_bh_poll(ctx);
	ctx->walking_bh++;
	for (bh = qatomic_read(&ctx->first_bh); bh; bh = next) {
		next = qatomic_read(&bh->next);
		if (rt_buggy(RT_LOST_COMPLETION)) {
			if (*(volatile bool *)&bh->scheduled) {
				/* pre-e8d3b1a25f28: plain clear, then only smp_rmb() */
				if (rt_trap_buffer_bh_clear())
					sb_bh = bh;
				else
					*(volatile bool *)&bh->scheduled = false;
				smp_rmb();
				if (!bh->idle)
					ret = 1;
				bh->idle = false;
				aio_bh_call(bh);
				if (sb_bh == bh)
					sb_drain();
			}
		} else if (qatomic_xchg(&bh->scheduled, false)) {
			/* idle BHs do not count as progress */
			if (!bh->idle)
				ret = 1;
			bh->idle = false;
			aio_bh_call(bh);
		}
		if (bh->deleted)
			deleted = true;
	}
	ctx->walking_bh--;

	/* free deleted BHs once nobody walks the list */
	if (deleted && !ctx->walking_bh) {
		qemu_mutex_lock(&ctx->bh_lock);
		bhp = &ctx->first_bh;
		while (*bhp) {
			bh = *bhp;
			if (bh->deleted && !bh->scheduled) {
				*bhp = bh->next;
				free(bh);
			} else {
				bhp = &bh->next;
			}
		}
		qemu_mutex_unlock(&ctx->bh_lock);
	}
	return ret;
}
#else
int aio_bh_poll(AioContext *ctx)
{
	BHListSlice slice;
	BHListSlice *s;
	int ret = 0;

	rt_hook_before_bh_poll(ctx);
	/* a nested aio_bh_poll() takes a new slice and finishes it first */
	QSLIST_MOVE_ATOMIC(&slice.bh_list, &ctx->bh_list);
	QSIMPLEQ_INSERT_TAIL(&ctx->bh_slice_list, &slice, next);

	while ((s = QSIMPLEQ_FIRST(&ctx->bh_slice_list))) {
		QEMUBH *bh;
		unsigned flags;

		bh = aio_bh_dequeue(&s->bh_list, &flags);
		if (!bh) {
			QSIMPLEQ_REMOVE_HEAD(&ctx->bh_slice_list, next);
			continue;
		}
		if ((flags & (BH_SCHEDULED | BH_DELETED)) == BH_SCHEDULED) {
			if (!(flags & BH_IDLE))
				ret = 1;
			aio_bh_call(bh);
		}
		if (sb_bh == bh)
			sb_drain();
		if (flags & (BH_DELETED | BH_ONESHOT))
			free(bh);
	}
	return ret;
}
#endif

bool aio_bh_is_runnable(QEMUBH *bh)
{
#if AIOCORE_PROFILE == 2
	return qatomic_read(&bh->scheduled) && !qatomic_read(&bh->deleted);
#else
	unsigned flags = qatomic_read(&bh->flags);

	return (flags & (BH_SCHEDULED | BH_DELETED)) == BH_SCHEDULED;
#endif
}

/* -1: nothing to do, 0: a BH is runnable, 10 ms: only idle BHs. */
int64_t aio_compute_timeout(AioContext *ctx)
{
	int64_t timeout = -1;
	QEMUBH *bh;

#if AIOCORE_PROFILE == 2
	for (bh = qatomic_read(&ctx->first_bh); bh; bh = qatomic_read(&bh->next)) {
		if (qatomic_read(&bh->scheduled)) {
			if (!bh->idle)
				return 0;
			timeout = 10000000;
		}
	}
#else
	BHListSlice *s;

	QSLIST_FOREACH(bh, &ctx->bh_list, next) {
		unsigned flags = qatomic_read(&bh->flags);

		if ((flags & (BH_SCHEDULED | BH_DELETED)) == BH_SCHEDULED) {
			if (!(flags & BH_IDLE))
				return 0;
			timeout = 10000000;
		}
	}
	/* BHs left in slices by a nested aio_bh_poll() */
	for (s = QSIMPLEQ_FIRST(&ctx->bh_slice_list); s; s = s->next.sqe_next)
		if (!QSLIST_EMPTY(&s->bh_list))
			return 0;
#endif
	return timeout;
}

/* ------------------------------------------------------------- the GSource */

static bool aio_ctx_prepare(GSource *source, int *timeout)
{
	AioContext *ctx = (AioContext *)source;
	int64_t t;

	if (rt_buggy(RT_LOST_NOTIFY)) {
		/*
		 * Before 5710a3e09f9b: a seq-cst RMW, then relaxed loads of the
		 * BH flags.  On aarch64 (LDAXR/STLXR) those loads can be
		 * satisfied before the store half of the RMW is visible, so a
		 * worker can schedule a BH, see notify_me == 0 and skip the
		 * eventfd while we decide to sleep forever.  Inject mode does
		 * the loads first, as the CPU may.
		 */
		if (rt_inject(RT_LOST_NOTIFY) && ctx == qemu_get_aio_context() &&
		    rt_trap_armed()) {
			t = aio_compute_timeout(ctx);
			rt_hook_prepare_loaded(ctx, t);
			qatomic_or(&ctx->notify_me, 1);
		} else {
			qatomic_or(&ctx->notify_me, 1);
			t = aio_compute_timeout(ctx);
		}
	} else {
		/* 5710a3e09f9b: single writer; the full barrier orders the store */
		qatomic_set(&ctx->notify_me, qatomic_read(&ctx->notify_me) | 1);
		smp_mb();
		t = aio_compute_timeout(ctx);
	}
	*timeout = t < 0 ? -1 : (int)((t + 999999) / 1000000);
	return *timeout == 0;
}

static bool aio_ctx_check(GSource *source)
{
	AioContext *ctx = (AioContext *)source;

	if (rt_buggy(RT_LOST_NOTIFY))
		qatomic_and(&ctx->notify_me, ~1u);
	else
		qatomic_store_release(&ctx->notify_me, qatomic_read(&ctx->notify_me) & ~1u);
	aio_notify_accept(ctx);
	return aio_compute_timeout(ctx) == 0 || aio_pending(ctx);
}

static bool aio_ctx_dispatch(GSource *source, void *callback, void *user_data)
{
	AioContext *ctx = (AioContext *)source;

	(void)callback;
	(void)user_data;
	aio_dispatch(ctx);
	return true;
}

static void aio_ctx_finalize(GSource *source)
{
	(void)source;
}

const GSourceFuncs aio_source_funcs = {
	aio_ctx_prepare,
	aio_ctx_check,
	aio_ctx_dispatch,
	aio_ctx_finalize,
};

GSource *aio_get_g_source(AioContext *ctx)
{
	ctx->source.ref_count++;
	return &ctx->source;
}

/* --------------------------------------------------- coroutine scheduling */

#if AIOCORE_PROFILE >= 5
static void co_schedule_bh_cb(void *opaque)
{
	AioContext *ctx = opaque;
	QSLIST_HEAD(, Coroutine) straight, reversed;

	QSLIST_MOVE_ATOMIC(&reversed, &ctx->scheduled_coroutines);
	rt_hook_co_schedule_moved(ctx);
	QSLIST_INIT(&straight);
	while (!QSLIST_EMPTY(&reversed)) {
		Coroutine *co = QSLIST_FIRST(&reversed);

		QSLIST_REMOVE_HEAD(&reversed, co_scheduled_next);
		QSLIST_INSERT_HEAD(&straight, co, co_scheduled_next);
	}
	while (!QSLIST_EMPTY(&straight)) {
		Coroutine *co = QSLIST_FIRST(&straight);

		QSLIST_REMOVE_HEAD(&straight, co_scheduled_next);
		/* clear before entering: the coroutine may schedule itself again */
		qatomic_set(&co->scheduled, NULL);
		qemu_coroutine_enter(co);
	}
}

void aio_co_schedule(AioContext *ctx, Coroutine *co)
{
	const char *scheduled = qatomic_cmpxchg(&co->scheduled, NULL, __func__);

	assert(!scheduled);
	if (rt_buggy(RT_LOST_COROUTINE_WAKE)) {
		/*
		 * A model, not a historical commit: "co_schedule_bh is
		 * already scheduled, it will pick us up", checked *before* the
		 * push.  Between the check and the push the home thread can
		 * run co_schedule_bh_cb() and take the (old) list; the push
		 * then lands on a list whose BH nobody schedules.  A
		 * check-then-act window: no reordering needed, any CPU.
		 * Today's order (below) pushes first and schedules always.
		 */
		bool pending = aio_bh_is_runnable(ctx->co_schedule_bh);

		if (pending)
			rt_hook_co_schedule_skip(ctx);
		QSLIST_INSERT_HEAD_ATOMIC(&ctx->scheduled_coroutines, co, co_scheduled_next);
		if (!pending)
			qemu_bh_schedule(ctx->co_schedule_bh);
		return;
	}
	QSLIST_INSERT_HEAD_ATOMIC(&ctx->scheduled_coroutines, co, co_scheduled_next);
	qemu_bh_schedule(ctx->co_schedule_bh);
}

void aio_co_wake(Coroutine *co)
{
	AioContext *ctx = qatomic_read(&co->ctx);

	if (ctx != qemu_get_current_aio_context() || qemu_in_coroutine())
		aio_co_schedule(ctx, co);
	else
		qemu_coroutine_enter(co);
}
#else
/* before 2.9: no aio_co_schedule(), the waker enters the coroutine itself */
void aio_co_wake(Coroutine *co)
{
	qemu_coroutine_enter(co);
}
#endif

/* ------------------------------------------------------------------ context */

AioContext *aio_context_new(void)
{
	AioContext *ctx = calloc(1, sizeof(*ctx));

	ctx->source.source_funcs = &aio_source_funcs;
	ctx->source.ref_count = 1;
	qemu_rec_mutex_init(&ctx->lock);
	QLIST_INIT(&ctx->aio_handlers);
#if AIOCORE_PROFILE >= 5
	QLIST_INIT(&ctx->deleted_aio_handlers);
	QSIMPLEQ_INIT(&ctx->bh_slice_list);
#endif
#if AIOCORE_PROFILE == 2
	qemu_mutex_init(&ctx->bh_lock);
#else
	qemu_lockcnt_init(&ctx->list_lock);
	QSLIST_INIT(&ctx->scheduled_coroutines);
#endif
	ctx->epollfd = -1;
	if (event_notifier_init(&ctx->notifier, false) < 0) {
		free(ctx);
		return NULL;
	}
	aio_set_event_notifier(ctx, &ctx->notifier, false, aio_context_notifier_cb);
#if AIOCORE_PROFILE >= 5
	ctx->co_schedule_bh = aio_bh_new(ctx, co_schedule_bh_cb, ctx);
#endif
	return ctx;
}

ThreadPool *aio_get_thread_pool(AioContext *ctx)
{
	if (!ctx->thread_pool)
		ctx->thread_pool = thread_pool_new(ctx);
	return ctx->thread_pool;
}

/* --------------------------------------------------------- event notifier */

int event_notifier_init(EventNotifier *e, int active)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	e->rfd = e->wfd = fd;
#if AIOCORE_PROFILE >= 10
	e->initialized = true;
#endif
	if (active)
		event_notifier_set(e);
	return 0;
}

int event_notifier_set(EventNotifier *e)
{
	uint64_t value = 1;
	ssize_t r;

	do {
		r = write(e->wfd, &value, sizeof(value));
	} while (r < 0 && errno == EINTR);
	/* EAGAIN: the counter is saturated, which still means "set" */
	return r < 0 && errno != EAGAIN ? -errno : 0;
}

int event_notifier_test_and_clear(EventNotifier *e)
{
	uint64_t value;
	ssize_t r;

	do {
		r = read(e->rfd, &value, sizeof(value));
	} while (r < 0 && errno == EINTR);
	return r == sizeof(value);
}

#if AIOCORE_PROFILE < 10
void aio_context_acquire(AioContext *ctx)
{
	qemu_rec_mutex_lock(&ctx->lock);
}

void aio_context_release(AioContext *ctx)
{
	qemu_rec_mutex_unlock(&ctx->lock);
}
#endif
