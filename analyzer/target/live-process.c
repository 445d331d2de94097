/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "live-process.h"

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static pid_t tracer_of(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	pid_t tracer = 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %d", &tracer) == 1)
			break;
	fclose(f);
	return tracer;
}

static struct ac_error *list_tids(pid_t pid, pid_t **ret, size_t *n_ret)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	DIR *dir = opendir(path);
	if (!dir)
		return ac_error_create(AC_ERR_PROCESS, "pid %d: cannot list threads: %s",
				       pid, strerror(errno));
	pid_t *tids = NULL;
	size_t n = 0;
	struct dirent *d;
	while ((d = readdir(dir))) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		pid_t *tid = ac_array_slot(tids, n);
		if (!tid) {
			free(tids);
			closedir(dir);
			return &ac_error_no_memory;
		}
		*tid = atoi(d->d_name);
		n++;
	}
	closedir(dir);
	*ret = tids;
	*n_ret = n;
	return NULL;
}

static void read_thread_name(pid_t pid, pid_t tid, char *buf, size_t size)
{
	char path[96];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
	FILE *f = fopen(path, "re");
	buf[0] = '\0';
	if (!f)
		return;
	if (fgets(buf, size, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/*
 * Stop every thread, read its registers, let them all go.  The threads are
 * seized (no signal is sent) and interrupted, so the process sees nothing.
 */
static struct ac_error *read_registers(struct ac_live *live, pid_t *tids,
				       size_t n)
{
	bool *seized = calloc(n, sizeof(*seized));
	live->threads = calloc(n ? n : 1, sizeof(*live->threads));
	if (!seized || !live->threads) {
		free(seized);
		return &ac_error_no_memory;
	}
	struct ac_error *err = NULL;
	double start = now_seconds();
	for (size_t i = 0; i < n; i++) {
		if (ptrace(PTRACE_SEIZE, tids[i], 0, 0) == 0) {
			seized[i] = true;
			ptrace(PTRACE_INTERRUPT, tids[i], 0, 0);
		} else if (errno != ESRCH && !err) {
			pid_t tracer = tracer_of(live->pid);
			err = tracer > 0
				? ac_error_create(AC_ERR_PROCESS,
						  "pid %d: already traced by pid %d (detach gdb first): %s",
						  live->pid, tracer, strerror(errno))
				: ac_error_create(AC_ERR_PROCESS,
						  "pid %d: may not be traced: %s (are you root, or is kernel.yama.ptrace_scope restricting?)",
						  live->pid, strerror(errno));
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!seized[i])
			continue;
		int status;
		if (waitpid(tids[i], &status, __WALL) < 0) {
			seized[i] = false;
			continue;
		}
		if (err)
			continue;
		struct ac_thread *t = &live->threads[live->n_threads];
		uint64_t regs[AC_MAX_GREGS] = { 0 };
		struct iovec iov = { .iov_base = regs, .iov_len = sizeof(regs) };
		if (ptrace(PTRACE_GETREGSET, tids[i], NT_PRSTATUS, &iov) < 0)
			continue;  /* exited meanwhile */
		t->tid = tids[i];
		t->n_gregs = iov.iov_len / sizeof(uint64_t);
		memcpy(t->gregs, regs, sizeof(regs));
#if defined(__x86_64__)
		t->tls_base = regs[21];  /* fs_base */
#elif defined(__aarch64__)
		uint64_t tls = 0;
		struct iovec tiov = { .iov_base = &tls, .iov_len = sizeof(tls) };
		if (ptrace(PTRACE_GETREGSET, tids[i], 0x401 /* NT_ARM_TLS */, &tiov) == 0)
			t->tls_base = tls;
#endif
		live->n_threads++;
	}
	for (size_t i = 0; i < n; i++)
		if (seized[i])
			ptrace(PTRACE_DETACH, tids[i], 0, 0);
	live->stopped_seconds = now_seconds() - start;
	free(seized);
	for (size_t i = 0; i < live->n_threads; i++)
		read_thread_name(live->pid, live->threads[i].tid,
				 live->threads[i].name, sizeof(live->threads[i].name));
	if (!err && live->n_threads == 0)
		err = ac_error_create(AC_ERR_PROCESS,
				      "pid %d: no thread could be stopped", live->pid);
	return err;
}

static void read_regions(struct ac_live *live)
{
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/%d/maps", live->pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end;
		char perms[5];
		if (sscanf(line, "%llx-%llx %4s", &start, &end, perms) != 3 ||
		    perms[0] != 'r')
			continue;
		struct ac_region *region = ac_array_slot(live->regions, live->n_regions);
		if (!region)
			break;
		*region = (struct ac_region){ start, end - start, perms[1] == 'w' };
		live->n_regions++;
	}
	fclose(f);
}

AC_DEFINE_CLEANUP(struct ac_live, ac_live_destroy)

struct ac_error *ac_live_open(pid_t pid, struct ac_live **ret)
{
	if (pid <= 0)
		return ac_error_create(AC_ERR_USAGE, "--pid %d: not a process id", pid);
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return ac_error_create(AC_ERR_PROCESS, "pid %d: no such process", pid);
	if (pid == getpid())
		return ac_error_create(AC_ERR_PROCESS, "pid %d: is aiocore itself", pid);
	_cleanup_(ac_live_destroy_cleanup) struct ac_live *live = calloc(1, sizeof(*live));
	if (!live)
		return &ac_error_no_memory;
	live->pid = pid;
#if defined(__x86_64__)
	live->arch = AC_ARCH_X86_64;
#else
	live->arch = AC_ARCH_AARCH64;
#endif
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	live->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
	struct ac_error *err = NULL;
	if (live->mem_fd < 0)
		return ac_error_create(AC_ERR_PROCESS, "pid %d: may not be read: %s: %s",
				       pid, path, strerror(errno));
	pid_t *tids = NULL;
	size_t n = 0;
	err = list_tids(pid, &tids, &n);
	if (err)
		return err;
	err = read_registers(live, tids, n);
	free(tids);
	if (err)
		return err;
	read_regions(live);
	*ret = ac_steal(&live);
	return NULL;
}

struct ac_error *ac_live_open_callbacks(pid_t pid,
					const struct ac_target_callbacks *callbacks,
					struct ac_live **ret)
{
	struct ac_live *live = calloc(1, sizeof(*live));
	if (!live)
		return &ac_error_no_memory;
	live->pid = pid;
	live->mem_fd = -1;
	live->callbacks = callbacks;
#if defined(__x86_64__)
	live->arch = AC_ARCH_X86_64;
#else
	live->arch = AC_ARCH_AARCH64;
#endif
	size_t n = callbacks->thread_count(callbacks->arg);
	live->threads = calloc(n ? n : 1, sizeof(*live->threads));
	if (!live->threads) {
		free(live);
		return &ac_error_no_memory;
	}
	for (size_t i = 0; i < n; i++)
		if (callbacks->thread(callbacks->arg, i, &live->threads[live->n_threads]) == 0)
			live->n_threads++;
	read_regions(live);
	if (live->n_threads == 0) {
		ac_live_destroy(live);
		return ac_error_create(AC_ERR_PROCESS, "pid %d: the debugger gave no thread", pid);
	}
	*ret = live;
	return NULL;
}

void ac_live_destroy(struct ac_live *live)
{
	if (!live)
		return;
	if (live->mem_fd >= 0)
		close(live->mem_fd);
	free(live->threads);
	free(live->regions);
	free(live);
}

struct ac_error *ac_live_read(struct ac_live *live, uint64_t address, void *buf,
			      size_t size)
{
	if (live->callbacks) {
		if (live->callbacks->read_memory(live->callbacks->arg, address, buf, size) == 0)
			return NULL;
		return ac_error_create_at(AC_ERR_UNMAPPED, address,
					  "address 0x%" PRIx64 " cannot be read in pid %d",
					  address, live->pid);
	}
	ssize_t n = pread(live->mem_fd, buf, size, (off_t)address);
	if (n == (ssize_t)size)
		return NULL;
	uint64_t bad = n > 0 ? address + n : address;
	return ac_error_create_at(AC_ERR_UNMAPPED, bad,
				  "address 0x%" PRIx64 " is not mapped (or not readable) in pid %d",
				  bad, live->pid);
}
