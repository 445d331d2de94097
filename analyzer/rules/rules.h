/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rules: the hang-pattern catalogue (pattern), findings with their
 * evidence (finding, evidence), one rule per pattern (rule-*.c) and
 * diagnose, which runs them all over one analysis.  Rules judge what the
 * qemu decoders found; they print nothing.  May include util/util.h,
 * target/target.h, dwarf/dwarf.h and qemu/qemu.h.
 */
#ifndef AIOCORE_RULES_H
#define AIOCORE_RULES_H

#include "pattern.h"
#include "finding.h"
#include "diagnose.h"
#include "progress.h"

#endif
