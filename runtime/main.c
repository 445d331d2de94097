/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * aiocore-runtime-gN: a small AIO runtime with QEMU's names and layouts
 * (profile gN), whose historical races can be switched back on.
 *
 *   main() -> fork: parent = watchdog (watchdog.c), child = the "QEMU"
 *   child: BQL, qemu_init_main_loop, call_rcu thread, the disk workload,
 *          then main_loop() -> main_loop_wait() forever
 */
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "qemu/main-loop.h"
#include "qemu/rcu.h"
#include "aiocore-rt.h"
#include "watchdog.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: aiocore-runtime-%s --variant NAME [options]\n"
"Run a QEMU-shaped AIO runtime until it hangs the way QEMU once did, then\n"
"write a core of it with gcore.\n"
"\n"
"  --variant NAME     fixed, lost-completion, lost-notify, event-lost-wakeup,\n"
"                     nested-poll, iohandler-race, lost-coroutine-wake (g5,\n"
"                     g10 only), bql-poll-cycle, lock-cycle, bql-ctx-cycle\n"
"  --mode MODE        inject (default): force the losing interleaving, hangs\n"
"                     in well under a second; stress: no help, real races\n"
"  --out FILE         core file (default ./aiocore-VARIANT-%s.core); with\n"
"                     --variant fixed: capture a healthy core mid-flight\n"
"  --keep             leave the hung process running, print its pid\n"
"  --seconds N        give up after N s (inject 10, stress 60, fixed 1/10)\n"
"  --hang-ms N        no progress for N ms with work outstanding = hung (300)\n"
"  --capture-ms N     fixed --out: when to freeze for the capture (300)\n"
"  --queue-depth N    guest requests in flight (4)\n"
"  --threads N        thread pool max_threads (4)\n"
"  --bhs N            N idle BHs on the main context (benchmarks)\n"
"  --ram-mib N        N MiB of touched memory in the core (benchmarks)\n"
"  --region-mib M     ... in mappings of M MiB (default: one mapping)\n"
"  --json             one JSON result line on stdout\n"
"  --verbose          show gcore's output\n"
"  --list             list the variants\n"
"  --help\n"
"\n"
"stdout: the core's path (and \"pid N\" with --keep), or the JSON line.\n"
"Exit: 0 hang captured / fixed ran clean, 1 did not hang within --seconds,\n"
"2 error, 3 fixed hung (runtime bug), 64 usage.\n",
		rt_profile_name(), rt_profile_name());
}

static void list_variants(void)
{
	int i;

	for (i = 0; i < RT_VARIANT_COUNT; i++) {
		const struct rt_variant_info *info = rt_variant_info(i);

		printf("%-20s %s [fix: %s]\n", info->name, info->summary, info->upstream);
	}
}

/* vl.c's main loop */
static void main_loop(void)
{
	for (;;)
		main_loop_wait(false);
}

static void runtime_main(void)
{
	/* one malloc arena: no 64 MiB per-thread reservations in the core */
	mallopt(M_ARENA_MAX, 1);
	qemu_mutex_lock_iothread();
	if (qemu_init_main_loop() < 0) {
		fprintf(stderr, "aiocore-runtime: cannot create the main loop\n");
		exit(RT_EXIT_ERROR);
	}
	rcu_init();
	if (ballast_add() < 0) {
		fprintf(stderr, "aiocore-runtime: cannot add the benchmark ballast\n");
		exit(RT_EXIT_ERROR);
	}
	workload_start();
	main_loop();
}

