/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * NBD client nodes (analyzer/qemu/nbd-client.c) on block nodes this test
 * defines with the member names of QEMU's block.c and block/nbd.c (the
 * reference runtime has no NBD driver): all_bdrv_states, drv->format_name,
 * node_name, opaque -> BDRVNBDState with state, in_flight, the socket
 * (ioc -> QIOChannelSocket.fd), saddr (SocketAddress, unix or inet),
 * export, receive_mutex.holder and requests[] (7.2+).  Built with
 * -DNBD_CLIENT_SESSION, the connection is the NBDClientSession `client`
 * inside BDRVNBDState, with connection_co and sioc (before 4.2; 5.2 keeps
 * connection_co).  Non-NBD nodes are skipped; a cycle in the node list
 * is cut and said.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "hand-program.h"

#define ADDR(p) ((uint64_t)(uintptr_t)(p))

typedef enum SocketAddressType {
	SOCKET_ADDRESS_TYPE_INET, SOCKET_ADDRESS_TYPE_UNIX, SOCKET_ADDRESS_TYPE_VSOCK,
} SocketAddressType;
typedef struct InetSocketAddress { char *host, *port; } InetSocketAddress;
typedef struct UnixSocketAddress { char *path; } UnixSocketAddress;
typedef struct SocketAddress {
	SocketAddressType type;
	union { InetSocketAddress inet; UnixSocketAddress q_unix; } u;
} SocketAddress;
typedef struct QIOChannelSocket { char parent[48]; int fd; } QIOChannelSocket;
typedef struct CoMutex { unsigned locked; void *ctx; void *holder; } CoMutex;
typedef enum NBDClientState {
	NBD_CLIENT_CONNECTING_WAIT, NBD_CLIENT_CONNECTING_NOWAIT, NBD_CLIENT_QUIT,
	NBD_CLIENT_CONNECTED,
} NBDClientState;
typedef struct NBDClientRequest { void *coroutine; uint64_t offset; bool receiving; } NBDClientRequest;

#ifdef NBD_CLIENT_SESSION
typedef struct NBDClientSession {
	QIOChannelSocket *sioc;
	void *connection_co;
	int in_flight;
	NBDClientState state;
	NBDClientRequest requests[16];
	char *export;
	SocketAddress *saddr;
} NBDClientSession;
typedef struct BDRVNBDState { NBDClientSession client; char *tlscredsid; } BDRVNBDState;
#define SESSION(s) (&(s)->client)
#define SESSION_TYPE "NBDClientSession"
#else
typedef struct BDRVNBDState {
	QIOChannelSocket *ioc;
	NBDClientState state;
	int in_flight;
	CoMutex receive_mutex;
	NBDClientRequest requests[16];
	char *export;
	SocketAddress *saddr;
} BDRVNBDState;
#define SESSION(s) (s)
#define SESSION_TYPE "BDRVNBDState"
#endif

typedef struct BlockDriver { const char *format_name; } BlockDriver;
typedef struct BlockDriverState {
	BlockDriver *drv;
	void *opaque;
	char node_name[32];
	struct { struct BlockDriverState *tqe_next, **tqe_prev; } bs_list;
} BlockDriverState;

/* Not static: only the analyzer reads them, the compiler must keep them. */
struct { BlockDriverState *tqh_first, **tqh_last; } all_bdrv_states;
BlockDriverState bs[3];
BDRVNBDState nbd[2];
BlockDriver nbd_driver = { "nbd" }, file_driver = { "file" };
QIOChannelSocket sock = { .fd = 11 };
SocketAddress unix_addr = { SOCKET_ADDRESS_TYPE_UNIX, .u.q_unix = { "/run/nbd.sock" } };
SocketAddress inet_addr = { SOCKET_ADDRESS_TYPE_INET, .u.inet = { "10.0.0.2", "10809" } };
char export_name[] = "disk";
int co[3];   /* stand-ins: the decoder only records coroutine addresses */

