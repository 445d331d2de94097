/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Evidence lines several rules add the same way (evidence.c). */
#ifndef AIOCORE_EVIDENCE_H
#define AIOCORE_EVIDENCE_H

#include "qemu/qemu.h"
#include "finding.h"

struct ac_program;

/* "home thread = asleep in ppoll <- ... (thread N, #2 main_loop_wait)" */
void ac_evidence_home(struct ac_program *prog, struct ac_finding *f,
		      const struct ac_aio_context *ctx);
/* "WHAT = [\"name\"] cb=NAME [flags] state @address" */
void ac_evidence_bh(struct ac_finding *f, const char *what, const struct ac_bh *bh);

#endif
