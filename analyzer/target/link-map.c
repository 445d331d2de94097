/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "link-map.h"
#include "target.h"

/* A loop in a corrupt list ends here; real processes have a few hundred. */
#define MAX_LINK_MAP_ENTRIES 4096

/* struct r_debug and struct link_map on LP64 targets. */
enum {
	R_DEBUG_R_MAP = 8,
	LINK_MAP_L_ADDR = 0,
	LINK_MAP_L_NAME = 8,
	LINK_MAP_L_NEXT = 24,
};

/* sysroot + path when that exists, else path; malloc'd. */
static char *resolve(const char *sysroot, const char *path)
{
	char *full = NULL;
	if (sysroot && path[0] == '/' && asprintf(&full, "%s%s", sysroot, path) >= 0) {
		if (access(full, R_OK) == 0)
			return full;
		free(full);
	}
	return strdup(path);
}

/* Where the executable's DT_DEBUG says r_debug is, read from memory. */
static struct ac_error *find_r_debug(struct ac_target *target, Elf *elf,
				     uint64_t bias, uint64_t *ret)
{
	size_t phnum;
	if (elf_getphdrnum(elf, &phnum) < 0)
		return ac_error_create(AC_ERR_FORMAT, "executable has no program headers");
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr phdr;
		if (!gelf_getphdr(elf, i, &phdr) || phdr.p_type != PT_DYNAMIC)
			continue;
		for (uint64_t off = 0; off + 16 <= phdr.p_memsz; off += 16) {
			uint64_t tag, value;
			uint64_t at = bias + phdr.p_vaddr + off;
			struct ac_error *err = ac_target_read_u64(target, at, &tag);
			if (!err)
				err = ac_target_read_u64(target, at + 8, &value);
			if (err)
				return err;
			if (tag == DT_NULL)
				break;
			if (tag == DT_DEBUG) {
				*ret = value;
				return NULL;
			}
		}
	}
	return ac_error_create(AC_ERR_LOOKUP, "executable has no DT_DEBUG (static?)");
}

static struct ac_error *report_libraries(struct ac_target *target,
					 uint64_t r_debug, const char *sysroot)
{
	Dwfl *dwfl = ac_target_dwfl(target);
	uint64_t map;
	struct ac_error *err = ac_target_read_pointer(target, r_debug + R_DEBUG_R_MAP,
						      &map);
	for (unsigned n = 0; !err && map; n++) {
		if (n == MAX_LINK_MAP_ENTRIES)
			return ac_error_create_at(AC_ERR_BAD_DATA, map,
						  "link map longer than %d entries: a loop",
						  MAX_LINK_MAP_ENTRIES);
		uint64_t l_addr, l_name, next;
		char *name = NULL;
		err = ac_target_read_pointer(target, map + LINK_MAP_L_ADDR, &l_addr);
		if (!err)
			err = ac_target_read_pointer(target, map + LINK_MAP_L_NAME, &l_name);
		if (!err)
			err = ac_target_read_pointer(target, map + LINK_MAP_L_NEXT, &next);
		if (!err && l_name)
			err = ac_target_read_string(target, l_name, 4096, &name);
		if (err)
			break;
		/* The executable itself has an empty name; the vDSO no file. */
		if (name && name[0] == '/') {
			char *path = resolve(sysroot, name);
			if (path && !dwfl_report_elf(dwfl, name, path, -1, l_addr, false))
				ac_target_warn(target, "%s: cannot use %s: %s",
					       ac_target_name(target), path, dwfl_errmsg(-1));
			free(path);
		}
		free(name);
		map = next;
	}
	return err;
}

static struct ac_error *report_from_main(struct ac_target *target, Dwfl_Module *main,
					 const char *sysroot)
{
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(main, &bias);
	if (!elf)
		return ac_error_create(AC_ERR_LOOKUP, "the executable's ELF is not available");
	uint64_t r_debug = 0;
	struct ac_error *err = find_r_debug(target, elf, bias, &r_debug);
	if (!err && r_debug) {
		dwfl_report_begin_add(ac_target_dwfl(target));
		err = report_libraries(target, r_debug, sysroot);
		dwfl_report_end(ac_target_dwfl(target), NULL, NULL);
	}
	return err;
}

/* Report the executable from its file, placed by the entry point. */
static struct ac_error *report_executable(struct ac_target *target, uint64_t entry,
					  uint64_t execfn, const char *exe_path,
					  const char *sysroot, Dwfl_Module **ret)
{
	char *path = NULL;
	if (exe_path) {
		path = strdup(exe_path);
	} else if (execfn) {
		char *name;
		struct ac_error *err = ac_target_read_string(target, execfn, 4096, &name);
		if (err)
			return ac_error_prefix(err, "reading the executable's name (AT_EXECFN)");
		path = resolve(sysroot, name);
		free(name);
	}
	if (!path)
		return ac_error_create(AC_ERR_LOOKUP, "the core does not name its executable");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf = fd >= 0 ? elf_begin(fd, ELF_C_READ_MMAP, NULL) : NULL;
	GElf_Ehdr ehdr;
	struct ac_error *err = NULL;
	if (!elf || !gelf_getehdr(elf, &ehdr)) {
		err = ac_error_create(AC_ERR_IO, "%s: cannot read the executable", path);
	} else {
		/* A PIE is loaded wherever: the entry point tells the bias. */
		uint64_t bias = ehdr.e_type == ET_DYN ? entry - ehdr.e_entry : 0;
		Dwfl *dwfl = ac_target_dwfl(target);
		dwfl_report_begin_add(dwfl);
		Dwfl_Module *mod = dwfl_report_elf(dwfl, path, path, -1, bias, false);
		dwfl_report_end(dwfl, NULL, NULL);
		if (mod)
			*ret = mod;
		else
			err = ac_error_create(AC_ERR_ELFUTILS, "%s: %s", path, dwfl_errmsg(-1));
	}
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
	free(path);
	return err;
}

struct ac_error *ac_link_map_report(struct ac_target *target, uint64_t entry,
				    uint64_t execfn, const char *exe_path,
				    const char *sysroot, Dwfl_Module **main)
{
	if (!*main) {
		struct ac_error *err = report_executable(target, entry, execfn,
							 exe_path, sysroot, main);
		if (err)
			return err;
	}
	struct ac_error *err = report_from_main(target, *main, sysroot);
	if (err)
		return ac_error_prefix(err, "shared libraries not found");
	return NULL;
}
