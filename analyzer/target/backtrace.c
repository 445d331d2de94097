/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dwarf.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "backtrace.h"
#include "target.h"

/* A stack deeper than this is a loop in a corrupt core. */
#define MAX_FRAMES 512

struct unwind {
	struct ac_target *target;
	struct ac_backtrace *bt;
	bool caller_found_by_cfi;   /* the previous frame's pc had CFI */
	uint64_t last_pc;           /* of the previous physical frame */
	struct ac_error *err;
};

static bool has_cfi(Dwfl_Module *mod, Dwarf_Addr pc)
{
	Dwarf_Addr bias;
	Dwarf_Frame *frame;
	Dwarf_CFI *cfi = dwfl_module_eh_cfi(mod, &bias);
	if (cfi && dwarf_cfi_addrframe(cfi, pc - bias, &frame) == 0) {
		free(frame);
		return true;
	}
	cfi = dwfl_module_dwarf_cfi(mod, &bias);
	if (cfi && dwarf_cfi_addrframe(cfi, pc - bias, &frame) == 0) {
		free(frame);
		return true;
	}
	return false;
}

static struct ac_frame *push_frame(struct unwind *u)
{
	struct ac_backtrace *bt = u->bt;
	struct ac_frame *f = ac_array_slot(bt->frames, bt->n_frames);
	if (f)
		bt->n_frames++;
	return f;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name = dwarf_formstring(
		dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
	return name;
}

/* The file and line an inlined subroutine was called from. */
static void call_site(Dwarf_Die *cudie, Dwarf_Die *inlined, char **file,
		      int *line)
{
	Dwarf_Attribute attr;
	Dwarf_Word index, lineno;
	Dwarf_Files *files;
	size_t n_files;
	if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_file, &attr), &index) == 0 &&
	    dwarf_getsrcfiles(cudie, &files, &n_files) == 0 && index < n_files)
		*file = dup_or_null(dwarf_filesrc(files, index, NULL, NULL));
	if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_line, &attr), &lineno) == 0)
		*line = (int)lineno;
}

/*
 * One physical frame becomes one entry per inlined function at pc
 * (innermost first), then the function that contains them all.
 */
static bool add_frames(struct unwind *u, Dwarf_Addr pc, Dwarf_Addr lookup_pc,
		       enum ac_frame_how how)
{
	Dwfl *dwfl = ac_target_dwfl(u->target);
	Dwfl_Module *mod = dwfl_addrmodule(dwfl, lookup_pc);
	const char *mod_name = NULL;
	if (mod)
		mod_name = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	const char *base = mod_name ? strrchr(mod_name, '/') : NULL;
	base = base ? base + 1 : mod_name;

	const char *sym_name = NULL;
	GElf_Off sym_offset = 0;
	GElf_Sym sym;
	if (mod)
		sym_name = ac_target_addrinfo(u->target, mod, lookup_pc, &sym_offset, &sym);

	/* Source position of the innermost entry. */
	char *file = NULL;
	int line = 0;
	Dwfl_Line *dl = mod ? dwfl_module_getsrc(mod, lookup_pc) : NULL;
	if (dl) {
		int l;
		const char *f = dwfl_lineinfo(dl, NULL, &l, NULL, NULL, NULL);
		file = dup_or_null(f);
		line = l;
	}

	Dwarf_Addr bias = 0;
	Dwarf_Die *cudie = mod ? dwfl_module_addrdie(mod, lookup_pc, &bias) : NULL;
	Dwarf_Die *scopes = NULL, inlined;
	int n_scopes = 0;
	if (cudie) {
		switch (ac_target_innermost_inline(u->target, cudie, lookup_pc - bias, &inlined)) {
		case 1:
			/* libdw's scopes hold one inlined_subroutine, the innermost. */
			if ((scopes = malloc(sizeof(*scopes)))) {
				scopes[0] = inlined;
				n_scopes = 1;
			}
			break;
		case 0:
			break;
		default:
			n_scopes = dwarf_getscopes(cudie, lookup_pc - bias, &scopes);
		}
	}
	for (int i = 0; i < n_scopes; i++) {
		if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine)
			continue;
		struct ac_frame *f = push_frame(u);
		if (!f)
			goto oom;
		f->pc = pc;
		f->how = how;
		f->inlined = true;
		f->function = dup_or_null(die_name(&scopes[i]));
		f->file = file;
		f->line = line;
		f->module = dup_or_null(base);
		file = NULL;
		line = 0;
		call_site(cudie, &scopes[i], &file, &line);
	}
	free(scopes);
	struct ac_frame *f = push_frame(u);
	if (!f)
		goto oom;
	f->pc = pc;
	f->how = how;
	f->function = dup_or_null(sym_name);
	f->function_offset = sym_name ? sym_offset : 0;
	f->file = file;
	f->line = line;
	f->module = dup_or_null(base);
	u->caller_found_by_cfi = mod && has_cfi(mod, lookup_pc);
	return true;
oom:
	free(file);
	return false;
}

/* The registers libdwfl knows in this frame, into each of its entries. */
static void capture_regs(struct ac_target *target, Dwfl_Frame *state,
			 struct ac_frame *frames, size_t n)
{
	unsigned n_regs = ac_target_arch(target) == AC_ARCH_AARCH64 ? 33 : 17;
	uint64_t regs[AC_FRAME_MAX_REGS] = { 0 };
	uint64_t valid = 0;
	for (unsigned r = 0; r < n_regs; r++) {
		Dwarf_Word val;
		if (dwfl_frame_reg(state, r, &val) == 0) {
			regs[r] = val;
			valid |= UINT64_C(1) << r;
		}
	}
	for (size_t i = 0; i < n; i++) {
		memcpy(frames[i].regs, regs, sizeof(regs));
		frames[i].regs_valid = valid;
	}
}

