/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * aiocore reproduce PATTERN: replay a hang pattern in the reference runtime
 * (runtime/, one binary per layout profile) and capture a core of it.
 *
 * The runtime is looked up in: $AIOCORE_RUNTIME_DIR; the build tree when
 * this aiocore runs from it; BINDIR/../libexec/aiocore next to this
 * executable; the configured AIOCORE_LIBEXECDIR.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cli.h"
#include "rules/rules.h"
#include "views/view.h"

#ifndef AIOCORE_LIBEXECDIR
#define AIOCORE_LIBEXECDIR "/usr/local/libexec/aiocore"
#endif
#ifndef AIOCORE_BUILD_RUNTIME_DIR
#define AIOCORE_BUILD_RUNTIME_DIR ""
#endif

static const char reproduce_help[] =
	"Usage: aiocore reproduce PATTERN [OPTIONS]\n"
	"       aiocore reproduce --list\n"
	"\n"
	"Run the reference AIO runtime with the historical race PATTERN switched\n"
	"back on until it hangs, capture a core with gcore and print its path.\n"
	"PATTERN \"fixed\" runs today's orderings and captures a healthy core.\n"
	"\nOptions:\n"
	"  --profile P       QEMU layout: g2 (2.x), g5 (5.0-9.x), g10 (10.x); default g5\n"
	"  --mode M          inject (default): force the losing interleaving;\n"
	"                    stress: real races only, may not hang on this CPU\n"
	"  --out FILE        the core (default ./aiocore-PATTERN-PROFILE.core)\n"
	"  --seconds N       give up after N seconds\n"
	"  --keep            leave the hung process running and print its pid\n"
	"  --json            the runtime's JSON result line instead of the path\n"
	"  --list            list the patterns\n"
	"  -h, --help        this text\n"
	"\nExit: 0 core captured (or fixed ran clean), 1 did not hang within the\n"
	"bound, 2 error, 64 usage.\n";

static bool is_executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

static bool path_has_prefix(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return n && !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0');
}

/* Finds aiocore-runtime-PROFILE; writes its path to buf. */
static int find_runtime(const char *profile, char *buf, size_t size)
{
	char exe[PATH_MAX], build_root[PATH_MAX], dir[PATH_MAX + 32];
	const char *candidates[4];
	size_t n = 0;
	ssize_t len;
	char *slash;

	const char *env = getenv("AIOCORE_RUNTIME_DIR");
	if (env && *env)
		candidates[n++] = env;

	dir[0] = '\0';
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len > 0) {
		exe[len] = '\0';
		/* running from the build tree: use the runtime built with it */
		snprintf(build_root, sizeof(build_root), "%s", AIOCORE_BUILD_RUNTIME_DIR);
		slash = strrchr(build_root, '/');
		if (slash)
			*slash = '\0';
		if (*AIOCORE_BUILD_RUNTIME_DIR && path_has_prefix(exe, build_root))
			candidates[n++] = AIOCORE_BUILD_RUNTIME_DIR;
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(dir, sizeof(dir), "%s/../libexec/aiocore", exe);
			candidates[n++] = dir;
		}
	}
	candidates[n++] = AIOCORE_LIBEXECDIR;

	for (size_t i = 0; i < n; i++) {
		snprintf(buf, size, "%s/aiocore-runtime-%s", candidates[i], profile);
		if (is_executable(buf))
			return 0;
	}
	fprintf(stderr, "aiocore reproduce: aiocore-runtime-%s not found (looked in", profile);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, " %s", candidates[i]);
	fprintf(stderr, "; set AIOCORE_RUNTIME_DIR)\n");
	return -1;
}

