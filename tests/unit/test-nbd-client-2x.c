/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * NBD client nodes of QEMU 2.x (analyzer/qemu/nbd-client.c and
 * bdrv-states.c), on structures this test defines with the member names
 * of 2.1.2's block.c, block/nbd.c and block/nbd-client.h: no
 * all_bdrv_states but bdrv_states (device_list) and graph_bdrv_states
 * (node_list), the protocol node only reachable as its parent's `file`;
 * BDRVNBDState { NbdClientSession client; QemuOpts *socket_opts; } with
 * `sock`, `in_flight` and `recv_coroutine[]`; the offset of a request is
 * its coroutine's tracked request on the node.  Built with -DNBD_2_8, the
 * 2.8.0 layout: all_bdrv_states, `file` a BdrvChild, NBDClientSession
 * with `sioc`, BDRVNBDState's SocketAddress with 2.x's wrapped union arm
 * (u.q_unix.data->path) and `export`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hand-program.h"

#define ADDR(p) ((uint64_t)(uintptr_t)(p))

typedef struct Coroutine { void *entry; } Coroutine;
typedef struct BdrvTrackedRequest {
	void *bs;
	int64_t offset;
	unsigned int bytes;
	bool is_write;
	struct { struct BdrvTrackedRequest *le_next, **le_prev; } list;
	Coroutine *co;
} BdrvTrackedRequest;
typedef struct CoMutex { bool locked; } CoMutex;

#ifdef NBD_2_8
typedef enum SocketAddressKind {
	SOCKET_ADDRESS_KIND_INET, SOCKET_ADDRESS_KIND_UNIX, SOCKET_ADDRESS_KIND_FD,
} SocketAddressKind;
typedef struct UnixSocketAddress { char *path; } UnixSocketAddress;
typedef struct UnixSocketAddressWrapper { UnixSocketAddress *data; } UnixSocketAddressWrapper;
typedef struct InetSocketAddress { char *host, *port; } InetSocketAddress;
typedef struct InetSocketAddressWrapper { InetSocketAddress *data; } InetSocketAddressWrapper;
typedef struct SocketAddress {
	SocketAddressKind type;
	union { InetSocketAddressWrapper inet; UnixSocketAddressWrapper q_unix; } u;
} SocketAddress;
typedef struct QIOChannelSocket { char parent[48]; int fd; } QIOChannelSocket;
typedef struct NBDClientSession {
	QIOChannelSocket *sioc;
	void *ioc;
	CoMutex send_mutex;
	int in_flight;
	Coroutine *recv_coroutine[16];
	bool is_unix;
} NBDClientSession;
typedef struct BDRVNBDState {
	NBDClientSession client;
	SocketAddress *saddr;
	char *export, *tlscredsid;
} BDRVNBDState;
#define SESSION_TYPE "NBDClientSession"
#else
typedef struct QemuOpt {
	char *name;
	char *str;
	struct { struct QemuOpt *tqe_next, **tqe_prev; } next;
} QemuOpt;
typedef struct QemuOpts {
	char *id;
	struct { QemuOpt *tqh_first, **tqh_last; } head;
} QemuOpts;
typedef struct NbdClientSession {
	int sock;
	CoMutex send_mutex;
	int in_flight;
	Coroutine *recv_coroutine[16];
	bool is_unix;
	void *bs;
} NbdClientSession;
typedef struct BDRVNBDState { NbdClientSession client; QemuOpts *socket_opts; } BDRVNBDState;
#define SESSION_TYPE "NbdClientSession"
#endif

typedef struct BlockDriver { const char *format_name; } BlockDriver;
#ifdef NBD_2_8
typedef struct BdrvChild { struct BlockDriverState *bs; char *name; } BdrvChild;
#define CHILD(c) BdrvChild *c
#else
#define CHILD(c) struct BlockDriverState *c
#endif
typedef struct BlockDriverState {
	BlockDriver *drv;
	void *opaque;
	char filename[64];
	CHILD(backing);
	CHILD(file);
	char node_name[32];
	struct { struct BlockDriverState *tqe_next, **tqe_prev; } node_list;
#ifdef NBD_2_8
	struct { struct BlockDriverState *tqe_next, **tqe_prev; } bs_list;
#else
	char device_name[32];
	struct { struct BlockDriverState *tqe_next, **tqe_prev; } device_list;
#endif
	struct { BdrvTrackedRequest *lh_first; } tracked_requests;
} BlockDriverState;

