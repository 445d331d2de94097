/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * aiocore VERB [OPTIONS] [CORE]: the verb table.  Each verb lives in its own
 * verb-*.c file and parses its own options.
 */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* The verbs that are not views; the views come from views/views.c's table. */
static const struct ac_verb verbs[] = {
	{ "threads", "every thread with its backtrace", ac_verb_threads },
	{ "reproduce", "replay a hang pattern in the reference runtime and capture a core",
	  ac_verb_reproduce },
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: aiocore VERB [OPTIONS] CORE|-\n"
		"       aiocore VERB --help\n"
		"       aiocore --version\n"
		"\n"
		"Find out why a QEMU process is hung, from its core (or a live --pid).\n"
		"\nVerbs:\n");
	const struct ac_view *view;
	for (size_t i = 0; (view = ac_view_at(i)); i++)
		fprintf(out, "  %-12s %s\n", view->name, view->summary);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(out, "  %-12s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(out,
		"\nOptions:\n"
		"  -h, --help       this text (aiocore VERB --help: the verb's)\n"
		"  --version        the version\n"
		"\nExit codes: 0 complete, 1 partial (something unreadable: truncated core,\n"
		"missing debuginfo, not a QEMU process; what could be read is shown), 2\n"
		"fatal (cannot open, not a core, mismatch), 3 a hang cause named with\n"
		"high confidence (diagnose), 64 usage.\n");
}

/* The verb's entry point: a view's, or one of the table above. */
static int (*find_verb(const char *name))(int, char **)
{
	if (ac_view_find(name))
		return ac_verb_view;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verbs[i].name, name))
			return verbs[i].run;
	return NULL;
}

int main(int argc, char **argv)
{
	/*
	 * A run is short and frees little: keep freed memory for the next
	 * allocation instead of returning it, so its pages fault in once.
	 */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	if (argc < 2) {
		usage(stderr);
		return AC_EXIT_USAGE;
	}
	const char *verb = argv[1];
	if (!strcmp(verb, "--help") || !strcmp(verb, "-h") || !strcmp(verb, "help")) {
		if (argc > 2 && strcmp(verb, "help") == 0) {
			char help[] = "--help";
			char *help_argv[] = { argv[2], help, NULL };
			int (*run)(int, char **) = find_verb(argv[2]);
			if (run)
				return run(2, help_argv);
		}
		usage(stdout);
		return AC_EXIT_OK;
	}
	if (!strcmp(verb, "--version")) {
		printf("aiocore %s\n", AIOCORE_VERSION);
		return AC_EXIT_OK;
	}
	if (!strcmp(verb, "diagnose"))
		for (int i = 2; i < argc; i++)
			if (!strcmp(argv[i], "--batch"))
				return ac_verb_batch(argc - 1, argv + 1);
	int (*run)(int, char **) = find_verb(verb);
	if (run)
		return run(argc - 1, argv + 1);
	fprintf(stderr, "aiocore: unknown verb '%s'\n\n", verb);
	usage(stderr);
	return AC_EXIT_USAGE;
}
