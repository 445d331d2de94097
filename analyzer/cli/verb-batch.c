/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * aiocore diagnose --batch: many cores, one JSON line each, then a summary
 * grouping them by hang signature.  Each core is analysed in a child
 * process, so that no core, however broken, can stop the batch.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "util/util.h"
#include "rules/rules.h"

#define MAX_DEPTH 4
/* docs/json.md: one per core line, one for the summary line. */
#define BATCH_SCHEMA "aiocore-batch/1"
#define BATCH_SUMMARY_SCHEMA "aiocore-batch-summary/1"

struct input {
	char *path;
	FILE *result;      /* the child's JSON line */
	pid_t child;
	double started;
	int status;
	bool done;
	char *error;       /* not analysed: why (a named path that is missing) */
};

struct skipped {
	char *path;
	const char *reason;
};

struct batch {
	struct input *items;
	size_t n;
	struct skipped *skipped;
	size_t n_skipped;
};

static const char batch_help[] =
	"Usage: aiocore diagnose --batch [-j N] [--timeout S] [OPTIONS] DIR|CORE...\n"
	"\n"
	"Diagnose many cores: one JSON line per core on stdout, as each finishes,\n"
	"then a line {\"summary\": ...} grouping the cores by hang signature (the\n"
	"pattern and where its thread sleeps), with counts; a readable summary\n"
	"goes to stderr.  Directories are searched (4 levels deep) for cores,\n"
	"compressed or not; other files are skipped.  Each core is analysed in\n"
	"its own process: a core that crashes or hangs the analysis is reported\n"
	"as an error and the batch goes on.\n"
	"\nOptions:\n"
	"  -j, --jobs N      analyse N cores at a time (default: 1)\n"
	"  --timeout S       give up on one core after S seconds (default: 300)\n"
	"  --exe FILE, --sysroot DIR, --debug-dir DIR   as for one core\n"
	"\nSkipped files are listed by name with the reason (stderr, and the\n"
	"summary's \"skipped\"); a named path that cannot be read gets an error line.\n"
	"\nExit, when the cores differ the first that applies wins: 2 no core could\n"
	"be analysed; 1 at least one could not (an error line); 3 at least one\n"
	"shows a hang pattern; 0 none does.  64 usage.\n";

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* An ELF core, or something compressed that may hold one. */
static bool looks_like_core(const char *path)
{
	enum ac_compression c;
	struct ac_error *err = ac_compression_detect(path, &c);
	if (err) {
		ac_error_destroy(err);
		return false;
	}
	if (c != AC_COMPRESSION_NONE)
		return true;
	FILE *f = fopen(path, "rbe");
	unsigned char hdr[18];
	bool core = f && fread(hdr, 1, sizeof(hdr), f) == sizeof(hdr) &&
		    !memcmp(hdr, "\177ELF", 4) && hdr[16] == 4 /* ET_CORE */ && hdr[17] == 0;
	if (f)
		fclose(f);
	return core;
}

/* The new input, or NULL when memory ran out (then nothing was added). */
static struct input *add_input(struct batch *b, const char *path)
{
	struct input *in = ac_array_slot(b->items, b->n);
	if (!in)
		return NULL;
	*in = (struct input){ .path = strdup(path) };
	if (!in->path)
		return NULL;
	b->n++;
	return in;
}

static void skip(struct batch *b, const char *path, const char *reason)
{
	struct skipped *s = ac_array_slot(b->skipped, b->n_skipped);
	if (!s)
		return;
	*s = (struct skipped){ strdup(path), reason };
	b->n_skipped++;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void collect(struct batch *b, const char *path, int depth)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		if (depth > 0) {  /* a dangling link in a directory */
			skip(b, path, "cannot be read");
			return;
		}
		/* Named on the command line: an error line, like a broken core. */
		int stat_errno = errno;
		struct input *in = add_input(b, path);
		if (in && asprintf(&in->error, "%s: cannot open: %s", path,
				   strerror(stat_errno)) < 0)
			in->error = NULL;
		return;
	}
	if (S_ISREG(st.st_mode)) {
		if (depth == 0 || looks_like_core(path))
			add_input(b, path);
		else
			skip(b, path, "not a core (neither an ELF core nor compressed)");
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (depth == 0)
			add_input(b, path);  /* refused, with its reason, by the analysis */
		else
			skip(b, path, "not a regular file");
		return;
	}
	if (depth >= MAX_DEPTH) {
		skip(b, path, "directory deeper than 4 levels");
		return;
	}
	DIR *dir = opendir(path);
	if (!dir) {
		skip(b, path, "directory cannot be read");
		return;
	}
	char **names = NULL;
	size_t n = 0;
	struct dirent *d;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		if (!ac_strings_appendf(&names, &n, "%s/%s", path, d->d_name))
			break;
	}
	closedir(dir);
	if (n)  /* an empty directory: names is NULL, which qsort must not get */
		qsort(names, n, sizeof(*names), compare_names);
	for (size_t i = 0; i < n; i++) {
		collect(b, names[i], depth + 1);
		free(names[i]);
	}
	free(names);
}

