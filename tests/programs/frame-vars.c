/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Threads parked inside functions whose arguments the test knows, for
 * analyzer/dwarf/frame-variable.c.  Built -O2 -g: arguments live in registers and
 * location lists, as in a distribution's QEMU.  Prints "ready PID" when all
 * threads are parked.
 *
 *   "ev-waiter"   fv_event_wait(ev = &fv_event_a)
 *                   -> fv_futex_wait(ev, val = FV_EV_BUSY) -> syscall(futex)
 *                 ev is used after the futex call: it stays in a
 *                 callee-saved register across it.
 *   "ctx-poller"  fv_poll_ctx(ctx = &fv_ctx_io, id = FV_POLL_ID) -> poll
 *                 both used after poll().
 *   "inline-poller" fv_outer_poll(ctx = &fv_ctx_main)
 *                 -> [inlined] fv_inner_poll(inner_ctx = &fv_ctx_main) -> poll
 *   "lost-arg"    fv_park_lost(seed) -> poll; seed is dead before poll()
 *                 and its value came from a volatile load, so no caller
 *                 can restore it: it must read as optimized out.
 *   main          fv_main_wait() -> read
 */
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FV_EV_BUSY 0xffffffffu
#define FV_POLL_ID 4242

struct fv_event {
	unsigned value;
	bool initialized;
};

struct fv_ctx {
	int id;
	int pipe_fd;
};

struct fv_event fv_event_a = { FV_EV_BUSY, true };
struct fv_event fv_event_b = { 1, true };
struct fv_ctx fv_ctx_main = { 1, -1 };
struct fv_ctx fv_ctx_io = { 2, -1 };
volatile int fv_sink;
volatile unsigned fv_seed_source = 777;
static pthread_barrier_t started;
static int pipe_fds[2];

__attribute__((noinline)) void fv_futex_wait(struct fv_event *ev, unsigned val)
{
	syscall(SYS_futex, &ev->value, FUTEX_WAIT, val, NULL, NULL, 0);
}

__attribute__((noinline)) void fv_event_wait(struct fv_event *ev)
{
	while (__atomic_load_n(&ev->value, __ATOMIC_ACQUIRE) == FV_EV_BUSY)
		fv_futex_wait(ev, FV_EV_BUSY);
	fv_sink += ev->initialized;
}

__attribute__((noinline)) void fv_poll_ctx(struct fv_ctx *ctx, int id)
{
	struct pollfd pfd = { .fd = ctx->pipe_fd, .events = POLLIN };
	while (poll(&pfd, 1, -1) >= 0 && !fv_sink)
		;
	fv_sink += ctx->id + id;
}

static inline __attribute__((always_inline)) void
fv_inner_poll(struct fv_ctx *inner_ctx)
{
	struct pollfd pfd = { .fd = inner_ctx->pipe_fd, .events = POLLIN };
	while (poll(&pfd, 1, -1) >= 0 && !fv_sink)
		;
	fv_sink += inner_ctx->id;
}

__attribute__((noinline)) void fv_outer_poll(struct fv_ctx *ctx)
{
	fv_inner_poll(ctx);
	fv_sink += ctx->pipe_fd;
}

__attribute__((noinline)) void fv_park_lost(unsigned seed)
{
	struct pollfd pfd = { .fd = pipe_fds[0], .events = POLLIN };
	fv_sink = (int)(seed * 3);
	while (poll(&pfd, 1, -1) >= 0 && !fv_sink)
		;
}

static void *ev_thread(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "ev-waiter");
	pthread_barrier_wait(&started);
	fv_event_wait(&fv_event_a);
	fv_sink++;
	return NULL;
}

static void *poll_thread(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "ctx-poller");
	pthread_barrier_wait(&started);
	fv_poll_ctx(&fv_ctx_io, FV_POLL_ID);
	fv_sink++;
	return NULL;
}

static void *inline_thread(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "inline-poller");
	pthread_barrier_wait(&started);
	fv_outer_poll(&fv_ctx_main);
	fv_sink++;
	return NULL;
}

static void *lost_thread(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "lost-arg");
	pthread_barrier_wait(&started);
	fv_park_lost(fv_seed_source * 13 + 5);
	fv_sink++;
	return NULL;
}

__attribute__((noinline)) static void fv_main_wait(void)
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
	if (pipe(pipe_fds) != 0)
		return 1;
	fv_ctx_io.pipe_fd = pipe_fds[0];
	fv_ctx_main.pipe_fd = pipe_fds[0];
	pthread_barrier_init(&started, NULL, 5);
	pthread_create(&t, NULL, ev_thread, NULL);
	pthread_create(&t, NULL, poll_thread, NULL);
	pthread_create(&t, NULL, inline_thread, NULL);
	pthread_create(&t, NULL, lost_thread, NULL);
	fv_main_wait();
	return 0;
}
