/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "module-finder.h"

static __thread struct ac_module_finder *active_finder;

static void hex(const unsigned char *bytes, int len, char *buf, size_t size)
{
	if (len <= 0) {
		snprintf(buf, size, "(none)");
		return;
	}
	size_t pos = 0;
	for (int i = 0; i < len && pos + 3 <= size; i++)
		pos += snprintf(buf + pos, size - pos, "%02x", bytes[i]);
}

void ac_module_build_id_hex(Dwfl_Module *mod, char *buf, size_t size)
{
	const unsigned char *bits;
	GElf_Addr vaddr;
	int len = dwfl_module_build_id(mod, &bits, &vaddr);
	hex(bits, len, buf, size);
}

void ac_elf_build_id_hex(Elf *elf, char *buf, size_t size)
{
	const void *bits;
	ssize_t len = dwelf_elf_gnu_build_id(elf, &bits);
	hex(bits, (int)len, buf, size);
}

/* Open sysroot + path; libdwfl checks the build-id of what we return. */
static int open_under_sysroot(const char *sysroot, const char *path,
			      char **file_name)
{
	if (!path || path[0] != '/')
		return -1;
	char *full;
	if (asprintf(&full, "%s%s", sysroot, path) < 0)
		return -1;
	int fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(full);
		return -1;
	}
	free(*file_name);
	*file_name = full;
	return fd;
}

static void add_rejected(struct ac_module_finder *finder, const char *path,
			 const char *file_id, const char *core_id)
{
	char *text;
	if (asprintf(&text, "%s has build-id %s, the core's module has build-id %s",
		     path, file_id, core_id) < 0)
		return;
	for (size_t i = 0; i < finder->n_rejected; i++)
		if (!strcmp(finder->rejected[i], text)) {
			free(text);
			return;
		}
	char **slot = ac_array_slot(finder->rejected, finder->n_rejected);
	if (!slot) {
		free(text);
		return;
	}
	*slot = text;
	finder->n_rejected++;
}

/*
 * A file found by path may be another build than the one in the core (a
 * rebuilt binary, an upgraded package): decoding with it would be a silent
 * wrong answer.  Keep fd only if the build-ids agree (or one is unknown).
 */
static int check_build_id(struct ac_module_finder *finder, Dwfl_Module *mod,
			  int fd, const char *path)
{
	const unsigned char *core_bits;
	GElf_Addr vaddr;
	if (fd < 0 || dwfl_module_build_id(mod, &core_bits, &vaddr) <= 0)
		return fd;
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	char file_id[128], core_id[128];
	ac_elf_build_id_hex(elf, file_id, sizeof(file_id));
	ac_module_build_id_hex(mod, core_id, sizeof(core_id));
	if (elf)
		elf_end(elf);
	if (!strcmp(file_id, "(none)") || !strcmp(file_id, core_id))
		return fd;
	if (finder)
		add_rejected(finder, path, file_id, core_id);
	close(fd);
	return -1;
}

static int find_elf(Dwfl_Module *mod, void **userdata, const char *modname,
		    Dwarf_Addr base, char **file_name, Elf **elfp)
{
	struct ac_module_finder *finder = active_finder;
	int fd = dwfl_build_id_find_elf(mod, userdata, modname, base, file_name,
					elfp);
	if (fd >= 0 || *elfp || !finder)
		return fd;
	if (finder->sysroot) {
		fd = open_under_sysroot(finder->sysroot, modname, file_name);
		if (fd < 0 && *file_name && (*file_name)[0] == '/') {
			char *orig = strdup(*file_name);
			if (orig)
				fd = open_under_sysroot(finder->sysroot, orig, file_name);
			free(orig);
		}
		return check_build_id(finder, mod, fd, *file_name ? *file_name : modname);
	}
	if (finder->live_pid > 0)
		return dwfl_linux_proc_find_elf(mod, userdata, modname, base,
						file_name, elfp);
	if (modname && modname[0] == '/') {
		fd = check_build_id(finder, mod, open(modname, O_RDONLY | O_CLOEXEC),
				    modname);
		if (fd >= 0) {
			free(*file_name);
			*file_name = strdup(modname);
		}
	}
	return fd;
}

size_t ac_module_finder_rejected_count(const struct ac_module_finder *finder)
{
	return finder->n_rejected;
}

const char *ac_module_finder_rejected(const struct ac_module_finder *finder,
				      size_t index)
{
	return index < finder->n_rejected ? finder->rejected[index] : NULL;
}

