/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Benchmark target for bench/threads.sh.
 *
 *   big-touch [GIB]
 *
 * Maps an anonymous region of GIB GiB (default 3; 0 maps nothing, for the
 * small baseline core) and writes non-zero data to every page, so that
 * gcore has to write all of it into the core. Then parks four threads in
 * different blocking calls, a few frames deep, prints "ready PID" and waits
 * until it is killed. The core therefore has 5 threads (main + 4) whatever
 * its size, and only its size changes between the small and the big run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t started;
static sem_t never_posted;
static int pipe_fds[2];
volatile int sink;
static volatile int keep_sleeping = 1;

/* Each park_* is noinline so it stays a frame in every backtrace. */
__attribute__((noinline)) static void park_in_cond_wait(void)
{
	pthread_mutex_lock(&lock);
	pthread_barrier_wait(&started);
	for (;;)
		pthread_cond_wait(&never, &lock);
}

__attribute__((noinline)) static void park_in_poll(void)
{
	struct pollfd pfd = { .fd = pipe_fds[0], .events = POLLIN };
	pthread_barrier_wait(&started);
	for (;;)
		poll(&pfd, 1, -1);
}

__attribute__((noinline)) static void park_in_nanosleep(int depth)
{
	if (depth > 0) {
		park_in_nanosleep(depth - 1);
		sink++; /* not a tail call */
		return;
	}
	pthread_barrier_wait(&started);
	while (keep_sleeping) {
		struct timespec ts = { .tv_sec = 1000 };
		nanosleep(&ts, NULL);
	}
}

__attribute__((noinline)) static void park_in_sem_wait(void)
{
	pthread_barrier_wait(&started);
	for (;;)
		while (sem_wait(&never_posted) != 0 && errno == EINTR)
			;
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
	sink++;
	return NULL;
}

static void *sleep_thread(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "deep-sleeper");
	park_in_nanosleep(4);
	sink++;
	return NULL;
}

static void *sem_thread(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "sem-waiter");
	park_in_sem_wait();
	sink++;
	return NULL;
}

/* Writes a non-zero, page-dependent pattern to every byte of the region. */
__attribute__((noinline)) static void touch_all(unsigned char *p, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	for (size_t off = 0; off < len; off += (size_t)page)
		memset(p + off, (int)(((off / (size_t)page) % 255) + 1),
		       (size_t)page);
}

__attribute__((noinline)) static void park_main(void)
{
	char c;
	pthread_barrier_wait(&started);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	/* Nothing ever writes to the pipe: blocks in read() until killed. */
	while (read(pipe_fds[0], &c, 1) != 0)
		;
}

int main(int argc, char **argv)
{
	unsigned long gib = 3;
	pthread_t t;

	if (argc > 1) {
		char *end;
		gib = strtoul(argv[1], &end, 10);
		if (*argv[1] == '\0' || *end != '\0') {
			fprintf(stderr, "usage: %s [GIB]\n", argv[0]);
			return 64;
		}
	}
	if (gib > 0) {
		size_t len = (size_t)gib << 30;
		unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		touch_all(p, len);
	}
	if (pipe(pipe_fds) != 0 || sem_init(&never_posted, 0, 0) != 0) {
		perror("setup");
		return 1;
	}
	pthread_barrier_init(&started, NULL, 5);
	pthread_create(&t, NULL, cond_thread, NULL);
	pthread_create(&t, NULL, poll_thread, NULL);
	pthread_create(&t, NULL, sleep_thread, NULL);
	pthread_create(&t, NULL, sem_thread, NULL);
	park_main();
	return 0;
}
