/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <elf.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core-file.h"
#include "util/util.h"
#include "link-map.h"
#include "live-process.h"
#include "module-finder.h"
#include "symbol-table.h"
#include "target.h"
#include "unit-headers.h"

/* The tid under which a saved register set (a coroutine) is unwound. */
#define AC_PSEUDO_TID 0x7ffffffe

struct ac_target {
	char *name;
	struct ac_module_finder finder;
	Dwfl *dwfl;
	struct ac_core *core;
	int temp_fd;               /* nameless decompressed copy, or -1 */
	struct ac_live *live;
	pid_t process_id;
	const struct ac_thread *threads;
	size_t n_threads;
	enum ac_arch arch;
	Dwfl_Module *main_module;
	struct ac_error *debuginfo_error;
	char **warnings;
	size_t n_warnings;
	const struct ac_thread *pseudo;  /* served as AC_PSEUDO_TID */
	struct symbol_memo *memo;        /* ac_target_addrinfo's answers */
	size_t n_memo;
	struct ac_hash_map memo_index;   /* pc -> index into memo */
	double capture_time;             /* ac_target_capture_time() */
	dev_t source_dev;                /* the core file given, for same_source */
	ino_t source_ino;
	struct module_symbols *symbols;  /* sorted symbol tables, per module */
	size_t n_symbols;
	struct ac_inline_scopes *inlines; /* per CU, for the unwinder */
	ac_target_read_hook *read_hook;  /* the decoder fuzzer's mutations */
	void *read_hook_arg;
};

struct module_symbols {
	Dwfl_Module *mod;
	struct ac_symbol_table *table;   /* NULL: none, ask libdwfl */
	struct ac_symbol_names *names;   /* NULL: no memory */
};

struct symbol_memo {
	Dwfl_Module *mod;
	uint64_t pc;
	const char *name;
	GElf_Off offset;
	GElf_Sym sym;
};

void ac_target_warn(struct ac_target *target, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ac_strings_vappendf(&target->warnings, &target->n_warnings, fmt, ap);
	va_end(ap);
}

/*
 * Bytes that a core leaves out (read-only file mappings are filtered by
 * default) are the same as in the module's file: read them there.  Only
 * non-writable segments qualify, their contents cannot have changed.
 */
static struct ac_error *read_from_module_file(struct ac_target *target,
					      uint64_t address, void *buf,
					      size_t size)
{
	Dwfl_Module *mod = dwfl_addrmodule(target->dwfl, address);
	if (!mod)
		return ac_error_create(AC_ERR_LOOKUP, "no module");
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	if (!elf)
		return ac_error_create(AC_ERR_LOOKUP, "no ELF");
	size_t raw_size;
	const char *raw = elf_rawfile(elf, &raw_size);
	size_t phnum;
	if (!raw || elf_getphdrnum(elf, &phnum) < 0)
		return ac_error_create(AC_ERR_LOOKUP, "no file image");
	uint64_t vaddr = address - bias;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr phdr;
		if (!gelf_getphdr(elf, i, &phdr) || phdr.p_type != PT_LOAD ||
		    (phdr.p_flags & PF_W))
			continue;
		if (vaddr < phdr.p_vaddr || vaddr - phdr.p_vaddr >= phdr.p_filesz ||
		    size > phdr.p_filesz - (vaddr - phdr.p_vaddr))
			continue;
		uint64_t off = phdr.p_offset + (vaddr - phdr.p_vaddr);
		if (off > raw_size || size > raw_size - off)
			break;
		memcpy(buf, raw + off, size);
		return NULL;
	}
	return ac_error_create(AC_ERR_LOOKUP, "not in a read-only segment");
}

struct ac_error *ac_target_read(struct ac_target *target, uint64_t address,
				void *buf, size_t size)
{
	if (size == 0)
		return NULL;
	if (address + size < address)
		return ac_error_create_at(AC_ERR_UNMAPPED, address,
					  "address 0x%" PRIx64 " + %zu wraps around",
					  address, size);
	if (target->live)
		return ac_live_read(target->live, address, buf, size);
	struct ac_error *err = ac_core_read(target->core, address, buf, size);
	if (err && err->code == AC_ERR_NOT_IN_CORE) {
		struct ac_error *file_err = read_from_module_file(target, address,
								  buf, size);
		if (!file_err) {
			ac_error_destroy(err);
			return NULL;
		}
		ac_error_destroy(file_err);
	}
	if (!err && target->read_hook)
		target->read_hook(target->read_hook_arg, address, buf, size);
	return err;
}

