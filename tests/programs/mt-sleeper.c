/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A multi-threaded program that parks each thread in a different blocking
 * call, a few frames deep, some through inlined functions, then prints
 * "ready PID" and waits to be captured with gcore (or inspected live).
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t started;
static int pipe_fds[2];
volatile int sink;
static volatile int sink_stop;

/*
 * For the memory-read tests: a known value in writable data, a string in
 * read-only data (left out of kernel cores, read back from the file), and a
 * shared file mapping (left out of every core by the default filter).
 */
volatile unsigned long long magic_value = 0xa10c0de5eedf00dULL;
const char *const rodata_string = "aiocore read-only string";
char *shared_file_mapping;

/* Anchors the test asserts on; noinline so each stays a frame. */
__attribute__((noinline)) static void park_in_cond_wait(void)
{
	pthread_mutex_lock(&lock);
	pthread_barrier_wait(&started);
	for (;;)
		pthread_cond_wait(&never, &lock);
}

static inline __attribute__((always_inline)) void poll_forever(void)
{
	struct pollfd pfd = { .fd = pipe_fds[0], .events = POLLIN };
	pthread_barrier_wait(&started);
	for (;;)
		poll(&pfd, 1, -1);
}

__attribute__((noinline)) static void park_in_poll(void)
{
	poll_forever();
	sink++;
}

__attribute__((noinline)) static void recurse_then_sleep(int depth)
{
	if (depth > 0) {
		recurse_then_sleep(depth - 1);
		sink++;
		return;
	}
	pthread_barrier_wait(&started);
	while (!sink_stop) {
		struct timespec ts = { .tv_sec = 1000 };
		nanosleep(&ts, NULL);
	}
}

static void *cond_thread(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "cond-waiter");
	park_in_cond_wait();
	return NULL;
}

static void *poll_thread(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "poller");
	park_in_poll();
	return NULL;
}

static void *deep_thread(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "deep-sleeper");
	recurse_then_sleep(5);
	return NULL;
}

__attribute__((noinline)) static void main_wait(void)
{
	char c;
	pthread_barrier_wait(&started);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (read(pipe_fds[0], &c, 1) != 0)
		;
}

int main(void)
{
	pthread_t t;
	/*
	 * The kernel-core tests stop us with SIGQUIT.  A shell without job
	 * control starts background commands with SIGQUIT ignored, and the
	 * ignore is inherited: the suite run that way hung on waitpid().
	 */
	signal(SIGQUIT, SIG_DFL);
	if (pipe(pipe_fds) != 0)
		return 1;
	pthread_barrier_init(&started, NULL, 4);
	/* Linked, not a tmpfile(): the kernel dumps shared mappings of
	 * deleted files as if they were anonymous.  Named by pid so that
	 * whoever stops us can remove it. */
	char name[4200];
	const char *tmp = getenv("TMPDIR");
	snprintf(name, sizeof(name), "%s/mt-sleeper-shared-%d", tmp ? tmp : "/tmp",
		 (int)getpid());
	int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0 && ftruncate(fd, 4096) == 0) {
		shared_file_mapping = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
					   MAP_SHARED, fd, 0);
		if (shared_file_mapping != MAP_FAILED)
			strcpy(shared_file_mapping, "shared file page");
	}
	pthread_create(&t, NULL, cond_thread, NULL);
	pthread_create(&t, NULL, poll_thread, NULL);
	pthread_create(&t, NULL, deep_thread, NULL);
	main_wait();
	return 0;
}

#ifdef AIOCORE_OTHER_BUILD
/* A second build with another build-id, for the mismatch test. */
__attribute__((used)) static const char other_build[] = "other build";
#endif