/* Not static: only the analyzer reads them, the compiler must keep them. */
#ifdef NBD_2_8
struct { BlockDriverState *tqh_first, **tqh_last; } all_bdrv_states;
BdrvChild child = { 0 };
UnixSocketAddress unix_path = { "/run/nbd.sock" };
SocketAddress unix_addr = { SOCKET_ADDRESS_KIND_UNIX, .u.q_unix = { &unix_path } };
QIOChannelSocket sock = { .fd = 7 };
char export_name[] = "f0";
#else
struct { BlockDriverState *tqh_first, **tqh_last; } bdrv_states, graph_bdrv_states;
QemuOpt opts_list[3];
QemuOpts socket_opts;
char o_path[] = "path", o_host[] = "host", v_path[] = "/run/nbd.sock", v_host[] = "ignored";
#endif
BlockDriverState bs[2];   /* raw "source" on top of the NBD node */
BDRVNBDState nbd;
BlockDriver nbd_driver = { "nbd" }, raw_driver = { "raw" };
Coroutine co[3];
BdrvTrackedRequest tracked[2];

static void scene(void)
{
	memset(bs, 0, sizeof(bs));
	memset(&nbd, 0, sizeof(nbd));
	memset(tracked, 0, sizeof(tracked));
	bs[0] = (BlockDriverState){ .drv = &raw_driver, .filename = "nbd:unix:/run/nbd.sock" };
	bs[1] = (BlockDriverState){ .drv = &nbd_driver, .opaque = &nbd };
#ifdef NBD_2_8
	child.bs = &bs[1];
	bs[0].file = &child;
	strcpy(bs[0].node_name, "#block012");
	strcpy(bs[1].node_name, "#block345");
	bs[0].bs_list.tqe_next = &bs[1];
	all_bdrv_states.tqh_first = &bs[0];
	nbd.client.sioc = &sock;
	nbd.saddr = &unix_addr;
	nbd.export = export_name;
#else
	bs[0].file = &bs[1];   /* on no list: a child only */
	strcpy(bs[0].device_name, "source");
	bdrv_states.tqh_first = &bs[0];
	graph_bdrv_states.tqh_first = NULL;
	nbd.client.sock = 6;
	opts_list[0] = (QemuOpt){ o_host, v_host, { &opts_list[1], NULL } };
	opts_list[1] = (QemuOpt){ o_path, v_path, { NULL, NULL } };
	socket_opts.head.tqh_first = &opts_list[0];
	nbd.socket_opts = &socket_opts;
#endif
	/* Handles 0 and 3 in flight; only 0 has a tracked request on the node. */
	nbd.client.in_flight = 2;
	nbd.client.recv_coroutine[0] = &co[0];
	nbd.client.recv_coroutine[3] = &co[1];
	tracked[0] = (BdrvTrackedRequest){ .bs = &bs[1], .offset = 220200960, .bytes = 2097152,
					   .co = &co[0] };
	tracked[1] = (BdrvTrackedRequest){ .bs = &bs[1], .offset = 4096, .bytes = 512,
					   .co = &co[2] };
	tracked[1].list.le_next = &tracked[0];
	bs[1].tracked_requests.lh_first = &tracked[1];
}

