/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <elf.h>
#include <unistd.h>

#include "core-file.h"

#ifndef NT_FILE
#define NT_FILE 0x46494c45
#endif
#ifndef NT_ARM_TLS
#define NT_ARM_TLS 0x401
#endif

/* Layout of the 64-bit Linux elf_prstatus / elf_prpsinfo (x86_64, aarch64). */
enum {
	PRSTATUS_CURSIG = 12,
	PRSTATUS_PID = 32,
	PRSTATUS_UTIME = 48,    /* struct timeval pr_utime, then pr_stime */
	PRSTATUS_STIME = 64,
	PRSTATUS_REGS = 112,
	PRPSINFO_PID = 24,
	PRPSINFO_FNAME = 40,
	PRPSINFO_PSARGS = 56,
	X86_64_NREGS = 27,
	X86_64_FS_BASE = 21,
	AARCH64_NREGS = 34,
	/* Truncation summaries list this many segments, then a count. */
	MAX_LISTED_PROBLEMS = 5,
};

static struct ac_error *add_problem(struct ac_core *core, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static struct ac_error *add_problem(struct ac_core *core, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bool ok = ac_strings_vappendf(&core->problems, &core->n_problems, fmt, ap);
	va_end(ap);
	return ok ? NULL : &ac_error_no_memory;
}

static int compare_segments(const void *a, const void *b)
{
	const struct ac_core_segment *x = a, *y = b;
	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

static struct ac_error *read_segments(struct ac_core *core, size_t phnum)
{
	core->segments = calloc(phnum ? phnum : 1, sizeof(*core->segments));
	if (!core->segments)
		return &ac_error_no_memory;
	size_t n_truncated = 0;
	uint64_t missing_bytes = 0;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr phdr;
		if (!gelf_getphdr(core->elf, i, &phdr))
			return ac_error_create(AC_ERR_FORMAT,
					       "%s: program header %zu unreadable: %s",
					       core->path, i, elf_errmsg(-1));
		if (phdr.p_type != PT_LOAD)
			continue;
		struct ac_core_segment *seg = &core->segments[core->n_segments++];
		seg->vaddr = phdr.p_vaddr;
		seg->memsz = phdr.p_memsz;
		seg->offset = phdr.p_offset;
		seg->filesz = phdr.p_filesz < phdr.p_memsz ? phdr.p_filesz
							   : phdr.p_memsz;
		seg->flags = phdr.p_flags;
		if (seg->offset >= core->file_size)
			seg->present = 0;
		else if (core->file_size - seg->offset < seg->filesz)
			seg->present = core->file_size - seg->offset;
		else
			seg->present = seg->filesz;
		if (seg->present < seg->filesz) {
			uint64_t missing = seg->filesz - seg->present;
			missing_bytes += missing;
			if (n_truncated++ < MAX_LISTED_PROBLEMS) {
				struct ac_error *err = add_problem(core,
					"%s: truncated: segment 0x%" PRIx64 "-0x%" PRIx64
					" is missing %" PRIu64 " of %" PRIu64 " bytes",
					core->path, seg->vaddr, seg->vaddr + seg->memsz,
					missing, seg->filesz);
				if (err)
					return err;
			}
		}
	}
	if (n_truncated > 0) {
		uint64_t expected = core->file_size + missing_bytes;
		struct ac_error *err = add_problem(core,
			"%s: truncated: %zu segment%s incomplete, file is %" PRIu64
			" bytes, the headers describe at least %" PRIu64,
			core->path, n_truncated, n_truncated == 1 ? "" : "s",
			core->file_size, expected);
		if (err)
			return err;
	}
	qsort(core->segments, core->n_segments, sizeof(*core->segments),
	      compare_segments);
	return NULL;
}

static uint64_t load_u64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static struct ac_error *add_thread(struct ac_core *core, const uint8_t *desc,
				   size_t size)
{
	unsigned nregs = core->arch == AC_ARCH_X86_64 ? X86_64_NREGS
						       : AARCH64_NREGS;
	if (size < PRSTATUS_REGS + nregs * 8)
		return add_problem(core, "%s: NT_PRSTATUS note of %zu bytes is too short",
				   core->path, size);
	struct ac_thread *t = ac_array_slot(core->threads, core->n_threads);
	if (!t)
		return &ac_error_no_memory;
	core->n_threads++;
	int32_t pid;
	memcpy(&pid, desc + PRSTATUS_PID, sizeof(pid));
	t->tid = pid;
	t->n_gregs = nregs;
	for (unsigned r = 0; r < nregs; r++)
		t->gregs[r] = load_u64(desc + PRSTATUS_REGS + 8 * r);
	if (core->arch == AC_ARCH_X86_64)
		t->tls_base = t->gregs[X86_64_FS_BASE];
	/* Parallel to threads: this thread's is element n_threads - 1. */
	double *cpu = ac_array_slot(core->cpu_seconds, core->n_threads - 1);
	if (!cpu)
		return &ac_error_no_memory;
	/* Seconds and microseconds; a hostile note may hold anything. */
	uint64_t us = load_u64(desc + PRSTATUS_UTIME + 8), ss = load_u64(desc + PRSTATUS_STIME + 8);
	*cpu = us < 1000000 && ss < 1000000
		? (double)load_u64(desc + PRSTATUS_UTIME) + us / 1e6 +
		  (double)load_u64(desc + PRSTATUS_STIME) + ss / 1e6
		: -1;
	if (core->n_threads == 1) {
		int16_t sig;
		memcpy(&sig, desc + PRSTATUS_CURSIG, sizeof(sig));
		core->signal = sig;
	}
	return NULL;
}

static struct ac_error *read_file_note(struct ac_core *core, const uint8_t *desc,
				       size_t size)
{
	if (size < 16)
		return add_problem(core, "%s: NT_FILE note too short", core->path);
	/* Only the first NT_FILE note counts: a second one must not append past
	 * the first one's array (found by fuzz/fuzz-notes, docs/robustness.md). */
	if (core->files)
		return add_problem(core, "%s: more than one NT_FILE note; the first is used",
				   core->path);
	uint64_t count = load_u64(desc), page_size = load_u64(desc + 8);
	if (count > (size - 16) / 24)
		return add_problem(core, "%s: NT_FILE note claims %" PRIu64
				   " files, more than it can hold", core->path, count);
	core->files = calloc(count ? count : 1, sizeof(*core->files));
	if (!core->files)
		return &ac_error_no_memory;
	const char *names = (const char *)desc + 16 + 24 * count;
	const char *end = (const char *)desc + size;
	for (uint64_t i = 0; i < count && names < end; i++) {
		const uint8_t *e = desc + 16 + 24 * i;
		const char *nul = memchr(names, '\0', end - names);
		if (!nul)
			break;
		core->files[core->n_files++] = (struct ac_core_file_entry){
			.start = load_u64(e),
			.end = load_u64(e + 8),
			.file_offset = load_u64(e + 16) * page_size,
			.path = names,
		};
		names = nul + 1;
	}
	return NULL;
}

static struct ac_error *read_notes(struct ac_core *core, size_t phnum)
{
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr phdr;
		if (!gelf_getphdr(core->elf, i, &phdr) || phdr.p_type != PT_NOTE)
			continue;
		if (phdr.p_offset > core->file_size ||
		    core->file_size - phdr.p_offset < phdr.p_filesz) {
			core->notes_truncated = true;
			struct ac_error *err = add_problem(core,
				"%s: truncated: the note segment (thread registers) is cut off; threads may be missing",
				core->path);
			if (err)
				return err;
			if (phdr.p_offset >= core->file_size)
				continue;
			phdr.p_filesz = core->file_size - phdr.p_offset;
		}
		Elf_Data *data = elf_getdata_rawchunk(core->elf, phdr.p_offset,
						      phdr.p_filesz, ELF_T_NHDR);
		if (!data)
			return ac_error_create(AC_ERR_FORMAT, "%s: unreadable notes: %s",
					       core->path, elf_errmsg(-1));
		size_t offset = 0, name_off, desc_off;
		GElf_Nhdr nhdr;
		while (offset < data->d_size &&
		       (offset = gelf_getnote(data, offset, &nhdr, &name_off,
					      &desc_off)) > 0) {
			const uint8_t *desc = (const uint8_t *)data->d_buf + desc_off;
			const char *name = (const char *)data->d_buf + name_off;
			struct ac_error *err = NULL;
			bool is_core = nhdr.n_namesz == 5 && !memcmp(name, "CORE", 5);
			bool is_linux = nhdr.n_namesz == 6 && !memcmp(name, "LINUX", 6);
			if (is_core && nhdr.n_type == NT_PRSTATUS) {
				err = add_thread(core, desc, nhdr.n_descsz);
			} else if (is_core && nhdr.n_type == NT_PRPSINFO &&
				   nhdr.n_descsz >= PRPSINFO_PSARGS + 80) {
				memcpy(&core->process_id, desc + PRPSINFO_PID,
				       sizeof(core->process_id));
				memcpy(core->process_name, desc + PRPSINFO_FNAME, 16);
				memcpy(core->process_args, desc + PRPSINFO_PSARGS, 80);
			} else if (is_core && nhdr.n_type == NT_AUXV) {
				for (size_t a = 0; a + 16 <= nhdr.n_descsz; a += 16)
					if (load_u64(desc + a) == AT_ENTRY)
						core->entry = load_u64(desc + a + 8);
					else if (load_u64(desc + a) == AT_EXECFN)
						core->execfn = load_u64(desc + a + 8);
			} else if (is_core && nhdr.n_type == NT_FILE) {
				err = read_file_note(core, desc, nhdr.n_descsz);
			} else if (is_linux && nhdr.n_type == NT_ARM_TLS &&
				   nhdr.n_descsz >= 8 && core->n_threads > 0) {
				/* Per-thread notes follow that thread's NT_PRSTATUS. */
				core->threads[core->n_threads - 1].tls_base = load_u64(desc);
			}
			if (err)
				return err;
		}
	}
	return NULL;
}