static int run_runtime(char **args)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "aiocore reproduce: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		execv(args[0], args);
		fprintf(stderr, "aiocore reproduce: %s: %s\n", args[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Runtime variants that are another shape of a pattern: the verdict they give. */
static const char *variant_pattern(const char *variant)
{
	return !strcmp(variant, "bql-ctx-cycle") ? "lock-cycle" : variant;
}

/*
 * Show what aiocore makes of the core just captured: the verdict must name
 * the pattern that was reproduced (fixed: no pattern).
 */
static int diagnose_reproduced(const char *core, const char *variant)
{
	const char *pattern = variant_pattern(variant);
	struct ac_target_config config = { .core_path = core, .main_debuginfo_only = true };
	struct ac_program *prog;
	struct ac_error *err = ac_program_open(&config, &prog);
	if (err)
		return ac_cli_report_error("reproduce", err);
	struct ac_analysis a;
	struct ac_findings findings;
	err = ac_diagnose(prog, &a, &findings);
	if (err) {
		ac_program_destroy(prog);
		return ac_cli_report_error("reproduce", err);
	}
	const char *verdict = findings.n ? findings.items[0].pattern->id : "none";
	bool expected = !strcmp(pattern, "fixed") ? findings.n == 0 : !strcmp(verdict, pattern);
	ac_findings_deinit(&findings);
	ac_analysis_deinit(&a);
	printf("\n$ aiocore diagnose %s\n", core);
	const struct ac_view_options opts = { 0 };
	enum ac_view_result result;
	err = ac_view_run(ac_view_find("diagnose"), prog, &opts, stdout, &result);
	ac_program_destroy(prog);
	if (err)
		return ac_cli_report_error("reproduce", err);
	if (!expected) {
		fprintf(stderr, "aiocore reproduce: the verdict is %s, not %s\n", verdict, pattern);
		return AC_EXIT_PARTIAL;
	}
	return AC_EXIT_OK;
}

int ac_verb_reproduce(int argc, char **argv)
{
	enum { OPT_PROFILE = 0x200, OPT_MODE, OPT_OUT, OPT_KEEP, OPT_JSON, OPT_LIST, OPT_SECONDS };
	static const struct option longopts[] = {
		{ "profile", required_argument, NULL, OPT_PROFILE },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "seconds", required_argument, NULL, OPT_SECONDS },
		{ "keep", no_argument, NULL, OPT_KEEP },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *profile = "g5", *mode = "inject", *out = NULL, *seconds = NULL;
	bool keep = false, json = false, list = false;
	char runtime[PATH_MAX + 64], default_out[PATH_MAX];
	char *args[16];
	int opt, n = 0, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_PROFILE:
			profile = optarg;
			break;
		case OPT_MODE:
			mode = optarg;
			break;
		case OPT_OUT:
			out = optarg;
			break;
		case OPT_SECONDS:
			seconds = optarg;
			break;
		case OPT_KEEP:
			keep = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_LIST:
			list = true;
			break;
		case 'h':
			fputs(reproduce_help, stdout);
			return AC_EXIT_OK;
		default:
			fputs(reproduce_help, stderr);
			return AC_EXIT_USAGE;
		}
	}
	if (strcmp(profile, "g2") && strcmp(profile, "g5") && strcmp(profile, "g10")) {
		fprintf(stderr, "aiocore reproduce: unknown profile '%s' (g2, g5, g10)\n", profile);
		return AC_EXIT_USAGE;
	}
	if (strcmp(mode, "inject") && strcmp(mode, "stress")) {
		fprintf(stderr, "aiocore reproduce: unknown mode '%s' (inject, stress)\n", mode);
		return AC_EXIT_USAGE;
	}
	if (!list && optind != argc - 1) {
		fprintf(stderr, "aiocore reproduce: expected one PATTERN (see --list)\n");
		return AC_EXIT_USAGE;
	}
	if (find_runtime(profile, runtime, sizeof(runtime)) < 0)
		return AC_EXIT_FATAL;

	args[n++] = runtime;
	if (list) {
		/* the runtime owns the pattern table: one list, no copy here */
		args[n++] = "--list";
		args[n] = NULL;
		return run_runtime(args) == 0 ? AC_EXIT_OK : AC_EXIT_FATAL;
	}

	if (!out) {
		snprintf(default_out, sizeof(default_out), "./aiocore-%s-%s.core",
			 argv[optind], profile);
		out = default_out;
	}
	args[n++] = "--variant";
	args[n++] = argv[optind];
	args[n++] = "--mode";
	args[n++] = (char *)mode;
	args[n++] = "--out";
	args[n++] = (char *)out;
	if (seconds) {
		args[n++] = "--seconds";
		args[n++] = (char *)seconds;
	}
	if (keep)
		args[n++] = "--keep";
	if (json)
		args[n++] = "--json";
	args[n] = NULL;

	/* the runtime prints the core's path (or its JSON line) on stdout */
	rc = run_runtime(args);
	switch (rc) {
	case 0:
		return json ? AC_EXIT_OK : diagnose_reproduced(out, argv[optind]);
	case 1:
		return AC_EXIT_PARTIAL;   /* did not hang within the bound */
	case 64:
		return AC_EXIT_USAGE;
	default:
		return AC_EXIT_FATAL;     /* runtime error, or fixed hung */
	}
}