void ac_target_set_read_hook(struct ac_target *target,
			     ac_target_read_hook *hook, void *arg)
{
	target->read_hook = hook;
	target->read_hook_arg = arg;
}

struct ac_error *ac_target_read_uint(struct ac_target *target, uint64_t address,
				     size_t size, uint64_t *ret)
{
	uint8_t bytes[8];
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return ac_error_create(AC_ERR_USAGE, "cannot read a %zu-byte integer",
				       size);
	struct ac_error *err = ac_target_read(target, address, bytes, size);
	if (err)
		return err;
	uint64_t value = 0;
	/* Only little-endian targets are accepted by the core reader. */
	for (size_t i = size; i-- > 0;)
		value = (value << 8) | bytes[i];
	*ret = value;
	return NULL;
}

#define DEFINE_READ(bits)                                                      \
	struct ac_error *ac_target_read_u##bits(struct ac_target *target,      \
						uint64_t address,              \
						uint##bits##_t *ret)           \
	{                                                                      \
		uint64_t value;                                                \
		struct ac_error *err = ac_target_read_uint(target, address,   \
							   bits / 8, &value);  \
		if (!err)                                                      \
			*ret = (uint##bits##_t)value;                          \
		return err;                                                    \
	}
DEFINE_READ(8)
DEFINE_READ(16)
DEFINE_READ(32)
DEFINE_READ(64)

struct ac_error *ac_target_read_pointer(struct ac_target *target,
					uint64_t address, uint64_t *ret)
{
	return ac_target_read_uint(target, address,
				   ac_target_pointer_size(target), ret);
}

struct ac_error *ac_target_read_string(struct ac_target *target,
				       uint64_t address, size_t max_len,
				       char **ret)
{
	char *s = malloc(max_len + 1);
	if (!s)
		return &ac_error_no_memory;
	size_t len = 0;
	while (len < max_len) {
		/* Byte-wise near the end of a mapping, in chunks elsewhere. */
		size_t chunk = 64 - ((address + len) & 63);
		if (chunk > max_len - len)
			chunk = max_len - len;
		struct ac_error *err = ac_target_read(target, address + len,
						      s + len, chunk);
		if (err) {
			free(s);
			return err;
		}
		char *nul = memchr(s + len, '\0', chunk);
		if (nul) {
			*ret = s;
			return NULL;
		}
		len += chunk;
	}
	s[max_len] = '\0';
	*ret = s;
	return NULL;
}

/* libdwfl thread callbacks: our threads, our memory, for cores and pids. */

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	(void)dwfl;
	struct ac_target *target = arg;
	const struct ac_thread *prev = *thread_argp;
	size_t next = prev ? (size_t)(prev - target->threads) + 1 : 0;
	if (prev == target->pseudo || next >= target->n_threads)
		return 0;
	*thread_argp = (void *)&target->threads[next];
	return target->threads[next].tid;
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	(void)dwfl;
	struct ac_target *target = arg;
	if (tid == AC_PSEUDO_TID && target->pseudo) {
		*thread_argp = (void *)target->pseudo;
		return true;
	}
	const struct ac_thread *t = ac_target_thread_by_tid(target, tid);
	if (!t)
		return false;
	*thread_argp = (void *)t;
	return true;
}

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result,
			void *arg)
{
	(void)dwfl;
	uint64_t value;
	struct ac_error *err = ac_target_read_u64(arg, addr, &value);
	if (err) {
		ac_error_destroy(err);
		return false;
	}
	*result = value;
	return true;
}

/* user_regs_struct index of DWARF registers 0..16 (rax rdx rcx rbx rsi rdi
 * rbp rsp r8..r15 rip). */
static const unsigned char x86_64_dwarf_to_user[17] = {
	10, 12, 11, 5, 13, 14, 4, 19, 9, 8, 7, 6, 3, 2, 1, 0, 16,
};

static bool set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	const struct ac_thread *t = thread_arg;
	Dwarf_Word regs[33];
	if (t->n_gregs == 27) {  /* x86_64 */
		for (unsigned i = 0; i < 17; i++)
			regs[i] = t->gregs[x86_64_dwarf_to_user[i]];
		return dwfl_thread_state_registers(thread, 0, 17, regs);
	}
	if (t->n_gregs >= 33) {  /* aarch64: x0..x30, sp, pc */
		for (unsigned i = 0; i < 32; i++)
			regs[i] = t->gregs[i];
		if (!dwfl_thread_state_registers(thread, 0, 32, regs))
			return false;
		dwfl_thread_state_register_pc(thread, t->gregs[32]);
		return true;
	}
	return false;
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

