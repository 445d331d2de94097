/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef AIOCORE_RUNTIME_WATCHDOG_H
#define AIOCORE_RUNTIME_WATCHDOG_H

#include <sys/types.h>

/* Exit codes of aiocore-runtime-* (docs/reproduce.md) */
enum {
	RT_EXIT_OK = 0,          /* hang captured, or fixed ran clean / captured */
	RT_EXIT_NO_HANG = 1,     /* a racy variant did not hang within --seconds */
	RT_EXIT_ERROR = 2,       /* gcore failed, the runtime died, ... */
	RT_EXIT_FIXED_HUNG = 3,  /* fixed hung: a bug in the runtime (core captured) */
	RT_EXIT_USAGE = 64,
};

int watchdog_run(pid_t pid);
const char *rt_profile_name(void);

#endif
