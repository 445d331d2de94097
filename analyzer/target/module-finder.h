/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Finding each module's ELF file and debuginfo: by build-id under the debug
 * directories (ours first), under --sysroot for cores from another machine,
 * by .gnu_debuglink, and through debuginfod when DEBUGINFOD_URLS is set
 * (libdwfl loads the client itself).  elfutils 0.188 has no
 * dwfl_set_sysroot, so the sysroot lives in our own find_elf callback.
 */
#ifndef AIOCORE_MODULE_FINDER_H
#define AIOCORE_MODULE_FINDER_H

#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <sys/types.h>

#include "util/util.h"
#include "target-types.h"

struct ac_module_finder {
	Dwfl_Callbacks callbacks;
	char *debuginfo_path;   /* colon list handed to libdwfl */
	char *sysroot;
	pid_t live_pid;         /* 0 for cores */
	bool main_debuginfo_only;
	Dwfl_Module *main;      /* set once known, for main_debuginfo_only */
	/* Files rejected for another build-id, for the error messages. */
	char **rejected;
	size_t n_rejected;
};

struct ac_error *ac_module_finder_init(struct ac_module_finder *finder,
				       const struct ac_target_config *config);
void ac_module_finder_deinit(struct ac_module_finder *finder);

/*
 * libdwfl's callbacks carry no user pointer, and it finds files lazily, so
 * the finder in use is per thread: one open target per thread at a time.
 */
void ac_module_finder_activate(struct ac_module_finder *finder);
void ac_module_finder_deactivate(struct ac_module_finder *finder);

/* Why files were rejected ("X has build-id A, the core expects B"). */
size_t ac_module_finder_rejected_count(const struct ac_module_finder *finder);
const char *ac_module_finder_rejected(const struct ac_module_finder *finder,
				      size_t index);

/* "4f2a..." for the module's build-id; "(none)" if it has none.  */
void ac_module_build_id_hex(Dwfl_Module *mod, char *buf, size_t size);
/* Same, from an ELF file. */
void ac_elf_build_id_hex(Elf *elf, char *buf, size_t size);

#endif
