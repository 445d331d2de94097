/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * analyzer/target/jmpbuf.c: glibc's pointer mangling and sigjmp_buf layouts.  On
 * x86_64 the test does a real sigsetjmp() in this process, demangles the
 * words with the process's own pointer guard (%fs:0x30) and checks the
 * recovered sp, frame pointer and pc against what the function itself
 * sees (sp, __builtin_frame_address) and what libdwfl says the pc is in.
 * The aarch64 layout is checked on words built by hand from glibc's
 * jmpbuf-offsets.h (x29 stored plain, lr and sp mangled, no rotate).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <elfutils/libdwfl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "target/jmpbuf.h"

static void test_mangle_roundtrip(void **state)
{
	(void)state;
	static const uint64_t values[] = {
		0, 1, 0x7ffd12345678, 0x55d0c2a3e010, UINT64_MAX, 0x8000000000000000,
	};
	static const uint64_t guards[] = { 0, 0x1234567890abcdef, UINT64_MAX };
	for (size_t g = 0; g < sizeof(guards) / sizeof(guards[0]); g++)
		for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++)
			for (int a = AC_ARCH_X86_64; a <= AC_ARCH_AARCH64; a++) {
				uint64_t m = ac_jmpbuf_mangle(a, values[v], guards[g]);
				assert_int_equal(ac_jmpbuf_demangle(a, m, guards[g]),
						 values[v]);
			}
}

/* Known answers: x86_64 is xor then rol 17, aarch64 a plain xor. */
static void test_mangle_known(void **state)
{
	(void)state;
	assert_int_equal(ac_jmpbuf_mangle(AC_ARCH_X86_64, 1, 0), 1ULL << 17);
	assert_int_equal(ac_jmpbuf_mangle(AC_ARCH_X86_64, 1ULL << 63, 0), 1ULL << 16);
	assert_int_equal(ac_jmpbuf_mangle(AC_ARCH_X86_64, 0xff, 0xff), 0);
	assert_int_equal(ac_jmpbuf_demangle(AC_ARCH_X86_64, 1ULL << 17, 1), 0);
	assert_int_equal(ac_jmpbuf_mangle(AC_ARCH_AARCH64, 0xf0, 0x0f), 0xff);
}

static void test_aarch64_layout(void **state)
{
	(void)state;
	const uint64_t guard = 0xa5a5a5a55a5a5a5aULL;
	uint64_t words[AC_JB_AARCH64_WORDS] = { 0 };
	for (unsigned i = 0; i < 10; i++)
		words[AC_JB_AARCH64_X19 + i] = 0x1900 + i;
	words[AC_JB_AARCH64_X29] = 0xffffc0de0010;       /* not mangled */
	words[AC_JB_AARCH64_LR] = ac_jmpbuf_mangle(AC_ARCH_AARCH64, 0xaaaabbbb1234, guard);
	words[12] = 0xdeadbeef;                          /* unused slot */
	words[AC_JB_AARCH64_SP] = ac_jmpbuf_mangle(AC_ARCH_AARCH64, 0xffffc0de0000, guard);
	struct ac_thread regs;
	ac_jmpbuf_to_registers(AC_ARCH_AARCH64, words, guard, 0x7700, &regs);
	assert_int_equal(regs.n_gregs, 34);
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(regs.gregs[19 + i], 0x1900 + i);
	assert_int_equal(regs.gregs[29], 0xffffc0de0010);
	assert_int_equal(regs.gregs[30], 0xaaaabbbb1234);
	assert_int_equal(regs.gregs[31], 0xffffc0de0000);
	assert_int_equal(regs.gregs[32], 0xaaaabbbb1234);
	for (unsigned i = 0; i < 19; i++)
		assert_int_equal(regs.gregs[i], 0);
	assert_int_equal(regs.tls_base, 0x7700);
	assert_int_equal(ac_registers_sp(AC_ARCH_AARCH64, &regs), 0xffffc0de0000);
	assert_int_equal(ac_registers_pc(AC_ARCH_AARCH64, &regs), 0xaaaabbbb1234);
}

