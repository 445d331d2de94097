/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <gelf.h>
#include <string.h>

#include "tls.h"
#include "target/target.h"
#include "util/util.h"

static struct ac_error *main_tls_segment(Dwfl_Module *mod, struct ac_tls_variable *ret)
{
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	size_t n;
	if (!elf || elf_getphdrnum(elf, &n) != 0)
		return ac_error_create(AC_ERR_ELFUTILS,
				       "main executable: no ELF program headers");
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr phdr;
		if (!gelf_getphdr(elf, (int)i, &phdr) || phdr.p_type != PT_TLS)
			continue;
		ret->memsz = phdr.p_memsz;
		ret->align = phdr.p_align ? phdr.p_align : 1;
		ret->firstbyte = phdr.p_vaddr & (ret->align - 1);
		return NULL;
	}
	return ac_error_create(AC_ERR_LOOKUP, "main executable has no PT_TLS segment");
}

struct ac_error *ac_tls_variable_find(struct ac_program *prog, const char *const *names,
				      size_t n_names, struct ac_tls_variable *ret)
{
	Dwfl_Module *mod = ac_target_main_module(prog->target);
	if (!mod)
		return ac_error_create(AC_ERR_LOOKUP, "no main executable module");
	/* The first of names that the symbol table has. */
	for (size_t k = 0; k < n_names; k++) {
		size_t count;
		uint64_t offset;
		bool differ;
		struct ac_error *err = ac_dwarf_tls_symbols(prog->dwarf, mod, names[k], &count,
							    &offset, &differ);
		if (err)
			return err;
		if (!count)
			continue;
		if (differ)
			return ac_error_create(AC_ERR_LOOKUP,
					       "several thread-local symbols named '%s'", names[k]);
		*ret = (struct ac_tls_variable){ .name = names[k], .offset = offset };
		return main_tls_segment(mod, ret);
	}
	return ac_error_create(AC_ERR_LOOKUP, "no thread-local symbol '%s'%s",
			       n_names ? names[0] : "", n_names > 1 ? " or its other names" : "");
}

static uint64_t round_up(uint64_t v, uint64_t align)
{
	return (v + align - 1) / align * align;
}

struct ac_error *ac_tls_variable_at(struct ac_program *prog, const struct ac_tls_variable *var,
				    const struct ac_thread *thread, uint64_t *ret)
{
	if (!thread->tls_base)
		return ac_error_create(AC_ERR_BAD_DATA,
				       "thread %d: thread pointer unknown", thread->tid);
	uint64_t tp = thread->tls_base;
	/* glibc _dl_determine_tlsoffset() for the executable, the first module. */
	if (ac_target_arch(prog->target) == AC_ARCH_AARCH64) {
		/* Variant I: the TCB (16 bytes) at tp, then the block. */
		*ret = tp + round_up(16, var->align) - var->firstbyte + var->offset;
	} else {
		/* Variant II: the block ends where the TCB at tp begins. */
		*ret = tp - (round_up(var->memsz - var->firstbyte, var->align) + var->firstbyte) +
		       var->offset;
	}
	return NULL;
}
