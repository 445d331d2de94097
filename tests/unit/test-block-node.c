/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Block nodes (analyzer/qemu/block-node.c) and file-posix's request record
 * (analyzer/qemu/posix-aio.c) on the reference runtime's (g5) real
 * BlockDriverStates in this process, on all_bdrv_states.  The runtime's
 * nodes have a filename and in_flight but no node_name, driver, write_gen
 * or tracked requests, and there is no block_backends list: those are
 * decoded as absent.  A RawPosixAIOData is filled through its DWARF
 * members.  Hostile: a cycle in the node list, wild addresses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"      /* the runtime's */
#include "hand-program.h"

#define ADDR(p) ((uint64_t)(uintptr_t)(p))
#define DISK0 "/var/lib/images/disk0.raw"

static BlockDriverState *disk0, *disk1;

static int setup(void **state)
{
	(void)state;
	int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	disk0 = bdrv_open_raw(DISK0, fd);
	disk1 = bdrv_open_raw("disk1", fd);
	bdrv_inc_in_flight(disk0);
	bdrv_inc_in_flight(disk0);
	return 0;
}

static void test_graph(void **state)
{
	(void)state;
	struct ac_program *prog = hand_program_self();
	struct ac_block_graph g;
	assert_null(ac_block_graph_decode(prog, &g));
	assert_int_equal(g.n_nodes, 2);
	const struct ac_block_node *n = &g.nodes[0];
	assert_int_equal(n->address, ADDR(disk0));
	assert_string_equal(n->name, DISK0);        /* no node_name: the filename */
	assert_null(n->node_name);
	assert_null(n->driver);
	assert_string_equal(n->filename, DISK0);
	assert_string_equal(n->label, DISK0 " (disk0.raw)");
	assert_true(n->has_in_flight);
	assert_int_equal(n->in_flight, 2);
	assert_false(n->has_write_gen);
	assert_int_equal(n->n_requests, 0);
	/* The file's base name is the name: said once. */
	assert_string_equal(g.nodes[1].label, "disk1");
	assert_int_equal(g.nodes[1].in_flight, 0);
	assert_ptr_equal(ac_block_graph_node(&g, ADDR(disk1)), &g.nodes[1]);
	assert_null(ac_block_graph_node(&g, 0x10));
	assert_int_equal(g.n_backends, 0);
	assert_int_equal(prog->n_notes, 0);
	ac_block_graph_deinit(&g);
	hand_program_close(prog);
}

static void test_node_decode(void **state)
{
	(void)state;
	struct ac_program *prog = hand_program_self();
	struct ac_block_node n;
	assert_null(ac_block_node_decode(prog, ADDR(disk1), &n));
	assert_string_equal(n.name, "disk1");
	assert_true(n.has_in_flight);
	ac_block_node_deinit(&n);
	/*
	 * A wild address is no error: each member that cannot be read is a
	 * note, and the node is named by its address.
	 */
	assert_null(ac_block_node_decode(prog, 0x10, &n));
	assert_string_equal(n.name, "node@0x10");
	assert_null(n.filename);
	assert_false(n.has_in_flight);
	assert_true(hand_noted(prog, "0x10 filename"));
	ac_block_node_deinit(&n);
	hand_program_close(prog);
}

/* disk1's next is disk0 again: the walk stops and says so, keeping what it had. */
static void test_list_cycle(void **state)
{
	(void)state;
	struct ac_program *prog = hand_program_self();
	uint64_t old = hand_poke(prog, "BlockDriverState", "bdrv_open_raw", ADDR(disk1),
				 "bs_list.tqe_next", ADDR(disk0));
	struct ac_block_graph g;
	struct ac_error *err = ac_block_graph_decode(prog, &g);
	hand_poke(prog, "BlockDriverState", "bdrv_open_raw", ADDR(disk1), "bs_list.tqe_next", old);
	assert_null(err);
	/* Brent's cycle check meets disk0 again a step or two late: bounded. */
	assert_true(g.n_nodes >= 2 && g.n_nodes <= 4);
	assert_int_equal(g.nodes[0].address, ADDR(disk0));
	assert_true(hand_noted(prog, "all_bdrv_states: cycle"));
	ac_block_graph_deinit(&g);
	hand_program_close(prog);
}

