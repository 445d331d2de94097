/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Everything the rules look at, decoded once: the AioContexts, the BHs of
 * each, the thread pool of each, and which thread does what.
 */
#ifndef AIOCORE_ANALYSIS_H
#define AIOCORE_ANALYSIS_H

#include "aio-context.h"
#include "bh.h"
#include "block-node.h"
#include "drain.h"
#include "job.h"
#include "co-lock.h"
#include "dwarf/dwarf.h"
#include "nbd-client.h"
#include "qemu-event.h"
#include "thread-pool.h"
#include "waits.h"

struct ac_analysis {
	struct ac_context_list contexts;
	struct ac_bh_list *bhs;            /* [i] belongs to contexts.items[i] */
	struct ac_thread_pool *pools;      /* [i].address == 0: no pool */
	struct ac_event_list events;
	struct ac_nbd_client_list nbd;     /* NBD client nodes */
	struct ac_block_graph blocks;      /* block nodes and backends */
	struct ac_job_list jobs;           /* block jobs */
	struct ac_drain *drains;           /* threads in a drain loop */
	size_t n_drains;
	struct ac_co_lock_list co_locks;   /* CoMutexes/CoQueues held or waited on */
	struct ac_waits waits;             /* the wait-for graph */
};

struct ac_error *ac_analysis_build(struct ac_program *prog,
				   struct ac_analysis *ret);
void ac_analysis_deinit(struct ac_analysis *a);

/* Worker threads (worker_thread frames) and whether they all wait idle. */
size_t ac_analysis_workers(struct ac_program *prog, size_t *n_idle);

/* "thread 1234 #3 aio_poll" style text for evidence; into buf. */
const char *ac_frame_text(struct ac_program *prog, size_t thread_index,
			  long frame, char *buf, size_t size);

#endif
