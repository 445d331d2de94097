/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pattern catalogue (analyzer/rules/pattern.c): ids are unique and
 * found by name, a fix commit goes with the release that has it, that
 * release is the one the "affected" text names, and each pattern has its
 * page in docs/patterns/ (argv[1]) naming its fix and listed in the index.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "rules/pattern.h"

static const char *docs_dir;

static char *slurp(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("%s: cannot be opened", path);
	char *text = calloc(1, 1 << 16);
	assert_non_null(text);
	size_t n = fread(text, 1, (1 << 16) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

static void test_ids(void **state)
{
	(void)state;
	size_t n = 0;
	for (const struct ac_pattern *p; (p = ac_pattern_at(n)); n++) {
		assert_ptr_equal(ac_pattern_find(p->id), p);
		for (size_t j = 0; j < n; j++)
			assert_string_not_equal(ac_pattern_at(j)->id, p->id);
		assert_non_null(p->title);
		assert_non_null(p->mechanism);
		assert_non_null(p->affected);
	}
	/* One page in docs/patterns/ per pattern, and no page without one. */
	size_t pages = 0;
	DIR *dir = opendir(docs_dir);
	assert_non_null(dir);
	for (struct dirent *d; (d = readdir(dir));) {
		size_t len = strlen(d->d_name);
		if (len > 3 && !strcmp(d->d_name + len - 3, ".md") &&
		    strcmp(d->d_name, "README.md"))
			pages++;
	}
	closedir(dir);
	assert_int_equal(n, pages);
	assert_null(ac_pattern_find("lost-completion "));
	assert_null(ac_pattern_find(""));
	assert_null(ac_pattern_at(n + 1));
}

static void test_fixes(void **state)
{
	(void)state;
	for (size_t i = 0; ac_pattern_at(i); i++) {
		const struct ac_pattern *p = ac_pattern_at(i);
		assert_true((p->fix_commit == NULL) == (p->fixed_in == NULL));
		assert_non_null(p->fix_title);
		if (!p->fix_commit)
			continue;
		assert_int_equal(strlen(p->fix_commit), 12);
		assert_int_equal(strspn(p->fix_commit, "0123456789abcdef"), 12);
		char release[32];
		snprintf(release, sizeof(release), "%u.%u", p->fixed_in->major, p->fixed_in->minor);
		if (!strstr(p->affected, release))
			fail_msg("%s: affected \"%s\" does not name %s", p->id, p->affected, release);
	}
}

static void test_docs(void **state)
{
	(void)state;
	char *index = slurp(docs_dir, "README.md");
	for (size_t i = 0; ac_pattern_at(i); i++) {
		const struct ac_pattern *p = ac_pattern_at(i);
		char name[96];
		snprintf(name, sizeof(name), "%s.md", p->id);
		char *page = slurp(docs_dir, name);
		if (p->fix_commit && !strstr(page, p->fix_commit))
			fail_msg("docs/patterns/%s does not name the fix %s", name, p->fix_commit);
		if (!strstr(index, name))
			fail_msg("docs/patterns/README.md does not list %s", name);
		free(page);
	}
	free(index);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DOCS/PATTERNS\n", argv[0]);
		return 2;
	}
	docs_dir = argv[1];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_fixes),
		cmocka_unit_test(test_docs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
