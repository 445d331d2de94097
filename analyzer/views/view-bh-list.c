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

struct ac_error *ac_view_bh_list(struct ac_program *prog, const struct ac_view_options *opts,
				 FILE *out, enum ac_view_result *result)
{
	*result = AC_VIEW_OK;
	struct ac_context_list list;
	struct ac_error *err = ac_aio_contexts_find(prog, &list);
	if (err)
		return err;
	struct ac_json j;
	if (opts->json)
		ac_view_json_begin(&j, out, "contexts");
	size_t shown = 0;
	for (size_t i = 0; i < list.n; i++) {
		const struct ac_aio_context *c = &list.items[i];
		if (opts->has_ctx && c->obj.address != opts->ctx)
			continue;
		struct ac_bh_list bhs = { 0 };
		err = ac_bhs_decode(prog, c, &bhs);
		if (err)
			ac_program_note_error(prog, err, "AioContext 0x%" PRIx64, c->obj.address);
		if (opts->json) {
			ac_json_object_begin(&j);
			ac_json_field_address(&j, "context", c->obj.address);
			ac_json_key(&j, "bhs");
			ac_json_array_begin(&j);
			for (size_t b = 0; b < bhs.n; b++)
				print_bh_json(&j, &bhs.items[b]);
			ac_json_array_end(&j);
			ac_json_field_string(&j, "walk_problem", bhs.walk_problem);
			ac_json_object_end(&j);
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
		shown++;
		ac_bh_list_deinit(&bhs);
	}
	if (opts->json)
		ac_view_json_end(prog, &j);
	else if (!shown) {
		fprintf(out, "no AioContext found%s\n", opts->has_ctx ? " at that address" : "");
	}
	ac_context_list_deinit(&list);
	return NULL;
}
