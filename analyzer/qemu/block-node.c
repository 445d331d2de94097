/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bdrv-states.h"
#include "block-node.h"
#include "util/util.h"

/* block.c's and block/block-backend.c's lists are static: these name the CUs. */
#define BDS_HINT "bdrv_new"
#define BLK_HINT "blk_new"
/* No healthy process has more nodes or requests in flight per node. */
#define MAX_NODES 10000
#define MAX_REQUESTS 10000

const char *const ac_acct_op_names[AC_ACCT_N] = { "read", "write", "flush" };
static const char *const acct_enumerators[AC_ACCT_N] = {
	"BLOCK_ACCT_READ", "BLOCK_ACCT_WRITE", "BLOCK_ACCT_FLUSH",
};

/* A char array member or a char * member, as a malloc'd string; NULL if absent. */
static char *member_string(struct ac_program *prog, const struct ac_object *obj,
			   const char *path)
{
	struct ac_object m;
	struct ac_error *err = ac_object_member(prog, obj, path, &m, NULL);
	if (err) {
		ac_error_destroy(err);
		return NULL;
	}
	uint64_t address = m.address, size = 256;
	struct ac_type t = ac_type_strip(&m.type);
	if (ac_type_kind(&t) == AC_TYPE_POINTER) {
		err = ac_object_read_uint(prog, &m, &address);
	} else if (ac_type_kind(&t) == AC_TYPE_ARRAY) {
		err = ac_object_size(&m, &size);
	} else {
		return NULL;
	}
	char *s = NULL;
	if (!err && address)
		err = ac_target_read_string(prog->target, address, size ? size : 1, &s);
	if (err) {
		ac_program_note_error(prog, err, "0x%" PRIx64 " %s", obj->address, path);
		return NULL;
	}
	return s;
}

/* An optional integer member: false when this layout lacks it. */
static bool member_uint_opt(struct ac_program *prog, const struct ac_object *obj,
			    const char *path, uint64_t *ret)
{
	struct ac_error *err = ac_object_member_uint(prog, obj, path, ret);
	if (ac_error_catch(&err, AC_ERR_LOOKUP))
		return false;
	if (err) {
		ac_program_note_error(prog, err, "0x%" PRIx64 " %s", obj->address, path);
		return false;
	}
	return true;
}

static struct ac_error *decode_requests(struct ac_program *prog,
					const struct ac_object *bs,
					struct ac_block_node *node)
{
	struct ac_object head;
	struct ac_error *err = ac_object_member(prog, bs, "tracked_requests.lh_first", &head, NULL);
	if (ac_error_catch(&err, AC_ERR_LOOKUP))
		return NULL;
	if (err)
		return err;
	bool is_null;
	struct ac_object req;
	err = ac_object_deref(prog, &head, &req);
	struct ac_walk walk;
	ac_walk_init(&walk, MAX_REQUESTS);
	uint64_t next = err ? 0 : req.address;
	while (!err && next) {
		req.address = next;
		if (!ac_walk_step(&walk, next))
			return ac_error_create(AC_ERR_BAD_DATA, "tracked requests of %s: %s",
					       node->name, walk.problem);
		struct ac_tracked_request r = { .address = next };
		uint64_t v;
		err = ac_object_member_int(prog, &req, "offset", &r.offset);
		if (!err)
			err = ac_object_member_uint(prog, &req, "bytes", &r.bytes);
		if (!err)
			err = ac_object_member_uint(prog, &req, "co", &r.co);
		/* type arrived with 2.x's BdrvTrackedRequestType; 2.1 has is_write. */
		struct ac_object type;
		if (!err) {
			struct ac_error *terr = ac_object_member(prog, &req, "type", &type, NULL);
			if (!terr)
				terr = ac_object_read_uint(prog, &type, &v);
			if (!terr)
				r.type_name = ac_object_enum_name(prog, &type, (int64_t)v);
			ac_error_destroy(terr);
			/* 2.1 has no enumerator to name: say what is_write says. */
			terr = r.type_name ? NULL : ac_object_member_uint(prog, &req, "is_write", &v);
			if (!r.type_name && !terr)
				r.type_name = v ? "write (is_write true)" : "read (is_write false)";
			ac_error_destroy(terr);
		}
		if (err)
			break;
		struct ac_tracked_request *slot = ac_array_slot(node->requests, node->n_requests);
		if (!slot)
			return &ac_error_no_memory;
		*slot = r;
		node->n_requests++;
		struct ac_object link;
		err = ac_object_member_deref(prog, &req, "list.le_next", &link, &is_null);
		next = err || is_null ? 0 : link.address;
	}
	return err;
}