static int find_main_module_cb(Dwfl_Module *mod, void **userdata,
			       const char *name, Dwarf_Addr start, void *arg)
{
	(void)userdata;
	(void)name;
	(void)start;
	struct { uint64_t entry; Dwfl_Module *found; } *search = arg;
	Dwarf_Addr low, high;
	dwfl_module_info(mod, NULL, &low, &high, NULL, NULL, NULL, NULL);
	if (search->entry >= low && search->entry < high) {
		search->found = mod;
		return DWARF_CB_ABORT;
	}
	return DWARF_CB_OK;
}

static Dwfl_Module *find_main_module(Dwfl *dwfl, uint64_t entry)
{
	struct { uint64_t entry; Dwfl_Module *found; } search = { entry, NULL };
	if (entry)
		dwfl_getmodules(dwfl, find_main_module_cb, &search, 0);
	return search.found;
}

static uint64_t live_entry(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/auxv", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	uint64_t pair[2], entry = 0;
	while (read(fd, pair, sizeof(pair)) == sizeof(pair) && pair[0] != AT_NULL)
		if (pair[0] == AT_ENTRY)
			entry = pair[1];
	close(fd);
	return entry;
}

/* --exe must be an ELF executable built from the same build as the core. */
static struct ac_error *check_executable(struct ac_target *target,
					 const char *exe_path)
{
	int fd;
	struct ac_error *open_err = ac_input_open(exe_path, false, &fd);
	if (open_err)
		return open_err;
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	struct ac_error *err = NULL;
	GElf_Ehdr ehdr;
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &ehdr)) {
		err = ac_error_create(AC_ERR_FORMAT, "%s: not an ELF file", exe_path);
	} else if (ehdr.e_type == ET_CORE) {
		err = ac_error_create(AC_ERR_FORMAT,
				      "%s: is a core file, not an executable (--exe)", exe_path);
	} else if (target->main_module) {
		char exe_id[128], core_id[128];
		ac_elf_build_id_hex(elf, exe_id, sizeof(exe_id));
		ac_module_build_id_hex(target->main_module, core_id, sizeof(core_id));
		if (strcmp(core_id, "(none)") == 0)
			ac_target_warn(target,
				       "%s: the core does not record the executable's build-id; cannot check that --exe %s matches",
				       target->name, exe_path);
		else if (strcmp(exe_id, core_id) != 0)
			err = ac_error_create(AC_ERR_MISMATCH,
					      "%s: build-id %s does not match the core's executable (build-id %s): the core was made by another build",
					      exe_path, exe_id, core_id);
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

/*
 * Whether the executable is QEMU, to tell which debug package to advise
 * when there is no DWARF to ask.  QEMU's executables are named qemu-*
 * (qemu-kvm included) and define aio_context_new; a program whose full
 * symbol table lacks it is not QEMU, nor is one without GLib, which every
 * QEMU links.  Otherwise (stripped, with GLib): unknown.
 */
enum qemu_guess { NOT_QEMU, MAYBE_QEMU, IS_QEMU };

static int find_glib(Dwfl_Module *mod, void **userdata, const char *name,
		     Dwarf_Addr start, void *arg)
{
	(void)mod;
	(void)userdata;
	(void)start;
	if (name && strstr(name, "libglib-2.0")) {
		*(bool *)arg = true;
		return DWARF_CB_ABORT;
	}
	return DWARF_CB_OK;
}

static bool has_full_symtab(Dwfl_Module *mod)
{
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	Elf_Scn *scn = NULL;
	while (elf && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		if (gelf_getshdr(scn, &shdr) && shdr.sh_type == SHT_SYMTAB)
			return true;
	}
	return false;
}

static enum qemu_guess guess_qemu(Dwfl *dwfl, Dwfl_Module *mod, const char *path)
{
	const char *base = path ? strrchr(path, '/') : NULL;
	base = base ? base + 1 : path;
	if (base && !strncmp(base, "qemu", 4))
		return IS_QEMU;
	int n = dwfl_module_getsymtab(mod);
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		const char *name = dwfl_module_getsym(mod, i, &sym, NULL);
		if (name && !strcmp(name, "aio_context_new"))
			return IS_QEMU;
	}
	bool glib = false;
	dwfl_getmodules(dwfl, find_glib, &glib, 0);
	return glib && !has_full_symtab(mod) ? MAYBE_QEMU : NOT_QEMU;
}