static void scene(void)
{
	memset(bs, 0, sizeof(bs));
	memset(nbd, 0, sizeof(nbd));
	/* nbd0 (unix, two requests), file0 (not NBD), nbd1 (inet, idle, no socket). */
	bs[0] = (BlockDriverState){ .drv = &nbd_driver, .opaque = &nbd[0], .node_name = "nbd0" };
	bs[1] = (BlockDriverState){ .drv = &file_driver, .node_name = "file0" };
	bs[2] = (BlockDriverState){ .drv = &nbd_driver, .opaque = &nbd[1] };
	bs[0].bs_list.tqe_next = &bs[1];
	bs[1].bs_list.tqe_next = &bs[2];
	all_bdrv_states.tqh_first = &bs[0];
	SESSION(&nbd[0])->state = NBD_CLIENT_CONNECTED;
	SESSION(&nbd[0])->in_flight = 2;
	SESSION(&nbd[0])->requests[2] = (NBDClientRequest){ &co[0], 4096, true };
	SESSION(&nbd[0])->requests[5] = (NBDClientRequest){ &co[1], 65536, false };
	SESSION(&nbd[0])->export = export_name;
	SESSION(&nbd[0])->saddr = &unix_addr;
#ifdef NBD_CLIENT_SESSION
	SESSION(&nbd[0])->sioc = &sock;
	SESSION(&nbd[0])->connection_co = &co[2];
#else
	nbd[0].ioc = &sock;
	nbd[0].receive_mutex.holder = &co[2];
#endif
	SESSION(&nbd[1])->state = NBD_CLIENT_QUIT;
	SESSION(&nbd[1])->saddr = &inet_addr;
}

static void test_clients(void **state)
{
	(void)state;
	scene();
	struct ac_program *prog = hand_program_self();
	struct ac_nbd_client_list list;
	assert_null(ac_nbd_clients_find(prog, &list));
	assert_int_equal(list.n, 2);
	assert_null(list.walk_problem);
	const struct ac_nbd_client *c = &list.items[0];
	assert_null(c->problem);
	assert_int_equal(c->bs, ADDR(&bs[0]));
	assert_string_equal(c->node_name, "nbd0");
	assert_int_equal(c->state_address, ADDR(SESSION(&nbd[0])));
	assert_string_equal(c->state_type, SESSION_TYPE);
	assert_true(c->has_state);
	assert_string_equal(c->state_name, "NBD_CLIENT_CONNECTED");
	assert_true(c->has_in_flight);
	assert_int_equal(c->in_flight, 2);
	assert_string_equal(c->server, "unix:/run/nbd.sock");
	assert_int_equal(c->server_field, ADDR(&unix_addr.u.q_unix.path));
	assert_string_equal(c->export_name, "disk");
	assert_int_equal(c->fd, 11);
#ifdef NBD_CLIENT_SESSION
	assert_int_equal(c->connection_co, ADDR(&co[2]));
	assert_int_equal(c->receive_holder, 0);
#else
	assert_int_equal(c->connection_co, 0);
	assert_int_equal(c->receive_holder, ADDR(&co[2]));
#endif
	assert_int_equal(c->n_slots, 16);
	assert_int_equal(c->n_requests, 2);
	assert_int_equal(c->requests[0].index, 2);
	assert_int_equal(c->requests[0].address, ADDR(&SESSION(&nbd[0])->requests[2]));
	assert_int_equal(c->requests[0].coroutine, ADDR(&co[0]));
	assert_int_equal(c->requests[0].offset, 4096);
	assert_true(c->requests[0].has_receiving && c->requests[0].receiving);
	assert_int_equal(c->requests[1].index, 5);
	assert_false(c->requests[1].receiving);

	c = &list.items[1];
	assert_int_equal(c->bs, ADDR(&bs[2]));
	assert_string_equal(c->node_name, "");
	assert_string_equal(c->state_name, "NBD_CLIENT_QUIT");
	assert_string_equal(c->server, "inet:10.0.0.2:10809");
	assert_null(c->export_name);
	assert_int_equal(c->fd, -1);
	assert_int_equal(c->n_requests, 0);
	ac_nbd_client_list_deinit(&list);
	hand_program_close(prog);
}

