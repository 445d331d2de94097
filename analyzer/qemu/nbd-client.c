/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"
#include "bdrv-states.h"
#include "block-node.h"
#include "nbd-client.h"

#define BLOCK_HINT "bdrv_new"            /* block.c: the node lists, BlockDriverState */
#define NBD_HINT "nbd_client_co_preadv"  /* block/nbd.c (nbd-client.c before 4.2) */

#define NAME_MAX_LEN 4096

static void set_problem(char **problem, struct ac_error *err, const char *what)
{
	if (!*problem && asprintf(problem, "%s: %s", what, err->message) < 0)
		*problem = NULL;
	ac_error_destroy(err);
}

static char *read_string_member(struct ac_program *prog, const struct ac_object *obj,
				const char *path, uint64_t *pointer_at)
{
	struct ac_object member;
	uint64_t address;
	char *text = NULL;
	struct ac_error *err = ac_object_member(prog, obj, path, &member, NULL);
	if (!err && ac_type_kind(&member.type) == AC_TYPE_ARRAY)
		address = member.address;           /* char node_name[32] */
	else if (!err)
		err = ac_object_read_uint(prog, &member, &address);
	if (!err && pointer_at)
		*pointer_at = member.address;
	if (!err && address)
		err = ac_target_read_string(prog->target, address, NAME_MAX_LEN, &text);
	ac_error_destroy(err);
	return text;
}

/* A member of the address's union arm: u.ARM.NAME, or 2.x's u.ARM.data->NAME. */
static char *arm_string(struct ac_program *prog, const struct ac_object *saddr,
			const char *arm, const char *name, uint64_t *pointer_at)
{
	char path[64];
	snprintf(path, sizeof(path), "u.%s.%s", arm, name);
	if (ac_object_has_member(prog, saddr, path))
		return read_string_member(prog, saddr, path, pointer_at);
	struct ac_object data;
	bool is_null = true;
	snprintf(path, sizeof(path), "u.%s.data", arm);
	struct ac_error *err = ac_object_member_deref(prog, saddr, path, &data, &is_null);
	if (err || is_null) {
		ac_error_destroy(err);
		return NULL;
	}
	return read_string_member(prog, &data, name, pointer_at);
}

static bool has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);
	return n >= k && !strcmp(name + n - k, suffix);
}

/* "unix:PATH" or "inet:HOST:PORT" into c->server; path/host NULL: unknown. */
static void set_server(struct ac_nbd_client *c, const char *path, const char *host,
		       const char *port)
{
	if (path && asprintf(&c->server, "unix:%s", path) < 0)
		c->server = NULL;
	else if (!path && host && asprintf(&c->server, "inet:%s:%s", host, port ? port : "?") < 0)
		c->server = NULL;
}

/* The server: SocketAddress.type and its union (u.q_unix / u.inet). */
static void decode_saddr(struct ac_program *prog, const struct ac_object *s,
			 struct ac_nbd_client *c)
{
	struct ac_object saddr, type;
	bool is_null = true;
	struct ac_error *err = ac_object_member_deref(prog, s, "saddr", &saddr, &is_null);
	if (err || is_null) {
		if (err)
			set_problem(&c->problem, err, "saddr");
		return;
	}
	c->saddr = saddr.address;
	int64_t value;
	err = ac_object_member(prog, &saddr, "type", &type, NULL);
	if (!err)
		err = ac_object_read_int(prog, &type, &value);
	if (err) {
		set_problem(&c->problem, err, "SocketAddress.type");
		return;
	}
	/* SOCKET_ADDRESS_TYPE_UNIX, 2.x's SOCKET_ADDRESS_KIND_UNIX. */
	const char *name = ac_object_enum_name(prog, &type, value);
	char *path = NULL, *host = NULL, *port = NULL;
	if (name && has_suffix(name, "_UNIX")) {
		path = arm_string(prog, &saddr, "q_unix", "path", &c->server_field);
	} else if (name && has_suffix(name, "_INET")) {
		host = arm_string(prog, &saddr, "inet", "host", &c->server_field);
		port = arm_string(prog, &saddr, "inet", "port", NULL);
	} else if (asprintf(&c->server, "%s", name ? name : "unknown address type") < 0) {
		c->server = NULL;
	}
	set_server(c, path, host, port);
	free(path);
	free(host);
	free(port);
}

/* QemuOpts: a QTAILQ of QemuOpt { name, str }; one bounded walk. */
#define MAX_OPTS 64

