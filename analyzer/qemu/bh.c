/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bh.h"
#include "util/util.h"
#include "thread-pool.h"

/* Functions of util/async.c, whose CU defines QEMUBH. */
#define ASYNC_HINT "aio_bh_poll"

struct bh_flag_values {
	bool known;
	int64_t pending, scheduled, deleted, oneshot, idle;
};

/*
 * QEMUBH's members resolved once per list, as objects at offset 0: a BH is
 * then a few reads, not a few lookups by path (10,000 BHs are common).
 * !ok: some member could not be resolved; each BH then looks its members
 * up by name and says what is missing.
 */
struct bh_layout {
	bool ok, has_name, has_flags;
	struct ac_object ctx, cb, opaque, name, flags, scheduled, deleted, idle;
};

/* Which list slot holds a BH: found again, it is not decoded twice. */
struct bh_decoder {
	struct bh_flag_values fv;
	struct bh_layout layout;
	struct ac_hash_map index;   /* BH address -> its slot in the list */
};

static bool succeeded(struct ac_error *err)
{
	ac_error_destroy(err);
	return !err;
}

static bool layout_member(struct ac_program *prog, const struct ac_object *bh0,
			  const char *path, struct ac_object *ret, bool *has)
{
	struct ac_error *err = ac_object_member(prog, bh0, path, ret, NULL);
	*has = !err;
	bool missing = err && err->code == AC_ERR_LOOKUP;
	ac_error_destroy(err);
	return !err || missing;
}

static void read_layout(struct ac_program *prog, struct bh_layout *l)
{
	struct ac_object bh0;
	bool has_ctx, has_cb, has_opaque, has_s, has_d, has_i;
	*l = (struct bh_layout){ 0 };
	struct ac_error *err = ac_object_at(prog, "QEMUBH", ASYNC_HINT, 0, &bh0);
	if (err) {
		ac_error_destroy(err);
		return;
	}
	l->ok = layout_member(prog, &bh0, "ctx", &l->ctx, &has_ctx) &&
		layout_member(prog, &bh0, "cb", &l->cb, &has_cb) &&
		layout_member(prog, &bh0, "opaque", &l->opaque, &has_opaque) &&
		layout_member(prog, &bh0, "name", &l->name, &l->has_name) &&
		layout_member(prog, &bh0, "flags", &l->flags, &l->has_flags) &&
		has_ctx && has_cb && has_opaque;
	if (l->ok && !l->has_flags)
		l->ok = layout_member(prog, &bh0, "scheduled", &l->scheduled, &has_s) &&
			layout_member(prog, &bh0, "deleted", &l->deleted, &has_d) &&
			layout_member(prog, &bh0, "idle", &l->idle, &has_i) &&
			has_s && has_d && has_i;
}

static struct ac_error *layout_read(struct ac_program *prog, const struct ac_object *member,
				    uint64_t address, uint64_t *ret)
{
	struct ac_object at = *member;
	at.address += address;
	return ac_object_read_uint(prog, &at, ret);
}

static void read_flag_values(struct ac_program *prog, struct bh_flag_values *v)
{
	struct { const char *name; int64_t *value; } names[] = {
		{ "BH_PENDING", &v->pending }, { "BH_SCHEDULED", &v->scheduled },
		{ "BH_DELETED", &v->deleted }, { "BH_ONESHOT", &v->oneshot },
		{ "BH_IDLE", &v->idle },
	};
	v->known = true;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct ac_error *err = ac_dwarf_enumerator(prog->dwarf, NULL, names[i].name,
							   ASYNC_HINT, names[i].value);
		if (err) {
			ac_error_destroy(err);
			v->known = false;
		}
	}
}

static char *symbol_text(struct ac_program *prog, uint64_t address)
{
	char buf[256];
	return strdup(ac_program_symbolize(prog, address, buf, sizeof(buf)));
}

