/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * call_rcu() and its "call_rcu" thread (QEMU: util/rcu.c).  The runtime has
 * no RCU readers, so a grace period is immediate; what matters for cores is
 * the thread and its QemuEvent handshake with call_rcu1():
 *   call_rcu1:       enqueue; rcu_call_count++; qemu_event_set()
 *   call_rcu_thread: count == 0 ? reset, re-read count, wait : run callbacks
 */
#include <stdlib.h>

#include "qemu/atomic.h"
#include "qemu/rcu.h"
#include "qemu/thread.h"
#include "aiocore-rt.h"

unsigned long rcu_gp_ctr;
static QemuEvent rcu_gp_event;
static QemuMutex rcu_sync_lock;

/* a lock-free MPSC queue, as in QEMU: dummy node, head, tail */
static struct rcu_head dummy;
static struct rcu_head *head = &dummy, **tail = &dummy.next;
static int rcu_call_count;
static QemuEvent rcu_call_ready_event;

#define RCU_CALL_MIN_SIZE 30


void synchronize_rcu(void)
{
	/* no registered readers: flip the counter and we are done */
	qemu_mutex_lock(&rcu_sync_lock);
	qatomic_set(&rcu_gp_ctr, rcu_gp_ctr + 2);
	qemu_mutex_unlock(&rcu_sync_lock);
}

static void enqueue(struct rcu_head *node)
{
	struct rcu_head **old_tail;

	node->next = NULL;
	old_tail = qatomic_xchg(&tail, &node->next);
	qatomic_mb_set(old_tail, node);
}

static struct rcu_head *try_dequeue(void)
{
	struct rcu_head *node, *next;

retry:
	node = head;
	next = qatomic_load_acquire(&head->next);
	if (!next)
		return NULL;
	head = next;
	if (node == &dummy) {
		enqueue(node);
		goto retry;
	}
	return node;
}

static void *call_rcu_thread(void *opaque)
{
	struct rcu_head *node;

	(void)opaque;
	for (;;) {
		int tries = 0;
		int n = qatomic_read(&rcu_call_count);

		/* wait for a batch, or 50 ms, before paying for a grace period */
		while (n == 0 || (n < RCU_CALL_MIN_SIZE && ++tries <= 5)) {
			qemu_thread_naptime_us(10000);
			if (n == 0) {
				qemu_event_reset(&rcu_call_ready_event);
				n = qatomic_read(&rcu_call_count);
				rt_hook_rcu_loaded_count(n);
				if (n == 0)
					qemu_event_wait(&rcu_call_ready_event);
			}
			n = qatomic_read(&rcu_call_count);
		}

		qatomic_sub(&rcu_call_count, n);
		synchronize_rcu();
		while (n > 0) {
			node = try_dequeue();
			while (!node) {
				qemu_event_reset(&rcu_call_ready_event);
				node = try_dequeue();
				if (!node) {
					qemu_event_wait(&rcu_call_ready_event);
					node = try_dequeue();
				}
			}
			n--;
			node->func(node);
			RT_COUNT(rcu_done);
		}
	}
	return NULL;
}

void call_rcu1(struct rcu_head *node, RCUCBFunc *func)
{
	node->func = func;
	enqueue(node);
	RT_COUNT(rcu_queued);
	rt_hook_rcu_before_count(node);
	qatomic_inc(&rcu_call_count);
	qemu_event_set(&rcu_call_ready_event);
	rt_hook_rcu_after_set(node);
}

/* The call_rcu thread sleeps in qemu_event_wait() (inject mode, tests). */
bool call_rcu_thread_sleeping(void)
{
	return qatomic_read(&rcu_call_ready_event.value) == (unsigned)-1;
}

int rcu_pending_callbacks(void)
{
	return qatomic_read(&rcu_call_count);
}

void rcu_init(void)
{
	QemuThread thread;

	qemu_mutex_init(&rcu_sync_lock);
	qemu_event_init(&rcu_gp_event, true);
	qemu_event_init(&rcu_call_ready_event, false);
	qemu_thread_create(&thread, "call_rcu", call_rcu_thread, NULL, QEMU_THREAD_DETACHED);
}
