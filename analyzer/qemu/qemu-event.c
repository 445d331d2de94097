/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aio-context.h"
#include "dwarf/dwarf.h"
#include "qemu-event.h"

/* util/rcu.c keeps its events and counter static: this names their CU. */
#define RCU_HINT "call_rcu_thread"

const char *ac_event_state_name(uint32_t value)
{
	switch (value) {
	case AC_EV_SET: return "SET";
	case AC_EV_FREE: return "FREE";
	case AC_EV_BUSY: return "BUSY";
	}
	return "invalid";
}

const char *ac_event_state_meaning(uint32_t value)
{
	switch (value) {
	case AC_EV_SET: return "set: a wait returns at once";
	case AC_EV_FREE: return "reset, no waiter asleep";
	case AC_EV_BUSY: return "a waiter sleeps in the futex; normal";
	}
	return "not a QemuEvent value: corrupt or uninitialized";
}

void ac_event_list_deinit(struct ac_event_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		struct ac_qemu_event *ev = &list->items[i];
		free((char *)ev->name);
		free(ev->waiters);
		free(ev->condition);
		free(ev->setter_frame);
	}
	free(list->items);
	list->items = NULL;
	list->n = 0;
}

const struct ac_qemu_event *ac_event_list_find(const struct ac_event_list *list,
					       uint64_t address)
{
	for (size_t i = 0; i < list->n; i++)
		if (list->items[i].address == address)
			return &list->items[i];
	return NULL;
}

/* Decode the QemuEvent obj into a new entry of list named name (taken). */
static struct ac_error *add_event(struct ac_program *prog, struct ac_event_list *list,
				  const struct ac_object *obj, char *name)
{
	if (!name)
		return &ac_error_no_memory;
	uint64_t value;
	struct ac_error *err = ac_object_member_uint(prog, obj, "value", &value);
	if (err) {
		err = ac_error_prefix(err, "%s.value", name);
		free(name);
		return err;
	}
	struct ac_qemu_event ev = {
		.name = name,
		.address = obj->address,
		.value = (uint32_t)value,
		.state = ac_event_state_name((uint32_t)value),
	};
	/* `initialized` appeared in 2.10; older events have only `value`. */
	uint64_t init;
	err = ac_object_member_uint(prog, obj, "initialized", &init);
	if (!err) {
		ev.has_initialized = true;
		ev.initialized = init != 0;
	} else if (!ac_error_catch(&err, AC_ERR_LOOKUP)) {
		ac_program_note_error(prog, err, "%s.initialized", name);
	}
	struct ac_qemu_event *slot = ac_array_slot(list->items, list->n);
	if (!slot) {
		free(name);
		return &ac_error_no_memory;
	}
	*slot = ev;
	list->n++;
	return NULL;
}

static struct ac_qemu_event *find_mut(struct ac_event_list *list, uint64_t address)
{
	return (struct ac_qemu_event *)ac_event_list_find(list, address);
}

static struct ac_qemu_event *find_name(struct ac_event_list *list, const char *name)
{
	for (size_t i = 0; i < list->n; i++)
		if (!strcmp(list->items[i].name, name))
			return &list->items[i];
	return NULL;
}

/* A static event of util/rcu.c; absent (other program, old QEMU) is fine. */
static struct ac_error *add_static(struct ac_program *prog, struct ac_event_list *list,
				   const char *name)
{
	struct ac_object obj;
	struct ac_error *err = ac_object_variable(prog, name, RCU_HINT, &obj);
	if (ac_error_catch(&err, AC_ERR_LOOKUP))
		return NULL;
	if (err)
		return err;
	err = add_event(prog, list, &obj, strdup(name));
	if (err && err != &ac_error_no_memory) {
		ac_program_note_error(prog, err, "QemuEvent %s", name);
		return NULL;
	}
	return err;
}