/* Stores value into member of obj, in the member's own size (DWARF's). */
static void set_member(struct ac_program *prog, const struct ac_object *obj,
		       const char *member, uint64_t value)
{
	struct ac_object m;
	uint64_t size = 0;
	assert_null(ac_object_member(prog, obj, member, &m, NULL));
	assert_null(ac_object_size(&m, &size));
	assert_true(size == 4 || size == 8);
	if (size == 4) {
		uint32_t v = (uint32_t)value;
		memcpy((void *)(uintptr_t)m.address, &v, 4);
	} else {
		memcpy((void *)(uintptr_t)m.address, &value, 8);
	}
}

static void test_posix_aio(void **state)
{
	(void)state;
	struct ac_program *prog = hand_program_self();
	static _Alignas(16) unsigned char buf[4096];
	struct ac_object aio;
	uint64_t size = 0;
	assert_null(ac_object_at(prog, "RawPosixAIOData", "handle_aiocb_rw", ADDR(buf), &aio));
	assert_null(ac_object_size(&aio, &size));
	assert_true(size <= sizeof(buf));
	set_member(prog, &aio, "aio_fildes", 9);
	set_member(prog, &aio, "aio_offset", 1048576);
	set_member(prog, &aio, "aio_nbytes", 4096);
	set_member(prog, &aio, "aio_type", QEMU_AIO_WRITE);
	set_member(prog, &aio, "bs", ADDR(disk0));
	struct ac_posix_aio r;
	assert_null(ac_posix_aio_decode(prog, ADDR(buf), true, &r));
	assert_int_equal(r.address, ADDR(buf));
	assert_int_equal(r.fd, 9);
	assert_int_equal(r.offset, 1048576);
	assert_int_equal(r.length, 4096);
	assert_string_equal(r.kind, "write");
	assert_int_equal(r.bs, ADDR(disk0));
	assert_int_equal(r.node.address, ADDR(disk0));
	assert_string_equal(r.node.filename, DISK0);
	ac_posix_aio_deinit(&r);

	/* A wild bs: the request is decoded, its node only by address, with notes. */
	set_member(prog, &aio, "aio_type", QEMU_AIO_FLUSH);
	set_member(prog, &aio, "bs", 0x10);
	assert_null(ac_posix_aio_decode(prog, ADDR(buf), true, &r));
	assert_string_equal(r.kind, "flush");
	assert_int_equal(r.bs, 0x10);
	assert_string_equal(r.node.name, "node@0x10");
	assert_null(r.node.filename);
	assert_true(hand_noted(prog, "0x10 filename"));
	ac_posix_aio_deinit(&r);

	/* A running worker's request (with_node false): bs kept, nothing read through it. */
	set_member(prog, &aio, "bs", 0x20);
	assert_null(ac_posix_aio_decode(prog, ADDR(buf), false, &r));
	assert_int_equal(r.bs, 0x20);
	assert_int_equal(r.node.address, 0);
	assert_null(r.node_problem);
	assert_false(hand_noted(prog, "0x20"));
	ac_posix_aio_deinit(&r);

	struct ac_error *err = ac_posix_aio_decode(prog, 0x10, true, &r);
	assert_non_null(err);
	assert_non_null(strstr(err->message, "RawPosixAIOData 0x10"));
	ac_error_destroy(err);
	hand_program_close(prog);
}

/* QEMU_AIO_* are one bit each in the low byte; anything else is "other". */
static void test_aio_kind(void **state)
{
	(void)state;
	assert_string_equal(ac_posix_aio_kind(QEMU_AIO_READ), "read");
	assert_string_equal(ac_posix_aio_kind(QEMU_AIO_WRITE), "write");
	assert_string_equal(ac_posix_aio_kind(QEMU_AIO_IOCTL), "ioctl");
	assert_string_equal(ac_posix_aio_kind(QEMU_AIO_FLUSH), "flush");
	assert_string_equal(ac_posix_aio_kind(QEMU_AIO_DISCARD), "discard");
	assert_string_equal(ac_posix_aio_kind(0x20), "write-zeroes");
	assert_string_equal(ac_posix_aio_kind(0x80), "truncate");
	assert_string_equal(ac_posix_aio_kind(QEMU_AIO_READ | 0x100), "read");  /* flags above */
	assert_string_equal(ac_posix_aio_kind(QEMU_AIO_READ | QEMU_AIO_WRITE), "other");
	assert_string_equal(ac_posix_aio_kind(0), "other");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_graph),
		cmocka_unit_test(test_node_decode),
		cmocka_unit_test(test_list_cycle),
		cmocka_unit_test(test_posix_aio),
		cmocka_unit_test(test_aio_kind),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
