/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * aiocore VERB [OPTIONS] [CORE]: the verb table.  Each verb lives in its own
 * verb-*.c file and parses its own options.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct ac_verb verbs[] = {
	{ "diagnose", "verdict: which known hang pattern, evidence, upstream fix", ac_verb_view },
	{ "ctx", "AioContexts: notify_me, notified, eventfd, home thread", ac_verb_view },
	{ "bh-list", "bottom halves of each AioContext, flags decoded", ac_verb_view },
	{ "thread-pool", "thread pools and requests, up to the waiting coroutine", ac_verb_view },
	{ "coroutines", "coroutines and, with --bt, their backtraces", ac_verb_view },
	{ "events", "QemuEvents: value decoded, waiters, guarded condition", ac_verb_view },
	{ "waits", "the wait-for graph: who waits on whom, down to the leaf", ac_verb_view },
	{ "threads", "every thread with its backtrace", ac_verb_threads },
	{ "reproduce", "replay a hang pattern in the reference runtime and capture a core",
	  ac_verb_reproduce },
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: aiocore VERB [OPTIONS] CORE\n"
		"       aiocore VERB --help\n"
		"\n"
		"Find out why a QEMU process is hung, from its core (or a live --pid).\n"
		"\nVerbs:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(out, "  %-12s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(out,
		"\nExit codes: 0 complete, 1 partial (something unreadable; what could be\n"
		"read is shown), 2 fatal (cannot open, not a core, mismatch), 3 a hang\n"
		"cause named with high confidence (diagnose), 64 usage.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return AC_EXIT_USAGE;
	}
	const char *verb = argv[1];
	if (!strcmp(verb, "--help") || !strcmp(verb, "-h") || !strcmp(verb, "help")) {
		if (argc > 2 && strcmp(verb, "help") == 0) {
			char help[] = "--help";
			char *help_argv[] = { argv[2], help, NULL };
			for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
				if (!strcmp(verbs[i].name, argv[2]))
					return verbs[i].run(2, help_argv);
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
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verbs[i].name, verb))
			return verbs[i].run(argc - 1, argv + 1);
	fprintf(stderr, "aiocore: unknown verb '%s'\n\n", verb);
	usage(stderr);
	return AC_EXIT_USAGE;
}
