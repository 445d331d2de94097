/* SPDX-License-Identifier: GPL-2.0-or-later */
/* aiocore bh-list: the BHs of each AioContext, flags decoded. */
#include <inttypes.h>

#include "qemu/qemu.h"
#include "util/util.h"
#include "view.h"

static void print_bh_text(FILE *out, const struct ac_bh *bh)
{
	char flags[96];
	if (bh->problem) {
		fprintf(out, "  0x%" PRIx64 "  %s  (%s)\n", bh->address, bh->problem, bh->where);
		return;
	}
	fprintf(out, "  0x%" PRIx64 "  cb=%s opaque=0x%" PRIx64, bh->address, bh->cb_name,
		bh->opaque);
	if (bh->opaque_name)
		fprintf(out, " <%s>", bh->opaque_name);
	if (bh->name)
		fprintf(out, " name=\"%s\"", bh->name);
	fprintf(out, " [%s] %s  (%s)\n", ac_bh_flags_text(bh, flags, sizeof(flags)),
		bh->runnable ? "runnable" : "not runnable", bh->where);
}

static void print_bh_json(struct ac_json *j, const struct ac_bh *bh)
{
	ac_json_object_begin(j);
	ac_json_field_address(j, "address", bh->address);
	ac_json_field_string(j, "cb", bh->cb_name);
	ac_json_field_address(j, "opaque", bh->opaque);
	ac_json_field_string(j, "opaque_symbol", bh->opaque_name);
	ac_json_field_string(j, "name", bh->name);
	ac_json_field_uint_opt(j, "flags", bh->has_flags, bh->flags);
	ac_json_field_bool(j, "pending", bh->pending);
	ac_json_field_bool(j, "scheduled", bh->scheduled);
	ac_json_field_bool(j, "idle", bh->idle);
	ac_json_field_bool(j, "deleted", bh->deleted);
	ac_json_field_bool(j, "oneshot", bh->oneshot);
	ac_json_field_bool(j, "runnable", bh->runnable);
	ac_json_field_string(j, "where", bh->where);
	ac_json_field_string(j, "problem", bh->problem);
	ac_json_object_end(j);
}

static bool show_context(struct ac_program *prog, const struct ac_aio_context *c,
			 const struct ac_view_options *opts, FILE *out,
			 struct ac_json *j, size_t shown)
{
	struct ac_bh_list bhs = { 0 };
	struct ac_error *err = ac_bhs_decode(prog, c, &bhs);
	if (err)
		ac_program_note_error(prog, err, "AioContext 0x%" PRIx64, c->obj.address);
	if (opts->json) {
		ac_json_object_begin(j);
		ac_json_field_address(j, "context", c->obj.address);
		ac_json_key(j, "bhs");
		ac_json_array_begin(j);
		for (size_t b = 0; b < bhs.n; b++)
			print_bh_json(j, &bhs.items[b]);
		ac_json_array_end(j);
		ac_json_field_string(j, "walk_problem", bhs.walk_problem);
		ac_json_object_end(j);
	} else {
		if (shown)
			fputc('\n', out);
		fprintf(out, "AioContext 0x%" PRIx64 "  %s: %zu BH%s\n", c->obj.address,
			ac_aio_context_role(c), bhs.n, bhs.n == 1 ? "" : "s");
		for (size_t b = 0; b < bhs.n; b++)
			print_bh_text(out, &bhs.items[b]);
		if (bhs.walk_problem)
			fprintf(out, "  <list broken: %s>\n", bhs.walk_problem);
	}
	ac_bh_list_deinit(&bhs);
	return true;
}

struct ac_error *ac_view_bh_list(struct ac_program *prog, const struct ac_view_options *opts,
				 FILE *out, enum ac_view_result *result)
{
	*result = AC_VIEW_OK;
	return ac_view_each_context(prog, opts, out, "aiocore-bh-list/1", "contexts",
				    show_context, ac_view_no_context(opts));
}