/* A node whose state cannot be read: listed with its problem, the walk goes on. */
static void test_wild_state(void **state)
{
	(void)state;
	scene();
	bs[0].opaque = (void *)(uintptr_t)0x10;
	SESSION(&nbd[1])->saddr = NULL;
	struct ac_program *prog = hand_program_self();
	struct ac_nbd_client_list list;
	assert_null(ac_nbd_clients_find(prog, &list));
	assert_int_equal(list.n, 2);
	assert_non_null(list.items[0].problem);
	assert_int_equal(list.items[0].n_requests, 0);
	assert_null(list.items[1].server);       /* no saddr: unknown, not a problem */
	assert_null(list.items[1].problem);
	assert_true(hand_noted(prog, "NBD client node"));
	ac_nbd_client_list_deinit(&list);
	hand_program_close(prog);
}

static long node_of(const struct ac_waits *w, enum ac_wait_node_type type, uint64_t address)
{
	for (size_t i = 0; i < w->n_nodes; i++)
		if (w->nodes[i].type == type && w->nodes[i].address == address)
			return (long)i;
	return -1;
}

static const char *edge(const struct ac_waits *w, long from, long to)
{
	for (size_t i = 0; from >= 0 && to >= 0 && i < w->n_edges; i++)
		if (w->edges[i].from == (size_t)from && w->edges[i].to == (size_t)to)
			return w->edges[i].label;
	return NULL;
}

/* The wait-for graph: request coroutines -> connection -> server; idle nbd1 has no server leaf. */
static void test_graph(void **state)
{
	(void)state;
	scene();
	struct ac_program *prog = hand_program_self();
	struct ac_analysis a = { 0 };
	assert_null(ac_nbd_clients_find(prog, &a.nbd));
	struct ac_waits w;
	assert_null(ac_waits_build(prog, &a, &w));
	uint64_t s0 = ADDR(SESSION(&nbd[0]));
	long conn = node_of(&w, AC_NODE_CONNECTION, s0);
	long server = node_of(&w, AC_NODE_SERVER, s0);
	assert_true(conn >= 0 && server >= 0);
	assert_string_equal(w.nodes[conn].label, "NBD connection of node \"nbd0\" "
			    "(NBD_CLIENT_CONNECTED, fd 11, 2 requests waiting for replies, in_flight 2)");
	assert_string_equal(w.nodes[server].label,
			    "NBD server unix:/run/nbd.sock: no reply yet to 2 requests");
	assert_ptr_equal(w.nodes[conn].connection, &a.nbd.items[0]);
	assert_string_equal(edge(&w, conn, server), "served by");
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(edge(&w, node_of(&w, AC_NODE_COROUTINE, ADDR(&co[i])), conn),
				    i < 2 ? "waits for a reply on" : "reads replies on");
	assert_true(node_of(&w, AC_NODE_CONNECTION, ADDR(SESSION(&nbd[1]))) >= 0);
	assert_int_equal(node_of(&w, AC_NODE_SERVER, ADDR(SESSION(&nbd[1]))), -1);
	ac_waits_deinit(&w);
	ac_nbd_client_list_deinit(&a.nbd);
	hand_program_close(prog);
}

static void test_list_cycle(void **state)
{
	(void)state;
	scene();
	bs[2].bs_list.tqe_next = &bs[0];
	struct ac_program *prog = hand_program_self();
	struct ac_nbd_client_list list;
	assert_null(ac_nbd_clients_find(prog, &list));
	assert_non_null(list.walk_problem);
	assert_non_null(strstr(list.walk_problem, "block node list: cycle at 0x"));
	assert_true(list.n >= 2 && list.n <= 4);
	ac_nbd_client_list_deinit(&list);
	hand_program_close(prog);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clients),
		cmocka_unit_test(test_wild_state),
		cmocka_unit_test(test_list_cycle),
		cmocka_unit_test(test_graph),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