/*
 * A cut core (a full disk, an interrupted copy) is said first, as one
 * line: what follows (segments missing, no notes, no executable) are its
 * consequences.
 */
static struct ac_error *check_size(struct ac_core *core, size_t phnum)
{
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr phdr;
		if (!gelf_getphdr(core->elf, i, &phdr) || phdr.p_filesz == 0)
			continue;
		uint64_t end = phdr.p_offset + phdr.p_filesz;
		if (end >= phdr.p_offset && end > core->expected_size)
			core->expected_size = end;
	}
	/* gcore ends its cores with section headers. */
	GElf_Ehdr ehdr;
	if (gelf_getehdr(core->elf, &ehdr) && ehdr.e_shoff && ehdr.e_shnum) {
		uint64_t end = ehdr.e_shoff + (uint64_t)ehdr.e_shnum * ehdr.e_shentsize;
		if (end > ehdr.e_shoff && end > core->expected_size)
			core->expected_size = end;
	}
	if (core->expected_size <= core->file_size)
		return NULL;
	struct ac_error *err = add_problem(core, "%s: core truncated at %" PRIu64 " of %" PRIu64
					   " bytes (%" PRIu64 "%%)", core->path, core->file_size,
					   core->expected_size,
					   core->file_size * 100 / core->expected_size);
	if (err)
		return err;
	char *first = core->problems[core->n_problems - 1];
	memmove(core->problems + 1, core->problems,
		(core->n_problems - 1) * sizeof(*core->problems));
	core->problems[0] = first;
	return NULL;
}