/*
 * 2.1 (before SocketAddress in BDRVNBDState): the socket's QemuOpts, whose
 * "path" (unix) or "host" and "port" (inet) unix_connect_opts() used.
 */
static void decode_socket_opts(struct ac_program *prog, const struct ac_object *s,
			       struct ac_nbd_client *c)
{
	struct ac_object opts;
	bool is_null = true;
	uint64_t at = 0;
	struct ac_error *err = ac_object_member_deref(prog, s, "socket_opts", &opts, &is_null);
	if (!err && !is_null)
		err = ac_object_member_uint(prog, &opts, "head.tqh_first", &at);
	char *path = NULL, *host = NULL, *port = NULL;
	uint64_t path_at = 0, host_at = 0;
	struct ac_walk walk;
	ac_walk_init(&walk, MAX_OPTS);
	while (!err && at) {
		struct ac_object opt;
		if (!ac_walk_step(&walk, at)) {
			err = ac_error_create(AC_ERR_BAD_DATA, "QemuOpt list: %s at 0x%" PRIx64,
					      walk.problem, at);
			break;
		}
		err = ac_object_at(prog, "QemuOpt", "qemu_opt_get", at, &opt);
		if (err)
			break;
		char *name = read_string_member(prog, &opt, "name", NULL);
		char **value = !name ? NULL : !strcmp(name, "path") ? &path
			     : !strcmp(name, "host") ? &host : !strcmp(name, "port") ? &port : NULL;
		uint64_t *field = value == &path ? &path_at : value == &host ? &host_at : NULL;
		if (value && !*value)
			*value = read_string_member(prog, &opt, "str", field);
		free(name);
		err = ac_object_member_uint(prog, &opt, "next.tqe_next", &at);
	}
	if (err) {   /* a partial list may lack the option that names the server */
		set_problem(&c->problem, err, "BDRVNBDState.socket_opts");
	} else {
		c->server_field = path ? path_at : host_at;
		set_server(c, path, host, port);
	}
	free(path);
	free(host);
	free(port);
}

static void decode_server(struct ac_program *prog, const struct ac_object *s,
			  struct ac_nbd_client *c)
{
	if (ac_object_has_member(prog, s, "socket_opts"))
		decode_socket_opts(prog, s, c);
	else
		decode_saddr(prog, s, c);
}

static bool add_request(struct ac_nbd_client *c, const struct ac_nbd_request *r)
{
	struct ac_nbd_request *slot = ac_array_slot(c->requests, c->n_requests);
	if (!slot)
		return false;
	*slot = *r;
	c->n_requests++;
	return true;
}

/* An array member's element type and count, bounded. */
static struct ac_error *slots_of(const struct ac_object *array, struct ac_type *elem_type,
				 uint64_t *elem_size, size_t *n)
{
	uint64_t array_size = 0;
	struct ac_error *err = ac_type_target(&array->type, elem_type);
	if (!err)
		err = ac_type_size(&array->type, &array_size);
	if (!err)
		err = ac_type_size(elem_type, elem_size);
	if (!err && (!*elem_size || array_size / *elem_size > 4096))
		err = ac_error_create(AC_ERR_BAD_DATA, "%" PRIu64 " bytes of %" PRIu64,
				      array_size, *elem_size);
	if (!err)
		*n = array_size / *elem_size;
	return err;
}

/* requests[]: the slots in use are those with a coroutine. */
static void decode_requests(struct ac_program *prog, const struct ac_object *s,
			    struct ac_nbd_client *c)
{
	struct ac_object array;
	struct ac_type elem_type;
	uint64_t elem_size = 0;
	struct ac_error *err = ac_object_member(prog, s, "requests", &array, NULL);
	if (!err)
		err = slots_of(&array, &elem_type, &elem_size, &c->n_slots);
	if (err) {
		set_problem(&c->problem, err, "requests[]");
		return;
	}
	c->slots = "requests";
	for (size_t i = 0; i < c->n_slots; i++) {
		struct ac_object slot = { .address = array.address + i * elem_size,
					  .type = elem_type };
		struct ac_nbd_request r = { .index = i, .address = slot.address, .has_offset = true };
		uint64_t receiving;
		err = ac_object_member_uint(prog, &slot, "coroutine", &r.coroutine);
		if (!err && r.coroutine)
			err = ac_object_member_uint(prog, &slot, "offset", &r.offset);
		if (err) {
			set_problem(&c->problem, err, "requests[]");
			return;
		}
		if (!r.coroutine)
			continue;
		err = ac_object_member_uint(prog, &slot, "receiving", &receiving);
		r.has_receiving = !err;
		r.receiving = !err && (receiving & 0xff);
		ac_error_destroy(err);
		if (!add_request(c, &r))
			return;
	}
}

