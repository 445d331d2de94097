/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdarg.h>
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

/* Larger than any QEMUBH (2.x to 10.x: 40 to 72 bytes). */
#define BH_MAX_SIZE 256

/* A scalar member of QEMUBH: where it sits in a BH read whole. */
struct bh_field {
	uint32_t offset, size;
	unsigned bit_size, bit_offset;
};

/*
 * QEMUBH's members resolved once per list: a BH is then one read of the
 * whole struct, not a lookup and a read per member (10,000 BHs are common).
 * !ok: some member could not be resolved; each BH then looks its members
 * up by name and says what is missing.
 */
struct bh_layout {
	bool ok, has_name, has_flags;
	uint32_t size;
	struct bh_field ctx, cb, opaque, name, flags, scheduled, deleted, idle;
};

struct bh_decoder {
	struct bh_flag_values fv;
	struct bh_layout layout;
	/* Which list slot holds a BH: found again, it is not decoded twice. */
	struct ac_hash_map index;
	/* cb -> its text in the list's pool: 10,000 BHs share a few callbacks. */
	struct ac_hash_map cb_texts;
};

static bool succeeded(struct ac_error *err)
{
	ac_error_destroy(err);
	return !err;
}

/*
 * path as a field of a BH of size bytes.  False if the layout cannot be
 * used: the member exists but is not a scalar inside the struct, or the
 * lookup failed for another reason than its absence (*has false).
 */
static bool layout_field(struct ac_program *prog, const struct ac_object *bh0,
			 uint32_t size, const char *path, struct bh_field *ret, bool *has)
{
	struct ac_object m;
	struct ac_error *err = ac_object_member(prog, bh0, path, &m, NULL);
	*has = !err;
	if (err) {
		bool missing = err->code == AC_ERR_LOOKUP;
		ac_error_destroy(err);
		return missing;
	}
	bool scalar;
	uint64_t bytes;
	if (!succeeded(ac_dwarf_scalar_size(prog->dwarf, &m.type, &scalar, &bytes)) ||
	    !scalar || (bytes != 1 && bytes != 2 && bytes != 4 && bytes != 8) ||
	    m.address > size || bytes > size - m.address)
		return false;
	*ret = (struct bh_field){ (uint32_t)m.address, (uint32_t)bytes, m.bit_size, m.bit_offset };
	return true;
}

static void read_layout(struct ac_program *prog, struct bh_layout *l)
{
	struct ac_object bh0;
	uint64_t size;
	bool has_ctx, has_cb, has_opaque, has_s, has_d, has_i;
	*l = (struct bh_layout){ 0 };
	if (!succeeded(ac_object_at(prog, "QEMUBH", ASYNC_HINT, 0, &bh0)) ||
	    !succeeded(ac_object_size(&bh0, &size)) || size == 0 || size > BH_MAX_SIZE)
		return;
	l->size = (uint32_t)size;
	l->ok = layout_field(prog, &bh0, l->size, "ctx", &l->ctx, &has_ctx) &&
		layout_field(prog, &bh0, l->size, "cb", &l->cb, &has_cb) &&
		layout_field(prog, &bh0, l->size, "opaque", &l->opaque, &has_opaque) &&
		layout_field(prog, &bh0, l->size, "name", &l->name, &l->has_name) &&
		layout_field(prog, &bh0, l->size, "flags", &l->flags, &l->has_flags) &&
		has_ctx && has_cb && has_opaque;
	if (l->ok && !l->has_flags)
		l->ok = layout_field(prog, &bh0, l->size, "scheduled", &l->scheduled, &has_s) &&
			layout_field(prog, &bh0, l->size, "deleted", &l->deleted, &has_d) &&
			layout_field(prog, &bh0, l->size, "idle", &l->idle, &has_i) &&
			has_s && has_d && has_i;
}

/* A bit-field's bits of the storage unit read for it; other fields as read. */
static uint64_t field_bits(const struct bh_field *f, uint64_t value)
{
	if (f->bit_size) {
		value >>= f->bit_offset;
		if (f->bit_size < 64)
			value &= (UINT64_C(1) << f->bit_size) - 1;
	}
	return value;
}

/* A field's value in a BH read whole (little-endian, as every target). */
static uint64_t field_value(const struct bh_field *f, const uint8_t *bh)
{
	uint64_t value = 0;
	for (uint32_t i = f->size; i-- > 0;)
		value = (value << 8) | bh[f->offset + i];
	return field_bits(f, value);
}

