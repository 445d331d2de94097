/* SPDX-License-Identifier: GPL-2.0-or-later */
/* aiocore events: QemuEvents, their value decoded, waiters and conditions. */
#include <inttypes.h>

#include "util/util.h"
#include "qemu/qemu.h"
#include "view.h"

/* The function that called qemu_event_wait: what the waiter is. */
static const char *waiter_caller(struct ac_program *prog, const struct ac_event_waiter *w)
{
	const struct ac_backtrace *bt = ac_program_backtrace(prog, w->thread_index);
	if (!bt)
		return NULL;
	for (size_t i = w->frame_index + 1; i < bt->n_frames; i++)
		if (bt->frames[i].function)
			return bt->frames[i].function;
	return NULL;
}

/* What the guarded condition says about a sleeping waiter. */
static const char *condition_meaning(const struct ac_qemu_event *ev)
{
	bool asleep = false;
	for (size_t k = 0; k < ev->n_waiters; k++)
		asleep |= ev->waiters[k].in_futex;
	if (!ev->condition_holds)
		return "nothing queued: sleeping is correct";
	if (ev->value == AC_EV_BUSY && asleep && !ev->setter_tid)
		return "work queued but the waiter sleeps: lost wakeup (see diagnose)";
	if (ev->setter_tid)
		return "work queued; a set is in flight";
	return "work queued";
}

static void print_text(struct ac_program *prog, FILE *out, const struct ac_qemu_event *ev)
{
	fprintf(out, "QemuEvent %s @0x%" PRIx64 ": value %" PRIu32 " = %s%s (%s)\n",
		ev->name, ev->address, ev->value,
		ev->value == AC_EV_SET || ev->value == AC_EV_FREE || ev->value == AC_EV_BUSY ? "EV_" : "",
		ev->state, ac_event_state_meaning(ev->value));
	if (ev->has_initialized && !ev->initialized)
		fprintf(out, "  initialized: false\n");
	if (!ev->n_waiters)
		fprintf(out, "  waiters: none\n");
	for (size_t k = 0; k < ev->n_waiters; k++) {
		const struct ac_event_waiter *w = &ev->waiters[k];
		const char *caller = waiter_caller(prog, w);
		fprintf(out, "  %s thread %d #%zu qemu_event_wait (%s)", k ? "        " : "waiters:",
			w->tid, w->frame_index, caller ? caller : "??");
		if (w->inferred)
			fprintf(out, " [ev optimized out: inferred from %s]",
				w->inferred_from ? w->inferred_from : "its caller");
		fprintf(out, "%s\n", w->in_futex ? ", asleep in the futex" : ", not in the futex");
	}
	if (ev->setter_tid)
		fprintf(out, "  setter: thread %d %s\n", ev->setter_tid,
			ev->setter_frame ? ev->setter_frame : "");
	if (ev->condition)
		fprintf(out, "  guards: %s (%s)\n", ev->condition, condition_meaning(ev));
}

static void print_json(struct ac_program *prog, struct ac_json *j, const struct ac_qemu_event *ev)
{
	ac_json_object_begin(j);
	ac_json_key(j, "name");
	ac_json_string(j, ev->name);
	ac_json_key(j, "address");
	ac_json_address(j, ev->address);
	ac_json_key(j, "value");
	ac_json_uint(j, ev->value);
	ac_json_key(j, "state");
	ac_json_string(j, ev->state);
	ac_json_key(j, "meaning");
	ac_json_string(j, ac_event_state_meaning(ev->value));
	ac_json_key(j, "initialized");
	if (ev->has_initialized)
		ac_json_bool(j, ev->initialized);
	else
		ac_json_null(j);
	ac_json_key(j, "waiters");
	ac_json_array_begin(j);
	for (size_t k = 0; k < ev->n_waiters; k++) {
		const struct ac_event_waiter *w = &ev->waiters[k];
		ac_json_object_begin(j);
		ac_json_key(j, "tid");
		ac_json_int(j, w->tid);
		ac_json_key(j, "frame");
		ac_json_uint(j, w->frame_index);
		ac_json_key(j, "caller");
		ac_json_string(j, waiter_caller(prog, w));
		ac_json_key(j, "in_futex");
		ac_json_bool(j, w->in_futex);
		ac_json_key(j, "inferred_from");
		ac_json_string(j, w->inferred ? (w->inferred_from ? w->inferred_from : "caller") : NULL);
		ac_json_object_end(j);
	}
	ac_json_array_end(j);
	ac_json_key(j, "setter_tid");
	if (ev->setter_tid)
		ac_json_int(j, ev->setter_tid);
	else
		ac_json_null(j);
	ac_json_key(j, "condition");
	ac_json_string(j, ev->condition);
	ac_json_key(j, "condition_address");
	if (ev->has_condition_address)
		ac_json_address(j, ev->condition_address);
	else
		ac_json_null(j);
	ac_json_key(j, "condition_holds");
	if (ev->condition)
		ac_json_bool(j, ev->condition_holds);
	else
		ac_json_null(j);
	ac_json_object_end(j);
}

struct ac_error *ac_view_events(struct ac_program *prog, const struct ac_view_options *opts,
				FILE *out, enum ac_view_result *result)
{
	*result = AC_VIEW_OK;
	struct ac_event_list events;
	struct ac_error *err = ac_events_decode(prog, &events);
	if (err)
		return err;
	if (opts->json) {
		struct ac_json j;
		ac_view_json_begin(&j, out, "aiocore-events/1", "events");
		for (size_t i = 0; i < events.n; i++)
			print_json(prog, &j, &events.items[i]);
		ac_view_json_end(prog, &j);
	} else {
		for (size_t i = 0; i < events.n; i++) {
			if (i)
				fputc('\n', out);
			print_text(prog, out, &events.items[i]);
		}
		if (!events.n)
			fprintf(out, "no QemuEvent found (no rcu_call_ready_event, no waiter in qemu_event_wait)\n");
	}
	ac_event_list_deinit(&events);
	return NULL;
}
