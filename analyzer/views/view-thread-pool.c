/* SPDX-License-Identifier: GPL-2.0-or-later */
/* aiocore thread-pool: each pool, its counts and every request. */
#include <inttypes.h>

#include "qemu/qemu.h"
#include "util/util.h"
#include "view.h"

static void print_text(FILE *out, const struct ac_thread_pool *p)
{
	fprintf(out, "%s 0x%" PRIx64 "  (AioContext 0x%" PRIx64 ")\n", p->type_name, p->address,
		p->ctx);
	fprintf(out, "  threads:");
	for (size_t i = 0; i < sizeof(p->counts) / sizeof(p->counts[0]); i++)
		if (p->counts[i].has)
			fprintf(out, " %s %" PRId64, p->counts[i].name, p->counts[i].value);
	fprintf(out, "\n  completion_bh: 0x%" PRIx64 "\n", p->completion_bh);
	fprintf(out, "  requests: %zu\n", p->n_elements);
	for (size_t i = 0; i < p->n_elements; i++) {
		const struct ac_pool_element *e = &p->elements[i];
		if (e->problem) {
			fprintf(out, "    0x%" PRIx64 "  %s\n", e->address, e->problem);
			continue;
		}
		fprintf(out, "    0x%" PRIx64 "  %-13s %-12s func=%s ret=%" PRId64 " cb=%s opaque=0x%" PRIx64 "%s\n",
			e->address, e->state_name ? e->state_name : "?", e->kind, e->func_name,
			e->ret, e->cb_name, e->opaque,
			e->valid_aiocb_info ? "" : "  <aiocb_info is not thread_pool_aiocb_info>");
		if (e->coroutine)
			fprintf(out, "      -> coroutine 0x%" PRIx64 " entry %s  (%s)\n", e->coroutine,
				e->co_entry_name ? e->co_entry_name : "?", e->chain ? e->chain : "");
	}
	if (p->walk_problem)
		fprintf(out, "  <list broken: %s>\n", p->walk_problem);
}

static void print_json(struct ac_json *j, const struct ac_thread_pool *p)
{
	ac_json_object_begin(j);
	ac_json_field_address(j, "address", p->address);
	ac_json_field_string(j, "type", p->type_name);
	ac_json_field_address(j, "ctx", p->ctx);
	ac_json_field_address(j, "completion_bh", p->completion_bh);
	for (size_t i = 0; i < sizeof(p->counts) / sizeof(p->counts[0]); i++)
		if (p->counts[i].has)
			ac_json_field_int(j, p->counts[i].name, p->counts[i].value);
	ac_json_key(j, "requests");
	ac_json_array_begin(j);
	for (size_t i = 0; i < p->n_elements; i++) {
		const struct ac_pool_element *e = &p->elements[i];
		ac_json_object_begin(j);
		ac_json_field_address(j, "address", e->address);
		ac_json_field_string(j, "state", e->state_name);
		ac_json_field_int(j, "state_value", e->state);
		ac_json_field_string(j, "kind", e->kind);
		ac_json_field_string(j, "func", e->func_name);
		ac_json_field_int(j, "ret", e->ret);
		ac_json_field_string(j, "cb", e->cb_name);
		ac_json_field_address(j, "opaque", e->opaque);
		ac_json_field_bool(j, "valid_aiocb_info", e->valid_aiocb_info);
		ac_json_field_address_opt(j, "coroutine", e->coroutine != 0, e->coroutine);
		ac_json_field_string(j, "coroutine_entry", e->co_entry_name);
		ac_json_field_string(j, "problem", e->problem);
		ac_json_object_end(j);
	}
	ac_json_array_end(j);
	ac_json_field_string(j, "walk_problem", p->walk_problem);
	ac_json_object_end(j);
}

static bool show_context(struct ac_program *prog, const struct ac_aio_context *c,
			 const struct ac_view_options *opts, FILE *out,
			 struct ac_json *j, size_t shown)
{
	if (!c->thread_pool)
		return false;
	struct ac_thread_pool pool;
	struct ac_error *err = ac_thread_pool_decode(prog, c->thread_pool, &pool);
	if (err) {
		ac_program_note_error(prog, err, "AioContext 0x%" PRIx64 ".thread_pool",
				      c->obj.address);
		return false;
	}
	if (opts->json) {
		print_json(j, &pool);
	} else {
		if (shown)
			fputc('\n', out);
		print_text(out, &pool);
	}
	ac_thread_pool_deinit(&pool);
	return true;
}

struct ac_error *ac_view_thread_pool(struct ac_program *prog,
				     const struct ac_view_options *opts, FILE *out,
				     enum ac_view_result *result)
{
	*result = AC_VIEW_OK;
	return ac_view_each_context(prog, opts, out, "aiocore-thread-pool/1", "pools",
				    show_context,
				    "no thread pool (no AioContext has used one yet)");
}
