/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The watchdog: the process the runtime was forked from, before any thread
 * existed, so the core holds only QEMU-like threads.  It reads the counters
 * the runtime shares through a MAP_SHARED mapping and declares a hang when
 * work is outstanding and nothing progressed for --hang-ms; then it runs
 * gcore, renames the core to --out, and kills the runtime unless --keep.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "aiocore-rt.h"
#include "watchdog.h"

#if AIOCORE_PROFILE == 2
#define PROFILE_NAME "g2"
#elif AIOCORE_PROFILE == 5
#define PROFILE_NAME "g5"
#else
#define PROFILE_NAME "g10"
#endif

const char *rt_profile_name(void)
{
	return PROFILE_NAME;
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

static uint64_t load64(uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* A kind of work (disk requests, rcu callbacks, lock rounds): when it last moved. */
struct work {
	uint64_t begun, done, changed;
};

static void track(struct work *w, uint64_t begun, uint64_t done, uint64_t now)
{
	if (begun != w->begun || done != w->done) {
		w->begun = begun;
		w->done = done;
		w->changed = now;
	}
}

/* gcore -o PREFIX PID writes PREFIX.PID; we want exactly `out`. */
static int capture_core(pid_t pid, const char *out)
{
	char prefix[4096], written[4200], pidstr[16];
	pid_t gpid;
	int status;

	snprintf(prefix, sizeof(prefix), "%s.gcore-tmp", out);
	snprintf(written, sizeof(written), "%s.%d", prefix, (int)pid);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)pid);
	unlink(written);

	gpid = fork();
	if (gpid < 0)
		return -errno;
	if (gpid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		if (!rt_opts.verbose && devnull >= 0) {
			dup2(devnull, STDOUT_FILENO);
			dup2(devnull, STDERR_FILENO);
		} else {
			dup2(STDERR_FILENO, STDOUT_FILENO);
		}
		execlp("gcore", "gcore", "-o", prefix, pidstr, (char *)NULL);
		_exit(127);
	}
	while (waitpid(gpid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "aiocore-runtime: gcore failed (%s %d)\n",
			WIFEXITED(status) ? "exit" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		unlink(written);
		return -EIO;
	}
	if (rename(written, out) < 0) {
		int err = errno;

		fprintf(stderr, "aiocore-runtime: rename %s -> %s: %s\n", written, out, strerror(err));
		return -err;
	}
	return 0;
}

static void json_string(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void report(const char *result, const char *core, pid_t pid, double seconds,
		   uint64_t iterations)
{
	const struct rt_variant_info *info = rt_variant_info(rt_opts.variant);

	if (rt_opts.json) {
		printf("{\"schema\":\"aiocore-reproduce/1\",\"pattern\":");
		json_string(stdout, info->name);
		printf(",\"profile\":\"%s\",\"mode\":\"%s\",\"result\":\"%s\",\"core\":",
		       PROFILE_NAME, rt_opts.mode == RT_MODE_INJECT ? "inject" : "stress", result);
		json_string(stdout, core);
		printf(",\"pid\":%d,\"seconds_to_hang\":", (int)pid);
		if (!strcmp(result, "hang"))
			printf("%.3f", seconds);
		else
			printf("null");
		printf(",\"seconds\":%.3f,\"iterations\":%llu,\"kept\":%s}\n", seconds,
		       (unsigned long long)iterations, rt_opts.keep && core ? "true" : "false");
	} else {
		if (core)
			printf("%s\n", core);
		if (rt_opts.keep && core)
			printf("pid %d\n", (int)pid);
	}
	fflush(stdout);
}

int watchdog_run(pid_t pid)
{
	const struct rt_variant_info *info = rt_variant_info(rt_opts.variant);
	struct rt_shared *sh = rt_shared;
	uint64_t start = sh->start_ns, now;
	struct work disk = { .changed = start }, rcu = { .changed = start };
	struct work lock = { .changed = start };
	uint64_t last_line = start;
	uint64_t last_iters = 0;
	uint64_t bound = (uint64_t)(rt_opts.seconds * 1e9);
	bool fixed = rt_opts.variant == RT_FIXED;
	struct timespec nap = { 0, 5000000 };
	struct sigaction sa;
	int status;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	for (;;) {
		uint64_t done, sub, rdone, rq, iters, lbegun, ldone;
		int phase;
		bool hung = false;

		nanosleep(&nap, NULL);
		now = rt_now_ns();
		if (interrupted) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			fprintf(stderr, "aiocore-runtime: interrupted\n");
			return RT_EXIT_ERROR;
		}
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "aiocore-runtime: the runtime died (%s %d)\n",
				WIFEXITED(status) ? "exit" : "signal",
				WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
			return RT_EXIT_ERROR;
		}

		phase = __atomic_load_n(&sh->phase, __ATOMIC_ACQUIRE);
		done = load64(&sh->completed);
		sub = load64(&sh->submitted);
		rdone = load64(&sh->rcu_done);
		rq = load64(&sh->rcu_queued);
		/* lock-order rounds: outstanding work of their own (lock-order.c) */
		lbegun = load64(&sh->lock_rounds);
		ldone = load64(&sh->lock_rounds_done);
		iters = load64(&sh->iterations);
		track(&disk, sub, done, now);
		track(&rcu, rq, rdone, now);
		track(&lock, lbegun, ldone, now);

		if (phase == RT_PHASE_CAPTURE_READY) {
			int err = capture_core(pid, rt_opts.out);

			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			if (err < 0)
				return RT_EXIT_ERROR;
			fprintf(stderr, "aiocore-runtime: fixed: healthy core captured mid-flight\n");
			report("clean", rt_opts.out, pid, (now - start) / 1e9, iters);
			return RT_EXIT_OK;
		}
		if (phase == RT_PHASE_RUNNING || phase == RT_PHASE_TRAP) {
			uint64_t hang_ns = rt_opts.hang_ms * 1000000ULL;

			if (sub > done && now - disk.changed > hang_ns)
				hung = true;
			if (rq > rdone && now - rcu.changed > hang_ns)
				hung = true;
			if (lbegun > ldone && now - lock.changed > hang_ns)
				hung = true;
		}

		if (hung) {
			uint64_t stalled = lbegun > ldone ? lock.changed :
					   disk.changed > rcu.changed && rq > rdone ? rcu.changed :
					   sub > done ? disk.changed : rcu.changed;
			double secs = (stalled - start) / 1e9;
			int err;

			fprintf(stderr, "aiocore-runtime: %s (%s, %s): hung after %.3f s, "
				"%llu iterations, %d trap attempts; %llu/%llu requests, %llu/%llu rcu callbacks "
				"and %llu/%llu lock rounds done\n",
				info->name, PROFILE_NAME,
				rt_opts.mode == RT_MODE_INJECT ? "inject" : "stress", secs,
				(unsigned long long)iters, sh->trap_attempts, (unsigned long long)done,
				(unsigned long long)sub, (unsigned long long)rdone,
				(unsigned long long)rq, (unsigned long long)ldone,
				(unsigned long long)lbegun);
			err = capture_core(pid, rt_opts.out);
			if (!rt_opts.keep || err < 0) {
				kill(pid, SIGKILL);
				waitpid(pid, NULL, 0);
			} else {
				fprintf(stderr, "aiocore-runtime: left pid %d running (gdb -p %d)\n",
					(int)pid, (int)pid);
			}
			if (err < 0)
				return RT_EXIT_ERROR;
			report("hang", rt_opts.out, pid, secs, iters);
			return fixed ? RT_EXIT_FIXED_HUNG : RT_EXIT_OK;
		}

		if (rt_opts.mode == RT_MODE_STRESS && !rt_opts.json &&
		    now - last_line >= 1000000000ULL) {
			fprintf(stderr, "aiocore-runtime: %s stress: %5.1f s, %llu iterations (%.0f/s)\n",
				info->name, (now - start) / 1e9, (unsigned long long)iters,
				(iters - last_iters) * 1e9 / (double)(now - last_line));
			last_line = now;
			last_iters = iters;
		}

		if (now - start > bound) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			if (fixed && rt_opts.out) {
				fprintf(stderr, "aiocore-runtime: fixed: no capture point reached\n");
				return RT_EXIT_ERROR;
			}
			fprintf(stderr, "aiocore-runtime: %s: did not hang in %.1f s (%llu iterations, "
				"%d trap attempts)\n", info->name, (now - start) / 1e9,
				(unsigned long long)iters, sh->trap_attempts);
			report(fixed ? "clean" : "no-hang", NULL, pid, (now - start) / 1e9, iters);
			return fixed ? RT_EXIT_OK : RT_EXIT_NO_HANG;
		}
	}
}