/* In the child: diagnose one core, write its JSON line, exit with its code. */
static void analyse(const struct ac_target_config *base, const char *path, FILE *out)
{
	struct ac_target_config config = *base;
	config.core_path = path;
	config.main_debuginfo_only = true;  /* as diagnose: only QEMU's DWARF */
	double start = now();
	struct ac_json j;
	ac_json_init(&j, out, false);
	ac_json_object_begin(&j);
	ac_json_field_string(&j, "schema", BATCH_SCHEMA);
	ac_json_key(&j, "core");
	ac_json_string(&j, path);
	struct ac_program *prog;
	struct ac_analysis a;
	struct ac_findings findings;
	struct ac_error *err = ac_program_open(&config, &prog);
	if (!err) {
		err = ac_diagnose(prog, &a, &findings);
		if (err)
			ac_program_destroy(prog);
	}
	int code;
	if (err) {
		code = ac_exit_code_for(err) == AC_EXIT_USAGE ? AC_EXIT_FATAL
								   : ac_exit_code_for(err);
		ac_json_key(&j, "exit");
		ac_json_int(&j, code);
		ac_json_key(&j, "verdict");
		ac_json_string(&j, "error");
		ac_json_key(&j, "signature");
		ac_json_string(&j, "error");
		ac_json_key(&j, "error");
		ac_json_string(&j, err->message);
		ac_error_destroy(err);
	} else {
		code = ac_findings_hang_named(&findings) ? AC_EXIT_FOUND
		       : (prog->n_notes || ac_target_warning_count(prog->target)) ? AC_EXIT_PARTIAL
		       : AC_EXIT_OK;
		char *sig = ac_diagnose_signature(&a, &findings);
		ac_json_key(&j, "exit");
		ac_json_int(&j, code);
		ac_json_key(&j, "verdict");
		ac_json_string(&j, findings.n ? findings.items[0].pattern->id : "none");
		ac_json_key(&j, "signature");
		ac_json_string(&j, sig);
		ac_json_key(&j, "findings");
		ac_json_array_begin(&j);
		for (size_t i = 0; i < findings.n; i++) {
			ac_json_object_begin(&j);
			ac_json_key(&j, "id");
			ac_json_string(&j, findings.items[i].pattern->id);
			ac_json_key(&j, "confidence");
			ac_json_string(&j, ac_confidence_name(findings.items[i].confidence));
			ac_json_key(&j, "summary");
			ac_json_string(&j, findings.items[i].summary);
			ac_json_object_end(&j);
		}
		ac_json_array_end(&j);
		ac_json_key(&j, "notes");
		ac_json_uint(&j, prog->n_notes + ac_target_warning_count(prog->target));
		ac_json_key(&j, "error");
		ac_json_null(&j);
		free(sig);
		ac_findings_deinit(&findings);
		ac_analysis_deinit(&a);
		ac_program_destroy(prog);
	}
	ac_json_key(&j, "seconds");
	ac_json_double(&j, now() - start);
	ac_json_object_end(&j);
	ac_json_finish(&j);
	fflush(out);
	_exit(code);
}

struct group {
	char *signature;
	char *verdict;
	size_t count;
};

static void count_group(struct group **groups, size_t *n, const char *sig,
			const char *verdict)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*groups)[i].signature, sig)) {
			(*groups)[i].count++;
			return;
		}
	struct group *g = ac_array_slot(*groups, *n);
	if (!g)
		return;
	*g = (struct group){ strdup(sig), strdup(verdict), 1 };
	(*n)++;
}

static int by_count(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	return x->count < y->count ? 1 : x->count > y->count ? -1
	       : strcmp(x->signature, y->signature);
}

/* Pull "key":"value" out of our own one-line JSON, for the summary. */
static char *json_field(const char *line, const char *key)
{
	char pattern[64];
	snprintf(pattern, sizeof(pattern), "\"%s\":\"", key);
	const char *at = strstr(line, pattern);
	if (!at)
		return NULL;
	at += strlen(pattern);
	const char *end = at;
	while (*end && !(*end == '"' && end[-1] != '\\'))
		end++;
	return strndup(at, end - at);
}

