/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <gelf.h>
#include <inttypes.h>
#include <string.h>

#include "jmpbuf.h"
#include "target.h"

/* tcbhead_t.pointer_guard on x86_64 (glibc sysdeps/x86_64/nptl/tls.h). */
#define X86_64_POINTER_GUARD_OFFSET 0x30
/* PTR_MANGLE's rotate on x86_64: rol $2*LP_SIZE+1. */
#define X86_64_MANGLE_ROTATE 17

static uint64_t rol64(uint64_t v, unsigned n)
{
	return (v << n) | (v >> (64 - n));
}

static uint64_t ror64(uint64_t v, unsigned n)
{
	return (v >> n) | (v << (64 - n));
}

size_t ac_jmpbuf_words(enum ac_arch arch)
{
	return arch == AC_ARCH_AARCH64 ? AC_JB_AARCH64_WORDS : AC_JB_X86_64_WORDS;
}

uint64_t ac_jmpbuf_mangle(enum ac_arch arch, uint64_t value, uint64_t guard)
{
	if (arch == AC_ARCH_AARCH64)
		return value ^ guard;
	return rol64(value ^ guard, X86_64_MANGLE_ROTATE);
}

uint64_t ac_jmpbuf_demangle(enum ac_arch arch, uint64_t value, uint64_t guard)
{
	if (arch == AC_ARCH_AARCH64)
		return value ^ guard;
	return ror64(value, X86_64_MANGLE_ROTATE) ^ guard;
}

void ac_jmpbuf_to_registers(enum ac_arch arch, const uint64_t *words,
			    uint64_t guard, uint64_t tls_base,
			    struct ac_thread *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->tls_base = tls_base;
	if (arch == AC_ARCH_AARCH64) {
		ret->n_gregs = AC_AARCH64_NGREGS;
		for (unsigned i = 0; i < 10; i++)
			ret->gregs[AC_AARCH64_X19 + i] = words[AC_JB_AARCH64_X19 + i];
		ret->gregs[AC_AARCH64_X29] = words[AC_JB_AARCH64_X29];
		uint64_t lr = ac_jmpbuf_demangle(arch, words[AC_JB_AARCH64_LR], guard);
		/* longjmp resumes at lr: the instruction after the bl. */
		ret->gregs[AC_AARCH64_LR] = lr;
		ret->gregs[AC_AARCH64_PC] = lr;
		ret->gregs[AC_AARCH64_SP] =
			ac_jmpbuf_demangle(arch, words[AC_JB_AARCH64_SP], guard);
		return;
	}
	ret->n_gregs = AC_X86_64_NGREGS;
	ret->gregs[AC_X86_64_RBX] = words[AC_JB_X86_64_RBX];
	ret->gregs[AC_X86_64_RBP] = ac_jmpbuf_demangle(arch, words[AC_JB_X86_64_RBP], guard);
	ret->gregs[AC_X86_64_R12] = words[AC_JB_X86_64_R12];
	ret->gregs[AC_X86_64_R13] = words[AC_JB_X86_64_R13];
	ret->gregs[AC_X86_64_R14] = words[AC_JB_X86_64_R14];
	ret->gregs[AC_X86_64_R15] = words[AC_JB_X86_64_R15];
	ret->gregs[AC_X86_64_RSP] = ac_jmpbuf_demangle(arch, words[AC_JB_X86_64_RSP], guard);
	ret->gregs[AC_X86_64_RIP] = ac_jmpbuf_demangle(arch, words[AC_JB_X86_64_PC], guard);
	ret->gregs[AC_X86_64_FS_BASE] = tls_base;
}

uint64_t ac_registers_sp(enum ac_arch arch, const struct ac_thread *regs)
{
	return regs->gregs[arch == AC_ARCH_AARCH64 ? AC_AARCH64_SP : AC_X86_64_RSP];
}

uint64_t ac_registers_pc(enum ac_arch arch, const struct ac_thread *regs)
{
	return regs->gregs[arch == AC_ARCH_AARCH64 ? AC_AARCH64_PC : AC_X86_64_RIP];
}

uint64_t ac_registers_fp(enum ac_arch arch, const struct ac_thread *regs)
{
	return regs->gregs[arch == AC_ARCH_AARCH64 ? AC_AARCH64_X29 : AC_X86_64_RBP];
}

struct guard_search {
	const char *name;
	bool found;
	uint64_t address;
};

/* The first module whose symbol table (.symtab or .dynsym) has the name. */
static int guard_module_cb(Dwfl_Module *mod, void **userdata, const char *name,
			   Dwarf_Addr start, void *arg)
{
	(void)userdata;
	(void)name;
	(void)start;
	struct guard_search *s = arg;
	int n = dwfl_module_getsymtab(mod);
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *sname = dwfl_module_getsym_info(mod, i, &sym, &addr,
							    NULL, NULL, NULL);
		if (!sname || strcmp(sname, s->name) ||
		    GELF_ST_TYPE(sym.st_info) != STT_OBJECT || sym.st_shndx == SHN_UNDEF)
			continue;
		s->found = true;
		s->address = addr;
		return DWARF_CB_ABORT;
	}
	return DWARF_CB_OK;
}

struct ac_error *ac_jmpbuf_pointer_guard(struct ac_target *target,
					 const struct ac_thread *thread,
					 uint64_t *ret)
{
	struct ac_error *err;
	if (ac_target_arch(target) == AC_ARCH_X86_64) {
		if (!thread || !thread->tls_base)
			return ac_error_create(AC_ERR_LOOKUP,
					       "pointer guard: no thread with a known fs_base");
		err = ac_target_read_u64(target,
					 thread->tls_base + X86_64_POINTER_GUARD_OFFSET,
					 ret);
		return err ? ac_error_prefix(err, "pointer guard (fs_base+0x30)") : NULL;
	}
	/*
	 * Dynamic programs: libc's setjmp reads ld.so's exported
	 * __pointer_chk_guard; static ones have only the _local copy.
	 */
	static const char *const names[] = {
		"__pointer_chk_guard", "__pointer_chk_guard_local",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct guard_search s = { .name = names[i] };
		dwfl_getmodules(ac_target_dwfl(target), guard_module_cb, &s, 0);
		if (!s.found)
			continue;
		err = ac_target_read_u64(target, s.address, ret);
		return err ? ac_error_prefix(err, "pointer guard (%s)", names[i]) : NULL;
	}
	return ac_error_create(AC_ERR_LOOKUP,
			       "pointer guard: no __pointer_chk_guard or __pointer_chk_guard_local symbol in any module");
}

struct ac_error *ac_jmpbuf_read(struct ac_target *target, uint64_t address,
				uint64_t guard, uint64_t tls_base,
				struct ac_thread *ret)
{
	enum ac_arch arch = ac_target_arch(target);
	uint64_t words[AC_JB_AARCH64_WORDS];
	size_t n = ac_jmpbuf_words(arch);
	for (size_t i = 0; i < n; i++) {
		struct ac_error *err = ac_target_read_u64(target, address + 8 * i,
							  &words[i]);
		if (err)
			return ac_error_prefix(err, "jmp_buf at 0x%" PRIx64, address);
	}
	ac_jmpbuf_to_registers(arch, words, guard, tls_base, ret);
	return NULL;
}