/*
 * libdwfl opens an executable named by the core's file note itself when its
 * build-id matches, but then keeps no file name: without one it looks for
 * neither its .gnu_debuglink nor the debug file beside it.  Open the same
 * path again (under --sysroot if given), check the build-id, and search with
 * its name and debuglink.
 */
static int find_debuglink_by_path(struct ac_module_finder *finder,
				  Dwfl_Module *mod, void **userdata,
				  const char *modname, Dwarf_Addr base,
				  char **debuginfo_file_name)
{
	if (!modname || modname[0] != '/')
		return -1;
	char *path = NULL;
	int fd = finder->sysroot ? open_under_sysroot(finder->sysroot, modname, &path)
				 : open(modname, O_RDONLY | O_CLOEXEC);
	if (!path)
		path = strdup(modname);
	fd = check_build_id(NULL, mod, fd, path ? path : modname);
	if (fd < 0 || !path) {
		if (fd >= 0)
			close(fd);
		free(path);
		return -1;
	}
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	GElf_Word crc = 0;
	const char *link = elf ? dwelf_elf_gnu_debuglink(elf, &crc) : NULL;
	int found = link ? dwfl_standard_find_debuginfo(mod, userdata, modname, base,
							 path, link, crc,
							 debuginfo_file_name)
			 : -1;
	if (elf)
		elf_end(elf);
	close(fd);
	free(path);
	return found;
}

static int find_debuginfo(Dwfl_Module *mod, void **userdata,
			  const char *modname, Dwarf_Addr base,
			  const char *file_name, const char *debuglink_file,
			  GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	struct ac_module_finder *finder = active_finder;
	if (finder && finder->main_debuginfo_only && finder->main && mod != finder->main)
		return -1;
	int fd = dwfl_standard_find_debuginfo(mod, userdata, modname, base,
					      file_name, debuglink_file,
					      debuglink_crc, debuginfo_file_name);
	if (fd >= 0 || file_name || !finder || finder->live_pid > 0)
		return fd;
	return find_debuglink_by_path(finder, mod, userdata, modname, base,
				      debuginfo_file_name);
}

struct ac_error *ac_module_finder_init(struct ac_module_finder *finder,
				       const struct ac_target_config *config)
{
	memset(finder, 0, sizeof(*finder));
	finder->live_pid = config->core_path ? 0 : config->pid;
	finder->main_debuginfo_only = config->main_debuginfo_only;
	if (config->sysroot) {
		finder->sysroot = strdup(config->sysroot);
		if (!finder->sysroot)
			return &ac_error_no_memory;
		/* "/x/" + "/lib" must not become "/x//lib" in messages. */
		size_t len = strlen(finder->sysroot);
		while (len > 1 && finder->sysroot[len - 1] == '/')
			finder->sysroot[--len] = '\0';
	}
	/*
	 * Searched in order: ours, then the file's own directory and .debug
	 * (the empty element and ".debug"), then the system's, then the
	 * sysroot's.
	 */
	int n = asprintf(&finder->debuginfo_path, "%s%s:.debug:/usr/lib/debug%s%s",
			 config->debug_dir ? config->debug_dir : "",
			 config->debug_dir ? ":" : "",
			 finder->sysroot ? ":" : "",
			 finder->sysroot ? finder->sysroot : "");
	if (n < 0)
		return &ac_error_no_memory;
	if (finder->sysroot) {
		char *with_debug;
		if (asprintf(&with_debug, "%s/usr/lib/debug", finder->debuginfo_path) < 0)
			return &ac_error_no_memory;
		free(finder->debuginfo_path);
		finder->debuginfo_path = with_debug;
	}
	finder->callbacks.find_elf = find_elf;
	finder->callbacks.find_debuginfo = find_debuginfo;
	finder->callbacks.debuginfo_path = &finder->debuginfo_path;
	return NULL;
}

void ac_module_finder_deinit(struct ac_module_finder *finder)
{
	ac_module_finder_deactivate(finder);
	for (size_t i = 0; i < finder->n_rejected; i++)
		free(finder->rejected[i]);
	free(finder->rejected);
	free(finder->debuginfo_path);
	free(finder->sysroot);
}

void ac_module_finder_activate(struct ac_module_finder *finder)
{
	active_finder = finder;
}

void ac_module_finder_deactivate(struct ac_module_finder *finder)
{
	if (active_finder == finder)
		active_finder = NULL;
}
