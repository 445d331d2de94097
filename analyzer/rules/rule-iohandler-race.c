/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iohandler-race (ab27c3b5e740, seed 004): a block job's exit BH waits for
 * the node to quiesce, but requests keep arriving through iohandler_ctx,
 * whose external events were never disabled.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "util/util.h"
#include "dwarf/dwarf.h"
#include "rule.h"

/* Block-job completion functions that run as BHs in the main loop. */
static const char *const job_exits[] = { "mirror_exit", "commit_exit", "stream_exit",
					 "job_exit", "backup_exit" };

struct drained_node {
	uint64_t address;
	int64_t in_flight, quiesce_counter;
};

/* A node of all_bdrv_states (block.c) that is drained yet has requests. */
static bool find_busy_drained_node(struct ac_program *prog, struct drained_node *ret)
{
	struct ac_object list;
	uint64_t at;
	struct ac_error *err = ac_object_variable(prog, "all_bdrv_states", NULL, &list);
	if (!err)
		err = ac_object_member_uint(prog, &list, "tqh_first", &at);
	if (err) {
		ac_program_note_error(prog, err, "all_bdrv_states");
		return false;
	}
	struct ac_walk walk;
	ac_walk_init(&walk, 4096);
	while (at && ac_walk_step(&walk, at)) {
		struct ac_object bs;
		struct drained_node node = { .address = at };
		uint64_t next;
		err = ac_object_at(prog, "BlockDriverState", "bdrv_drained_begin", at, &bs);
		if (!err)
			err = ac_object_member_int(prog, &bs, "in_flight", &node.in_flight);
		if (!err)
			err = ac_object_member_int(prog, &bs, "quiesce_counter", &node.quiesce_counter);
		if (!err)
			err = ac_object_member_uint(prog, &bs, "bs_list.tqe_next", &next);
		if (err) {
			ac_program_note_error(prog, err, "BlockDriverState 0x%" PRIx64, at);
			return false;
		}
		if (node.quiesce_counter > 0 && node.in_flight > 0) {
			*ret = node;
			return true;
		}
		at = next;
	}
	if (walk.problem)
		ac_program_note(prog, "all_bdrv_states: %s at 0x%" PRIx64, walk.problem, at);
	return false;
}

void ac_rule_iohandler_race(struct ac_program *prog, const struct ac_analysis *a,
			    struct ac_findings *findings)
{
	const struct ac_aio_context *ioh = NULL;
	for (size_t i = 0; i < a->contexts.n; i++)
		if (a->contexts.items[i].is_iohandler)
			ioh = &a->contexts.items[i];
	if (!ioh || !ioh->has_external_disable_cnt)
		return;
	for (size_t t = 0; t < ac_target_thread_count(prog->target); t++) {
		const struct ac_backtrace *bt = ac_program_backtrace(prog, t);
		long poll = ac_backtrace_find_function(bt, "aio_poll");
		for (size_t k = 0; poll >= 0 && k < sizeof(job_exits) / sizeof(job_exits[0]); k++) {
			long exit_frame = ac_backtrace_find_function(bt, job_exits[k]);
			if (exit_frame < 0 || exit_frame < poll)
				continue;
			ac_findings_checked(findings, "iohandler-race: %s polls; iohandler_ctx external_disable_cnt = %" PRId64,
					    job_exits[k], ioh->external_disable_cnt);
			if (ioh->external_disable_cnt != 0)
				continue;
			struct drained_node node;
			if (!find_busy_drained_node(prog, &node))
				continue;
			const struct ac_thread *thread = ac_target_thread(prog->target, t);
			char frame[128];
			ac_frame_text(prog, t, exit_frame, frame, sizeof(frame));
			struct ac_finding *f = ac_findings_add(findings, "iohandler-race",
				AC_CONFIDENCE_HIGH,
				"%s waits in aio_poll for a drained node to go idle, but %" PRId64 " request%s slipped in through iohandler_ctx, whose external events were not disabled",
				job_exits[k], node.in_flight, node.in_flight == 1 ? "" : "s");
			ac_finding_evidence(f, "job exit BH",
					    ac_evidence_at(.tid = thread->tid, .frame = frame),
					    "polling (aio_poll at #%ld)", poll);
			ac_finding_evidence(f, "BlockDriverState.quiesce_counter",
					    ac_evidence_at(AC_ADDRESS(node.address)),
					    "%" PRId64 " (drained)", node.quiesce_counter);
			ac_finding_evidence(f, "BlockDriverState.in_flight",
					    ac_evidence_at(AC_ADDRESS(node.address)),
					    "%" PRId64, node.in_flight);
			ac_finding_evidence(f, "iohandler_ctx.external_disable_cnt",
					    ac_evidence_at(AC_ADDRESS(ioh->obj.address)),
					    "0 (guest events not disabled)");
			return;
		}
	}
}
