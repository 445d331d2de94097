/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Findings (analyzer/rules/finding.c): a finding exists only for a known
 * pattern, keeps its formatted summary and evidence in order, copies what
 * it is given, and deinit leaves an empty list that can be reused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "rules/finding.h"

static void test_confidence_names(void **state)
{
	(void)state;
	assert_string_equal(ac_confidence_name(AC_CONFIDENCE_LOW), "low");
	assert_string_equal(ac_confidence_name(AC_CONFIDENCE_MEDIUM), "medium");
	assert_string_equal(ac_confidence_name(AC_CONFIDENCE_HIGH), "high");
	assert_string_equal(ac_confidence_name((enum ac_confidence)7), "?");
	assert_true(AC_CONFIDENCE_HIGH > AC_CONFIDENCE_MEDIUM);
	assert_true(AC_CONFIDENCE_MEDIUM > AC_CONFIDENCE_LOW);
}

static void test_unknown_pattern(void **state)
{
	(void)state;
	struct ac_findings f = { 0 };
	assert_null(ac_findings_add(&f, "no-such-pattern", AC_CONFIDENCE_HIGH, "x"));
	assert_int_equal(f.n, 0);
	/* Evidence for no finding is dropped, not a crash. */
	ac_finding_evidence(NULL, "what", ac_evidence_at(), "value");
	ac_findings_deinit(&f);
}

static void test_add_and_evidence(void **state)
{
	(void)state;
	struct ac_findings f = { 0 };
	char frame[] = "#2 aio_poll";
	struct ac_finding *x = ac_findings_add(&f, "lost-notify", AC_CONFIDENCE_MEDIUM,
					       "%d BH%s on 0x%x", 2, "s", 0xabc);
	assert_non_null(x);
	assert_string_equal(x->pattern->id, "lost-notify");
	assert_int_equal(x->confidence, AC_CONFIDENCE_MEDIUM);
	assert_string_equal(x->summary, "2 BHs on 0xabc");
	ac_finding_evidence(x, "home thread", ac_evidence_at(.tid = 1234, .frame = frame),
			    "asleep in %s", "ppoll");
	ac_finding_evidence(x, "AioContext.notified", ac_evidence_at(AC_ADDRESS(0x5000)), "false");
	frame[0] = 'X';   /* the evidence has its own copy */
	assert_int_equal(x->n_evidence, 2);
	assert_string_equal(x->evidence[0].what, "home thread");
	assert_string_equal(x->evidence[0].value, "asleep in ppoll");
	assert_string_equal(x->evidence[0].frame, "#2 aio_poll");
	assert_int_equal(x->evidence[0].tid, 1234);
	assert_false(x->evidence[0].has_address);
	assert_true(x->evidence[1].has_address);
	assert_int_equal(x->evidence[1].address, 0x5000);
	assert_null(x->evidence[1].frame);

	/* A second finding may move the first: evidence goes through the new pointer. */
	struct ac_finding *y = ac_findings_add(&f, "lost-completion", AC_CONFIDENCE_HIGH, "y");
	assert_non_null(y);
	ac_finding_evidence(y, "pool workers", ac_evidence_at(), "%zu", (size_t)3);
	assert_int_equal(f.n, 2);
	assert_string_equal(f.items[0].summary, "2 BHs on 0xabc");
	assert_int_equal(f.items[0].n_evidence, 2);
	assert_string_equal(f.items[1].evidence[0].value, "3");

	ac_findings_checked(&f, "lost-notify: %zu contexts", (size_t)2);
	ac_findings_checked(&f, "bql-poll-cycle: %s is free", "bql");
	assert_int_equal(f.n_checked, 2);
	assert_string_equal(f.checked[1], "bql-poll-cycle: bql is free");

	ac_findings_deinit(&f);
	assert_int_equal(f.n, 0);
	assert_null(f.items);
	assert_int_equal(f.n_checked, 0);
	assert_null(f.checked);
	/* Reusable after deinit. */
	assert_non_null(ac_findings_add(&f, "nested-poll", AC_CONFIDENCE_LOW, "again"));
	assert_int_equal(f.n, 1);
	ac_findings_deinit(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_confidence_names),
		cmocka_unit_test(test_unknown_pattern),
		cmocka_unit_test(test_add_and_evidence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
