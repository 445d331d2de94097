/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ucontext coroutine backend (QEMU: coroutine-ucontext.c, later
 * util/coroutine-ucontext.c): makecontext()/swapcontext() only to start a
 * coroutine on its own stack, then sigsetjmp()/siglongjmp() on env to
 * switch.  env therefore holds glibc's pointer-mangled SP/PC/FP of a
 * coroutine that is not running, which is what a core decoder has to undo.
 * CoroutineUContext is private to this file, as in QEMU.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <ucontext.h>

#include "qemu/coroutine.h"

typedef struct {
	Coroutine base;
	void *stack;
#if AIOCORE_PROFILE >= 5
	size_t stack_size;      /* 2.8 on */
#endif
	sigjmp_buf env;
} CoroutineUContext;

#if AIOCORE_PROFILE == 2
/*
 * QEMU 2.1: the running coroutine and the leader live in a per-thread
 * block behind pthread_getspecific(thread_state_key), not in a __thread
 * variable: a core shows it only through glibc's private struct pthread.
 */
typedef struct {
	Coroutine *current;
	CoroutineUContext leader;
} CoroutineThreadState;

static pthread_key_t thread_state_key;

static void __attribute__((constructor)) coroutine_init(void)
{
	if (pthread_key_create(&thread_state_key, free) != 0)
		abort();
}

static CoroutineThreadState *coroutine_get_thread_state(void)
{
	CoroutineThreadState *s = pthread_getspecific(thread_state_key);

	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			abort();
		s->current = &s->leader.base;
		pthread_setspecific(thread_state_key, s);
	}
	return s;
}

/* qemu_coroutine_new()'s fixed size before 2.8 recorded it */
#define COROUTINE_STACK_SIZE (1 << 20)
#else
/* the thread's own stack, as a coroutine to switch back to */
static __thread CoroutineUContext leader;
/* the coroutine running on this thread (QEMU 7.2+ spells it co_tls_current) */
#if AIOCORE_PROFILE >= 10
static __thread Coroutine *co_tls_current;
#define current co_tls_current
#else
static __thread Coroutine *current;
#endif

#define COROUTINE_STACK_SIZE (256 * 1024)
#endif

/* qemu_coroutine_new()'s env, for the trampoline's first switch back */
static __thread void *trampoline_init_env;

/* makecontext() passes ints only: split the pointer in two halves */
union cc_arg {
	void *p;
	int i[2];
};

static void coroutine_trampoline(int i0, int i1)
{
	union cc_arg arg;
	CoroutineUContext *self;
	Coroutine *co;
	void *init_env;

	arg.i[0] = i0;
	arg.i[1] = i1;
	self = arg.p;
	co = &self->base;
	init_env = trampoline_init_env;

	/* first switch: return to qemu_coroutine_new(), we are set up */
	if (!sigsetjmp(self->env, 0))
		siglongjmp(*(sigjmp_buf *)init_env, 1);

	for (;;) {
		co->entry(co->entry_arg);
		qemu_coroutine_switch(co, co->caller, COROUTINE_TERMINATE);
	}
}

Coroutine *qemu_coroutine_new(void)
{
	CoroutineUContext *co;
	ucontext_t old_uc, uc;
	sigjmp_buf old_env;
	union cc_arg arg = { 0 };

	if (getcontext(&uc) == -1)
		abort();

	co = calloc(1, sizeof(*co));
	co->stack = malloc(COROUTINE_STACK_SIZE);
#if AIOCORE_PROFILE >= 5
	co->stack_size = COROUTINE_STACK_SIZE;
#endif

	uc.uc_link = &old_uc;
	uc.uc_stack.ss_sp = co->stack;
	uc.uc_stack.ss_size = COROUTINE_STACK_SIZE;
	uc.uc_stack.ss_flags = 0;

	arg.p = co;
	trampoline_init_env = &old_env;
	makecontext(&uc, (void (*)(void))coroutine_trampoline, 2, arg.i[0], arg.i[1]);

	if (!sigsetjmp(old_env, 0))
		swapcontext(&old_uc, &uc);
	return &co->base;
}

void qemu_coroutine_delete(Coroutine *co_)
{
	CoroutineUContext *co = (CoroutineUContext *)co_;

	free(co->stack);
	free(co);
}

CoroutineAction qemu_coroutine_switch(Coroutine *from_, Coroutine *to_,
				      CoroutineAction action)
{
	CoroutineUContext *from = (CoroutineUContext *)from_;
	CoroutineUContext *to = (CoroutineUContext *)to_;
	int ret;

#if AIOCORE_PROFILE == 2
	coroutine_get_thread_state()->current = to_;
#else
	current = to_;
#endif
	ret = sigsetjmp(from->env, 0);
	if (ret == 0)
		siglongjmp(to->env, action);
	return ret;
}

#if AIOCORE_PROFILE == 2
Coroutine *qemu_coroutine_self(void)
{
	return coroutine_get_thread_state()->current;
}

bool qemu_in_coroutine(void)
{
	CoroutineThreadState *s = pthread_getspecific(thread_state_key);

	return s && s->current->caller;
}
#else
Coroutine *qemu_coroutine_self(void)
{
	if (!current)
		current = &leader.base;
	return current;
}

bool qemu_in_coroutine(void)
{
	return current && current->caller;
}
#endif