static struct ac_error *check_header(struct ac_core *core, const char *name)
{
	if (elf_kind(core->elf) != ELF_K_ELF)
		return ac_error_create(AC_ERR_FORMAT, "%s: not an ELF file", name);
	GElf_Ehdr ehdr;
	if (!gelf_getehdr(core->elf, &ehdr))
		return ac_error_create(AC_ERR_FORMAT, "%s: unreadable ELF header: %s",
				       name, elf_errmsg(-1));
	if (ehdr.e_type != ET_CORE) {
		const char *what = ehdr.e_type == ET_EXEC ? "an executable"
				 : ehdr.e_type == ET_DYN ? "a shared object or PIE executable"
				 : ehdr.e_type == ET_REL ? "an object file"
				 : "an ELF file of another type";
		return ac_error_create(AC_ERR_FORMAT,
				       "%s: is %s, not a core file (give the core as the argument, the executable with --exe)",
				       name, what);
	}
	if (ehdr.e_ident[EI_CLASS] != ELFCLASS64)
		return ac_error_create(AC_ERR_FORMAT, "%s: 32-bit cores are not supported",
				       name);
	if (ehdr.e_ident[EI_DATA] != ELFDATA2LSB)
		return ac_error_create(AC_ERR_FORMAT,
				       "%s: big-endian cores are not supported", name);
	if (ehdr.e_machine == EM_X86_64)
		core->arch = AC_ARCH_X86_64;
	else if (ehdr.e_machine == EM_AARCH64)
		core->arch = AC_ARCH_AARCH64;
	else
		return ac_error_create(AC_ERR_FORMAT,
				       "%s: core of machine type %u; only x86_64 and aarch64 are supported",
				       name, ehdr.e_machine);
	core->little_endian = true;
	return NULL;
}

