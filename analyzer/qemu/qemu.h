/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qemu: one decoder per QEMU source file it mirrors (AioContext, QEMUBH,
 * ThreadPool, Coroutine, QemuEvent, NBD client, the release from --version), each
 * turning target memory into plain structs, and the analysis that decodes
 * them all once for the rules.  Decoders find members by name and fall
 * back across QEMU generations; they judge nothing.  May include
 * util/util.h, target/target.h and dwarf/dwarf.h.
 */
#ifndef AIOCORE_QEMU_H
#define AIOCORE_QEMU_H

#include "qemu-version.h"
#include "aio-context.h"
#include "bh.h"
#include "thread-pool.h"
#include "tls.h"
#include "coroutine.h"
#include "co-lock.h"
#include "qemu-event.h"
#include "bdrv-states.h"
#include "nbd-client.h"
#include "block-node.h"
#include "posix-aio.h"
#include "job.h"
#include "drain.h"
#include "co-poll.h"
#include "thread-wait.h"
#include "waits.h"
#include "analysis.h"

#endif
