/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QemuEvent on a futex (QEMU: util/qemu-thread-posix.c, util/event.c in
 * 10.1+).  value: EV_SET 0, EV_FREE 1, EV_BUSY -1 (0xFFFFFFFF unsigned).
 *
 * The event-lost-wakeup variant uses the code from before the QEMU 8.0
 * barrier series: qemu_event_set() may take its "already set" fast path on
 * a stale read, and qemu_event_reset() is not ordered before the caller's
 * next load (call_rcu_thread's re-read of rcu_call_count).
 */
#include <limits.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/syscall.h>

#include "qemu/atomic.h"
#include "qemu/thread.h"
#include "aiocore-rt.h"

#define EV_SET 0
#define EV_FREE 1
#define EV_BUSY -1

static inline void qemu_futex_wake(QemuEvent *ev, int n)
{
	syscall(SYS_futex, &ev->value, FUTEX_WAKE, n, NULL, NULL, 0);
}

static void qemu_futex_wait(QemuEvent *ev, unsigned val)
{
	/* returns at once (EAGAIN) if value != val: no lost wakeup here */
	syscall(SYS_futex, &ev->value, FUTEX_WAIT, (int)val, NULL, NULL, 0);
}

/*
 * event-lost-wakeup in inject mode: qemu_event_reset()'s store parked in
 * this thread's store buffer until our next access to the event.
 */
static __thread QemuEvent *ev_sb;

void qemu_event_sb_drain(void)
{
	if (ev_sb) {
		qatomic_or(&ev_sb->value, EV_FREE);
		ev_sb = NULL;
	}
}

void qemu_event_init(QemuEvent *ev, bool init)
{
	ev->value = init ? EV_SET : EV_FREE;
	ev->initialized = true;
}

void qemu_event_set(QemuEvent *ev)
{
	if (rt_buggy(RT_EVENT_LOST_WAKEUP)) {
		/* pre-8.0: the fast path read is not ordered after the caller's stores */
		if (qatomic_read(&ev->value) != EV_SET) {
			if (qatomic_xchg(&ev->value, EV_SET) == (unsigned)EV_BUSY)
				qemu_futex_wake(ev, INT_MAX);
		}
		return;
	}
	/* order the caller's stores before the read and the xchg */
	smp_mb();
	if (qatomic_read(&ev->value) != EV_SET) {
		if (qatomic_xchg(&ev->value, EV_SET) == (unsigned)EV_BUSY)
			qemu_futex_wake(ev, INT_MAX);
	}
}

void qemu_event_reset(QemuEvent *ev)
{
	if (rt_buggy(RT_EVENT_LOST_WAKEUP)) {
		qemu_event_sb_drain();
		if (qatomic_read(&ev->value) == EV_SET) {
			if (rt_inject(RT_EVENT_LOST_WAKEUP) && rt_trap_armed())
				ev_sb = ev;  /* the OR below, not yet visible */
			else
				qatomic_or(&ev->value, EV_FREE);
		}
		return;
	}
	qatomic_or(&ev->value, EV_FREE);
	/* 8.0: the reset is visible before the caller re-checks its condition */
	smp_mb();
}

void qemu_event_wait(QemuEvent *ev)
{
	unsigned value;

	if (ev_sb == ev)
		qemu_event_sb_drain();
	value = qatomic_load_acquire(&ev->value);
	if (value == EV_SET)
		return;
	if (value == EV_FREE) {
		/* announce a sleeper; a set in between wins */
		if (qatomic_cmpxchg(&ev->value, EV_FREE, (unsigned)EV_BUSY) == EV_SET)
			return;
	}
	/* futex_wait returns at once if the value is no longer BUSY */
	while (qatomic_read(&ev->value) == (unsigned)EV_BUSY)
		qemu_futex_wait(ev, EV_BUSY);
}