AC_DEFINE_CLEANUP(struct ac_core, ac_core_destroy)

struct ac_error *ac_core_open(const char *path, const char *display_path,
			      struct ac_core **ret)
{
	const char *name = display_path ? display_path : path;
	_cleanup_(ac_core_destroy_cleanup) struct ac_core *core = calloc(1, sizeof(*core));
	if (!core)
		return &ac_error_no_memory;
	core->fd = -1;
	struct ac_error *err = NULL;
	core->path = strdup(name);
	if (!core->path)
		return &ac_error_no_memory;
	/* O_NONBLOCK: a FIFO must not block open(); refused just below. */
	core->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (core->fd < 0)
		return ac_error_create(AC_ERR_IO, "%s: cannot open: %s", name,
				       strerror(errno));
	struct stat st;
	if (fstat(core->fd, &st) < 0 || !S_ISREG(st.st_mode))
		return ac_error_create(AC_ERR_IO, "%s: not a regular file", name);
	core->file_size = st.st_size;
	elf_version(EV_CURRENT);
	/* Not mmapped: a core can be many GiB; memory is read with pread. */
	core->elf = elf_begin(core->fd, ELF_C_READ, NULL);
	if (!core->elf)
		return ac_error_create(AC_ERR_FORMAT, "%s: not an ELF file (%s)", name,
				       elf_errmsg(-1));
	err = check_header(core, name);
	if (err)
		return err;
	size_t phnum;
	if (elf_getphdrnum(core->elf, &phnum) < 0)
		return ac_error_create(AC_ERR_FORMAT, "%s: no program headers: %s",
				       name, elf_errmsg(-1));
	/* Cut inside the program headers: nothing can be read, say why. */
	GElf_Ehdr ehdr;
	if (gelf_getehdr(core->elf, &ehdr) &&
	    ehdr.e_phoff + (uint64_t)ehdr.e_phnum * ehdr.e_phentsize > core->file_size)
		return ac_error_create(AC_ERR_FORMAT,
				       "%s: core truncated at %" PRIu64 " bytes, inside its program headers (%u of them, ending at byte %" PRIu64 "): nothing can be read",
				       name, core->file_size, ehdr.e_phnum,
				       ehdr.e_phoff + (uint64_t)ehdr.e_phnum * ehdr.e_phentsize);
	err = read_segments(core, phnum);
	if (!err)
		err = read_notes(core, phnum);
	if (!err)
		err = check_size(core, phnum);
	if (err)
		return err;
	if (core->n_threads == 0 && !core->notes_truncated)
		return ac_error_create(AC_ERR_FORMAT,
				       "%s: the core has no thread (NT_PRSTATUS) notes",
				       name);
	*ret = ac_steal(&core);
	return NULL;
}

void ac_core_destroy(struct ac_core *core)
{
	if (!core)
		return;
	if (core->elf)
		elf_end(core->elf);
	if (core->fd >= 0)
		close(core->fd);
	for (size_t i = 0; i < core->n_problems; i++)
		free(core->problems[i]);
	free(core->problems);
	free(core->segments);
	free(core->cache);
	free(core->threads);
	free(core->cpu_seconds);
	free(core->files);
	free(core->path);
	free(core);
}