static struct ac_error *decode_node(struct ac_program *prog, const struct ac_object *bs,
				    struct ac_block_node *node)
{
	node->address = bs->address;
	node->node_name = member_string(prog, bs, "node_name");
	if (node->node_name && node->node_name[0])
		node->name = strdup(node->node_name);
	else
		node->name = member_string(prog, bs, "filename");
	/* 2.x: unnamed nodes, an NBD node's filename empty; 2.1's device name. */
	if (node->name && !node->name[0]) {
		free(node->name);
		node->name = member_string(prog, bs, "device_name");
		if (node->name && !node->name[0]) {
			free(node->name);
			node->name = NULL;
		}
	}
	if (!node->name && asprintf(&node->name, "node@0x%" PRIx64, bs->address) < 0)
		return &ac_error_no_memory;
	struct ac_object drv;
	bool is_null = true;
	struct ac_error *err = ac_object_member_deref(prog, bs, "drv", &drv, &is_null);
	if (!err && !is_null)
		node->driver = member_string(prog, &drv, "format_name");
	ac_error_destroy(err);
	node->filename = member_string(prog, bs, "filename");
	/* "#block140 (raw nbd.sock)": the driver and the file's base name. */
	const char *file = node->filename ? strrchr(node->filename, '/') : NULL;
	file = file ? file + 1 : node->filename;
	if (file && (!file[0] || !strcmp(file, node->name)))
		file = NULL;
	const char *dname = node->driver && node->driver[0] ? node->driver : NULL;
	if (asprintf(&node->label, "%s%s%s%s%s%s", node->name, dname || file ? " (" : "",
		     dname ? dname : "", dname && file ? " " : "", file ? file : "",
		     dname || file ? ")" : "") < 0)
		return &ac_error_no_memory;
	node->has_in_flight = member_uint_opt(prog, bs, "in_flight", &node->in_flight);
	node->has_write_gen = member_uint_opt(prog, bs, "write_gen", &node->write_gen);
	node->has_wr_highest_sector = !node->has_write_gen &&
		member_uint_opt(prog, bs, "wr_highest_sector", &node->wr_highest_sector);
	/* Drained sections in force (2.8+): a drain waits while in_flight > 0. */
	node->has_quiesce_counter = member_uint_opt(prog, bs, "quiesce_counter",
						    &node->quiesce_counter);
	err = decode_requests(prog, bs, node);
	if (err && err != &ac_error_no_memory) {
		ac_program_note_error(prog, err, "block node %s", node->name);
		err = NULL;
	}
	return err;
}

/* stats.nr_ops[i] / nr_bytes[i] for the op types this build has. */
static void decode_stats(struct ac_program *prog, const struct ac_object *blk,
			 struct ac_block_backend *b)
{
	struct ac_object ops, bytes;
	struct ac_error *err = ac_object_member(prog, blk, "stats.nr_ops", &ops, NULL);
	if (!err)
		err = ac_object_member(prog, blk, "stats.nr_bytes", &bytes, NULL);
	uint64_t size = 0;
	if (!err)
		err = ac_object_size(&ops, &size);
	if (ac_error_catch(&err, AC_ERR_LOOKUP))
		return;
	for (int i = 0; i < AC_ACCT_N && !err; i++) {
		int64_t index;
		err = ac_dwarf_enumerator(prog->dwarf, "BlockAcctType", acct_enumerators[i],
					  BLK_HINT, &index);
		if (ac_error_catch(&err, AC_ERR_LOOKUP))
			continue;
		if (!err && (index < 0 || (uint64_t)(index + 1) * 8 > size))
			err = ac_error_create(AC_ERR_BAD_DATA, "%s = %" PRId64 " is outside nr_ops[]",
					      acct_enumerators[i], index);
		if (!err)
			err = ac_target_read_u64(prog->target, ops.address + 8 * index, &b->nr_ops[i]);
		if (!err)
			err = ac_target_read_u64(prog->target, bytes.address + 8 * index, &b->nr_bytes[i]);
	}
	if (err)
		ac_program_note_error(prog, err, "BlockBackend 0x%" PRIx64 " stats", blk->address);
	else
		b->has_stats = true;
}

/* The first element of a QTAILQ variable and the type of its elements. */
static struct ac_error *list_first(struct ac_program *prog, const char *variable,
				   const char *hint, struct ac_object *first, bool *present)
{
	struct ac_object head, ptr;
	*present = false;
	struct ac_error *err = ac_object_variable(prog, variable, hint, &head);
	if (ac_error_catch(&err, AC_ERR_LOOKUP))
		return NULL;
	if (!err)
		err = ac_object_member(prog, &head, "tqh_first", &ptr, NULL);
	uint64_t address = 0;
	if (!err)
		err = ac_object_read_uint(prog, &ptr, &address);
	if (!err && address)
		err = ac_object_deref(prog, &ptr, first);
	if (err)
		return ac_error_prefix(err, "%s", variable);
	*present = true;
	first->address = address;
	return NULL;
}

