/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QemuEvent values and the event-lost-wakeup rule on hand-made event
 * lists: EV_BUSY (4294967295) is decoded as BUSY and, alone, is never a
 * finding; only BUSY + a waiter asleep + its condition holding + no set
 * in flight is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "qemu/qemu-event.h"
#include "rules/rule.h"

static void test_state_names(void **state)
{
	(void)state;
	assert_string_equal(ac_event_state_name(0), "SET");
	assert_string_equal(ac_event_state_name(1), "FREE");
	assert_string_equal(ac_event_state_name(4294967295u), "BUSY");
	assert_string_equal(ac_event_state_name((uint32_t)-1), "BUSY");
	assert_string_equal(ac_event_state_name(2), "invalid");
	assert_string_equal(ac_event_state_name(0x7fffffff), "invalid");
	assert_non_null(strstr(ac_event_state_meaning(AC_EV_BUSY), "normal"));
}

static struct ac_event_waiter waiter = {
	.tid = 1235, .frame_index = 2, .in_futex = true,
};

/* rcu_call_ready_event as a decoder would give it. */
static struct ac_qemu_event make_event(uint32_t value, int count)
{
	static char condition[64];
	snprintf(condition, sizeof(condition), "rcu_call_count = %d", count);
	return (struct ac_qemu_event){
		.name = "rcu_call_ready_event",
		.address = 0x5581a3c0a1c0,
		.value = value,
		.state = ac_event_state_name(value),
		.has_initialized = true,
		.initialized = true,
		.waiters = &waiter,
		.n_waiters = 1,
		.condition = condition,
		.has_condition_address = true,
		.condition_address = 0x5581a3c0a1c8,
		.condition_holds = count > 0,
	};
}

static size_t run_rule(struct ac_qemu_event ev, struct ac_findings *f)
{
	struct ac_analysis a = { .events = { &ev, 1 } };
	memset(f, 0, sizeof(*f));
	ac_rule_event_lost_wakeup(NULL, &a, f);
	assert_true(f->n_checked + f->n >= 1);
	return f->n;
}

static void test_busy_is_normal(void **state)
{
	(void)state;
	struct ac_findings f;
	assert_int_equal(run_rule(make_event(AC_EV_BUSY, 0), &f), 0);
	assert_non_null(strstr(f.checked[0], "sleeping is correct"));
	ac_findings_deinit(&f);
}

static void test_lost_wakeup(void **state)
{
	(void)state;
	struct ac_findings f;
	assert_int_equal(run_rule(make_event(AC_EV_BUSY, 2), &f), 1);
	assert_string_equal(f.items[0].pattern->id, "event-lost-wakeup");
	assert_int_equal(f.items[0].confidence, AC_CONFIDENCE_HIGH);
	bool value = false, count = false, who = false;
	for (size_t i = 0; i < f.items[0].n_evidence; i++) {
		const struct ac_evidence *e = &f.items[0].evidence[i];
		if (!strcmp(e->what, "rcu_call_ready_event.value")) {
			assert_string_equal(e->value, "4294967295 (EV_BUSY)");
			assert_true(e->has_address);
			value = true;
		} else if (!strcmp(e->what, "rcu_call_count")) {
			assert_string_equal(e->value, "2");
			assert_int_equal(e->address, 0x5581a3c0a1c8);
			count = true;
		} else if (!strcmp(e->what, "waiter")) {
			assert_int_equal(e->tid, 1235);
			assert_non_null(strstr(e->value, "thread 1235 in qemu_event_wait (#2)"));
			who = true;
		}
	}
	assert_true(value && count && who);
	ac_findings_deinit(&f);
}

/* The condition holds but the waiter is not (yet) asleep, or a set is
 * coming, or the event is already SET: a race caught mid-way. */
static void test_not_lost(void **state)
{
	(void)state;
	struct ac_findings f;
	assert_int_equal(run_rule(make_event(AC_EV_SET, 2), &f), 0);
	ac_findings_deinit(&f);
	assert_int_equal(run_rule(make_event(AC_EV_FREE, 2), &f), 0);
	ac_findings_deinit(&f);

	struct ac_qemu_event ev = make_event(AC_EV_BUSY, 2);
	ev.setter_tid = 999;
	assert_int_equal(run_rule(ev, &f), 0);
	ac_findings_deinit(&f);

	ev = make_event(AC_EV_BUSY, 2);
	ev.n_waiters = 0;
	assert_int_equal(run_rule(ev, &f), 0);
	ac_findings_deinit(&f);

	struct ac_event_waiter awake = waiter;
	awake.in_futex = false;
	ev = make_event(AC_EV_BUSY, 2);
	ev.waiters = &awake;
	assert_int_equal(run_rule(ev, &f), 0);
	ac_findings_deinit(&f);

	ev = make_event(AC_EV_BUSY, 2);
	ev.condition = NULL;   /* rcu_gp_event: nothing decoded to judge by */
	assert_int_equal(run_rule(ev, &f), 0);
	ac_findings_deinit(&f);
}

static void test_inferred_waiter(void **state)
{
	(void)state;
	struct ac_event_waiter inferred = waiter;
	inferred.inferred = true;
	inferred.inferred_from = "call_rcu_thread";
	struct ac_qemu_event ev = make_event(AC_EV_BUSY, 1);
	ev.waiters = &inferred;
	struct ac_findings f;
	assert_int_equal(run_rule(ev, &f), 1);
	assert_int_equal(f.items[0].confidence, AC_CONFIDENCE_MEDIUM);
	bool said = false;
	for (size_t i = 0; i < f.items[0].n_evidence; i++)
		said |= strstr(f.items[0].evidence[i].value, "inferred from call_rcu_thread") != NULL;
	assert_true(said);
	ac_findings_deinit(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_busy_is_normal),
		cmocka_unit_test(test_lost_wakeup),
		cmocka_unit_test(test_not_lost),
		cmocka_unit_test(test_inferred_waiter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