const struct ac_core_segment *ac_core_segment_at(const struct ac_core *core,
						 uint64_t address)
{
	size_t lo = 0, hi = core->n_segments;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ac_core_segment *seg = &core->segments[mid];
		if (address < seg->vaddr)
			hi = mid;
		else if (address - seg->vaddr >= seg->memsz)
			lo = mid + 1;
		else
			return seg;
	}
	return NULL;
}

/*
 * gdb's gcore leaves unmodified file mappings out altogether, with no
 * PT_LOAD; the NT_FILE note still says they were mapped.
 */
static struct ac_error *not_in_any_segment(const struct ac_core *core,
					   uint64_t address)
{
	for (size_t i = 0; i < core->n_files; i++) {
		const struct ac_core_file_entry *f = &core->files[i];
		if (address >= f->start && address < f->end)
			return ac_error_create_at(AC_ERR_NOT_IN_CORE, address,
						  "address 0x%" PRIx64 " is mapped from %s but not in the core (file mappings are not dumped)",
						  address, f->path);
	}
	return ac_error_create_at(AC_ERR_UNMAPPED, address,
				  "address 0x%" PRIx64 " is not mapped in the process",
				  address);
}

/*
 * len bytes at file offset off, through a small direct-mapped page cache:
 * a BH list of 10,000 entries is 90,000 reads of 8 bytes.  Large reads
 * (stacks, the scan) go straight to pread and do not evict.
 */
static bool read_file(struct ac_core *core, uint8_t *out, uint64_t len, uint64_t off)
{
	if (len > AC_CORE_PAGE ||
	    (!core->cache && !(core->cache = calloc(AC_CORE_CACHE_PAGES, sizeof(*core->cache)))))
		return pread(core->fd, out, len, (off_t)off) == (ssize_t)len;
	while (len > 0) {
		uint64_t index = off / AC_CORE_PAGE, in = off % AC_CORE_PAGE;
		struct ac_core_page *p = &core->cache[index % AC_CORE_CACHE_PAGES];
		if (!p->valid || p->index != index) {
			ssize_t n = pread(core->fd, p->data, AC_CORE_PAGE, (off_t)(index * AC_CORE_PAGE));
			p->valid = n > 0;
			if (!p->valid)
				return false;
			p->index = index;
			p->len = (uint32_t)n;
		}
		uint64_t take = AC_CORE_PAGE - in < len ? AC_CORE_PAGE - in : len;
		if (in + take > p->len)
			return false;
		memcpy(out, p->data + in, take);
		out += take;
		off += take;
		len -= take;
	}
	return true;
}

struct ac_error *ac_core_read(struct ac_core *core, uint64_t address, void *buf,
			      size_t size)
{
	uint8_t *out = buf;
	while (size > 0) {
		const struct ac_core_segment *seg = ac_core_segment_at(core, address);
		if (!seg)
			return not_in_any_segment(core, address);
		uint64_t in_seg = address - seg->vaddr;
		uint64_t chunk = seg->memsz - in_seg;
		if (chunk > size)
			chunk = size;
		if (in_seg >= seg->present || chunk > seg->present - in_seg) {
			const char *why = seg->present < seg->filesz
				? "the core is truncated there"
				: "the mapping was not dumped (filtered)";
			uint64_t bad = in_seg >= seg->present ? address
				       : seg->vaddr + seg->present;
			return ac_error_create_at(AC_ERR_NOT_IN_CORE, bad,
						  "address 0x%" PRIx64 " is mapped but not in the core: %s",
						  bad, why);
		}
		if (!read_file(core, out, chunk, seg->offset + in_seg))
			return ac_error_create_at(AC_ERR_IO, address,
						  "%s: read of %" PRIu64 " bytes at file offset %" PRIu64 " failed",
						  core->path, chunk, seg->offset + in_seg);
		out += chunk;
		address += chunk;
		size -= chunk;
	}
	return NULL;
}
