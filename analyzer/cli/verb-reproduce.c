/* SPDX-License-Identifier: GPL-2.0-or-later */
/* aiocore reproduce: the reference runtime is not built yet. */
#include <stdio.h>

#include "cli.h"

int ac_verb_reproduce(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("aiocore reproduce: the reference runtime is not part of this build yet\n", stderr);
	return AC_EXIT_USAGE;
}