static void check_debuginfo(struct ac_target *target)
{
	Dwfl_Module *mod = target->main_module;
	const struct ac_core *core = target->core;
	if (!mod && core && core->expected_size > core->file_size) {
		target->debuginfo_error = ac_error_create(AC_ERR_NO_DEBUGINFO,
			"%s: core truncated at %" PRIu64 " of %" PRIu64 " bytes: the executable could not be found (%s); give it with --exe",
			target->name, core->file_size, core->expected_size,
			core->notes_truncated ? "the notes naming it are cut off" : "its pages are cut off");
		return;
	}
	if (!mod) {
		target->debuginfo_error = ac_error_create(AC_ERR_NO_DEBUGINFO,
			"%s: the executable could not be found; give it with --exe (or --sysroot for a core from another machine)",
			target->name);
		return;
	}
	GElf_Addr bias;
	if (dwfl_module_getdwarf(mod, &bias))
		return;
	const char *file = NULL;
	const char *name = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL,
					    &file, NULL);
	char id[128];
	ac_module_build_id_hex(mod, id, sizeof(id));
	/*
	 * libdwfl opens the file the core names when its build-id matches but
	 * records no file name for it: an ELF without a name is that file (or
	 * the image the core itself holds), found.
	 */
	/* Found, but another build: say so, it is the likely mistake. */
	for (size_t i = 0; !file && name && i < ac_module_finder_rejected_count(&target->finder); i++) {
		const char *why = ac_module_finder_rejected(&target->finder, i);
		if (!strncmp(why, name, strlen(name))) {
			target->debuginfo_error = ac_error_create(AC_ERR_MISMATCH,
				"%s: %s: the core was made by another build of the executable; give the matching one with --exe or --sysroot",
				target->name, why);
			return;
		}
	}
	if (!file && !dwfl_module_getelf(mod, &bias)) {
		target->debuginfo_error = ac_error_create(AC_ERR_NO_DEBUGINFO,
			"%s: executable %s (build-id %s) not found; give it with --exe or --sysroot",
			target->name, name ? name : "?", id);
		return;
	}
	if (!file)
		file = name ? name : "the executable";
	const char *where = strcmp(id, "(none)")
		? "or set DEBUGINFOD_URLS, or give a directory holding .build-id/%.2s/%s.debug with --debug-dir"
		: "or give it with --debug-dir";
	char *how;
	if (asprintf(&how, where, id, id + 2) < 0)
		how = NULL;
	enum qemu_guess qemu = guess_qemu(target->dwfl, mod, file);
	if (qemu == NOT_QEMU)
		target->debuginfo_error = ac_error_create(AC_ERR_NO_DEBUGINFO,
			"%s: not a QEMU process: no AioContext in %s (no QEMU symbol%s); no debuginfo for it either (build-id %s): "
			"install the debug package (-dbgsym on Debian, Ubuntu; -debuginfo on Fedora, RHEL) of the package that ships it, %s",
			target->name, file, has_full_symtab(mod) ? "" : ", no GLib", id, how ? how : "");
	else
		target->debuginfo_error = ac_error_create(AC_ERR_NO_DEBUGINFO,
			"%s: no debuginfo for %s (build-id %s) in --debug-dir, /usr/lib/debug, its .gnu_debuglink or debuginfod: "
			"install the debug package of the %s that ships it (-dbgsym on Debian, Ubuntu: e.g. qemu-system-x86-dbgsym, qemu-utils-dbgsym; "
			"-debuginfo on Fedora, RHEL: e.g. qemu-kvm-debuginfo), %s",
			target->name, file, id, qemu == IS_QEMU ? "QEMU package" : "package",
			how ? how : "");
	free(how);
}

/*
 * "-" (a pipe) and compressed cores are spooled into a nameless sparse
 * file (util/decompress.h says why); the format is told by the stream's
 * magic.  A FIFO or device given as the core is refused before it is read.
 */
