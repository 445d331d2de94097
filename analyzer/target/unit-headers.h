/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef AIOCORE_UNIT_HEADERS_H
#define AIOCORE_UNIT_HEADERS_H

#include <elfutils/libdw.h>
#include <stddef.h>

/*
 * Reads every unit header of dbg's .debug_info once, in order, so that
 * later lookups find their unit without walking, and leaves none of the
 * section's pages mapped behind it.  Returns the number of units.
 */
size_t ac_unit_headers_read(Dwarf *dbg);

#endif
