/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The system call of a thread from its registers (analyzer/target/syscall.c).
 * x86_64: a live target on this process whose threads' registers the test
 * sets (orig_rax and rdi..r9).  aarch64: a core file the test writes, its
 * threads' pcs just after an `svc #0`, after a `nop`, or in no mapping.
 * The same number names different calls on the two architectures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "target/target.h"

/* x86_64 pr_reg indexes (user_regs_struct). */
enum { R10 = 7, R9 = 8, R8 = 9, RDX = 12, RSI = 13, RDI = 14, ORIG_RAX = 15, RIP = 16,
       RSP = 19, X86_NREGS = 27 };

struct regs {
	pid_t tid;
	int64_t orig_rax;
	unsigned n_gregs;
};

static const struct regs x86_threads[] = {
	{ 101, 17, X86_NREGS },    /* pread64 */
	{ 102, -1, X86_NREGS },    /* interrupted outside a call: orig_rax -1 */
	{ 103, 7, X86_NREGS },     /* poll: x86_64 only */
	{ 104, 999, X86_NREGS },   /* a number outside the table */
	{ 105, 17, RIP },          /* too few registers to tell */
};
#define N_X86 (sizeof(x86_threads) / sizeof(x86_threads[0]))

static int read_memory(void *arg, uint64_t address, void *buf, size_t size)
{
	(void)arg;
	struct iovec local = { buf, size }, remote = { (void *)(uintptr_t)address, size };
	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)size ? 0 : -1;
}

static size_t thread_count(void *arg)
{
	(void)arg;
	return N_X86;
}

static int thread(void *arg, size_t index, struct ac_thread *ret)
{
	int here;
	(void)arg;
	memset(ret, 0, sizeof(*ret));
	ret->tid = x86_threads[index].tid;
	ret->n_gregs = x86_threads[index].n_gregs;
	ret->gregs[ORIG_RAX] = (uint64_t)x86_threads[index].orig_rax;
	/* Arguments 1..6 are 0x10 * tid + position, to see each lands where it should. */
	static const int args[6] = { RDI, RSI, RDX, R10, R8, R9 };
	for (int i = 0; i < 6; i++)
		ret->gregs[args[i]] = 0x10 * (uint64_t)ret->tid + (uint64_t)i;
	ret->gregs[RSP] = (uint64_t)(uintptr_t)&here;
	return 0;
}

static const struct ac_target_callbacks callbacks = {
	.read_memory = read_memory, .thread_count = thread_count, .thread = thread,
};

static struct ac_target *open_self(void)
{
#if !defined(__x86_64__)
	skip();   /* a live target has the host's registers */
#endif
	struct ac_target_config config = { .pid = getpid(), .callbacks = &callbacks,
					   .main_debuginfo_only = true };
	struct ac_target *target = NULL;
	struct ac_error *err = ac_target_open(&config, &target);
	if (err)
		fail_msg("opening the test process: %s", err->message);
	assert_int_equal(ac_target_arch(target), AC_ARCH_X86_64);
	assert_int_equal(ac_target_thread_count(target), N_X86);
	return target;
}

static void test_x86_64(void **state)
{
	(void)state;
	struct ac_target *target = open_self();
	struct ac_syscall s;
	assert_null(ac_syscall_of_thread(target, ac_target_thread(target, 0), &s));
	assert_int_equal(s.number, 17);
	assert_string_equal(s.name, "pread64");
	for (int i = 0; i < 6; i++)
		assert_int_equal(s.args[i], 0x10 * 101 + i);

	struct ac_error *err = ac_syscall_of_thread(target, ac_target_thread(target, 1), &s);
	assert_non_null(err);
	assert_int_equal(err->code, AC_ERR_LOOKUP);
	assert_string_equal(err->message, "thread 102 is not in a system call");
	ac_error_destroy(err);

	assert_null(ac_syscall_of_thread(target, ac_target_thread(target, 2), &s));
	assert_string_equal(s.name, "poll");
	assert_int_equal(s.args[0], 0x10 * 103);

	assert_null(ac_syscall_of_thread(target, ac_target_thread(target, 3), &s));
	assert_int_equal(s.number, 999);
	assert_null(s.name);

	err = ac_syscall_of_thread(target, ac_target_thread(target, 4), &s);
	assert_non_null(err);
	assert_int_equal(err->code, AC_ERR_LOOKUP);
	ac_error_destroy(err);
	ac_target_destroy(target);
}

/* --- aarch64: a hand-written core ----------------------------------------- */

#define A64_NREGS 34            /* x0..x30, sp, pc, pstate */
#define A64_PC 32
#define PRSTATUS_SIZE 392       /* struct elf_prstatus on aarch64 */
#define PRSTATUS_PID 32
#define PRSTATUS_REGS 112
#define CODE 0x400000ull        /* one page: svc #0 at +0x100, nop at +0x200 */
#define SVC_0 0xd4000001u
#define NOP 0xd503201fu

struct a64_thread {
	int32_t tid;
	uint64_t pc, x8;
};