/* ctx->tlg.tl[i]->timers_done_ev, when this QEMU has it. */
static struct ac_error *add_timer_events(struct ac_program *prog, struct ac_event_list *list)
{
	struct ac_type ctx_type, tl_type;
	struct ac_error *err = ac_dwarf_find_type(prog->dwarf, "AioContext", "aio_context_new",
						  &ctx_type);
	if (ac_error_catch(&err, AC_ERR_LOOKUP))
		return NULL;
	if (err)
		return err;
	if (!ac_dwarf_has_member(prog->dwarf, &ctx_type, "tlg.tl"))
		return NULL;
	err = ac_dwarf_find_type(prog->dwarf, "QEMUTimerList", "timerlist_new", &tl_type);
	if (ac_error_catch(&err, AC_ERR_LOOKUP))
		return NULL;
	if (err)
		return err;
	if (!ac_dwarf_has_member(prog->dwarf, &tl_type, "timers_done_ev"))
		return NULL;

	struct ac_context_list contexts;
	err = ac_aio_contexts_find(prog, &contexts);
	if (err)
		return err;
	unsigned psize = ac_target_pointer_size(prog->target);
	for (size_t c = 0; c < contexts.n; c++) {
		const struct ac_object *ctx = &contexts.items[c].obj;
		struct ac_object arr, elem, tl, done;
		struct ac_type elem_type;
		uint64_t size;
		err = ac_object_member(prog, ctx, "tlg.tl", &arr, NULL);
		if (!err)
			err = ac_object_size(&arr, &size);
		if (!err)
			err = ac_type_target(&arr.type, &elem_type);
		if (err) {
			ac_program_note_error(prog, err, "AioContext 0x%" PRIx64 " tlg.tl",
					      ctx->address);
			continue;
		}
		for (uint64_t i = 0; i < size / psize && i < 16; i++) {
			elem = (struct ac_object){ .address = arr.address + i * psize,
						   .type = elem_type };
			uint64_t ptr;
			err = ac_object_read_uint(prog, &elem, &ptr);
			if (!err && !ptr)
				continue;
			/* Not a deref: the pointer's type is opaque in this CU. */
			tl = (struct ac_object){ .address = ptr, .type = tl_type };
			if (!err)
				err = ac_object_member(prog, &tl, "timers_done_ev", &done, NULL);
			if (err) {
				ac_program_note_error(prog, err, "AioContext 0x%" PRIx64 " tlg.tl[%" PRIu64 "]",
						      ctx->address, i);
				continue;
			}
			if (find_mut(list, done.address))
				continue;
			int64_t clock_ok;
			const char *clock = NULL;
			struct ac_error *e = ac_dwarf_enumerator(prog->dwarf, "QEMUClockType",
								 "QEMU_CLOCK_REALTIME", "timerlist_new",
								 &clock_ok);
			if (!e) {
				struct ac_type clock_type;
				e = ac_dwarf_find_type(prog->dwarf, "QEMUClockType", "timerlist_new",
						       &clock_type);
				if (!e)
					clock = ac_dwarf_enumerator_name(prog->dwarf, &clock_type,
									 (int64_t)i);
			}
			ac_error_destroy(e);
			char *name;
			if (clock ? asprintf(&name, "AioContext 0x%" PRIx64 " tlg.tl[%s]->timers_done_ev",
					     ctx->address, clock) < 0
				  : asprintf(&name, "AioContext 0x%" PRIx64 " tlg.tl[%" PRIu64 "]->timers_done_ev",
					     ctx->address, i) < 0)
				name = NULL;
			err = add_event(prog, list, &done, name);
			if (err == &ac_error_no_memory) {
				ac_context_list_deinit(&contexts);
				return err;
			}
			if (err)
				ac_program_note_error(prog, err, "timers_done_ev");
		}
	}
	ac_context_list_deinit(&contexts);
	return NULL;
}