static struct ac_error *spool_core(struct ac_target *target, const char *path)
{
	int fd;
	struct ac_error *err = ac_input_open(path, true, &fd);
	if (err)
		return err;
	bool is_stdin = !strcmp(path, "-");
	unsigned char magic[AC_COMPRESSION_MAGIC_SIZE];
	ssize_t n = 0;
	while ((size_t)n < sizeof(magic)) {
		ssize_t got = read(fd, magic + n, sizeof(magic) - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += got;
	}
	enum ac_compression c = ac_compression_detect_bytes(magic, n > 0 ? (size_t)n : 0);
	if (c != AC_COMPRESSION_NONE || is_stdin) {
		if (!is_stdin && lseek(fd, 0, SEEK_SET) == 0)
			n = 0;  /* a regular file: read again from the start */
		err = ac_decompress_fd_to_temp(fd, is_stdin ? "-" : path, c, magic,
					       n > 0 ? (size_t)n : 0, NULL, &target->temp_fd);
	}
	close(fd);
	return err;
}

/* Linux thread ids are 1..PID_MAX_LIMIT (4194304 on 64-bit). */
#define AC_MAX_TID 4194304

/*
 * Registers from the core are hostile too: a corrupt NT_PRSTATUS gives
 * random tids and registers that would unwind into nonsense and make a
 * "clean" result.  A thread whose tid is impossible or whose pc or stack
 * pointer lies outside every mapping is named in a warning: the result is
 * partial.
 */
/*
 * gcore leaves read-only file mappings (the code) out of the core: those
 * are known from the NT_FILE note.  Without one (qemu-user cores) only the
 * segments are known, and code may lie outside them.
 */
static bool core_maps(const struct ac_core *core, uint64_t address)
{
	if (ac_core_segment_at(core, address) || !core->n_files)
		return true;
	for (size_t i = 0; i < core->n_files; i++)
		if (address >= core->files[i].start && address < core->files[i].end)
			return true;
	return false;
}

static void check_threads(struct ac_target *target)
{
	const struct ac_core *core = target->core;
	size_t n_bad = 0;
	for (size_t i = 0; i < core->n_threads; i++) {
		const struct ac_thread *t = &core->threads[i];
		bool x86 = t->n_gregs == 27;
		if (!x86 && t->n_gregs < 33)
			continue;
		uint64_t pc = x86 ? t->gregs[16] : t->gregs[32];
		uint64_t sp = x86 ? t->gregs[19] : t->gregs[31];
		const char *why = t->tid <= 0 || t->tid > AC_MAX_TID ? "its thread id is impossible"
			: !core_maps(core, pc) ? "its pc is outside every mapping"
			: !core_maps(core, sp) ? "its stack pointer is outside every mapping"
			: NULL;
		if (!why)
			continue;
		n_bad++;
		ac_target_warn(target, "%s: thread %d (note %zu of %zu) cannot be read: %s (pc 0x%" PRIx64 ", sp 0x%" PRIx64 "): corrupt registers",
			       target->name, t->tid, i + 1, core->n_threads, why, pc, sp);
	}
	if (n_bad && n_bad == core->n_threads)
		ac_target_warn(target, "%s: no thread could be read: every NT_PRSTATUS note holds implausible registers; the core is corrupt",
			       target->name);
}

static struct ac_error *open_core(struct ac_target *target,
				  const struct ac_target_config *config)
{
	char temp_name[64];
	const char *path = config->core_path;
	struct ac_error *err = spool_core(target, path);
	if (err)
		return err;
	if (target->temp_fd >= 0) {
		/* libelf and libdwfl open it by this name; it has no other. */
		snprintf(temp_name, sizeof(temp_name), "/proc/self/fd/%d", target->temp_fd);
		path = temp_name;
	}
	err = ac_core_open(path, config->core_path, &target->core);
	if (err)
		return err;
	struct ac_core *core = target->core;
	target->arch = core->arch;
	target->threads = core->threads;
	target->n_threads = core->n_threads;
	for (size_t i = 0; i < core->n_problems; i++)
		ac_target_warn(target, "%s", core->problems[i]);
	check_threads(target);

	/*
	 * --exe that is not an executable is refused before libdwfl opens it
	 * (given a core as the executable, elfutils 0.188 leaks an Elf).  No
	 * main module yet: this checks the file's kind, the build-id below.
	 */
	if (config->exe_path) {
		err = check_executable(target, config->exe_path);
		if (err)
			return err;
	}
	dwfl_report_begin(target->dwfl);
	int n = dwfl_core_file_report(target->dwfl, core->elf, config->exe_path);
	dwfl_report_end(target->dwfl, NULL, NULL);
	if (n < 0)
		ac_target_warn(target, "%s: modules not found from the core: %s",
			       target->name, dwfl_errmsg(-1));
	target->main_module = find_main_module(target->dwfl, core->entry);
	/* Found no library (qemu-user cores): walk the link map ourselves. */
	if (n <= 1 && core->entry) {
		err = ac_link_map_report(target, core->entry, core->execfn,
					 config->exe_path, config->sysroot,
					 &target->main_module);
		if (err) {
			ac_target_warn(target, "%s: %s", target->name, err->message);
			ac_error_destroy(err);
		}
	}
	if (config->exe_path) {
		err = check_executable(target, config->exe_path);
		if (err)
			return err;
	}
	if (core->n_threads == 0)
		return NULL;  /* notes cut off: memory only, no unwinding */
	if (!dwfl_attach_state(target->dwfl, core->elf, core->threads[0].tid,
			       &thread_callbacks, target))
		return ac_error_create(AC_ERR_ELFUTILS, "%s: cannot set up unwinding: %s",
				       target->name, dwfl_errmsg(-1));
	return NULL;
}

static struct ac_error *open_live(struct ac_target *target,
				  const struct ac_target_config *config)
{
	struct ac_error *err = config->callbacks
		? ac_live_open_callbacks(config->pid, config->callbacks, &target->live)
		: ac_live_open(config->pid, &target->live);
	if (err)
		return err;
	target->arch = target->live->arch;
	target->process_id = config->pid;
	target->threads = target->live->threads;
	target->n_threads = target->live->n_threads;
	dwfl_report_begin(target->dwfl);
	int rc = dwfl_linux_proc_report(target->dwfl, config->pid);
	dwfl_report_end(target->dwfl, NULL, NULL);
	if (rc != 0)
		return ac_error_create(AC_ERR_PROCESS, "pid %d: cannot read its mappings: %s",
				       config->pid, rc > 0 ? strerror(rc) : dwfl_errmsg(-1));
	target->main_module = find_main_module(target->dwfl, live_entry(config->pid));
	if (config->exe_path) {
		err = check_executable(target, config->exe_path);
		if (err)
			return err;
	}
	/* libdwfl wants an ELF for the architecture: the executable's. */
	char exe[64];
	snprintf(exe, sizeof(exe), "/proc/%d/exe", config->pid);
	int fd = open(exe, O_RDONLY | O_CLOEXEC);
	Elf *elf = fd >= 0 ? elf_begin(fd, ELF_C_READ_MMAP, NULL) : NULL;
	bool ok = dwfl_attach_state(target->dwfl, elf, config->pid,
				    &thread_callbacks, target);
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
	if (!ok)
		return ac_error_create(AC_ERR_ELFUTILS, "pid %d: cannot set up unwinding: %s",
				       config->pid, dwfl_errmsg(-1));
	return NULL;
}

AC_DEFINE_CLEANUP(struct ac_target, ac_target_destroy)

struct ac_error *ac_target_open(const struct ac_target_config *config,
				struct ac_target **ret)
{
	if (!config->core_path && config->pid <= 0)
		return ac_error_create(AC_ERR_USAGE, "give a core file or --pid");
	if (config->core_path && config->pid > 0)
		return ac_error_create(AC_ERR_USAGE, "give a core file or --pid, not both");
	elf_version(EV_CURRENT);
	_cleanup_(ac_target_destroy_cleanup) struct ac_target *target = calloc(1, sizeof(*target));
	if (!target)
		return &ac_error_no_memory;
	target->temp_fd = -1;
	struct ac_error *err;
	if (config->core_path)
		target->name = strdup(config->core_path);
	else if (asprintf(&target->name, "pid %d", config->pid) < 0)
		target->name = NULL;
	if (!target->name)
		return &ac_error_no_memory;
	err = ac_module_finder_init(&target->finder, config);
	if (err)
		return err;
	ac_module_finder_activate(&target->finder);
	target->dwfl = dwfl_begin(&target->finder.callbacks);
	if (!target->dwfl)
		return ac_error_create(AC_ERR_ELFUTILS, "dwfl_begin: %s", dwfl_errmsg(-1));
	err = config->core_path ? open_core(target, config) : open_live(target, config);
	if (err)
		return err;
	struct stat st;
	if (config->core_path && stat(config->core_path, &st) == 0) {
		target->capture_time = st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9;
		target->source_dev = st.st_dev;
		target->source_ino = st.st_ino;
	} else if (!config->core_path) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		target->capture_time = now.tv_sec + now.tv_nsec / 1e9;
	}
	target->finder.main = target->main_module;
	check_debuginfo(target);
	/* The executable's unit headers, before any lookup: libdw would walk
	 * them lazily and leave its whole .debug_info resident. */
	GElf_Addr bias;
	Dwarf *dbg = target->main_module ? dwfl_module_getdwarf(target->main_module, &bias) : NULL;
	if (dbg)
		ac_unit_headers_read(dbg);
	for (size_t i = 0; i < ac_module_finder_rejected_count(&target->finder); i++) {
		const char *why = ac_module_finder_rejected(&target->finder, i);
		/* The executable's own rejection is already the error above. */
		if (!target->debuginfo_error || !strstr(target->debuginfo_error->message, why))
			ac_target_warn(target, "%s: not used: %s", target->name, why);
	}
	*ret = ac_steal(&target);
	return NULL;
}