#ifdef __x86_64__
struct capture {
	uint64_t words[AC_JB_X86_64_WORDS];
	uint64_t sp, fp;
	uint64_t rbx, r12;
};

/*
 * Built with -fno-omit-frame-pointer: %rbp is this function's frame address
 * when sigsetjmp() is called, and %rsp does not move inside the body.
 */
__attribute__((noinline)) void jmpbuf_capture_here(struct capture *c)
{
	sigjmp_buf env;
	if (sigsetjmp(env, 0) == 0) {
		uint64_t sp;
		__asm__ volatile("mov %%rsp, %0" : "=r"(sp));
		c->sp = sp;
		c->fp = (uint64_t)__builtin_frame_address(0);
		memcpy(c->words, env[0].__jmpbuf, sizeof(c->words));
	}
}

static uint64_t own_pointer_guard(void)
{
	uint64_t guard;
	__asm__("mov %%fs:0x30, %0" : "=r"(guard));
	return guard;
}

static char *symbolize_self(uint64_t pc)
{
	static const Dwfl_Callbacks callbacks = {
		.find_elf = dwfl_linux_proc_find_elf,
		.find_debuginfo = dwfl_standard_find_debuginfo,
	};
	Dwfl *dwfl = dwfl_begin(&callbacks);
	assert_non_null(dwfl);
	assert_int_equal(dwfl_linux_proc_report(dwfl, getpid()), 0);
	assert_int_equal(dwfl_report_end(dwfl, NULL, NULL), 0);
	Dwfl_Module *mod = dwfl_addrmodule(dwfl, pc);
	const char *name = mod ? dwfl_module_addrname(mod, pc) : NULL;
	char *copy = name ? strdup(name) : NULL;
	dwfl_end(dwfl);
	return copy;
}

static void test_self_x86_64(void **state)
{
	(void)state;
	struct capture c = { 0 };
	jmpbuf_capture_here(&c);
	uint64_t guard = own_pointer_guard();
	assert_int_not_equal(guard, 0);
	/* Mangled means not stored plainly. */
	assert_int_not_equal(c.words[AC_JB_X86_64_RSP], c.sp);

	struct ac_thread regs;
	ac_jmpbuf_to_registers(AC_ARCH_X86_64, c.words, guard, 0x1000, &regs);
	assert_int_equal(regs.n_gregs, 27);
	assert_int_equal(ac_registers_sp(AC_ARCH_X86_64, &regs), c.sp);
	assert_int_equal(regs.gregs[AC_X86_64_RSP], c.sp);
	assert_int_equal(regs.gregs[AC_X86_64_RBP], c.fp);
	assert_int_equal(regs.gregs[AC_X86_64_FS_BASE], 0x1000);
	/* Plain words copied as they are. */
	assert_int_equal(regs.gregs[AC_X86_64_RBX], c.words[AC_JB_X86_64_RBX]);
	assert_int_equal(regs.gregs[AC_X86_64_R12], c.words[AC_JB_X86_64_R12]);
	assert_int_equal(regs.gregs[AC_X86_64_R15], c.words[AC_JB_X86_64_R15]);

	uint64_t pc = ac_registers_pc(AC_ARCH_X86_64, &regs);
	char *name = symbolize_self(pc);
	assert_non_null(name);
	assert_string_equal(name, "jmpbuf_capture_here");
	free(name);
	/* Re-mangling gives back the stored words. */
	assert_int_equal(ac_jmpbuf_mangle(AC_ARCH_X86_64, pc, guard),
			 c.words[AC_JB_X86_64_PC]);
}
#else
static void test_self_x86_64(void **state)
{
	(void)state;
	skip();
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mangle_roundtrip),
		cmocka_unit_test(test_mangle_known),
		cmocka_unit_test(test_aarch64_layout),
		cmocka_unit_test(test_self_x86_64),
	};
	return cmocka_run_group_tests_name("jmpbuf", tests, NULL, NULL);
}
