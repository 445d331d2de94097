/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"
#include "nbd-client.h"

#define BLOCK_HINT "bdrv_new"            /* block.c: the node lists, BlockDriverState */
#define NBD_HINT "nbd_client_co_preadv"  /* block/nbd.c (nbd-client.c before 4.2) */

/* A block layer has at most a few thousand nodes; a longer list is garbage. */
#define NODE_WALK_MAX 100000
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

/* The server: SocketAddress.type and its union (u.q_unix / u.inet). */
static void decode_server(struct ac_program *prog, const struct ac_object *s,
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
	const char *name = ac_object_enum_name(prog, &type, value);
	char *path = NULL, *host = NULL, *port = NULL;
	if (name && !strcmp(name, "SOCKET_ADDRESS_TYPE_UNIX")) {
		path = read_string_member(prog, &saddr, "u.q_unix.path", &c->server_field);
		if (path && asprintf(&c->server, "unix:%s", path) < 0)
			c->server = NULL;
	} else if (name && !strcmp(name, "SOCKET_ADDRESS_TYPE_INET")) {
		host = read_string_member(prog, &saddr, "u.inet.host", &c->server_field);
		port = read_string_member(prog, &saddr, "u.inet.port", NULL);
		if (host && asprintf(&c->server, "inet:%s:%s", host, port ? port : "?") < 0)
			c->server = NULL;
	} else if (asprintf(&c->server, "%s", name ? name : "unknown address type") < 0) {
		c->server = NULL;
	}
	free(path);
	free(host);
	free(port);
}

/* requests[]: the slots in use are those with a coroutine. */
static void decode_requests(struct ac_program *prog, const struct ac_object *s,
			    struct ac_nbd_client *c)
{
	struct ac_object array;
	struct ac_type elem_type;
	uint64_t array_size = 0, elem_size = 0;
	struct ac_error *err = ac_object_member(prog, s, "requests", &array, NULL);
	if (!err)
		err = ac_type_target(&array.type, &elem_type);
	if (!err)
		err = ac_type_size(&array.type, &array_size);
	if (!err)
		err = ac_type_size(&elem_type, &elem_size);
	if (!err && (!elem_size || array_size / elem_size > 4096))
		err = ac_error_create(AC_ERR_BAD_DATA, "requests[]: %" PRIu64 " bytes of %" PRIu64,
				   array_size, elem_size);
	if (err) {
		set_problem(&c->problem, err, "requests[]");
		return;
	}
	c->n_slots = array_size / elem_size;
	for (size_t i = 0; i < c->n_slots; i++) {
		struct ac_object slot = { .address = array.address + i * elem_size,
					  .type = elem_type };
		struct ac_nbd_request r = { .index = i, .address = slot.address };
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
		struct ac_nbd_request *grown = realloc(c->requests,
						       (c->n_requests + 1) * sizeof(*grown));
		if (!grown)
			return;
		c->requests = grown;
		c->requests[c->n_requests++] = r;
	}
}

/* The socket's fd: ioc is a QIOChannelSocket (5.2 also keeps it as sioc). */
static int socket_fd(struct ac_program *prog, const struct ac_object *s)
{
	uint64_t ioc = 0, fd = 0;
	struct ac_object sock;
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

static void decode_session(struct ac_program *prog, const struct ac_object *s,
			   struct ac_nbd_client *c)
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
	c->fd = socket_fd(prog, s);
	decode_server(prog, s, c);
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
	if (ac_object_has_member(prog, &state, "client")) {
		struct ac_object session;
		err = ac_object_member(prog, &state, "client", &session, NULL);
		if (err) {
			set_problem(&c->problem, err, "BDRVNBDState.client");
			return;
		}
		state = session;
		c->state_address = session.address;
		c->state_type = "NBDClientSession";
	}
	decode_session(prog, &state, c);
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

/* The list of every node (2.x: bdrv_states by device_list). */
static struct ac_error *node_list(struct ac_program *prog, uint64_t *first,
				  const char **next_path)
{
	static const struct { const char *var, *next; } lists[] = {
		{ "all_bdrv_states", "bs_list.tqe_next" },
		{ "graph_bdrv_states", "node_list.tqe_next" },
		{ "bdrv_states", "device_list.tqe_next" },
	};
	struct ac_error *err = NULL;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		struct ac_object head;
		ac_error_destroy(err);
		err = ac_object_variable(prog, lists[i].var, BLOCK_HINT, &head);
		if (!err)
			err = ac_object_member_uint(prog, &head, "tqh_first", first);
		if (!err) {
			*next_path = lists[i].next;
			return NULL;
		}
		if (err->code != AC_ERR_LOOKUP)
			return err;
	}
	return err;
}

struct ac_error *ac_nbd_clients_find(struct ac_program *prog, struct ac_nbd_client_list *ret)
{
	struct ac_nbd_client_list list = { 0 };
	uint64_t first = 0;
	const char *next_path = NULL;
	struct ac_error *err = node_list(prog, &first, &next_path);
	if (err && err->code == AC_ERR_LOOKUP) {
		ac_error_destroy(err);  /* no block layer: no NBD client */
		*ret = list;
		return NULL;
	}
	if (err)
		return ac_error_prefix(err, "block node list");
	struct ac_walk walk;
	ac_walk_init(&walk, NODE_WALK_MAX);
	for (uint64_t at = first; at;) {
		if (!ac_walk_step(&walk, at)) {
			if (asprintf(&list.walk_problem, "block node list: %s at 0x%" PRIx64,
				     walk.problem, at) < 0)
				list.walk_problem = NULL;
			ac_program_note(prog, "block node list: %s at 0x%" PRIx64
					"; the walk stopped there", walk.problem, at);
			break;
		}
		struct ac_object bs;
		uint64_t next = 0;
		err = ac_object_at(prog, "BlockDriverState", BLOCK_HINT, at, &bs);
		if (!err)
			err = ac_object_member_uint(prog, &bs, next_path, &next);
		if (err) {
			ac_program_note_error(prog, err, "BlockDriverState 0x%" PRIx64, at);
			break;
		}
		if (is_nbd(prog, &bs)) {
			struct ac_nbd_client *grown = realloc(list.items,
							      (list.n + 1) * sizeof(*grown));
			if (!grown) {
				ac_nbd_client_list_deinit(&list);
				return &ac_error_no_memory;
			}
			list.items = grown;
			struct ac_nbd_client *c = &list.items[list.n++];
			*c = (struct ac_nbd_client){ .bs = at };
			decode_client(prog, &bs, c);
			if (c->problem)
				ac_program_note(prog, "NBD client node 0x%" PRIx64 ": %s", at,
						c->problem);
		}
		at = next;
	}
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