static void test_clients(void **state)
{
	(void)state;
	scene();
	struct ac_program *prog = hand_program_self();
	struct ac_nbd_client_list list;
	assert_null(ac_nbd_clients_find(prog, &list));
	assert_int_equal(list.n, 1);
	assert_null(list.walk_problem);
	const struct ac_nbd_client *c = &list.items[0];
	assert_null(c->problem);
	assert_int_equal(c->bs, ADDR(&bs[1]));
	assert_int_equal(c->state_address, ADDR(&nbd.client));
	assert_string_equal(c->state_type, SESSION_TYPE);
	assert_false(c->has_state);              /* 2.x has no NBDClientState */
	assert_true(c->has_in_flight);
	assert_int_equal(c->in_flight, 2);
	assert_string_equal(c->server, "unix:/run/nbd.sock");
	char label[96];
#ifdef NBD_2_8
	assert_int_equal(c->server_field, ADDR(&unix_path.path));
	assert_string_equal(c->export_name, "f0");
	assert_int_equal(c->fd, 7);
	assert_string_equal(ac_nbd_client_label(c, label, sizeof(label)), "node \"#block345\"");
#else
	assert_int_equal(c->server_field, ADDR(&opts_list[1].str));   /* "path", not "host" */
	assert_null(c->export_name);             /* 2.1 keeps no export name */
	assert_int_equal(c->fd, 6);
	snprintf(label, sizeof(label), "unnamed node 0x%" PRIx64, ADDR(&bs[1]));
	char got[96];
	assert_string_equal(ac_nbd_client_label(c, got, sizeof(got)), label);
#endif
	assert_string_equal(c->slots, "recv_coroutine");
	assert_int_equal(c->n_slots, 16);
	assert_int_equal(c->n_requests, 2);
	assert_int_equal(c->requests[0].index, 0);
	assert_int_equal(c->requests[0].address, ADDR(&nbd.client.recv_coroutine[0]));
	assert_int_equal(c->requests[0].coroutine, ADDR(&co[0]));
	assert_true(c->requests[0].has_offset);  /* the tracked request co[0] runs */
	assert_int_equal(c->requests[0].offset, 220200960);
	assert_int_equal(c->requests[0].bytes, 2097152);
	assert_int_equal(c->requests[1].index, 3);
	assert_int_equal(c->requests[1].coroutine, ADDR(&co[1]));
	assert_false(c->requests[1].has_offset); /* no tracked request of co[1] */
	ac_nbd_client_list_deinit(&list);
	hand_program_close(prog);
}

/* Every node: the lists, then the children no list holds, each once. */
static void test_bdrv_states(void **state)
{
	(void)state;
	scene();
	struct ac_program *prog = hand_program_self();
	struct ac_bdrv_states s;
	assert_null(ac_bdrv_states_find(prog, &s));
	assert_true(s.present);
	assert_null(s.problem);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.items[0], ADDR(&bs[0]));
	assert_int_equal(s.items[1], ADDR(&bs[1]));
	ac_bdrv_states_deinit(&s);
	hand_program_close(prog);
}

#ifndef NBD_2_8
/* A child pointing back at its parent, and a node on both 2.1 lists: each once, bounded. */
static void test_child_cycle(void **state)
{
	(void)state;
	scene();
	bs[1].backing = &bs[0];
	graph_bdrv_states.tqh_first = &bs[0];
	struct ac_program *prog = hand_program_self();
	struct ac_bdrv_states s;
	assert_null(ac_bdrv_states_find(prog, &s));
	assert_int_equal(s.n, 2);
	ac_bdrv_states_deinit(&s);
	hand_program_close(prog);
}

/* A wild QemuOpt link: the server is unknown and said, the requests still read. */
static void test_wild_socket_opts(void **state)
{
	(void)state;
	scene();
	opts_list[0].next.tqe_next = (QemuOpt *)(uintptr_t)0x10;
	struct ac_program *prog = hand_program_self();
	struct ac_nbd_client_list list;
	assert_null(ac_nbd_clients_find(prog, &list));
	assert_int_equal(list.n, 1);
	assert_null(list.items[0].server);
	assert_non_null(list.items[0].problem);
	assert_non_null(strstr(list.items[0].problem, "socket_opts"));
	assert_int_equal(list.items[0].n_requests, 2);
	ac_nbd_client_list_deinit(&list);
	hand_program_close(prog);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clients),
		cmocka_unit_test(test_bdrv_states),
#ifndef NBD_2_8
		cmocka_unit_test(test_child_cycle),
		cmocka_unit_test(test_wild_socket_opts),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