void ac_target_destroy(struct ac_target *target)
{
	if (!target)
		return;
	if (target->dwfl)
		dwfl_end(target->dwfl);
	ac_module_finder_deinit(&target->finder);
	ac_core_destroy(target->core);
	if (target->temp_fd >= 0)
		close(target->temp_fd);
	ac_live_destroy(target->live);
	ac_error_destroy(target->debuginfo_error);
	for (size_t i = 0; i < target->n_warnings; i++)
		free(target->warnings[i]);
	free(target->warnings);
	free(target->memo);
	ac_hash_map_deinit(&target->memo_index);
	for (size_t i = 0; i < target->n_symbols; i++) {
		ac_symbol_table_destroy(target->symbols[i].table);
		ac_symbol_names_destroy(target->symbols[i].names);
	}
	free(target->symbols);
	ac_inline_scopes_destroy(target->inlines);
	free(target->name);
	free(target);
}

const char *ac_target_name(const struct ac_target *target)
{
	return target->name;
}

/* The module's sorted table and names, both from one read of its symbols. */
static struct module_symbols *module_symbols(struct ac_target *target, Dwfl_Module *mod)
{
	for (size_t i = 0; i < target->n_symbols; i++)
		if (target->symbols[i].mod == mod)
			return &target->symbols[i];
	struct module_symbols *ms = ac_array_slot(target->symbols, target->n_symbols);
	if (!ms)
		return NULL;
	target->n_symbols++;
	*ms = (struct module_symbols){ .mod = mod };
	ms->names = ac_symbol_names_create(mod, dwfl_module_getsymtab(mod));
	ms->table = ac_symbol_table_build(mod, ms->names);
	/* No table (no memory, or no symbols): the names alone. */
	if (!ms->table && ms->names) {
		ac_symbol_names_destroy(ms->names);
		ms->names = ac_symbol_names_build(mod);
	} else if (ms->names) {
		ac_symbol_names_finish(ms->names);
	}
	return ms;
}

