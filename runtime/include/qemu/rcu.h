/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef AIOCORE_QEMU_RCU_H
#define AIOCORE_QEMU_RCU_H

#include <stdbool.h>

struct rcu_head;
typedef void RCUCBFunc(struct rcu_head *head);
struct rcu_head {
	struct rcu_head *next;
	RCUCBFunc *func;
};

void rcu_init(void);
void call_rcu1(struct rcu_head *node, RCUCBFunc *func);
void synchronize_rcu(void);
/* Callbacks queued and not yet run (for tests). */
int rcu_pending_callbacks(void);
bool call_rcu_thread_sleeping(void);

#endif
