/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test-only views into the DWARF layer.  Unit tests use them to prove that a
 * repeated lookup is answered from the caches instead of rescanning CUs.
 * Nothing outside tests/ should include this header.
 */
#ifndef AIOCORE_DWARF_INTERNAL_H
#define AIOCORE_DWARF_INTERNAL_H

#include "dwarf-lookup.h"

/* CUs whose top-level DIEs were read so far (hint CUs and full scans). */
unsigned long ac_dwarf_test_cus_scanned(const struct ac_dwarf *dw);
/* Modules whose every CU was indexed so far. */
unsigned long ac_dwarf_test_full_scans(const struct ac_dwarf *dw);

#endif