const struct ac_symbol_names *ac_target_symbol_names(struct ac_target *target,
						     Dwfl_Module *mod)
{
	struct module_symbols *ms = module_symbols(target, mod);
	return ms ? ms->names : NULL;
}

static const char *module_addrinfo(struct ac_target *target, Dwfl_Module *mod, uint64_t pc,
				   GElf_Off *offset, GElf_Sym *sym)
{
	struct module_symbols *ms = module_symbols(target, mod);
	if (!ms || !ms->table)
		return dwfl_module_addrinfo(mod, pc, offset, sym, NULL, NULL, NULL);
	return ac_symbol_table_lookup(ms->table, mod, pc, offset, sym);
}

int ac_target_innermost_inline(struct ac_target *target, Dwarf_Die *cudie, Dwarf_Addr pc,
				Dwarf_Die *ret)
{
	if (!target->inlines && !(target->inlines = ac_inline_scopes_create()))
		return -1;
	return ac_inline_scopes_innermost(target->inlines, cudie, pc, ret);
}

const char *ac_target_addrinfo(struct ac_target *target, Dwfl_Module *mod, uint64_t pc,
			       GElf_Off *offset, GElf_Sym *sym)
{
	struct ac_hash_cursor c = ac_hash_map_find(&target->memo_index, pc);
	uint64_t k;
	while (ac_hash_map_next(&target->memo_index, &c, &k)) {
		const struct symbol_memo *e = &target->memo[k];
		if (e->mod == mod) {
			*offset = e->offset;
			*sym = e->sym;
			return e->name;
		}
	}
	const char *name = module_addrinfo(target, mod, pc, offset, sym);
	/* Without memory the answer is simply not kept. */
	struct symbol_memo *e = ac_array_slot(target->memo, target->n_memo);
	if (!e || !ac_hash_map_add(&target->memo_index, pc, target->n_memo))
		return name;
	*e = (struct symbol_memo){ mod, pc, name, name ? *offset : 0, name ? *sym : (GElf_Sym){ 0 } };
	target->n_memo++;
	return name;
}

struct segment_search {
	uint64_t address;
	Dwfl_Module *found;
};

