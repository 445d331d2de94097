/* SPDX-License-Identifier: GPL-2.0-or-later */
/* aiocore ctx: every AioContext found, decoded, with its home thread. */
#include <inttypes.h>

#include "qemu/qemu.h"
#include "util/util.h"
#include "view.h"

static void print_text(FILE *out, const struct ac_aio_context *c)
{
	fprintf(out, "AioContext 0x%" PRIx64 "  %s\n", c->obj.address, ac_aio_context_role(c));
	fprintf(out, "  found as:     %s\n", c->found_as);
	if (c->has_notify_me)
		fprintf(out, "  notify_me:    %" PRIu32 " (glib prepare bit %s; %" PRIu32 " blocking aio_poll)\n",
			c->notify_me, c->notify_me & 1 ? "set" : "clear", c->notify_me >> 1);
	if (c->has_dispatching)
		fprintf(out, "  dispatching:  %s\n", c->dispatching ? "true" : "false");
	if (c->has_notified)
		fprintf(out, "  notified:     %s\n", c->notified ? "true" : "false");
	fprintf(out, "  eventfd:      rfd %d, wfd %d\n", c->notifier_rfd, c->notifier_wfd);
	if (c->has_list_lock)
		fprintf(out, "  list_lock:    count %" PRIu32 " (%" PRIu32 " walkers, state %u)\n",
			c->list_lock, c->list_lock >> 2, c->list_lock & 3);
	if (c->has_external_disable_cnt)
		fprintf(out, "  external_disable_cnt: %" PRId64 "\n", c->external_disable_cnt);
	fprintf(out, "  thread_pool:  0x%" PRIx64 "\n", c->thread_pool);
	if (c->home_tid)
		fprintf(out, "  home thread:  %d (%s): %s in %s\n", c->home_tid, c->home_how,
			c->sleeping_in_poll ? "asleep" : "running",
			c->blocked_in ? c->blocked_in : "?");
	else
		fprintf(out, "  home thread:  unknown\n");
}

static void print_json(struct ac_json *j, const struct ac_aio_context *c)
{
	ac_json_object_begin(j);
	ac_json_field_address(j, "address", c->obj.address);
	ac_json_field_string(j, "role", c->is_main ? "main"
				: c->is_iohandler ? "iohandler"
				: c->is_iothread ? "iothread" : "other");
	ac_json_field_string(j, "found_as", c->found_as);
	ac_json_field_uint_opt(j, "notify_me", c->has_notify_me, c->notify_me);
	ac_json_field_bool_opt(j, "notified", c->has_notified, c->notified);
	ac_json_field_int(j, "eventfd", c->notifier_rfd);
	ac_json_field_uint_opt(j, "list_lock", c->has_list_lock, c->list_lock);
	ac_json_field_int_opt(j, "external_disable_cnt", c->has_external_disable_cnt,
			      c->external_disable_cnt);
	ac_json_field_address(j, "thread_pool", c->thread_pool);
	ac_json_field_int_opt(j, "home_tid", c->home_tid != 0, c->home_tid);
	ac_json_field_bool(j, "home_sleeping_in_poll", c->sleeping_in_poll);
	ac_json_field_string(j, "blocked_in", c->blocked_in);
	ac_json_object_end(j);
}

static bool show_context(struct ac_program *prog, const struct ac_aio_context *c,
			 const struct ac_view_options *opts, FILE *out,
			 struct ac_json *json, size_t shown)
{
	(void)prog;
	if (opts->json) {
		print_json(json, c);
		return true;
	}
	if (shown)
		fputc('\n', out);
	print_text(out, c);
	return true;
}

struct ac_error *ac_view_ctx(struct ac_program *prog, const struct ac_view_options *opts,
			     FILE *out, enum ac_view_result *result)
{
	*result = AC_VIEW_OK;
	return ac_view_each_context(prog, opts, out, "aiocore-ctx/1", "contexts",
				    show_context, ac_view_no_context(opts));
}