static void print_error_line(const char *path, const char *reason, double secs)
{
	struct ac_json j;
	ac_json_init(&j, stdout, false);
	ac_json_object_begin(&j);
	ac_json_field_string(&j, "schema", BATCH_SCHEMA);
	ac_json_key(&j, "core");
	ac_json_string(&j, path);
	ac_json_key(&j, "exit");
	ac_json_int(&j, AC_EXIT_FATAL);
	ac_json_key(&j, "verdict");
	ac_json_string(&j, "error");
	ac_json_key(&j, "signature");
	ac_json_string(&j, "error");
	ac_json_key(&j, "error");
	ac_json_string(&j, reason);
	ac_json_key(&j, "seconds");
	ac_json_double(&j, secs);
	ac_json_object_end(&j);
	ac_json_finish(&j);
}

static void finish(struct input *in, struct group **groups, size_t *n_groups,
		   size_t *counts /* ok, found, failed */, size_t index, size_t total)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len = -1;
	if (in->result) {
		rewind(in->result);
		len = getline(&line, &cap, in->result);
	}
	double secs = now() - in->started;
	if (in->error) {
		print_error_line(in->path, in->error, secs);
		count_group(groups, n_groups, "error", "error");
		counts[2]++;
		fprintf(stderr, "[%zu/%zu] %s: error: %s\n", index, total, in->path, in->error);
	} else if (len <= 0) {
		/* The child died before writing: a crash or a timeout. */
		char reason[64];
		if (WIFSIGNALED(in->status))
			snprintf(reason, sizeof(reason), "analysis killed by signal %d%s",
				 WTERMSIG(in->status),
				 WTERMSIG(in->status) == SIGKILL ? " (timeout)" : "");
		else
			snprintf(reason, sizeof(reason), "analysis exited with %d and no result",
				 WEXITSTATUS(in->status));
		print_error_line(in->path, reason, secs);
		count_group(groups, n_groups, "error", "error");
		counts[2]++;
		fprintf(stderr, "[%zu/%zu] %s: error: %s\n", index, total, in->path, reason);
	} else {
		fputs(line, stdout);
		char *sig = json_field(line, "signature");
		char *verdict = json_field(line, "verdict");
		count_group(groups, n_groups, sig ? sig : "?", verdict ? verdict : "?");
		bool error = verdict && !strcmp(verdict, "error");
		counts[error ? 2 : verdict && strcmp(verdict, "none") ? 1 : 0]++;
		fprintf(stderr, "[%zu/%zu] %s: %s (%.2f s)\n", index, total, in->path,
			verdict ? verdict : "?", secs);
		free(sig);
		free(verdict);
	}
	fflush(stdout);
	free(line);
	if (in->result)
		fclose(in->result);
	in->result = NULL;
}

static void print_summary(struct group *groups, size_t n_groups, const size_t *counts,
			  size_t total, const struct batch *b)
{
	qsort(groups, n_groups, sizeof(*groups), by_count);
	struct ac_json j;
	ac_json_init(&j, stdout, false);
	ac_json_object_begin(&j);
	ac_json_field_string(&j, "schema", BATCH_SUMMARY_SCHEMA);
	ac_json_key(&j, "summary");
	ac_json_object_begin(&j);
	ac_json_key(&j, "cores");
	ac_json_uint(&j, total);
	ac_json_key(&j, "with_pattern");
	ac_json_uint(&j, counts[1]);
	ac_json_key(&j, "without_pattern");
	ac_json_uint(&j, counts[0]);
	ac_json_key(&j, "errors");
	ac_json_uint(&j, counts[2]);
	ac_json_key(&j, "skipped_files");
	ac_json_uint(&j, b->n_skipped);
	ac_json_key(&j, "skipped");
	ac_json_array_begin(&j);
	for (size_t i = 0; i < b->n_skipped; i++) {
		ac_json_object_begin(&j);
		ac_json_key(&j, "path");
		ac_json_string(&j, b->skipped[i].path);
		ac_json_key(&j, "reason");
		ac_json_string(&j, b->skipped[i].reason);
		ac_json_object_end(&j);
	}
	ac_json_array_end(&j);
	ac_json_key(&j, "groups");
	ac_json_array_begin(&j);
	for (size_t i = 0; i < n_groups; i++) {
		ac_json_object_begin(&j);
		ac_json_key(&j, "signature");
		ac_json_string(&j, groups[i].signature);
		ac_json_key(&j, "verdict");
		ac_json_string(&j, groups[i].verdict);
		ac_json_key(&j, "count");
		ac_json_uint(&j, groups[i].count);
		ac_json_object_end(&j);
	}
	ac_json_array_end(&j);
	ac_json_object_end(&j);
	ac_json_object_end(&j);
	ac_json_finish(&j);
	fprintf(stderr, "\n%zu cores: %zu with a hang pattern, %zu without, %zu errors (%zu files skipped)\n",
		total, counts[1], counts[0], counts[2], b->n_skipped);
	for (size_t i = 0; i < n_groups; i++)
		fprintf(stderr, "  %5zu  %s\n", groups[i].count, groups[i].signature);
	for (size_t i = 0; i < b->n_skipped; i++)
		fprintf(stderr, "  skipped: %s: %s\n", b->skipped[i].path, b->skipped[i].reason);
}

