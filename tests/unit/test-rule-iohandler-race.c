/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iohandler-race on a hand-built analysis and a real all_bdrv_states (the
 * runtime's block layer, g5 layout, in this process): a job exit BH polling
 * under aio_poll, iohandler_ctx's external_disable_cnt 0, and a drained
 * node with requests in flight is the finding.  External events disabled,
 * no drained busy node, the job exit not polling, a layout without
 * external_disable_cnt, and a cycle in all_bdrv_states are near-misses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <string.h>

#include "block/block.h"      /* the runtime's BlockDriverState */
#include "rules/rule.h"
#include "hand-program.h"

static const struct hand_thread polling[] = {
	{ 500, "qemu-kvm", { "ppoll@libc.so.6", "qemu_poll_ns", "aio_poll", "bdrv_drain",
			     "mirror_exit", "aio_bh_poll", "aio_dispatch", "main_loop_wait",
			     "main" } },
};

static BlockDriverState bs[2];

struct scene {
	struct ac_aio_context ctx[2];
	struct ac_bh_list bhs[2];
	struct ac_analysis a;
};

static void scene_init(struct scene *s)
{
	*s = (struct scene){
		.ctx = {
			{ .obj = { .address = 0x5600aa001000 }, .is_main = true },
			{ .obj = { .address = 0x5600aa002000 }, .is_iohandler = true,
			  .has_external_disable_cnt = true, .external_disable_cnt = 0 },
		},
	};
	s->a = (struct ac_analysis){ .contexts = { s->ctx, 2 }, .bhs = s->bhs };
	/* bs[0] idle, bs[1] drained with two requests that slipped in. */
	bs[0].quiesce_counter = 0;
	bs[0].in_flight = 0;
	bs[1].quiesce_counter = 1;
	bs[1].in_flight = 2;
	bs[1].bs_list.tqe_next = NULL;
}

static size_t run(const struct hand_thread *threads, size_t n, const struct scene *s,
		  struct ac_findings *f)
{
	return hand_run_rule(ac_rule_iohandler_race, threads, n, &s->a, f);
}

static void test_fires(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	struct ac_findings f;
	run(polling, 1, &s, &f);
	const struct ac_finding *x = hand_finding(&f, "iohandler-race", AC_CONFIDENCE_HIGH);
	assert_non_null(strstr(x->summary, "mirror_exit waits in aio_poll"));
	assert_non_null(strstr(x->summary, "2 requests slipped in"));
	const struct ac_evidence *e = hand_evidence(x, "job exit BH");
	assert_int_equal(e->tid, 500);
	assert_string_equal(e->frame, "#4 mirror_exit");
	assert_string_equal(e->value, "polling (aio_poll at #2)");
	/* The second node, read from memory through the DWARF. */
	e = hand_evidence(x, "BlockDriverState.quiesce_counter");
	assert_int_equal(e->address, (uintptr_t)&bs[1]);
	assert_string_equal(e->value, "1 (drained)");
	assert_string_equal(hand_evidence(x, "BlockDriverState.in_flight")->value, "2");
	assert_int_equal(hand_evidence(x, "iohandler_ctx.external_disable_cnt")->address,
			 0x5600aa002000);
	assert_true(hand_checked(&f, "mirror_exit polls; iohandler_ctx external_disable_cnt = 0"));
	ac_findings_deinit(&f);
}

static void test_external_disabled(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	s.ctx[1].external_disable_cnt = 1;
	struct ac_findings f;
	assert_int_equal(run(polling, 1, &s, &f), 0);
	assert_true(hand_checked(&f, "external_disable_cnt = 1"));
	ac_findings_deinit(&f);
	scene_init(&s);
	s.ctx[1].has_external_disable_cnt = false;   /* a layout without it */
	assert_int_equal(run(polling, 1, &s, &f), 0);
	assert_int_equal(f.n_checked, 0);
	ac_findings_deinit(&f);
	scene_init(&s);
	s.ctx[1].is_iohandler = false;
	assert_int_equal(run(polling, 1, &s, &f), 0);
	ac_findings_deinit(&f);
}

static void test_no_busy_drained_node(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	bs[1].in_flight = 0;
	struct ac_findings f;
	assert_int_equal(run(polling, 1, &s, &f), 0);
	ac_findings_deinit(&f);
	scene_init(&s);
	bs[1].quiesce_counter = 0;
	assert_int_equal(run(polling, 1, &s, &f), 0);
	ac_findings_deinit(&f);
}

static void test_not_polling(void **state)
{
	(void)state;
	static const struct hand_thread exiting[] = {
		/* the exit BH itself called from aio_poll: nothing nested */
		{ 500, "qemu-kvm", { "mirror_exit", "aio_bh_poll", "aio_poll", "main" } },
	};
	static const struct hand_thread other[] = {
		{ 500, "qemu-kvm", { "ppoll@libc.so.6", "aio_poll", "blk_drain", "main" } },
	};
	struct scene s;
	scene_init(&s);
	struct ac_findings f;
	assert_int_equal(run(exiting, 1, &s, &f), 0);
	assert_int_equal(f.n_checked, 0);
	ac_findings_deinit(&f);
	assert_int_equal(run(other, 1, &s, &f), 0);
	assert_int_equal(f.n_checked, 0);
	ac_findings_deinit(&f);
}

/* A cycle through idle nodes: the walk stops and says so. */
static void test_cycle(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	bs[1].quiesce_counter = 0;
	bs[1].bs_list.tqe_next = &bs[0];
	struct ac_program *prog = hand_program_open(polling, 1);
	struct ac_findings f = { 0 };
	ac_rule_iohandler_race(prog, &s.a, &f);
	assert_int_equal(f.n, 0);
	bool said = false;
	for (size_t i = 0; i < prog->n_notes; i++)
		said |= strstr(prog->notes[i], "all_bdrv_states: cycle") != NULL;
	assert_true(said);
	hand_program_close(prog);
	ac_findings_deinit(&f);
	bs[1].bs_list.tqe_next = NULL;
}

int main(void)
{
	/* The runtime's block layer keeps all_bdrv_states: register two nodes. */
	bdrv_register(&bs[0]);
	bdrv_register(&bs[1]);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fires),
		cmocka_unit_test(test_external_disabled),
		cmocka_unit_test(test_no_busy_drained_node),
		cmocka_unit_test(test_not_polling),
		cmocka_unit_test(test_cycle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
