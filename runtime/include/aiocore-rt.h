/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What is ours and not QEMU's: the variant switches, the inject-mode
 * handshakes (variants.c), the counters shared with the watchdog process
 * (watchdog.c) and the workload (workload.c).
 */
#ifndef AIOCORE_RT_H
#define AIOCORE_RT_H

#include <stdbool.h>
#include <stdint.h>

enum rt_variant {
	RT_FIXED,
	RT_LOST_COMPLETION,    /* pre-e8d3b1a25f28 */
	RT_LOST_NOTIFY,        /* pre-5710a3e09f9b */
	RT_EVENT_LOST_WAKEUP,  /* QemuEvent before the QEMU 8.0 barrier series */
	RT_NESTED_POLL,        /* pre-3c80ca158c96 */
	RT_IOHANDLER_RACE,     /* pre-ab27c3b5e740 (seed 004) */
	RT_LOST_COROUTINE_WAKE, /* a model: aio_co_schedule() losing co_schedule_bh */
	RT_BQL_POLL_CYCLE,     /* GitLab #780: BQL holder polls for main-loop work */
	RT_LOCK_CYCLE,         /* two QemuMutexes taken in opposite orders (ABBA) */
	RT_BQL_CTX_CYCLE,      /* BQL vs an IOThread's AioContext lock (up to 8.x) */
	RT_VARIANT_COUNT,
};

enum rt_mode { RT_MODE_INJECT, RT_MODE_STRESS };

struct rt_variant_info {
	const char *name;
	const char *summary;
	const char *upstream;   /* the commit that fixed it */
	const char *iteration;  /* what --mode stress counts as one iteration */
};

extern enum rt_variant rt_variant;
extern enum rt_mode rt_mode;
const struct rt_variant_info *rt_variant_info(enum rt_variant v);
int rt_variant_lookup(const char *name);

/* The racy code paths of variant v are compiled in and selected at run time. */
static inline bool rt_buggy(enum rt_variant v)
{
	return rt_variant == v;
}
static inline bool rt_inject(enum rt_variant v)
{
	return rt_mode == RT_MODE_INJECT && rt_variant == v;
}

/* ---- counters shared with the watchdog (MAP_SHARED, survives fork) ---- */
enum rt_phase {
	RT_PHASE_STARTING,
	RT_PHASE_RUNNING,
	RT_PHASE_TRAP,          /* inject mode: the losing interleaving is set up */
	RT_PHASE_CAPTURE_SETUP, /* fixed --out: freezing on purpose, not a hang */
	RT_PHASE_CAPTURE_READY, /* fixed --out: requests in every state, take the core */
};

struct rt_shared {
	uint64_t submitted;     /* disk requests */
	uint64_t completed;
	uint64_t rcu_queued;    /* call_rcu1() callbacks */
	uint64_t rcu_done;
	uint64_t iterations;    /* race opportunities, see rt_variant_info.iteration */
	uint64_t start_ns;
	int phase;
	int trap_attempts;
	int runtime_pid;
	uint64_t lock_rounds;   /* lock-order rounds (lock-order.c) begun ... */
	uint64_t lock_rounds_done; /* ... and finished */
};
extern struct rt_shared *rt_shared;
void rt_shared_init(struct rt_shared *shm);
#define RT_COUNT(field) __atomic_fetch_add(&rt_shared->field, 1, __ATOMIC_RELAXED)
uint64_t rt_now_ns(void);

/* ---- inject mode: gates and the trap ---- */
struct rt_gate {
	unsigned open;
};
void rt_gate_reset(struct rt_gate *g);
void rt_gate_open(struct rt_gate *g);
bool rt_gate_is_open(struct rt_gate *g);
/* Waits at most ms; false on timeout (the inject attempt is then abandoned). */
bool rt_gate_wait(struct rt_gate *g, unsigned ms);

/*
 * One trap at a time.  The workload arms it and submits the requests; the
 * first submissions of the wanted types are claimed (their RawPosixAIOData
 * pointers identify the elements to the hooks).
 */
struct rt_trap {
	unsigned armed;
	int want_type[2];
	void *arg[2];
	struct rt_gate parked;    /* the trapped worker holds its DONE store */
	struct rt_gate go;        /* ... and may now store it */
	struct rt_gate raced;     /* ... and has made its stale check */
	struct rt_gate done[2];   /* element i is DONE and its schedule issued */
	struct rt_gate loaded;    /* the reader has made its early load */
	struct rt_gate others_done; /* every non-trapped request completed */
};
extern struct rt_trap rt_trap;
#define RT_INJECT_WAIT_MS 2000

void rt_trap_arm(int type0, int type1);
void rt_trap_disarm(void);
bool rt_trap_armed(void);
/* lost-completion: should aio_bh_poll() buffer its clear of the BH now? */
bool rt_trap_buffer_bh_clear(void);
int rt_trap_index(const void *arg);

/* Hooks called from the QEMU-named code; all no-ops unless inject mode. */
struct AioContext;
struct QEMUBH;
struct rcu_head;
#if AIOCORE_PROFILE >= 10
struct ThreadPoolAio;
#define rt_pool_t struct ThreadPoolAio
#else
struct ThreadPool;
#define rt_pool_t struct ThreadPool
#endif
void rt_hook_submit(void *arg, int type);
void rt_hook_io(void *arg);
void rt_hook_worker_before_done(void *arg);
void rt_hook_worker_after_schedule(void *arg);
void rt_hook_completion_walk_done(rt_pool_t *pool, struct QEMUBH *completion_bh);
void rt_hook_prepare_loaded(struct AioContext *ctx, int64_t timeout);
void rt_hook_before_bh_poll(struct AioContext *ctx);
void rt_hook_rcu_loaded_count(int n);
/* event.c: make a buffered qemu_event_reset() store visible (inject mode) */
void qemu_event_sb_drain(void);
void rt_hook_rcu_before_count(struct rcu_head *node);
/* lost-coroutine-wake: aio_co_schedule() saw co_schedule_bh scheduled */
void rt_hook_co_schedule_skip(struct AioContext *ctx);
/* lost-coroutine-wake: co_schedule_bh_cb() took the list */
void rt_hook_co_schedule_moved(struct AioContext *ctx);
void rt_hook_rcu_after_set(struct rcu_head *node);
/* async.c: lost-completion's buffered clear of bh (inject mode) */
bool aio_bh_clear_is_buffered(struct QEMUBH *bh);

/* ---- lock-order.c ---- */
void lock_order_abba_start(void);
/* no-op on g10: QEMU 9.0 removed the AioContext lock */
void lock_order_bql_ctx_start(void);

/* ---- workload.c ---- */
struct rt_options {
	enum rt_variant variant;
	enum rt_mode mode;
	const char *out;
	bool keep;
	bool json;
	bool verbose;
	double seconds;
	unsigned hang_ms;
	unsigned capture_ms;    /* fixed --out: when to freeze for the capture */
	int queue_depth;
	int max_threads;
	unsigned bhs;           /* --bhs: idle BHs on the main context */
	unsigned ram_mib;       /* --ram-mib: touched memory ... */
	unsigned region_mib;    /* ... in mappings of this size */
};
extern struct rt_options rt_opts;
/* ballast.c: the benchmark ballast of rt_opts; -1 without memory. */
int ballast_add(void);
void workload_start(void);
bool workload_should_exit(void);

#endif
