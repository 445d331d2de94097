/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The main loop (QEMU: main-loop.c, later util/main-loop.c):
 *   main_loop_wait -> os_host_main_loop_wait -> qemu_poll_ns -> ppoll
 * with a small stand-in for glib's prepare/poll/check/dispatch cycle over
 * the two AioContext GSources, qemu_aio_context and iohandler_ctx.
 */
#include <stdlib.h>

#include "qemu/main-loop.h"
#include "aiocore-rt.h"

/* the names and linkage a support engineer expects in gdb */
static AioContext *qemu_aio_context;
static AioContext *iohandler_ctx;

void aio_set_revents(AioContext *ctx, const struct pollfd *fds, int n);

/* ---- glib stand-in: the default GMainContext with our two sources ---- */
#define MAX_SOURCES 4
#define MAX_FDS 32
static GSource *gsources[MAX_SOURCES];
static int n_gsources;
static struct pollfd gpollfds[MAX_FDS];
static int gpollfds_source[MAX_FDS];
static int n_gpollfds;
static bool gsource_ready[MAX_SOURCES];

static void g_source_attach(GSource *source)
{
	gsources[n_gsources++] = source;
}

static bool g_main_context_prepare(int *max_priority)
{
	int i;
	int timeout = -1;

	*max_priority = 0;
	for (i = 0; i < n_gsources; i++) {
		int t = -1;

		gsource_ready[i] = gsources[i]->source_funcs->prepare(gsources[i], &t);
		if (t >= 0 && (timeout < 0 || t < timeout))
			timeout = t;
	}
	return timeout == 0;
}

static int g_main_context_query(int *timeout)
{
	int i, j, n;

	n_gpollfds = 0;
	*timeout = -1;
	for (i = 0; i < n_gsources; i++) {
		AioContext *ctx = (AioContext *)gsources[i];

		if (gsource_ready[i])
			*timeout = 0;
		n = aio_fill_pollfds(ctx, gpollfds + n_gpollfds, MAX_FDS - n_gpollfds);
		for (j = 0; j < n; j++)
			gpollfds_source[n_gpollfds + j] = i;
		n_gpollfds += n;
	}
	return n_gpollfds;
}

static bool g_main_context_check(void)
{
	bool any = false;
	int i, j;

	for (i = 0; i < n_gsources; i++) {
		AioContext *ctx = (AioContext *)gsources[i];
		struct pollfd fds[MAX_FDS];
		int n = 0;

		for (j = 0; j < n_gpollfds; j++)
			if (gpollfds_source[j] == i)
				fds[n++] = gpollfds[j];
		aio_set_revents(ctx, fds, n);
		gsource_ready[i] = gsources[i]->source_funcs->check(gsources[i]);
		any |= gsource_ready[i];
	}
	return any;
}

static void g_main_context_dispatch(void)
{
	int i;

	/* sources in the order they were attached, like equal-priority glib sources */
	for (i = 0; i < n_gsources; i++)
		if (gsource_ready[i])
			gsources[i]->source_funcs->dispatch(gsources[i], NULL, NULL);
}

/* ---- QEMU's main loop ---- */

static int64_t glib_pollfds_fill(int64_t timeout)
{
	int max_priority, glib_timeout;

	g_main_context_prepare(&max_priority);
	g_main_context_query(&glib_timeout);
	if (glib_timeout < 0)
		return timeout;
	if (timeout < 0 || glib_timeout * 1000000LL < timeout)
		return glib_timeout * 1000000LL;
	return timeout;
}

static void glib_pollfds_poll(void)
{
	if (g_main_context_check())
		g_main_context_dispatch();
}

static int os_host_main_loop_wait(int64_t timeout)
{
	int ret;

	timeout = glib_pollfds_fill(timeout);
	/* the BQL is dropped while we sleep, as in QEMU */
	qemu_mutex_unlock_iothread();
	ret = qemu_poll_ns(gpollfds, n_gpollfds, timeout);
	qemu_mutex_lock_iothread();
	glib_pollfds_poll();
	return ret;
}

void main_loop_wait(int nonblocking)
{
	/* no timers in the runtime: sleep until an fd or a BH wakes us */
	os_host_main_loop_wait(nonblocking ? 0 : -1);
}

int qemu_init_main_loop(void)
{
	qemu_aio_context = aio_context_new();
	if (!qemu_aio_context)
		return -1;
	g_source_attach(aio_get_g_source(qemu_aio_context));
	iohandler_ctx = aio_context_new();
	if (!iohandler_ctx)
		return -1;
	g_source_attach(aio_get_g_source(iohandler_ctx));
	return 0;
}

AioContext *qemu_get_aio_context(void)
{
	return qemu_aio_context;
}

AioContext *iohandler_get_aio_context(void)
{
	return iohandler_ctx;
}
