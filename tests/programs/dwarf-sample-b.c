/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CU b of dwarf-sample: a different private struct BH and same-named
 * statics, so that only a hint function can pick the right one.
 */
#include <stddef.h>

#include "dwarf-sample.h"

struct BH SAMPLE_BH_B_BODY;

enum {
	BH_PENDING = SAMPLE_B_BH_PENDING,
};

struct Ctx global_ctx = { .lock = SAMPLE_GLOBAL_LOCK };
static int counter __attribute__((used)) = SAMPLE_B_COUNTER;
static struct BH b_bh __attribute__((used)) = { .deleted = true };
static struct Opaque *b_opaque __attribute__((used));
static enum ThreadState b_state __attribute__((used)) = THREAD_DONE;
static __thread int tls_twice __attribute__((used)) = 2;

static __attribute__((noinline, used)) int b_helper(int n)
{
	return n * counter + (b_opaque != NULL);
}

int sample_b_func(int n)
{
	volatile int pending = BH_PENDING;
	b_bh.ctx = &global_ctx;
	return b_helper(n) + pending + (int)b_state + global_ctx.arr[n & 3];
}
