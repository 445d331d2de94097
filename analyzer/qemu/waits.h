/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The wait-for graph of the whole process.  Nodes: threads (what each is
 * blocked in, thread-wait.h), coroutines, thread-pool requests, QemuMutexes
 * with their owners (the BQL among them), block nodes (also those a drain
 * loop waits for, drain.h), block jobs (job -> its coroutine -> the
 * coroutines of its operations), NBD connections with their server,
 * CoMutexes/CoQueues (waiters -> lock -> holder), and a thread polling in a
 * synchronous wrapper -> the coroutine it created (co-poll.h).  Edges: who
 * waits on whom.  Following them from a root (nothing waits on it) ends at
 * the answer: a syscall on a named file that has not returned, a lock whose
 * owner is itself waiting (a cycle: a deadlock), a request no worker runs.
 * Built once per analysis, bounded; a cycle is found, not followed.
 */
#ifndef AIOCORE_WAITS_H
#define AIOCORE_WAITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dwarf/dwarf.h"
#include "job.h"
#include "co-lock.h"
#include "co-poll.h"
#include "nbd-client.h"
#include "thread-pool.h"
#include "thread-wait.h"

enum ac_wait_node_type {
	AC_NODE_THREAD,
	AC_NODE_COROUTINE,
	AC_NODE_REQUEST,         /* a thread-pool element */
	AC_NODE_LOCK,            /* a QemuMutex (the BQL too) */
	AC_NODE_BLOCK,           /* a BlockDriverState */
	AC_NODE_CONNECTION,      /* an NBD client connection (nbd-client.h) */
	AC_NODE_JOB,             /* a block job: its coroutine, its operations */
	AC_NODE_CO_LOCK,         /* a CoMutex or CoQueue (co-lock.h) */
	AC_NODE_SERVER,          /* the remote end of a connection: a leaf */
};

struct ac_wait_node {
	enum ac_wait_node_type type;
	uint64_t address;        /* the object; a thread's is 0 */
	pid_t tid;               /* thread nodes */
	char *id;                /* "thread:1234", "request:0x..." (stable, for JSON/dot) */
	char *label;             /* one line for people */
	const struct ac_thread_wait *wait;       /* thread nodes */
	const struct ac_pool_element *request;   /* request nodes */
	const struct ac_block_node *block;       /* block nodes */
	const struct ac_job *job;                /* job nodes */
	const struct ac_nbd_client *connection;  /* connection and server nodes */
	const struct ac_co_lock *co_lock;        /* CoMutex / CoQueue nodes */
};

struct ac_wait_edge {
	size_t from, to;         /* node indexes: `from` waits on `to` */
	const char *label;       /* "waits for", "served by", ... (static) */
};

struct ac_waits {
	struct ac_thread_waits threads;   /* [i]: thread index i */
	struct ac_wait_node *nodes;
	size_t n_nodes;
	struct ac_wait_edge *edges;
	size_t n_edges;
	struct ac_co_poll *polls; /* threads polling for a coroutine (co-poll.h) */
	size_t n_polls;
	size_t *cycle;           /* a wait cycle (node indexes), NULL if none */
	size_t n_cycle;
};

struct ac_analysis;

/* The graph of a program whose analysis (contexts, pools) is decoded. */
struct ac_error *ac_waits_build(struct ac_program *prog, const struct ac_analysis *a,
				struct ac_waits *ret);
void ac_waits_deinit(struct ac_waits *waits);

/* How many edges end / start at node i. */
size_t ac_waits_in_degree(const struct ac_waits *waits, size_t node);
size_t ac_waits_out_degree(const struct ac_waits *waits, size_t node);
/*
 * The chain of waiters above node i, nearest first (who waits on it, who
 * waits on that, ...): up to max node indexes into path; returns the count.
 */
size_t ac_waits_waiters(const struct ac_waits *waits, size_t node, size_t *path, size_t max);
/*
 * The leaves: nodes something waits on that wait on nothing (a block node
 * a worker reads, a lock, a request no worker runs), each with its nearest
 * waiter and how many nodes wait on it, directly or not.  Up to max into
 * leaves; returns the count.  None: nothing waits on anything, the
 * process looks idle.
 */
struct ac_wait_leaf {
	size_t node;
	long nearest;            /* a node waiting on it directly, -1 if none */
	size_t n_waiters;        /* nodes above it */
};
size_t ac_waits_leaves(const struct ac_waits *waits, struct ac_wait_leaf *leaves, size_t max);
/* How thread node `thread` polls for coroutine node `co`, or NULL. */
const struct ac_co_poll *ac_waits_poll(const struct ac_waits *waits, size_t thread, size_t co);
/* Thread node of thread index i. */
size_t ac_waits_thread_node(const struct ac_waits *waits, size_t thread_index);

#endif