/* The node's tracked request that coroutine co runs, if any. */
static const struct ac_tracked_request *tracked_by(const struct ac_block_node *node,
						   uint64_t co)
{
	for (size_t i = 0; node && i < node->n_requests; i++)
		if (node->requests[i].co == co)
			return &node->requests[i];
	return NULL;
}

/*
 * 2.x: recv_coroutine[], the coroutine parked on each handle's reply; the
 * request itself is a local of that coroutine, so its offset comes from
 * the node's tracked request the same coroutine runs.
 */
static void decode_recv_coroutines(struct ac_program *prog, const struct ac_object *s,
				   struct ac_nbd_client *c)
{
	struct ac_object array;
	struct ac_type elem_type;
	uint64_t elem_size = 0;
	struct ac_error *err = ac_object_member(prog, s, "recv_coroutine", &array, NULL);
	if (!err)
		err = slots_of(&array, &elem_type, &elem_size, &c->n_slots);
	if (err) {
		set_problem(&c->problem, err, "recv_coroutine[]");
		return;
	}
	c->slots = "recv_coroutine";
	struct ac_block_node node = { 0 };
	err = ac_block_node_decode(prog, c->bs, &node);
	if (err)
		set_problem(&c->problem, err, "tracked requests");
	for (size_t i = 0; i < c->n_slots; i++) {
		struct ac_object slot = { .address = array.address + i * elem_size,
					  .type = elem_type };
		struct ac_nbd_request r = { .index = i, .address = slot.address };
		err = ac_object_read_uint(prog, &slot, &r.coroutine);
		if (err) {
			set_problem(&c->problem, err, "recv_coroutine[]");
			break;
		}
		if (!r.coroutine)
			continue;
		const struct ac_tracked_request *t = tracked_by(&node, r.coroutine);
		if (t) {
			r.has_offset = true;
			r.offset = (uint64_t)t->offset;
			r.bytes = t->bytes;
		}
		if (!add_request(c, &r))
			break;
	}
	ac_block_node_deinit(&node);
}

/* The socket's fd: ioc is a QIOChannelSocket (5.2 also keeps it as sioc). */
static int socket_fd(struct ac_program *prog, const struct ac_object *s)
{
	uint64_t ioc = 0, fd = 0;
	int64_t sock_fd;
	struct ac_object sock;
	/* 2.1: the plain socket fd, `sock`. */
	if (ac_object_has_member(prog, s, "sock")) {
		struct ac_error *err = ac_object_member_int(prog, s, "sock", &sock_fd);
		ac_error_destroy(err);
		return err ? -1 : (int)sock_fd;
	}
	struct ac_error *err = ac_object_member_uint(prog, s, "sioc|ioc", &ioc);
	if (!err && !ioc)
		return -1;
	if (!err)
		err = ac_object_at(prog, "QIOChannelSocket", "qio_channel_socket_new", ioc, &sock);
	if (!err)
		err = ac_object_member_uint(prog, &sock, "fd", &fd);
	if (err) {
		ac_error_destroy(err);
		return -1;
	}
	return (int)(int32_t)fd;
}

/* s: the connection; outer: the BDRVNBDState holding it (s itself from 4.2). */
static void decode_session(struct ac_program *prog, const struct ac_object *s,
			   const struct ac_object *outer, struct ac_nbd_client *c)
{
	struct ac_object state;
	struct ac_error *err = ac_object_member(prog, s, "state", &state, NULL);
	if (!err)
		err = ac_object_read_int(prog, &state, &c->state);
	c->has_state = !err;
	if (!err)
		c->state_name = ac_object_enum_name(prog, &state, c->state);
	ac_error_destroy(err);   /* before 4.2: no state */
	err = ac_object_member_int(prog, s, "in_flight", &c->in_flight);
	c->has_in_flight = !err;
	ac_error_destroy(err);
	err = ac_object_member_uint(prog, s, "connection_co|read_reply_co", &c->connection_co);
	ac_error_destroy(err);
	err = ac_object_member_uint(prog, s, "receive_mutex.holder", &c->receive_holder);
	ac_error_destroy(err);
	c->export_name = read_string_member(prog, s, "export|info.name", NULL);
	if (!c->export_name && outer != s)   /* 2.8: BDRVNBDState.export */
		c->export_name = read_string_member(prog, outer, "export", NULL);
	c->fd = socket_fd(prog, s);
	decode_server(prog, ac_object_has_member(prog, outer, "saddr|socket_opts") ? outer : s, c);
	if (ac_object_has_member(prog, s, "recv_coroutine"))
		decode_recv_coroutines(prog, s, c);
	else
		decode_requests(prog, s, c);
}