/* One field read alone, at the BH at address. */
static struct ac_error *field_read(struct ac_program *prog, const struct bh_field *f,
				   uint64_t address, uint64_t *ret)
{
	uint64_t value;
	struct ac_error *err = ac_target_read_uint(prog->target, address + f->offset, f->size,
						   &value);
	if (err)
		return err;
	*ret = field_bits(f, value);
	return NULL;
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

/* A formatted string kept in the list's pool; NULL without memory. */
static const char *pool_printf(struct ac_bh_list *list, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static const char *pool_printf(struct ac_bh_list *list, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bool kept = ac_strings_vappendf(&list->strings, &list->n_strings, fmt, ap);
	va_end(ap);
	return kept ? list->strings[list->n_strings - 1] : NULL;
}

/* The callback's symbol, symbolized once per address. */
static const char *cb_text(struct ac_program *prog, struct bh_decoder *d,
			   struct ac_bh_list *list, uint64_t cb)
{
	uint64_t known;
	if (ac_hash_map_get(&d->cb_texts, cb, &known))
		return (const char *)(uintptr_t)known;
	char buf[256];
	const char *text = pool_printf(list, "%s",
				       ac_program_symbolize(prog, cb, buf, sizeof(buf)));
	/* Without memory the text is simply made again next time. */
	if (text)
		ac_hash_map_add(&d->cb_texts, cb, (uintptr_t)text);
	return text;
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

/* where: a string literal; joined ones are kept in the list's pool. */
static void append_where(struct ac_bh_list *list, struct ac_bh *bh, const char *where)
{
	if (!bh->where) {
		bh->where = where;
		return;
	}
	if (strstr(bh->where, where))
		return;
	const char *joined = pool_printf(list, "%s, %s", bh->where, where);
	if (joined)
		bh->where = joined;
}

/*
 * Where a BH's members come from: its bytes, read whole through the layout,
 * or else lookups by path from obj (no layout, or the whole read failed, so
 * that each member says what it could not read).
 */
struct bh_source {
	const uint8_t *bytes;
	const struct ac_object *obj;
};

static struct ac_error *bh_member(struct ac_program *prog, const struct bh_source *src,
				  const char *path, const struct bh_field *f, uint64_t *ret)
{
	if (src->bytes) {
		*ret = field_value(f, src->bytes);
		return NULL;
	}
	return ac_object_member_uint(prog, src->obj, path, ret);
}

static struct ac_error *decode_bh(struct ac_program *prog, struct bh_decoder *d,
				  struct ac_bh_list *list, const struct bh_source *src,
				  struct ac_bh *bh)
{
	const struct bh_flag_values *fv = &d->fv;
	const struct bh_layout *l = &d->layout;
	uint64_t v;
	struct ac_error *err;
	if ((err = bh_member(prog, src, "ctx", &l->ctx, &bh->ctx)) ||
	    (err = bh_member(prog, src, "cb", &l->cb, &bh->cb)) ||
	    (err = bh_member(prog, src, "opaque", &l->opaque, &bh->opaque)))
		return err;
	bh->cb_name = cb_text(prog, d, list, bh->cb);
	bh->opaque_name = bh->opaque ? object_name(prog, bh->opaque) : NULL;
	uint64_t name_ptr = 0;
	err = src->bytes && !l->has_name ? NULL : bh_member(prog, src, "name", &l->name, &name_ptr);
	if (!err && name_ptr) {
		struct ac_error *serr = ac_target_read_string(prog->target, name_ptr, 128,
							      &bh->name);
		ac_error_destroy(serr);
	}
	ac_error_destroy(err);
	/* A layout without flags goes to the booleans, no error built per BH. */
	bool no_flags = src->bytes && !l->has_flags;
	err = no_flags ? NULL : bh_member(prog, src, "flags", &l->flags, &v);
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
	if ((err = bh_member(prog, src, "scheduled", &l->scheduled, &v)))
		return err;
	bh->scheduled = v;
	if ((err = bh_member(prog, src, "deleted", &l->deleted, &v)))
		return err;
	bh->deleted = v;
	if ((err = bh_member(prog, src, "idle", &l->idle, &v)))
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

/* The BH at address, read whole through the layout or else by path. */
static struct ac_error *read_and_decode(struct ac_program *prog, struct bh_decoder *d,
					struct ac_bh_list *list, uint64_t address,
					struct ac_bh *bh)
{
	uint8_t bytes[BH_MAX_SIZE];
	if (d->layout.ok && succeeded(ac_target_read(prog->target, address, bytes,
						     d->layout.size)))
		return decode_bh(prog, d, list, &(struct bh_source){ .bytes = bytes }, bh);
	struct ac_object obj;
	struct ac_error *err = ac_object_at(prog, "QEMUBH", ASYNC_HINT, address, &obj);
	if (err)
		return err;
	return decode_bh(prog, d, list, &(struct bh_source){ .obj = &obj }, bh);
}

static struct ac_bh *add_bh(struct ac_program *prog, struct ac_bh_list *list,
			    struct bh_decoder *d, uint64_t address, const char *where)
{
	uint64_t known;
	if (ac_hash_map_get(&d->index, address, &known)) {
		append_where(list, &list->items[known], where);
		return &list->items[known];
	}
	struct ac_bh *bh = ac_array_slot(list->items, list->n);
	if (!bh)
		return NULL;
	/* Without memory the index stops growing: the BH is then not deduplicated. */
	ac_hash_map_add(&d->index, address, list->n);
	list->n++;
	append_where(list, bh, where);
	struct ac_error *err = read_and_decode(prog, d, list, address, bh);
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
	struct ac_object bh0;
	struct bh_field next_field;
	bool has_next;
	bool resolved = d->layout.ok &&
			succeeded(ac_object_at(prog, "QEMUBH", ASYNC_HINT, 0, &bh0)) &&
			layout_field(prog, &bh0, d->layout.size, next_path, &next_field,
				     &has_next) && has_next;
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
			err = field_read(prog, &next_field, at, &next);
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
	ac_hash_map_deinit(&d.cb_texts);
	*ret = list;
	return NULL;
}


void ac_bh_list_deinit(struct ac_bh_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		free(list->items[i].opaque_name);
		free(list->items[i].name);
		free(list->items[i].problem);
	}
	ac_strings_free(&list->strings, &list->n_strings);
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