/* Only name opaque pointers that are static objects: heap addresses are not. */
static char *object_name(struct ac_program *prog, uint64_t address)
{
	const char *name;
	uint64_t offset;
	struct ac_error *err = ac_program_symbol(prog, address, &name, &offset);
	if (err) {
		ac_error_destroy(err);
		return NULL;
	}
	char *text;
	if (offset ? asprintf(&text, "%s+0x%" PRIx64, name, offset) < 0
		   : asprintf(&text, "%s", name) < 0)
		return NULL;
	return text;
}

static void append_where(struct ac_bh *bh, const char *where)
{
	if (!bh->where) {
		bh->where = strdup(where);
		return;
	}
	if (strstr(bh->where, where))
		return;
	char *joined;
	if (asprintf(&joined, "%s, %s", bh->where, where) >= 0) {
		free(bh->where);
		bh->where = joined;
	}
}

/* A member of the BH: through the layout, else looked up by path. */
static struct ac_error *bh_member(struct ac_program *prog, const struct bh_decoder *d,
				  const struct ac_object *obj, const char *path,
				  const struct ac_object *resolved, uint64_t *ret)
{
	if (d->layout.ok)
		return layout_read(prog, resolved, obj->address, ret);
	return ac_object_member_uint(prog, obj, path, ret);
}

static struct ac_error *decode_bh(struct ac_program *prog, const struct bh_decoder *d,
				  struct ac_object *obj, struct ac_bh *bh)
{
	const struct bh_flag_values *fv = &d->fv;
	const struct bh_layout *l = &d->layout;
	uint64_t v;
	struct ac_error *err;
	bh->address = obj->address;
	if ((err = bh_member(prog, d, obj, "ctx", &l->ctx, &bh->ctx)) ||
	    (err = bh_member(prog, d, obj, "cb", &l->cb, &bh->cb)) ||
	    (err = bh_member(prog, d, obj, "opaque", &l->opaque, &bh->opaque)))
		return err;
	bh->cb_name = symbol_text(prog, bh->cb);
	bh->opaque_name = bh->opaque ? object_name(prog, bh->opaque) : NULL;
	uint64_t name_ptr = 0;
	err = l->ok && !l->has_name ? NULL : bh_member(prog, d, obj, "name", &l->name, &name_ptr);
	if (!err && name_ptr) {
		struct ac_error *serr = ac_target_read_string(prog->target, name_ptr, 128,
							      &bh->name);
		ac_error_destroy(serr);
	}
	ac_error_destroy(err);
	/* A layout without flags goes to the booleans, no error built per BH. */
	bool no_flags = l->ok && !l->has_flags;
	err = no_flags ? NULL : bh_member(prog, d, obj, "flags", &l->flags, &v);
	if (!no_flags && !err) {
		if (!fv->known)
			return ac_error_create(AC_ERR_LOOKUP,
					       "QEMUBH.flags exists but the BH_* enumerators were not found");
		bh->has_flags = true;
		bh->flags = (uint32_t)v;
		bh->pending = v & fv->pending;
		bh->scheduled = v & fv->scheduled;
		bh->deleted = v & fv->deleted;
		bh->oneshot = v & fv->oneshot;
		bh->idle = v & fv->idle;
		bh->runnable = (v & (fv->scheduled | fv->deleted)) == (uint64_t)fv->scheduled;
		return NULL;
	}
	if (err && err->code != AC_ERR_LOOKUP)
		return err;
	ac_error_destroy(err);
	/* Up to 4.2: three booleans. */
	if ((err = bh_member(prog, d, obj, "scheduled", &l->scheduled, &v)))
		return err;
	bh->scheduled = v;
	if ((err = bh_member(prog, d, obj, "deleted", &l->deleted, &v)))
		return err;
	bh->deleted = v;
	if ((err = bh_member(prog, d, obj, "idle", &l->idle, &v)))
		return err;
	bh->idle = v;
	/*
	 * qemu_bh_delete() clears scheduled, so scheduled && deleted is a
	 * oneshot BH (2.8+, created that way), and aio_bh_poll() runs it.
	 */
	bh->runnable = bh->scheduled;
	bh->oneshot = bh->scheduled && bh->deleted;
	return NULL;
}