static struct ac_error *decode_nodes(struct ac_program *prog, struct ac_block_graph *g)
{
	struct ac_bdrv_states states = { 0 };
	struct ac_error *err = ac_bdrv_states_find(prog, &states);
	g->has_nodes = !err && states.present;
	for (size_t i = 0; !err && i < states.n; i++) {
		struct ac_object bs;
		err = ac_object_at(prog, "BlockDriverState", BDS_HINT, states.items[i], &bs);
		struct ac_block_node *node = err ? NULL : ac_array_slot(g->nodes, g->n_nodes);
		if (!err && !node)
			err = &ac_error_no_memory;
		if (!err) {
			g->n_nodes++;
			err = decode_node(prog, &bs, node);
		}
	}
	ac_bdrv_states_deinit(&states);
	return err;
}

static struct ac_error *decode_backends(struct ac_program *prog, struct ac_block_graph *g)
{
	struct ac_object blk;
	struct ac_error *err = list_first(prog, "block_backends", BLK_HINT, &blk, &g->has_backends);
	struct ac_walk walk;
	ac_walk_init(&walk, MAX_NODES);
	while (!err && g->has_backends && blk.address) {
		if (!ac_walk_step(&walk, blk.address))
			return ac_error_create(AC_ERR_BAD_DATA, "block_backends: %s", walk.problem);
		struct ac_block_backend *b = ac_array_slot(g->backends, g->n_backends);
		if (!b)
			return &ac_error_no_memory;
		g->n_backends++;
		b->address = blk.address;
		b->name = member_string(prog, &blk, "name");
		if (!b->name && !(b->name = strdup("")))
			return &ac_error_no_memory;
		/* root is a BdrvChild * from 2.9 on; the runtime has root_bs. */
		struct ac_object child;
		bool is_null = true;
		struct ac_error *e = ac_object_member_deref(prog, &blk, "root", &child, &is_null);
		if (!e && !is_null)
			member_uint_opt(prog, &child, "bs", &b->root);
		else if (e && ac_error_catch(&e, AC_ERR_LOOKUP))
			member_uint_opt(prog, &blk, "root_bs", &b->root);
		ac_error_destroy(e);
		b->has_in_flight = member_uint_opt(prog, &blk, "in_flight", &b->in_flight);
		decode_stats(prog, &blk, b);
		uint64_t next = 0;
		err = ac_object_member_uint(prog, &blk, "link.tqe_next", &next);
		blk.address = next;
	}
	return err;
}

struct ac_error *ac_block_graph_decode(struct ac_program *prog, struct ac_block_graph *ret)
{
	struct ac_block_graph g = { 0 };
	struct ac_error *err = decode_nodes(prog, &g);
	if (err && err != &ac_error_no_memory) {
		ac_program_note_error(prog, err, "block nodes");
		err = NULL;
	}
	if (!err)
		err = decode_backends(prog, &g);
	if (err && err != &ac_error_no_memory) {
		ac_program_note_error(prog, err, "block backends");
		err = NULL;
	}
	if (err) {
		ac_block_graph_deinit(&g);
		return err;
	}
	*ret = g;
	return NULL;
}

struct ac_error *ac_block_node_decode(struct ac_program *prog, uint64_t address,
				      struct ac_block_node *ret)
{
	struct ac_object bs;
	struct ac_error *err = ac_object_at(prog, "BlockDriverState", BDS_HINT, address, &bs);
	if (err)
		return ac_error_prefix(err, "BlockDriverState 0x%" PRIx64, address);
	struct ac_block_node node = { 0 };
	err = decode_node(prog, &bs, &node);
	if (err) {
		ac_block_node_deinit(&node);
		return err;
	}
	*ret = node;
	return NULL;
}

void ac_block_node_deinit(struct ac_block_node *node)
{
	free(node->name);
	free(node->node_name);
	free(node->driver);
	free(node->filename);
	free(node->label);
	free(node->requests);
	*node = (struct ac_block_node){ 0 };
}

void ac_block_graph_deinit(struct ac_block_graph *g)
{
	for (size_t i = 0; i < g->n_nodes; i++)
		ac_block_node_deinit(&g->nodes[i]);
	for (size_t i = 0; i < g->n_backends; i++)
		free(g->backends[i].name);
	free(g->nodes);
	free(g->backends);
	*g = (struct ac_block_graph){ 0 };
}

const struct ac_block_node *ac_block_graph_node(const struct ac_block_graph *g,
						uint64_t address)
{
	for (size_t i = 0; i < g->n_nodes; i++)
		if (g->nodes[i].address == address)
			return &g->nodes[i];
	return NULL;
}

uint64_t ac_block_node_pending(const struct ac_block_node *node)
{
	return node->has_in_flight ? node->in_flight : node->n_requests;
}