static void decode_client(struct ac_program *prog, const struct ac_object *bs,
			  struct ac_nbd_client *c)
{
	struct ac_object state;
	uint64_t opaque = 0;
	c->fd = -1;
	c->node_name = read_string_member(prog, bs, "node_name", NULL);
	struct ac_error *err = ac_object_member_uint(prog, bs, "opaque", &opaque);
	if (!err && opaque)
		err = ac_object_at(prog, "BDRVNBDState", NBD_HINT, opaque, &state);
	if (err || !opaque) {
		if (err)
			set_problem(&c->problem, err, "BlockDriverState.opaque");
		return;
	}
	c->state_address = opaque;
	c->state_type = "BDRVNBDState";
	/* Before 4.2 the connection is the NBDClientSession `client` inside it. */
	struct ac_object session = state;
	if (ac_object_has_member(prog, &state, "client")) {
		err = ac_object_member(prog, &state, "client", &session, NULL);
		if (err) {
			set_problem(&c->problem, err, "BDRVNBDState.client");
			return;
		}
		c->state_address = session.address;
		/* 2.1 spells it NbdClientSession: the type's own name. */
		c->state_type = ac_object_has_member(prog, &session, "sock") ? "NbdClientSession"
									     : "NBDClientSession";
	}
	decode_session(prog, &session, &state, c);
}

static bool is_nbd(struct ac_program *prog, const struct ac_object *bs)
{
	struct ac_object drv;
	bool is_null = true;
	struct ac_error *err = ac_object_member_deref(prog, bs, "drv", &drv, &is_null);
	if (err || is_null) {
		ac_error_destroy(err);
		return false;
	}
	char *name = read_string_member(prog, &drv, "format_name", NULL);
	bool yes = name && !strcmp(name, "nbd");
	free(name);
	return yes;
}

struct ac_error *ac_nbd_clients_find(struct ac_program *prog, struct ac_nbd_client_list *ret)
{
	struct ac_nbd_client_list list = { 0 };
	struct ac_bdrv_states nodes;
	struct ac_error *err = ac_bdrv_states_find(prog, &nodes);
	if (err)
		return ac_error_prefix(err, "block node list");
	if (nodes.problem && asprintf(&list.walk_problem, "block node list: %s", nodes.problem) < 0)
		list.walk_problem = NULL;
	for (size_t i = 0; i < nodes.n; i++) {
		struct ac_object bs;
		err = ac_object_at(prog, "BlockDriverState", BLOCK_HINT, nodes.items[i], &bs);
		if (err) {
			ac_program_note_error(prog, err, "BlockDriverState 0x%" PRIx64,
					      nodes.items[i]);
			break;
		}
		if (!is_nbd(prog, &bs))
			continue;
		struct ac_nbd_client *c = ac_array_slot(list.items, list.n);
		if (!c) {
			ac_bdrv_states_deinit(&nodes);
			ac_nbd_client_list_deinit(&list);
			return &ac_error_no_memory;
		}
		list.n++;
		c->bs = bs.address;
		decode_client(prog, &bs, c);
		if (c->problem)
			ac_program_note(prog, "NBD client node 0x%" PRIx64 ": %s", bs.address,
					c->problem);
	}
	ac_bdrv_states_deinit(&nodes);
	*ret = list;
	return NULL;
}

void ac_nbd_client_list_deinit(struct ac_nbd_client_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		struct ac_nbd_client *c = &list->items[i];
		free(c->node_name);
		free(c->server);
		free(c->export_name);
		free(c->requests);
		free(c->problem);
	}
	free(list->items);
	free(list->walk_problem);
	*list = (struct ac_nbd_client_list){ 0 };
}

const char *ac_nbd_client_label(const struct ac_nbd_client *c, char *buf, size_t size)
{
	/* 2.x leaves implicit nodes unnamed (5.2+ names them #blockN). */
	if (c->node_name && !c->node_name[0])
		snprintf(buf, size, "unnamed node 0x%" PRIx64, c->bs);
	else
		snprintf(buf, size, "node \"%s\"", c->node_name ? c->node_name : "?");
	return buf;
}