static struct ac_bh *add_bh(struct ac_program *prog, struct ac_bh_list *list,
			    struct bh_decoder *d, uint64_t address, const char *where)
{
	uint64_t known;
	if (ac_hash_map_get(&d->index, address, &known)) {
		append_where(&list->items[known], where);
		return &list->items[known];
	}
	struct ac_bh *bh = ac_array_slot(list->items, list->n);
	if (!bh)
		return NULL;
	/* Without memory the index stops growing: the BH is then not deduplicated. */
	ac_hash_map_add(&d->index, address, list->n);
	list->n++;
	append_where(bh, where);
	struct ac_object obj = { .address = address };
	struct ac_error *err = NULL;
	if (!d->layout.ok)
		err = ac_object_at(prog, "QEMUBH", ASYNC_HINT, address, &obj);
	if (!err)
		err = decode_bh(prog, d, &obj, bh);
	bh->address = address;
	if (err) {
		if (asprintf(&bh->problem, "<unreadable: %s>", err->message) < 0)
			bh->problem = NULL;
		ac_program_note_error(prog, err, "QEMUBH 0x%" PRIx64 " (%s)", address, where);
	}
	return bh;
}

static void set_walk_problem(struct ac_program *prog, struct ac_bh_list *list,
			     const char *what, const char *problem, uint64_t at)
{
	ac_program_note(prog, "%s: %s at 0x%" PRIx64 "; the walk stopped there",
			what, problem, at);
	if (!list->walk_problem &&
	    asprintf(&list->walk_problem, "%s: %s at 0x%" PRIx64, what, problem, at) < 0)
		list->walk_problem = NULL;
}

/* Follow first -> next_path from BH to BH, bounded and cycle-checked. */
static void walk_chain(struct ac_program *prog, struct ac_bh_list *list,
		       struct bh_decoder *d, uint64_t first,
		       const char *next_path, const char *where)
{
	struct ac_walk walk;
	ac_walk_init(&walk, AC_WALK_MAX);
	/* The link resolved once for the chain, as the layout's members are. */
	struct ac_object bh0, next_member;
	bool resolved = d->layout.ok &&
			succeeded(ac_object_at(prog, "QEMUBH", ASYNC_HINT, 0, &bh0)) &&
			succeeded(ac_object_member(prog, &bh0, next_path, &next_member, NULL));
	for (uint64_t at = first; at;) {
		if (!ac_walk_step(&walk, at)) {
			set_walk_problem(prog, list, where, walk.problem, at);
			return;
		}
		struct ac_bh *bh = add_bh(prog, list, d, at, where);
		if (!bh || bh->problem)
			return;
		struct ac_object obj;
		uint64_t next;
		struct ac_error *err = NULL;
		if (resolved) {
			err = layout_read(prog, &next_member, at, &next);
		} else {
			err = ac_object_at(prog, "QEMUBH", ASYNC_HINT, at, &obj);
			if (!err)
				err = ac_object_member_uint(prog, &obj, next_path, &next);
		}
		if (err) {
			ac_program_note_error(prog, err, "%s: next of 0x%" PRIx64, where, at);
			return;
		}
		at = next;
	}
}

