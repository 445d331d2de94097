/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by the two CUs of dwarf-sample and by tests/unit/test-dwarf.c,
 * which compiles the same layouts to know what the DWARF must say.  The
 * private structs are spelled as bodies (SAMPLE_*_BODY) so that the test can
 * instantiate both layouts under different tags in one translation unit.
 */
#ifndef DWARF_SAMPLE_H
#define DWARF_SAMPLE_H

#include <stdbool.h>
#include <stdint.h>

/* Values deliberately not 0, 1, 2: a test returning an index must fail. */
enum ThreadState {
	THREAD_QUEUED = 4,
	THREAD_ACTIVE = 7,
	THREAD_DONE = 13,
	THREAD_ERROR = -3,
};
typedef enum ThreadState ThreadState;

/* CU a's anonymous flag enum (like QEMU's BH flags in util/async.c)... */
#define SAMPLE_A_BH_PENDING   (1 << 0)
#define SAMPLE_A_BH_SCHEDULED (1 << 1)
#define SAMPLE_A_BH_DELETED   (1 << 2)
#define SAMPLE_A_BH_ONESHOT   (1 << 3)
/* ...and CU b's anonymous enum reusing one name with another value. */
#define SAMPLE_B_BH_PENDING   (1 << 8)

struct Ctx;
struct BH;
struct Opaque;                  /* defined only in CU a */
typedef struct Ctx Ctx;

struct EventNotifier {
	int rfd;
	int wfd;
};

/* Public, like AioContext: the same in both CUs. */
struct Ctx {
	int lock;
	volatile unsigned int notify_me;
	const int ro;
	union {
		uint64_t raw;
		struct {
			uint32_t lo;
			uint32_t hi;
		};
	} u;
	union {                 /* anonymous union member */
		void *anon_ptr;
		uintptr_t anon_word;
	};
	struct {
		struct BH *slh_first;
	} bh_list;
	struct {
		struct {
			int depth;
		} inner;
	} nest;
	unsigned int enabled : 1;
	unsigned int mode : 3;
	unsigned int count : 12;
	int arr[4];
	ThreadState state;
	struct EventNotifier notifier;
	const volatile int cv;
	void (*cb)(void *opaque);
};

/* CU a's private struct BH (QEMU 5.0+ style QEMUBH). */
#define SAMPLE_BH_A_BODY {                      \
	struct Ctx *ctx;                        \
	const char *name;                       \
	void (*cb)(void *opaque);               \
	void *opaque;                           \
	struct {                                \
		struct BH *sle_next;            \
	} next;                                 \
	unsigned flags;                         \
}

/* CU b's private struct BH (QEMU 2.x style QEMUBH). */
#define SAMPLE_BH_B_BODY {                      \
	struct Ctx *ctx;                        \
	void (*cb)(void *opaque);               \
	void *opaque;                           \
	struct BH *next;                        \
	bool scheduled;                         \
	bool idle;                              \
	bool deleted;                           \
}

/* CU a's private typedef'd struct (like ThreadPoolElement). */
#define SAMPLE_ELEM_BODY {                      \
	void *common;                           \
	int (*func)(void *arg);                 \
	void *arg;                              \
	ThreadState state;                      \
	int ret;                                \
}

#define SAMPLE_OPAQUE_BODY {                    \
	int x;                                  \
	long y;                                 \
}

/* Initial values, so a test can check addresses against the file. */
#define SAMPLE_A_COUNTER 0x1234a
#define SAMPLE_B_COUNTER 0x5678b
#define SAMPLE_GLOBAL_LOCK 0x2468

extern struct Ctx global_ctx;   /* defined in CU b, declared in CU a */
extern __thread int sample_tls;

int sample_a_func(int n);
int sample_b_func(int n);

#endif