/* The event a thread waits on when `ev` cannot be read: from its callers. */
static const char *infer_event(const struct ac_backtrace *bt, size_t wait_index,
			       const char **from)
{
	for (size_t i = wait_index + 1; i < bt->n_frames; i++) {
		const char *fn = bt->frames[i].function;
		if (!fn)
			continue;
		/* util/rcu.c: wait_for_readers() waits on rcu_gp_event. */
		if (!strcmp(fn, "wait_for_readers") || !strcmp(fn, "synchronize_rcu")) {
			*from = !strcmp(fn, "wait_for_readers") ? "wait_for_readers"
							       : "synchronize_rcu";
			return "rcu_gp_event";
		}
		/* call_rcu_thread()'s own waits are on rcu_call_ready_event. */
		if (!strcmp(fn, "call_rcu_thread")) {
			*from = "call_rcu_thread";
			return "rcu_call_ready_event";
		}
	}
	return NULL;
}

static bool is_futex_top(const char *fn)
{
	return fn && (!strcmp(fn, "syscall") || strstr(fn, "futex"));
}

/* Asleep in the kernel: top frame the futex syscall, qemu_futex_wait below. */
static bool waiter_in_futex(const struct ac_backtrace *bt, size_t wait_index)
{
	if (bt->n_frames == 0 || !is_futex_top(bt->frames[0].function))
		return false;
	for (size_t i = 0; i <= wait_index && i < bt->n_frames; i++) {
		const char *fn = bt->frames[i].function;
		if (fn && (!strcmp(fn, "qemu_futex_wait") || !strcmp(fn, "futex_wait")))
			return true;
	}
	return false;
}

static struct ac_error *add_waiter(struct ac_qemu_event *ev, const struct ac_event_waiter *w)
{
	struct ac_event_waiter *slot = ac_array_slot(ev->waiters, ev->n_waiters);
	if (!slot)
		return &ac_error_no_memory;
	*slot = *w;
	ev->n_waiters++;
	return NULL;
}

/* Read `ev` of frame `index` of thread t; 0 and a note when unreadable. */
static bool frame_event(struct ac_program *prog, size_t t, size_t index, uint64_t *address,
			struct ac_error **why)
{
	struct ac_error *err = ac_frame_variable_uint(prog, t, index, "ev", address);
	if (!err && *address)
		return true;
	*why = err;
	return false;
}

static struct ac_error *find_waiters(struct ac_program *prog, struct ac_event_list *list)
{
	for (size_t t = 0; t < ac_target_thread_count(prog->target); t++) {
		const struct ac_backtrace *bt = ac_program_backtrace(prog, t);
		long wait = ac_backtrace_find_function(bt, "qemu_event_wait");
		if (wait < 0)
			continue;
		pid_t tid = ac_target_thread(prog->target, t)->tid;
		struct ac_event_waiter w = {
			.tid = tid,
			.frame_index = (size_t)wait,
			.thread_index = t,
			.in_futex = waiter_in_futex(bt, (size_t)wait),
		};
		struct ac_qemu_event *ev = NULL;
		uint64_t address;
		struct ac_error *why = NULL;
		if (frame_event(prog, t, (size_t)wait, &address, &why)) {
			ev = find_mut(list, address);
			if (!ev) {
				/* An event we did not know: name it by its symbol. */
				char buf[128];
				struct ac_object obj;
				struct ac_error *err = ac_object_at(prog, "QemuEvent", "qemu_event_wait",
								    address, &obj);
				if (!err)
					err = add_event(prog, list, &obj,
							strdup(ac_program_symbolize(prog, address, buf,
										    sizeof(buf))));
				if (err == &ac_error_no_memory)
					return err;
				if (err) {
					ac_program_note_error(prog, err, "thread %d: QemuEvent 0x%" PRIx64,
							      tid, address);
					continue;
				}
				ev = &list->items[list->n - 1];
			}
		} else {
			const char *from = NULL;
			const char *name = infer_event(bt, (size_t)wait, &from);
			ev = name ? find_name(list, name) : NULL;
			if (!ev) {
				ac_program_note_error(prog, why ? why : ac_error_create(AC_ERR_LOOKUP, "ev is NULL"),
						      "thread %d: which QemuEvent qemu_event_wait (#%ld) waits on",
						      tid, wait);
				continue;
			}
			ac_error_destroy(why);
			w.inferred = true;
			w.inferred_from = from;
		}
		struct ac_error *err = add_waiter(ev, &w);
		if (err)
			return err;
	}
	return NULL;
}

