/* SPDX-License-Identifier: GPL-2.0-or-later */
/* qemu_poll_ns(), which QEMU keeps in qemu-timer.c (util/qemu-timer.c). */
#include <time.h>

#include "block/aio.h"

/* timeout in ns; -1 sleeps until an fd is ready (ppoll with NULL timeout). */
int qemu_poll_ns(struct pollfd *fds, unsigned nfds, int64_t timeout)
{
	if (timeout < 0)
		return ppoll(fds, nfds, NULL, NULL);

	struct timespec ts = {
		.tv_sec = timeout / 1000000000LL,
		.tv_nsec = timeout % 1000000000LL,
	};
	return ppoll(fds, nfds, &ts, NULL);
}
