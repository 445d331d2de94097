/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "program.h"

AC_DEFINE_CLEANUP(struct ac_program, ac_program_destroy)

struct ac_error *ac_program_open(const struct ac_target_config *config,
				 struct ac_program **ret)
{
	_cleanup_(ac_program_destroy_cleanup) struct ac_program *prog =
		calloc(1, sizeof(*prog));
	if (!prog)
		return &ac_error_no_memory;
	struct ac_error *err = ac_target_open(config, &prog->target);
	if (err)
		return err;
	const struct ac_error *dbg = ac_target_debuginfo_error(prog->target);
	if (dbg)
		return ac_error_create(dbg->code, "%s", dbg->message);
	err = ac_dwarf_create(ac_target_dwfl(prog->target),
			      ac_target_main_module(prog->target), &prog->dwarf);
	if (err)
		return err;
	ac_dwarf_use_target_symbols(prog->dwarf, prog->target);
	prog->backtraces = calloc(ac_target_thread_count(prog->target) + 1,
				  sizeof(*prog->backtraces));
	if (!prog->backtraces)
		return &ac_error_no_memory;
	*ret = ac_steal(&prog);
	return NULL;
}

void ac_program_destroy(struct ac_program *prog)
{
	if (!prog)
		return;
	if (prog->backtraces && prog->target)
		for (size_t i = 0; i < ac_target_thread_count(prog->target); i++)
			ac_backtrace_destroy(prog->backtraces[i]);
	free(prog->backtraces);
	ac_strings_free(&prog->notes, &prog->n_notes);
	ac_dwarf_destroy(prog->dwarf);
	ac_target_destroy(prog->target);
	free(prog);
}

static void add_note(struct ac_program *prog, char *note)
{
	if (!note)
		return;
	/* The same unreadable thing is often met by several views. */
	for (size_t i = 0; i < prog->n_notes; i++)
		if (!strcmp(prog->notes[i], note)) {
			free(note);
			return;
		}
	char **slot = ac_array_slot(prog->notes, prog->n_notes);
	if (!slot) {
		free(note);
		return;
	}
	*slot = note;
	prog->n_notes++;
}

void ac_program_note(struct ac_program *prog, const char *fmt, ...)
{
	char *note;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&note, fmt, ap) < 0)
		note = NULL;
	va_end(ap);
	add_note(prog, note);
}

void ac_program_note_error(struct ac_program *prog, struct ac_error *err,
			   const char *what, ...)
{
	if (!err)
		return;
	char *prefix, *note = NULL;
	va_list ap;
	va_start(ap, what);
	if (vasprintf(&prefix, what, ap) >= 0) {
		if (asprintf(&note, "%s: %s", prefix, err->message) < 0)
			note = NULL;
		free(prefix);
	}
	va_end(ap);
	add_note(prog, note);
	ac_error_destroy(err);
}

const struct ac_backtrace *ac_program_backtrace(struct ac_program *prog,
						size_t thread_index)
{
	if (thread_index >= ac_target_thread_count(prog->target))
		return NULL;
	if (!prog->backtraces[thread_index]) {
		const struct ac_thread *t = ac_target_thread(prog->target, thread_index);
		struct ac_error *err = ac_backtrace_thread(prog->target, t->tid,
							   &prog->backtraces[thread_index]);
		if (err) {
			ac_program_note_error(prog, err, "thread %d", t->tid);
			return NULL;
		}
	}
	return prog->backtraces[thread_index];
}

struct ac_error *ac_program_symbol(struct ac_program *prog, uint64_t address,
				   const char **name, uint64_t *offset)
{
	Dwfl_Module *mod = ac_target_module_at(prog->target, address);
	GElf_Off off;
	GElf_Sym sym;
	const char *n = mod ? ac_target_addrinfo(prog->target, mod, address, &off, &sym) : NULL;
	if (!n)
		return ac_error_create_at(AC_ERR_LOOKUP, address, "no symbol covers 0x%" PRIx64,
					  address);
	*name = n;
	*offset = off;
	return NULL;
}

const char *ac_program_symbolize(struct ac_program *prog, uint64_t address,
				 char *buf, size_t size)
{
	const char *name;
	uint64_t offset;
	struct ac_error *err = ac_program_symbol(prog, address, &name, &offset);
	if (err) {
		ac_error_destroy(err);
		snprintf(buf, size, "0x%" PRIx64, address);
	} else if (offset) {
		snprintf(buf, size, "%s+0x%" PRIx64, name, offset);
	} else {
		snprintf(buf, size, "%s", name);
	}
	return buf;
}
