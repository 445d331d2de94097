/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/util.h"
#include "bdrv-states.h"

#define BDS_HINT "bdrv_new"      /* block.c: the lists are static there */
/* A block layer has at most a few thousand nodes; more is garbage. */
#define MAX_NODES 10000

static const struct node_list {
	const char *variable, *next;
	bool complete;           /* holds every node: no child walk needed */
} lists[] = {
	{ "all_bdrv_states", "bs_list.tqe_next", true },
	{ "graph_bdrv_states", "node_list.tqe_next", false },
	{ "bdrv_states", "device_list.tqe_next", false },
};

static void set_problem(struct ac_program *prog, struct ac_bdrv_states *s,
			struct ac_error *err, const char *what, uint64_t at)
{
	ac_program_note(prog, "%s: %s at 0x%" PRIx64 "; the walk stopped there", what,
			err->message, at);
	if (!s->problem && asprintf(&s->problem, "%s at 0x%" PRIx64, err->message, at) < 0)
		s->problem = NULL;
	ac_error_destroy(err);
}

static bool seen(const struct ac_bdrv_states *s, uint64_t at)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->items[i] == at)
			return true;
	return false;
}

/* Appends at unless seen; false once full or out of memory. */
static bool add(struct ac_program *prog, struct ac_bdrv_states *s, uint64_t at)
{
	if (seen(s, at))
		return true;
	if (s->n >= MAX_NODES) {
		set_problem(prog, s, ac_error_create(AC_ERR_BAD_DATA, "more than %d nodes",
						     MAX_NODES), "block nodes", at);
		return false;
	}
	uint64_t *slot = ac_array_slot(s->items, s->n);
	if (!slot)
		return false;
	*slot = at;
	s->n++;
	return true;
}

/* A child pointer: to the node itself (2.1) or to a BdrvChild (2.2+). */
static uint64_t child_node(struct ac_program *prog, const struct ac_object *bs,
			   const char *path)
{
	struct ac_object child;
	bool is_null = true;
	uint64_t at = 0;
	struct ac_error *err = ac_object_member_deref(prog, bs, path, &child, &is_null);
	if (!err && !is_null && ac_object_has_member(prog, &child, "drv"))
		at = child.address;
	else if (!err && !is_null)
		err = ac_object_member_uint(prog, &child, "bs", &at);
	if (err && !ac_error_catch(&err, AC_ERR_LOOKUP))
		ac_program_note_error(prog, err, "BlockDriverState 0x%" PRIx64 " %s",
				      bs->address, path);
	return at;
}

/* The nodes below those found so far, breadth first from index from. */
static void add_children(struct ac_program *prog, struct ac_bdrv_states *s, size_t from)
{
	for (size_t i = from; i < s->n; i++) {
		struct ac_object bs;
		struct ac_error *err = ac_object_at(prog, "BlockDriverState", BDS_HINT,
						    s->items[i], &bs);
		if (err) {
			set_problem(prog, s, err, "block node", s->items[i]);
			return;
		}
		uint64_t file = child_node(prog, &bs, "file");
		uint64_t backing = child_node(prog, &bs, "backing_hd|backing");
		if ((file && !add(prog, s, file)) || (backing && !add(prog, s, backing)))
			return;
	}
}

static struct ac_error *walk_list(struct ac_program *prog, const struct node_list *l,
				  struct ac_bdrv_states *s)
{
	struct ac_object head;
	uint64_t at = 0;
	struct ac_error *err = ac_object_variable(prog, l->variable, BDS_HINT, &head);
	if (!err)
		err = ac_object_member_uint(prog, &head, "tqh_first", &at);
	if (ac_error_catch(&err, AC_ERR_LOOKUP))
		return NULL;
	if (err)
		return ac_error_prefix(err, "%s", l->variable);
	s->present = true;
	struct ac_walk walk;
	ac_walk_init(&walk, MAX_NODES);
	while (at) {
		if (!ac_walk_step(&walk, at)) {
			set_problem(prog, s, ac_error_create(AC_ERR_BAD_DATA, "%s", walk.problem),
				    l->variable, at);
			break;
		}
		struct ac_object bs;
		uint64_t next = 0;
		err = ac_object_at(prog, "BlockDriverState", BDS_HINT, at, &bs);
		if (!err)
			err = ac_object_member_uint(prog, &bs, l->next, &next);
		if (err) {
			set_problem(prog, s, err, l->variable, at);
			break;
		}
		if (!add(prog, s, at))
			break;
		at = next;
	}
	return NULL;
}

struct ac_error *ac_bdrv_states_find(struct ac_program *prog, struct ac_bdrv_states *ret)
{
	struct ac_bdrv_states s = { 0 };
	struct ac_error *err = NULL;
	bool complete = false;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]) && !complete && !err; i++) {
		err = walk_list(prog, &lists[i], &s);
		complete = s.present && lists[i].complete;
	}
	if (!err && s.present && !complete)
		add_children(prog, &s, 0);
	if (err) {
		ac_bdrv_states_deinit(&s);
		*ret = s;	/* empty: a caller may deinit it either way */
		return err;
	}
	*ret = s;
	return NULL;
}

void ac_bdrv_states_deinit(struct ac_bdrv_states *states)
{
	free(states->items);
	free(states->problem);
	*states = (struct ac_bdrv_states){ 0 };
}