static int module_holds(Dwfl_Module *mod, void **userdata, const char *name,
			Dwarf_Addr start, void *arg)
{
	(void)userdata;
	(void)name;
	(void)start;
	struct segment_search *s = arg;
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	size_t phnum;
	if (!elf || elf_getphdrnum(elf, &phnum) < 0)
		return DWARF_CB_OK;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr phdr;
		if (!gelf_getphdr(elf, i, &phdr) || phdr.p_type != PT_LOAD)
			continue;
		uint64_t lo = bias + phdr.p_vaddr;
		if (s->address >= lo && s->address - lo < phdr.p_memsz) {
			s->found = mod;
			return DWARF_CB_ABORT;
		}
	}
	return DWARF_CB_OK;
}

Dwfl_Module *ac_target_module_at(struct ac_target *target, uint64_t address)
{
	Dwfl_Module *mod = dwfl_addrmodule(target->dwfl, address);
	if (mod)
		return mod;
	struct segment_search s = { address, NULL };
	dwfl_getmodules(target->dwfl, module_holds, &s, 0);
	return s.found;
}

pid_t ac_target_process_id(const struct ac_target *target)
{
	return target->core ? target->core->process_id : target->process_id;
}

enum ac_arch ac_target_arch(const struct ac_target *target)
{
	return target->arch;
}

const char *ac_target_arch_name(const struct ac_target *target)
{
	return target->arch == AC_ARCH_X86_64 ? "x86_64" : "aarch64";
}

unsigned ac_target_pointer_size(const struct ac_target *target)
{
	(void)target;
	return 8;  /* only 64-bit targets are accepted */
}

bool ac_target_is_little_endian(const struct ac_target *target)
{
	(void)target;
	return true;
}

Dwfl *ac_target_dwfl(struct ac_target *target)
{
	return target->dwfl;
}

Dwfl_Module *ac_target_main_module(struct ac_target *target)
{
	return target->main_module;
}

size_t ac_target_region_count(const struct ac_target *target)
{
	if (target->core)
		return target->core->n_segments;
	return target->live ? target->live->n_regions : 0;
}

bool ac_target_region(const struct ac_target *target, size_t index,
		      struct ac_region *ret)
{
	if (target->core) {
		if (index >= target->core->n_segments)
			return false;
		const struct ac_core_segment *seg = &target->core->segments[index];
		*ret = (struct ac_region){ seg->vaddr, seg->present,
					   (seg->flags & PF_W) != 0 };
		return true;
	}
	if (!target->live || index >= target->live->n_regions)
		return false;
	*ret = target->live->regions[index];
	return true;
}

size_t ac_target_thread_count(const struct ac_target *target)
{
	return target->n_threads;
}

const struct ac_thread *ac_target_thread(const struct ac_target *target,
					 size_t index)
{
	return index < target->n_threads ? &target->threads[index] : NULL;
}

const struct ac_thread *ac_target_thread_by_tid(const struct ac_target *target,
						pid_t tid)
{
	for (size_t i = 0; i < target->n_threads; i++)
		if (target->threads[i].tid == tid)
			return &target->threads[i];
	return NULL;
}

size_t ac_target_warning_count(const struct ac_target *target)
{
	return target->n_warnings;
}

const char *ac_target_warning(const struct ac_target *target, size_t index)
{
	return index < target->n_warnings ? target->warnings[index] : NULL;
}

const struct ac_error *ac_target_debuginfo_error(const struct ac_target *target)
{
	return target->debuginfo_error;
}

bool ac_target_thread_cpu_seconds(const struct ac_target *target, size_t index,
				  double *ret)
{
	if (!target->core || !target->core->cpu_seconds || index >= target->core->n_threads ||
	    target->core->cpu_seconds[index] < 0)
		return false;
	*ret = target->core->cpu_seconds[index];
	return true;
}

double ac_target_capture_time(const struct ac_target *target)
{
	return target->capture_time;
}

bool ac_target_same_source(const struct ac_target *a, const struct ac_target *b)
{
	if (a->core && b->core)
		return a->source_ino && a->source_dev == b->source_dev &&
		       a->source_ino == b->source_ino;
	return !a->core && !b->core && a->process_id == b->process_id;
}

void ac_target_main_build_id(struct ac_target *target, char *buf, size_t size)
{
	if (size)
		buf[0] = 0;
	if (target->main_module)
		ac_module_build_id_hex(target->main_module, buf, size);
}

double ac_target_stopped_seconds(const struct ac_target *target)
{
	return target->live ? target->live->stopped_seconds : 0;
}

pid_t ac_target_set_pseudo_thread(struct ac_target *target,
				  const struct ac_thread *regs)
{
	target->pseudo = regs;
	return AC_PSEUDO_TID;
}
