/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * util: the analyzer's ground floor.  Errors (the one error object every
 * layer returns), scope-bound cleanup, the JSON writer, bounded list
 * walks, growable arrays and the hash map, decompression of cores.  Knows
 * nothing of targets, DWARF or QEMU; includes only the C library and
 * compression libraries.
 * Layers, bottom up: util -> target -> dwarf -> qemu -> rules -> views ->
 * cli | gdb.  Each includes only its own files and the public header of a
 * layer below it (analyzer/README.md).
 */
#ifndef AIOCORE_UTIL_H
#define AIOCORE_UTIL_H

#include "error.h"
#include "cleanup.h"
#include "array.h"
#include "hash-map.h"
#include "decompress.h"
#include "json-writer.h"
#include "list-walk.h"

#endif