int ac_verb_batch(int argc, char **argv)
{
	static const struct option long_options[] = {
		AC_CLI_TARGET_LONG_OPTIONS,
		{ "batch", no_argument, NULL, 'b' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ac_target_options opts = { 0 };
	long jobs = 1, timeout = 300;
	int exit_code = 0, opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "hj:", long_options, NULL)) != -1) {
		if (ac_cli_target_option(&opts, opt, optarg, &exit_code))
			continue;
		char *end;
		switch (opt) {
		case 'b':
			break;
		case 'j':
		case 't': {
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 100000) {
				fprintf(stderr, "aiocore diagnose: %s %s: not a positive number\n",
					opt == 'j' ? "-j" : "--timeout", optarg);
				return AC_EXIT_USAGE;
			}
			*(opt == 'j' ? &jobs : &timeout) = v;
			break;
		}
		case 'h':
			fputs(batch_help, stdout);
			return AC_EXIT_OK;
		default:
			fputs(batch_help, stderr);
			return AC_EXIT_USAGE;
		}
	}
	if (exit_code)
		return exit_code;
	if (opts.config.pid > 0 || optind >= argc) {
		fprintf(stderr, "aiocore diagnose --batch: give directories or core files (not --pid)\n");
		return AC_EXIT_USAGE;
	}
	struct batch b = { 0 };
	for (int i = optind; i < argc; i++)
		collect(&b, argv[i], 0);
	if (!b.n) {
		fprintf(stderr, "aiocore diagnose --batch: no core found\n");
		for (size_t i = 0; i < b.n_skipped; i++)
			fprintf(stderr, "  skipped: %s: %s\n", b.skipped[i].path, b.skipped[i].reason);
		return AC_EXIT_FATAL;
	}
	fflush(stdout);
	size_t next = 0, running = 0, finished = 0, counts[3] = { 0 };
	struct group *groups = NULL;
	size_t n_groups = 0;
	while (finished < b.n) {
		while (running < (size_t)jobs && next < b.n) {
			struct input *in = &b.items[next++];
			if (in->error) {
				in->started = now();
				in->done = true;
				finish(in, &groups, &n_groups, counts, ++finished, b.n);
				continue;
			}
			in->result = tmpfile();
			in->started = now();
			in->child = in->result ? fork() : -1;
			if (in->child == 0)
				analyse(&opts.config, in->path, in->result);
			if (in->child < 0) {
				in->status = 0;
				in->done = true;
				finish(in, &groups, &n_groups, counts, ++finished, b.n);
				continue;
			}
			running++;
		}
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0) {
			/* Nobody finished: enforce the timeouts, then wait a little. */
			for (size_t i = 0; i < next; i++)
				if (!b.items[i].done && b.items[i].child > 0 &&
				    now() - b.items[i].started > timeout)
					kill(b.items[i].child, SIGKILL);
			usleep(10 * 1000);
			continue;
		}
		for (size_t i = 0; i < next; i++) {
			struct input *in = &b.items[i];
			if (in->done || in->child != pid)
				continue;
			in->status = status;
			in->done = true;
			running--;
			finish(in, &groups, &n_groups, counts, ++finished, b.n);
		}
	}
	print_summary(groups, n_groups, counts, b.n, &b);
	for (size_t i = 0; i < n_groups; i++) {
		free(groups[i].signature);
		free(groups[i].verdict);
	}
	free(groups);
	for (size_t i = 0; i < b.n; i++) {
		free(b.items[i].path);
		free(b.items[i].error);
	}
	free(b.items);
	for (size_t i = 0; i < b.n_skipped; i++)
		free(b.skipped[i].path);
	free(b.skipped);
	if (counts[2] == b.n)
		return AC_EXIT_FATAL;
	if (counts[2])
		return AC_EXIT_PARTIAL;
	return counts[1] ? AC_EXIT_FOUND : AC_EXIT_OK;
}