static int frame_callback(Dwfl_Frame *state, void *arg)
{
	struct unwind *u = arg;
	Dwarf_Addr pc;
	bool activation;
	if (!dwfl_frame_pc(state, &pc, &activation)) {
		u->err = ac_error_create(AC_ERR_ELFUTILS, "no pc: %s", dwfl_errmsg(-1));
		return DWARF_CB_ABORT;
	}
	bool first = u->bt->n_frames == 0;
	enum ac_frame_how how = first ? AC_FRAME_REGISTERS
			      : u->caller_found_by_cfi ? AC_FRAME_CFI
			      : AC_FRAME_FALLBACK;
	/*
	 * The frame-pointer fallback can hand back the frame it started from
	 * (seen at the outermost libc frame on aarch64): no progress, stop.
	 */
	if (how == AC_FRAME_FALLBACK && pc == u->last_pc) {
		u->err = ac_error_create_at(AC_ERR_ELFUTILS, pc,
					    "unwinding stopped: the frame-pointer fallback repeated 0x%" PRIx64,
					    pc);
		return DWARF_CB_ABORT;
	}
	u->last_pc = pc;
	/* A return address points after the call: look up the call itself. */
	Dwarf_Addr lookup_pc = activation ? pc : pc - 1;
	size_t first_new = u->bt->n_frames;
	if (!add_frames(u, pc, lookup_pc, how)) {
		u->err = &ac_error_no_memory;
		return DWARF_CB_ABORT;
	}
	capture_regs(u->target, state, &u->bt->frames[first_new],
		     u->bt->n_frames - first_new);
	if (u->bt->n_frames >= MAX_FRAMES) {
		u->err = ac_error_create(AC_ERR_BAD_DATA,
					 "more than %d frames: the stack loops", MAX_FRAMES);
		return DWARF_CB_ABORT;
	}
	return DWARF_CB_OK;
}

static struct ac_error *unwind(struct ac_target *target, pid_t tid,
			       pid_t display_tid, struct ac_backtrace **ret)
{
	struct ac_backtrace *bt = calloc(1, sizeof(*bt));
	if (!bt)
		return &ac_error_no_memory;
	bt->tid = display_tid;
	struct unwind u = { .target = target, .bt = bt };
	int rc = dwfl_getthread_frames(ac_target_dwfl(target), tid,
				       frame_callback, &u);
	if (u.err == &ac_error_no_memory) {
		ac_backtrace_destroy(bt);
		return u.err;
	}
	if (u.err) {
		bt->stop_error = u.err;
	} else if (rc != 0) {
		uint64_t last = bt->n_frames ? bt->frames[bt->n_frames - 1].pc : 0;
		bt->stop_error = ac_error_create_at(AC_ERR_ELFUTILS, last,
						    "unwinding stopped after 0x%" PRIx64 ": %s",
						    last, dwfl_errmsg(-1));
	}
	if (bt->n_frames == 0 && !bt->stop_error)
		bt->stop_error = ac_error_create(AC_ERR_ELFUTILS, "no frames");
	*ret = bt;
	return NULL;
}

struct ac_error *ac_backtrace_thread(struct ac_target *target, pid_t tid,
				     struct ac_backtrace **ret)
{
	if (!ac_target_thread_by_tid(target, tid))
		return ac_error_create(AC_ERR_LOOKUP, "%s: no thread %d",
				       ac_target_name(target), tid);
	return unwind(target, tid, tid, ret);
}

struct ac_error *ac_backtrace_registers(struct ac_target *target,
					const struct ac_thread *regs,
					struct ac_backtrace **ret)
{
	pid_t tid = ac_target_set_pseudo_thread(target, regs);
	struct ac_error *err = unwind(target, tid, 0, ret);
	ac_target_set_pseudo_thread(target, NULL);
	return err;
}

void ac_backtrace_destroy(struct ac_backtrace *bt)
{
	if (!bt)
		return;
	ac_backtrace_truncate(bt, 0);
	free(bt->frames);
	free(bt);
}

void ac_backtrace_truncate(struct ac_backtrace *bt, size_t n_frames)
{
	for (size_t i = n_frames; i < bt->n_frames; i++) {
		free(bt->frames[i].function);
		free(bt->frames[i].file);
		free(bt->frames[i].module);
	}
	if (n_frames < bt->n_frames)
		bt->n_frames = n_frames;
	ac_error_destroy(bt->stop_error);
	bt->stop_error = NULL;
}

long ac_backtrace_find_function(const struct ac_backtrace *bt, const char *function)
{
	for (size_t i = 0; bt && i < bt->n_frames; i++)
		if (bt->frames[i].function && !strcmp(bt->frames[i].function, function))
			return (long)i;
	return -1;
}

const char *ac_symbol_base_name(const char *name, char *buf, size_t size)
{
	while (*name == '_')
		name++;
	if (!strncmp(name, "GI_", 3))
		name += 3;
	while (*name == '_')
		name++;
	snprintf(buf, size, "%s", name);
	char *at = strchr(buf, '@');
	if (at)
		*at = '\0';
	return buf;
}

const char *ac_frame_how_name(enum ac_frame_how how)
{
	switch (how) {
	case AC_FRAME_REGISTERS: return "registers";
	case AC_FRAME_CFI: return "cfi";
	case AC_FRAME_FALLBACK: return "frame-pointer";
	}
	return "?";
}
