/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Atomics and barriers, named as in QEMU (qatomic_*, smp_*).  Plain C11
 * builtins; the historical (weaker) orderings the variants need are spelled
 * out at their call sites, not hidden here.
 */
#ifndef AIOCORE_QEMU_ATOMIC_H
#define AIOCORE_QEMU_ATOMIC_H

#define barrier() __asm__ __volatile__("" ::: "memory")
#define smp_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define smp_mb_release() __atomic_thread_fence(__ATOMIC_RELEASE)
#define smp_mb_acquire() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define smp_wmb() smp_mb_release()
#define smp_rmb() smp_mb_acquire()

#define qatomic_read(ptr) __atomic_load_n(ptr, __ATOMIC_RELAXED)
#define qatomic_set(ptr, i) __atomic_store_n(ptr, i, __ATOMIC_RELAXED)
#define qatomic_load_acquire(ptr) __atomic_load_n(ptr, __ATOMIC_ACQUIRE)
#define qatomic_store_release(ptr, i) __atomic_store_n(ptr, i, __ATOMIC_RELEASE)
#define qatomic_mb_set(ptr, i) __atomic_store_n(ptr, i, __ATOMIC_SEQ_CST)
#define qatomic_xchg(ptr, i) __atomic_exchange_n(ptr, i, __ATOMIC_SEQ_CST)
#define qatomic_cmpxchg(ptr, old, new) ({                                   \
	typeof(*(ptr)) old_ = (old);                                        \
	__atomic_compare_exchange_n(ptr, &old_, new, false,                 \
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
	old_;                                                               \
})
#define qatomic_fetch_or(ptr, n) __atomic_fetch_or(ptr, n, __ATOMIC_SEQ_CST)
#define qatomic_fetch_and(ptr, n) __atomic_fetch_and(ptr, n, __ATOMIC_SEQ_CST)
#define qatomic_fetch_add(ptr, n) __atomic_fetch_add(ptr, n, __ATOMIC_SEQ_CST)
#define qatomic_fetch_sub(ptr, n) __atomic_fetch_sub(ptr, n, __ATOMIC_SEQ_CST)
#define qatomic_or(ptr, n) ((void)__atomic_fetch_or(ptr, n, __ATOMIC_SEQ_CST))
#define qatomic_and(ptr, n) ((void)__atomic_fetch_and(ptr, n, __ATOMIC_SEQ_CST))
#define qatomic_add(ptr, n) ((void)__atomic_fetch_add(ptr, n, __ATOMIC_SEQ_CST))
#define qatomic_sub(ptr, n) ((void)__atomic_fetch_sub(ptr, n, __ATOMIC_SEQ_CST))
#define qatomic_inc(ptr) qatomic_add(ptr, 1)
#define qatomic_dec(ptr) qatomic_sub(ptr, 1)

#endif
