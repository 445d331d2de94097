/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Module discovery for cores that libdwfl cannot read modules from: qemu-user
 * cores leave out every read-only page (ELF headers included) and carry no
 * NT_FILE note.  The executable is placed from AT_ENTRY, the libraries come
 * from the dynamic linker's r_debug list, which lives in writable memory
 * that every core keeps.
 */
#ifndef AIOCORE_LINK_MAP_H
#define AIOCORE_LINK_MAP_H

#include <elfutils/libdwfl.h>

#include "util/util.h"
#include "target-types.h"

/*
 * Report the libraries, and the executable first when *main is NULL (from
 * exe_path, else the AT_EXECFN path), to the target's Dwfl.  Paths are looked
 * up under sysroot first.  *main is set to the executable's module.
 */
struct ac_error *ac_link_map_report(struct ac_target *target, uint64_t entry,
				    uint64_t execfn, const char *exe_path,
				    const char *sysroot, Dwfl_Module **main);

#endif
