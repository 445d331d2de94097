/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dwarf: symbols, types, members and enumerators by name (dwarf-lookup),
 * the program (a target with its DWARF and the notes a decoder leaves),
 * typed objects read from it (object), and a frame's parameters and locals
 * (frame-variable).  Knows no QEMU structure: decoders above name them.
 * May include util/util.h and target/target.h.
 */
#ifndef AIOCORE_DWARF_H
#define AIOCORE_DWARF_H

#include "dwarf-lookup.h"
#include "program.h"
#include "object.h"
#include "frame-variable.h"

#endif