static int parse_uint(const char *s, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v > 1000000)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "variant", required_argument, NULL, 'v' },
		{ "mode", required_argument, NULL, 'm' },
		{ "out", required_argument, NULL, 'o' },
		{ "keep", no_argument, NULL, 'k' },
		{ "seconds", required_argument, NULL, 's' },
		{ "hang-ms", required_argument, NULL, 'H' },
		{ "capture-ms", required_argument, NULL, 'C' },
		{ "queue-depth", required_argument, NULL, 'q' },
		{ "threads", required_argument, NULL, 't' },
		{ "bhs", required_argument, NULL, 'B' },
		{ "ram-mib", required_argument, NULL, 'R' },
		{ "region-mib", required_argument, NULL, 'G' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'V' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *variant = NULL;
	static char default_out[256];
	struct rt_shared *shm;
	unsigned u;
	pid_t pid;
	int opt, v;

	rt_opts.mode = RT_MODE_INJECT;
	rt_opts.hang_ms = 300;
	rt_opts.capture_ms = 300;
	rt_opts.queue_depth = 4;
	rt_opts.max_threads = 4;
	rt_opts.seconds = -1;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'v':
			variant = optarg;
			break;
		case 'm':
			if (!strcmp(optarg, "inject"))
				rt_opts.mode = RT_MODE_INJECT;
			else if (!strcmp(optarg, "stress"))
				rt_opts.mode = RT_MODE_STRESS;
			else
				goto bad;
			break;
		case 'o':
			rt_opts.out = optarg;
			break;
		case 'k':
			rt_opts.keep = true;
			break;
		case 's':
			rt_opts.seconds = strtod(optarg, NULL);
			if (rt_opts.seconds <= 0)
				goto bad;
			break;
		case 'H':
			if (parse_uint(optarg, &u) < 0 || !u)
				goto bad;
			rt_opts.hang_ms = u;
			break;
		case 'C':
			if (parse_uint(optarg, &u) < 0)
				goto bad;
			rt_opts.capture_ms = u;
			break;
		case 'q':
			if (parse_uint(optarg, &u) < 0 || !u || u > 64)
				goto bad;
			rt_opts.queue_depth = (int)u;
			break;
		case 't':
			if (parse_uint(optarg, &u) < 0 || !u || u > 64)
				goto bad;
			rt_opts.max_threads = (int)u;
			break;
		case 'B':
			if (parse_uint(optarg, &u) < 0)
				goto bad;
			rt_opts.bhs = u;
			break;
		case 'R':
			if (parse_uint(optarg, &u) < 0 || u > 65536)
				goto bad;
			rt_opts.ram_mib = u;
			break;
		case 'G':
			if (parse_uint(optarg, &u) < 0 || !u)
				goto bad;
			rt_opts.region_mib = u;
			break;
		case 'j':
			rt_opts.json = true;
			break;
		case 'V':
			rt_opts.verbose = true;
			break;
		case 'l':
			list_variants();
			return RT_EXIT_OK;
		case 'h':
			usage(stdout);
			return RT_EXIT_OK;
		default:
			usage(stderr);
			return RT_EXIT_USAGE;
		}
	}
	if (optind < argc || !variant) {
		fprintf(stderr, "aiocore-runtime: %s\n",
			variant ? "unexpected argument" : "--variant is required");
		usage(stderr);
		return RT_EXIT_USAGE;
	}
	v = rt_variant_lookup(variant);
	if (v < 0) {
		fprintf(stderr, "aiocore-runtime: unknown variant '%s' (see --list)\n", variant);
		return RT_EXIT_USAGE;
	}
#if AIOCORE_PROFILE == 2
	if (v == RT_LOST_COROUTINE_WAKE) {
		/* 2.x up to 2.8 has no aio_co_schedule() (0c330a734b51, 2.9) */
		fprintf(stderr, "aiocore-runtime: lost-coroutine-wake needs aio_co_schedule() "
			"(QEMU 2.9+) and Coroutine.scheduled; the g2 profile models QEMU 2.x "
			"up to 2.8, which has neither: use the g5 or g10 profile\n");
		return RT_EXIT_USAGE;
	}
#endif
	rt_opts.variant = v;
	rt_variant = v;
	rt_mode = rt_opts.mode;
	if (rt_opts.seconds < 0) {
		if (v == RT_FIXED)
			rt_opts.seconds = rt_opts.out ? rt_opts.capture_ms / 1000.0 + 10 :
					  rt_opts.mode == RT_MODE_INJECT ? 1 : 10;
		else
			rt_opts.seconds = rt_opts.mode == RT_MODE_INJECT ? 10 : 60;
	}
	if (!rt_opts.out && v != RT_FIXED) {
		snprintf(default_out, sizeof(default_out), "./aiocore-%s-%s.core",
			 variant, rt_profile_name());
		rt_opts.out = default_out;
	}
	thread_pool_max_threads = rt_opts.max_threads;

	/* before any thread exists: the core will only hold the runtime's threads */
	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED) {
		perror("aiocore-runtime: mmap");
		return RT_EXIT_ERROR;
	}
	memset(shm, 0, sizeof(*shm));
	rt_shared_init(shm);
	shm->start_ns = rt_now_ns();
	fflush(NULL);

	pid = fork();
	if (pid < 0) {
		perror("aiocore-runtime: fork");
		return RT_EXIT_ERROR;
	}
	if (pid == 0) {
		pid_t parent = getppid();

		/* gcore (a sibling) may attach whatever Yama says */
		prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
		if (!rt_opts.keep) {
			prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
			if (getppid() != parent)
				_exit(RT_EXIT_ERROR);
		}
		shm->runtime_pid = getpid();
		runtime_main();
		_exit(RT_EXIT_ERROR);
	}
	return watchdog_run(pid);
bad:
	fprintf(stderr, "aiocore-runtime: bad option value '%s' (see --help)\n", optarg);
	return RT_EXIT_USAGE;
}