static const struct a64_thread a64_threads[] = {
	{ 201, CODE + 0x104, 63 },   /* read, just after the svc */
	{ 202, CODE + 0x104, 73 },   /* ppoll: 73 is flock on x86_64 */
	{ 203, CODE + 0x204, 63 },   /* after a nop: not in a call, whatever x8 says */
	{ 204, 0x10, 63 },           /* the instruction before pc is in no mapping */
	{ 205, CODE + 0x104, 7 },    /* 7: poll on x86_64, no aarch64 call in the table */
};
#define N_A64 (sizeof(a64_threads) / sizeof(a64_threads[0]))

static char core_path[] = "/tmp/aiocore-syscall-XXXXXX";

static void put(FILE *f, const void *p, size_t n)
{
	assert_int_equal(fwrite(p, 1, n, f), n);
}

static void write_a64_core(void)
{
	int fd = mkstemp(core_path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "wb");
	assert_non_null(f);
	size_t note_size = N_A64 * (sizeof(Elf64_Nhdr) + 8 + PRSTATUS_SIZE);
	uint64_t note_off = sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr);
	uint64_t load_off = (note_off + note_size + 4095) & ~4095ull;
	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB,
			     EV_CURRENT, ELFOSABI_NONE },
		.e_type = ET_CORE, .e_machine = EM_AARCH64, .e_version = EV_CURRENT,
		.e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(Elf64_Ehdr),
		.e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 2,
	};
	Elf64_Phdr ph[2] = {
		{ .p_type = PT_NOTE, .p_offset = note_off, .p_filesz = note_size, .p_align = 4 },
		{ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = load_off,
		  .p_vaddr = CODE, .p_filesz = 4096, .p_memsz = 4096, .p_align = 4096 },
	};
	put(f, &eh, sizeof(eh));
	put(f, ph, sizeof(ph));
	for (size_t i = 0; i < N_A64; i++) {
		Elf64_Nhdr nh = { .n_namesz = 5, .n_descsz = PRSTATUS_SIZE, .n_type = NT_PRSTATUS };
		char name[8] = "CORE";
		uint8_t desc[PRSTATUS_SIZE] = { 0 };
		memcpy(desc + PRSTATUS_PID, &a64_threads[i].tid, 4);
		uint64_t regs[A64_NREGS] = { 0 };
		for (int r = 0; r < 6; r++)
			regs[r] = 0x10 * (uint64_t)a64_threads[i].tid + (uint64_t)r;
		regs[8] = a64_threads[i].x8;
		regs[31] = CODE + 0x800;
		regs[A64_PC] = a64_threads[i].pc;
		memcpy(desc + PRSTATUS_REGS, regs, sizeof(regs));
		put(f, &nh, sizeof(nh));
		put(f, name, sizeof(name));
		put(f, desc, sizeof(desc));
	}
	static uint8_t page[4096];
	uint32_t svc = SVC_0, nop = NOP;
	memcpy(page + 0x100, &svc, 4);
	memcpy(page + 0x200, &nop, 4);
	assert_int_equal(fseek(f, (long)load_off, SEEK_SET), 0);
	put(f, page, sizeof(page));
	assert_int_equal(fclose(f), 0);
}

static void test_aarch64(void **state)
{
	(void)state;
	write_a64_core();
	struct ac_target_config config = { .core_path = core_path };
	struct ac_target *target = NULL;
	struct ac_error *err = ac_target_open(&config, &target);
	unlink(core_path);   /* open already, or not at all: no file left behind */
	if (err)
		fail_msg("%s: %s", core_path, err->message);
	assert_int_equal(ac_target_arch(target), AC_ARCH_AARCH64);
	assert_int_equal(ac_target_thread_count(target), N_A64);

	struct ac_syscall s;
	assert_null(ac_syscall_of_thread(target, ac_target_thread(target, 0), &s));
	assert_int_equal(s.number, 63);
	assert_string_equal(s.name, "read");
	for (int i = 0; i < 6; i++)
		assert_int_equal(s.args[i], 0x10 * 201 + i);

	assert_null(ac_syscall_of_thread(target, ac_target_thread(target, 1), &s));
	assert_string_equal(s.name, "ppoll");

	err = ac_syscall_of_thread(target, ac_target_thread(target, 2), &s);
	assert_non_null(err);
	assert_int_equal(err->code, AC_ERR_LOOKUP);
	assert_string_equal(err->message, "thread 203 is not in a system call");
	ac_error_destroy(err);

	err = ac_syscall_of_thread(target, ac_target_thread(target, 3), &s);
	assert_non_null(err);
	assert_non_null(strstr(err->message, "thread 204: the instruction before its pc"));
	ac_error_destroy(err);

	assert_null(ac_syscall_of_thread(target, ac_target_thread(target, 4), &s));
	assert_int_equal(s.number, 7);
	assert_null(s.name);
	ac_target_destroy(target);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x86_64),
		cmocka_unit_test(test_aarch64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
