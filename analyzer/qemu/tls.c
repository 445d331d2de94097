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
	/* best: index into names of the earliest name found so far. */
	size_t best = n_names;
	uint64_t offset = 0;
	bool ambiguous = false;
	int n = dwfl_module_getsymtab(mod);
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *sname = dwfl_module_getsym_info(mod, i, &sym, &addr,
							    NULL, NULL, NULL);
		if (!sname || GELF_ST_TYPE(sym.st_info) != STT_TLS ||
		    sym.st_shndx == SHN_UNDEF)
			continue;
		for (size_t k = 0; k < n_names && k <= best; k++) {
			if (strcmp(sname, names[k]))
				continue;
			if (k == best && offset != sym.st_value)
				ambiguous = true;
			else if (k < best)
				ambiguous = false;
			best = k;
			/* STT_TLS st_value: offset into the module's TLS block. */
			offset = sym.st_value;
			break;
		}
	}
	if (best == n_names)
		return ac_error_create(AC_ERR_LOOKUP, "no thread-local symbol '%s'%s",
				       n_names ? names[0] : "", n_names > 1 ? " or its other names" : "");
	if (ambiguous)
		return ac_error_create(AC_ERR_LOOKUP, "several thread-local symbols named '%s'",
				       names[best]);
	*ret = (struct ac_tls_variable){ .name = names[best], .offset = offset };
	return main_tls_segment(mod, ret);
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
