/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QemuEvents: the static RCU events (rcu_call_ready_event, rcu_gp_event in
 * util/rcu.c), the timer lists' timers_done_ev when the AioContext type has
 * them, and any other event a thread is found waiting on.  For each: the
 * value decoded, the threads asleep in qemu_event_wait() on it, and the
 * condition it guards (rcu_call_count for rcu_call_ready_event).
 *
 * EV_BUSY (4294967295) only says "a waiter sleeps in the futex": the
 * normal state of an idle call_rcu thread, never a finding by itself
 * (seed 002: people read it as INT_MAX and blamed it for hangs).
 */
#ifndef AIOCORE_QEMU_EVENT_H
#define AIOCORE_QEMU_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/util.h"
#include "dwarf/dwarf.h"

/*
 * QemuEvent.value.  #defines in QEMU's util/qemu-thread-posix.c (moved to
 * util/event.c in 10.1): EV_SET 0, EV_FREE 1, EV_BUSY -1 stored in an
 * unsigned.  Preprocessor constants never reach DWARF, so they are
 * written down here, once.
 */
enum ac_event_value {
	AC_EV_SET = 0,
	AC_EV_FREE = 1,
	AC_EV_BUSY = 0xffffffffu,
};

struct ac_event_waiter {
	pid_t tid;
	size_t frame_index;      /* the qemu_event_wait frame */
	bool inferred;           /* ev unreadable: event inferred from the caller */
	const char *inferred_from;  /* "call_rcu_thread", ...; static; NULL */
	size_t thread_index;
	bool in_futex;           /* top frame is the futex syscall under qemu_futex_wait */
};

struct ac_qemu_event {
	const char *name;        /* "rcu_call_ready_event"; owned by the list */
	uint64_t address;
	uint32_t value;
	const char *state;       /* "SET", "FREE", "BUSY" or "invalid"; static */
	bool has_initialized;    /* QEMU 2.10+ */
	bool initialized;
	struct ac_event_waiter *waiters;
	size_t n_waiters;
	char *condition;         /* "rcu_call_count = 3", or NULL */
	bool has_condition_address;
	uint64_t condition_address;
	bool condition_holds;    /* the waiter should not be asleep */
	/* A thread that may be about to set the event (inside call_rcu1):
	 * a sleeping waiter is then a race in flight, not a lost wakeup. */
	pid_t setter_tid;
	char *setter_frame;      /* "#4 call_rcu1", or NULL */
};

struct ac_event_list {
	struct ac_qemu_event *items;
	size_t n;
};

/* "SET", "FREE", "BUSY" or "invalid". */
const char *ac_event_state_name(uint32_t value);
/* What the value means, for people: "a waiter sleeps in the futex; normal". */
const char *ac_event_state_meaning(uint32_t value);

struct ac_error *ac_events_decode(struct ac_program *prog, struct ac_event_list *ret);
void ac_event_list_deinit(struct ac_event_list *list);
const struct ac_qemu_event *ac_event_list_find(const struct ac_event_list *list,
					       uint64_t address);
#endif
