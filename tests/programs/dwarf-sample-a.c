/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CU a of dwarf-sample: private types and statics like QEMU's util/async.c
 * and util/main-loop.c.  Nothing here is meant to run meaningfully; the
 * program exists for its DWARF.
 */
#include <stddef.h>

#include "dwarf-sample.h"

struct BH SAMPLE_BH_A_BODY;
typedef struct Elem SAMPLE_ELEM_BODY Elem;
struct Opaque SAMPLE_OPAQUE_BODY;

enum {
	BH_PENDING = SAMPLE_A_BH_PENDING,
	BH_SCHEDULED = SAMPLE_A_BH_SCHEDULED,
	BH_DELETED = SAMPLE_A_BH_DELETED,
	BH_ONESHOT = SAMPLE_A_BH_ONESHOT,
};

static int counter __attribute__((used)) = SAMPLE_A_COUNTER;
static struct Ctx *qemu_aio_context __attribute__((used));
static struct BH a_bh __attribute__((used)) = { .flags = BH_SCHEDULED };
static Elem a_elem __attribute__((used)) = { .state = THREAD_ACTIVE };
static struct Opaque a_opaque __attribute__((used)) = { 1, 2 };
__thread int sample_tls;
/* Same-named thread-locals at different offsets (b has the other). */
static __thread int tls_twice __attribute__((used)) = 1;

/* A static function in this file's symbol group (see dwarf-lookup.c). */
static __attribute__((noinline, used)) int a_helper(int n)
{
	return n + (qemu_aio_context != NULL) + counter;
}

int sample_a_func(int n)
{
	volatile unsigned flags = BH_PENDING | BH_DELETED | BH_ONESHOT;
	qemu_aio_context = &global_ctx;
	a_bh.ctx = &global_ctx;
	return a_helper(n) + (int)flags + a_elem.ret + a_opaque.x +
	       global_ctx.lock + sample_tls;
}

int main(int argc, char **argv)
{
	(void)argv;
	return (sample_a_func(argc) + sample_b_func(argc)) & 1;
}