/*
 * Threads about to set an event: inside qemu_event_set() on it, or inside
 * call_rcu1() (which increments rcu_call_count, then sets
 * rcu_call_ready_event).  A waiter asleep while a set is in flight is a
 * race caught mid-way, not a lost wakeup.
 */
static void find_setters(struct ac_program *prog, struct ac_event_list *list)
{
	for (size_t t = 0; t < ac_target_thread_count(prog->target); t++) {
		const struct ac_backtrace *bt = ac_program_backtrace(prog, t);
		if (!bt)
			continue;
		struct ac_qemu_event *ev = NULL;
		long index = ac_backtrace_find_function(bt, "qemu_event_set");
		uint64_t address;
		struct ac_error *why = NULL;
		if (index >= 0 && frame_event(prog, t, (size_t)index, &address, &why))
			ev = find_mut(list, address);
		ac_error_destroy(why);
		long rcu = ac_backtrace_find_function(bt, "call_rcu1");
		if (!ev && rcu >= 0) {
			ev = find_name(list, "rcu_call_ready_event");
			index = rcu;
		}
		if (!ev && index >= 0) {
			/* qemu_event_set on an event we cannot name: could be any. */
			ac_program_note(prog, "thread %d is inside qemu_event_set (#%ld) on an unknown event",
					ac_target_thread(prog->target, t)->tid, index);
			continue;
		}
		if (!ev || ev->setter_tid)
			continue;
		ev->setter_tid = ac_target_thread(prog->target, t)->tid;
		if (asprintf(&ev->setter_frame, "#%ld %s", index,
			     bt->frames[index].function) < 0)
			ev->setter_frame = NULL;
	}
}

/* rcu_call_count guards rcu_call_ready_event: queued callbacks to run. */
static void add_conditions(struct ac_program *prog, struct ac_event_list *list)
{
	struct ac_qemu_event *ev = find_name(list, "rcu_call_ready_event");
	if (!ev)
		return;
	struct ac_object count;
	int64_t n;
	struct ac_error *err = ac_object_variable(prog, "rcu_call_count", RCU_HINT, &count);
	if (!err)
		err = ac_object_read_int(prog, &count, &n);
	if (err) {
		ac_program_note_error(prog, err, "rcu_call_count");
		return;
	}
	if (asprintf(&ev->condition, "rcu_call_count = %" PRId64, n) < 0)
		ev->condition = NULL;
	ev->has_condition_address = true;
	ev->condition_address = count.address;
	ev->condition_holds = n > 0;
}

struct ac_error *ac_events_decode(struct ac_program *prog, struct ac_event_list *ret)
{
	struct ac_event_list list = { 0 };
	struct ac_error *err = add_static(prog, &list, "rcu_call_ready_event");
	if (!err)
		err = add_static(prog, &list, "rcu_gp_event");
	if (!err) {
		err = add_timer_events(prog, &list);
		if (err && err != &ac_error_no_memory) {
			ac_program_note_error(prog, err, "timer lists' timers_done_ev");
			err = NULL;
		}
	}
	if (!err)
		err = find_waiters(prog, &list);
	if (err) {
		ac_event_list_deinit(&list);
		return err;
	}
	find_setters(prog, &list);
	add_conditions(prog, &list);
	*ret = list;
	return NULL;
}
