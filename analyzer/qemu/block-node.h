/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The block graph, minimal and by name: every BlockDriverState on
 * all_bdrv_states (before 2.6: bdrv_states and graph_bdrv_states, and
 * the file/backing_hd nodes under them), with node name, driver,
 * in_flight, write_gen and its tracked requests; and every BlockBackend
 * on block_backends (name, root node, BlockAcctStats nr_ops/nr_bytes per
 * op type).  Fields a generation or the
 * reference runtime lacks are left unset (has_* false), not errors.
 */
#ifndef AIOCORE_BLOCK_NODE_H
#define AIOCORE_BLOCK_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dwarf/dwarf.h"

/* A BdrvTrackedRequest: one request in flight on a node. */
struct ac_tracked_request {
	uint64_t address;
	int64_t offset;
	uint64_t bytes;
	const char *type_name;   /* "BDRV_TRACKED_READ", ... or NULL */
	uint64_t co;             /* owning coroutine */
};

struct ac_block_node {
	uint64_t address;
	char *name;              /* node_name, else filename; never NULL */
	char *node_name;         /* node_name as QEMU has it: "" unnamed, NULL absent */
	char *driver;            /* drv->format_name, or NULL */
	char *filename;          /* filename, or NULL */
	char *label;             /* "NAME (DRIVER FILENAME)" for messages */
	bool has_in_flight, has_write_gen, has_quiesce_counter;
	uint64_t in_flight;
	uint64_t write_gen;      /* bumped by every completed write */
	/* 2.1, before write_gen: the highest sector written (grows as a copy does). */
	bool has_wr_highest_sector;
	uint64_t wr_highest_sector;
	uint64_t quiesce_counter; /* drained sections begun and not ended */
	struct ac_tracked_request *requests;
	size_t n_requests;
};

/* Accounting op types compared; found by enumerator name. */
enum ac_acct_op { AC_ACCT_READ, AC_ACCT_WRITE, AC_ACCT_FLUSH, AC_ACCT_N };
extern const char *const ac_acct_op_names[AC_ACCT_N];  /* "read", ... */

struct ac_block_backend {
	uint64_t address;
	char *name;              /* "" for an anonymous backend (qemu-img) */
	uint64_t root;           /* root node (BlockDriverState), 0 if none */
	bool has_in_flight, has_stats;
	uint64_t in_flight;
	uint64_t nr_ops[AC_ACCT_N];
	uint64_t nr_bytes[AC_ACCT_N];
};

struct ac_block_graph {
	struct ac_block_node *nodes;
	size_t n_nodes;
	struct ac_block_backend *backends;
	size_t n_backends;
	bool has_nodes, has_backends;   /* the program has the lists at all */
};

/*
 * Requests in flight on a node as a drain loop counts them: in_flight
 * (2.8+), else its tracked requests (2.1's bdrv_requests_pending()).
 */
uint64_t ac_block_node_pending(const struct ac_block_node *node);

/* Decodes what the program has; unreadable parts become notes. */
/* One BlockDriverState at address (a request's bs), decoded as the graph's are. */
struct ac_error *ac_block_node_decode(struct ac_program *prog, uint64_t address,
				      struct ac_block_node *ret);
void ac_block_node_deinit(struct ac_block_node *node);

struct ac_error *ac_block_graph_decode(struct ac_program *prog,
				       struct ac_block_graph *ret);
void ac_block_graph_deinit(struct ac_block_graph *graph);
const struct ac_block_node *ac_block_graph_node(const struct ac_block_graph *graph,
						uint64_t address);

#endif