/* 5.0+: BHs being run sit on slices that live on aio_bh_poll()'s stack. */
static void walk_slices(struct ac_program *prog, struct ac_bh_list *list,
			struct bh_decoder *d,
			const struct ac_aio_context *ctx)
{
	uint64_t first;
	struct ac_error *err = ac_object_member_uint(prog, &ctx->obj,
						     "bh_slice_list.sqh_first", &first);
	if (err) {
		ac_error_destroy(err);
		return;
	}
	struct ac_walk walk;
	ac_walk_init(&walk, 1024);
	for (uint64_t at = first; at;) {
		if (!ac_walk_step(&walk, at)) {
			set_walk_problem(prog, list, "bh_slice_list", walk.problem, at);
			return;
		}
		struct ac_object slice;
		uint64_t bhs, next;
		err = ac_object_at(prog, "BHListSlice", ASYNC_HINT, at, &slice);
		if (!err)
			err = ac_object_member_uint(prog, &slice, "bh_list.slh_first", &bhs);
		if (!err)
			err = ac_object_member_uint(prog, &slice, "next.sqe_next", &next);
		if (err) {
			ac_program_note_error(prog, err, "bh_slice_list entry 0x%" PRIx64, at);
			return;
		}
		walk_chain(prog, list, d, bhs, "next.sle_next", "bh_slice_list");
		at = next;
	}
}

static void decode_list(struct ac_program *prog, struct bh_decoder *d,
			const struct ac_aio_context *ctx, unsigned which, uint64_t first,
			struct ac_bh_list *list)
{
	struct ac_error *err;
	if (which == 0) {
		walk_chain(prog, list, d, first, "next.sle_next", "bh_list");
		walk_slices(prog, list, d, ctx);
	} else {
		walk_chain(prog, list, d, first, "next", "first_bh");
	}
	if (ctx->co_schedule_bh)
		add_bh(prog, list, d, ctx->co_schedule_bh, "AioContext.co_schedule_bh");
	if (ctx->thread_pool) {
		struct ac_object pool;
		const char *type_name;
		uint64_t completion_bh;
		err = ac_thread_pool_object(prog, ctx->thread_pool, &pool, &type_name);
		if (!err)
			err = ac_object_member_uint(prog, &pool, "completion_bh", &completion_bh);
		if (!err && completion_bh)
			add_bh(prog, list, d, completion_bh, "ThreadPool.completion_bh");
		if (err)
			ac_program_note_error(prog, err, "ThreadPool 0x%" PRIx64 ".completion_bh",
					      ctx->thread_pool);
	}
}

struct ac_error *ac_bhs_decode(struct ac_program *prog,
			       const struct ac_aio_context *ctx,
			       struct ac_bh_list *ret)
{
	struct bh_decoder d = { 0 };
	read_flag_values(prog, &d.fv);
	read_layout(prog, &d.layout);
	struct ac_bh_list list = { 0 };
	uint64_t first;
	unsigned which;
	struct ac_object head;
	struct ac_error *err = ac_object_member(prog, &ctx->obj,
						"bh_list.slh_first|first_bh", &head, &which);
	if (!err)
		err = ac_object_read_uint(prog, &head, &first);
	if (err)
		return ac_error_prefix(err, "AioContext 0x%" PRIx64 ": BH list",
				       ctx->obj.address);
	decode_list(prog, &d, ctx, which, first, &list);
	ac_hash_map_deinit(&d.index);
	*ret = list;
	return NULL;
}


void ac_bh_list_deinit(struct ac_bh_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		free(list->items[i].cb_name);
		free(list->items[i].opaque_name);
		free(list->items[i].name);
		free(list->items[i].where);
		free(list->items[i].problem);
	}
	free(list->items);
	free(list->walk_problem);
	*list = (struct ac_bh_list){ 0 };
}

const struct ac_bh *ac_bh_list_find(const struct ac_bh_list *list, uint64_t address)
{
	for (size_t i = 0; i < list->n; i++)
		if (list->items[i].address == address)
			return &list->items[i];
	return NULL;
}

const char *ac_bh_flags_text(const struct ac_bh *bh, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s%s%s",
		 bh->pending ? "pending " : "", bh->scheduled ? "scheduled " : "",
		 bh->idle ? "idle " : "", bh->deleted ? "deleted " : "",
		 bh->oneshot ? "oneshot " : "");
	size_t len = strlen(buf);
	if (len)
		buf[len - 1] = '\0';
	else
		snprintf(buf, size, "-");
	return buf;
}
