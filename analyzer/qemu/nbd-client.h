/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * NBD client connections (block/nbd.c): every block node whose driver's
 * format_name is "nbd" (bdrv-states.h), its opaque decoded as BDRVNBDState
 * (4.2+; before, the NBDClientSession inside it, `client`, 2.1's
 * NbdClientSession): the connection state, the server (SocketAddress, or
 * 2.1's socket QemuOpts), in_flight and the requests[] slots with the
 * coroutine that waits for each reply (2.x: recv_coroutine[], the offset
 * from the node's tracked request).  A plain list, so the rules and a
 * wait-for graph can use it alike.
 */
#ifndef AIOCORE_NBD_CLIENT_H
#define AIOCORE_NBD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dwarf/dwarf.h"

struct ac_nbd_request {
	size_t index;            /* in requests[] */
	uint64_t address;        /* &requests[index] */
	uint64_t coroutine;      /* the coroutine waiting for the reply */
	bool has_offset;         /* 2.x: from the node's tracked request, if any */
	uint64_t offset;         /* of the request, in bytes */
	uint64_t bytes;          /* 2.x: the tracked request's length */
	bool has_receiving, receiving;  /* parked until its reply arrives */
};

struct ac_nbd_client {
	uint64_t bs;             /* BlockDriverState */
	char *node_name;         /* "" for an implicit node */
	uint64_t state_address;  /* BDRVNBDState (or NBDClientSession) */
	const char *state_type;  /* "BDRVNBDState" or "NBDClientSession" */
	bool has_state;
	int64_t state;           /* NBDClientState */
	const char *state_name;  /* enumerator name from DWARF, or NULL */
	bool has_in_flight;
	int64_t in_flight;
	uint64_t saddr;          /* SocketAddress, 0 if none */
	char *server;            /* "unix:PATH", "inet:HOST:PORT", NULL if unknown */
	uint64_t server_field;   /* address of the path/host pointer read */
	char *export_name;       /* NULL if unknown */
	int fd;                  /* the socket's fd, -1 if unknown */
	uint64_t connection_co;  /* 5.2's reply reader, 0 if none */
	uint64_t receive_holder; /* 7.2+: receive_mutex.holder, 0 if free */
	const char *slots;       /* "requests", 2.x's "recv_coroutine"; NULL unread */
	size_t n_slots;          /* length of requests[] */
	struct ac_nbd_request *requests;  /* slots with a coroutine only */
	size_t n_requests;
	char *problem;           /* what could not be read, NULL if all was */
};

struct ac_nbd_client_list {
	struct ac_nbd_client *items;
	size_t n;
	char *walk_problem;      /* the node list walk stopped early: why */
};

/* No block layer in the program (no node list): an empty list, no error. */
struct ac_error *ac_nbd_clients_find(struct ac_program *prog,
				     struct ac_nbd_client_list *ret);
void ac_nbd_client_list_deinit(struct ac_nbd_client_list *list);
/* For messages: node "NAME", or "unnamed node 0xBS" (2.x's implicit nodes). */
const char *ac_nbd_client_label(const struct ac_nbd_client *c, char *buf, size_t size);

#endif
