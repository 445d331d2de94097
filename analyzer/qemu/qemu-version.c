/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <stdio.h>
#include <string.h>

#include "qemu-version.h"
#include "target/target.h"

/* QEMU_COPYRIGHT since 2.7; up to 2.6 the version line ended in it. */
#define MARKER "Fabrice Bellard"
#define MARKER_TAIL " and the QEMU Project developers"
#define COPYRIGHT "Copyright (c) "
#define OLD_SEPARATOR ", Copyright (c) "
/*
 * qemu-io up to 2.6 prints "%s version %s" with QEMU_VERSION apart, which
 * the linker folds into the tail of the block layer's VHDX creator
 * "QEMU v2.1.2": every tool links the block layer, so that string stands
 * in when no version line is found.
 */
#define CREATOR "QEMU v"
/* qemu-nbd: "%s 7.2.22\nWritten by Anthony Liguori.\n\nCopyright ..." */
#define LINES_BACK 3
/* Digits per number: QEMU's are at most 2; more is not a version. */
#define NUMBER_DIGITS_MAX 4
/* A program name longer than this is not printed in place of "%s". */
#define PROG_NAME_MAX 63

static bool is_line_end(char c)
{
	return c == '\n' || c == '\0';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_printable(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

/* Start of the line that holds buf[pos]; false if it is too long. */
static bool line_start(const char *buf, size_t pos, size_t *ret)
{
	size_t start = pos;
	while (start > 0 && !is_line_end(buf[start - 1])) {
		if (pos - start >= AC_QEMU_VERSION_LINE_MAX)
			return false;
		start--;
	}
	*ret = start;
	return true;
}

static bool parse_number(const char *s, size_t len, size_t *pos,
			 unsigned int *ret)
{
	unsigned int value = 0;
	size_t i = *pos;
	while (i < len && is_digit(s[i])) {
		if (i - *pos >= NUMBER_DIGITS_MAX)
			return false;
		value = value * 10 + (unsigned int)(s[i] - '0');
		i++;
	}
	if (i == *pos)
		return false;
	*pos = i;
	*ret = value;
	return true;
}

/*
 * "<name>[ version] X.Y[.Z][ (pkgversion)]": the release is the first word
 * that starts with a digit.
 */
static bool parse_line(const char *line, size_t len, const char *prog_name,
		       struct ac_qemu_version *ret)
{
	if (!len || len >= AC_QEMU_VERSION_LINE_MAX || !is_printable(line, len))
		return false;
	size_t at = 1;
	while (at < len && !(line[at - 1] == ' ' && is_digit(line[at])))
		at++;
	if (at >= len)
		return false;
	struct ac_qemu_release release = { 0 };
	size_t end = at;
	if (!parse_number(line, len, &end, &release.major) ||
	    end >= len || line[end++] != '.' ||
	    !parse_number(line, len, &end, &release.minor))
		return false;
	if (end < len && line[end] == '.') {
		end++;
		if (!parse_number(line, len, &end, &release.micro))
			return false;
	}
	if (end < len && line[end] != ' ')
		return false;
	size_t name_len = at - 1;
	static const char version_word[] = " version";
	size_t word = sizeof(version_word) - 1;
	if (name_len >= word && !memcmp(line + name_len - word, version_word, word))
		name_len -= word;
	if (!name_len)
		return false;
	/* " version 7.2.22 (Debian ...)" or, for qemu-nbd, " 7.2.22" */
	const char *rest = line + name_len;
	size_t rest_len = len - name_len;
	/* qemu-io and qemu-nbd print their name with "%s". */
	const char *name = line;
	if (name_len == 2 && !memcmp(line, "%s", 2)) {
		name = "qemu";
		if (prog_name && prog_name[0] && strlen(prog_name) <= PROG_NAME_MAX &&
		    is_printable(prog_name, strlen(prog_name)))
			name = prog_name;
		name_len = strlen(name);
	}
	snprintf(ret->line, sizeof(ret->line), "%.*s%.*s", (int)name_len, name,
		 (int)rest_len, rest);
	snprintf(ret->version, sizeof(ret->version), "%.*s", (int)(len - at), line + at);
	ret->release = release;
	return true;
}

/* The version line that goes with the MARKER at buf[hit], if any. */
static bool parse_at(const char *buf, size_t size, size_t hit,
		     const char *prog_name, struct ac_qemu_version *ret)
{
	size_t start;
	if (!line_start(buf, hit, &start))
		return false;
	/* Up to 2.6: "QEMU emulator version 2.6.0, Copyright (c) 2003-2008 Fabrice Bellard" */
	const char *old = memmem(buf + start, hit - start, OLD_SEPARATOR,
				 strlen(OLD_SEPARATOR));
	if (old)
		return parse_line(buf + start, (size_t)(old - (buf + start)),
				  prog_name, ret);
	/* 2.7 on: "Copyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers" */
	size_t tail = hit + strlen(MARKER);
	if (hit - start < strlen(COPYRIGHT) ||
	    memcmp(buf + start, COPYRIGHT, strlen(COPYRIGHT)) ||
	    size - tail < strlen(MARKER_TAIL) ||
	    memcmp(buf + tail, MARKER_TAIL, strlen(MARKER_TAIL)))
		return false;
	/* The version is on a line above, in the same string. */
	for (int i = 0; i < LINES_BACK; i++) {
		if (start == 0 || buf[start - 1] != '\n')
			return false;
		size_t end = start - 1;
		if (!line_start(buf, end, &start))
			return false;
		if (parse_line(buf + start, end - start, prog_name, ret))
			return true;
	}
	return false;
}

/* "\0QEMU vX.Y[.Z]\0" at buf[hit] (the "Q"): nothing before or after. */
static bool parse_creator(const char *buf, size_t size, size_t hit,
			  const char *prog_name, struct ac_qemu_version *ret)
{
	if (hit > 0 && buf[hit - 1] != '\0')
		return false;
	size_t at = hit + strlen(CREATOR), end = at;
	while (end < size && buf[end] != '\0') {
		if (end - at >= NUMBER_DIGITS_MAX * 3 + 2)
			return false;
		if (!is_digit(buf[end]) && buf[end] != '.')
			return false;
		end++;
	}
	if (end >= size || end == at)
		return false;
	/* Read as a version line of its program: the same checks. */
	char line[AC_QEMU_VERSION_LINE_MAX];
	int len = snprintf(line, sizeof(line), "%%s version %.*s", (int)(end - at),
			   buf + at);
	if (len < 0 || (size_t)len >= sizeof(line))
		return false;
	return parse_line(line, (size_t)len, prog_name, ret);
}

static bool parse_creators(const char *buf, size_t size, const char *prog_name,
			   struct ac_qemu_version *ret)
{
	size_t pos = 0;
	while (buf && pos < size) {
		const char *hit = memmem(buf + pos, size - pos, CREATOR, strlen(CREATOR));
		if (!hit)
			break;
		size_t at = (size_t)(hit - buf);
		if (parse_creator(buf, size, at, prog_name, ret))
			return true;
		pos = at + 1;
	}
	return false;
}

struct ac_error *ac_qemu_version_parse(const void *data, size_t size,
				       const char *prog_name,
				       struct ac_qemu_version *ret)
{
	const char *buf = data;
	size_t pos = 0;
	struct ac_qemu_version version;
	while (buf && pos < size) {
		const char *hit = memmem(buf + pos, size - pos, MARKER, strlen(MARKER));
		if (!hit)
			break;
		size_t at = (size_t)(hit - buf);
		if (parse_at(buf, size, at, prog_name, &version)) {
			*ret = version;
			return NULL;
		}
		pos = at + 1;
	}
	if (parse_creators(buf, size, prog_name, &version)) {
		*ret = version;
		return NULL;
	}
	return ac_error_create(AC_ERR_LOOKUP, "no QEMU version text");
}

/* Read-only data sections: .rodata and its kin. */
static bool is_rodata(const GElf_Shdr *shdr)
{
	return shdr->sh_type == SHT_PROGBITS && (shdr->sh_flags & SHF_ALLOC) &&
	       !(shdr->sh_flags & (SHF_WRITE | SHF_EXECINSTR));
}

static struct ac_error *parse_sections(Elf *elf, const char *prog_name,
				       bool *searched, struct ac_qemu_version *ret)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		if (!gelf_getshdr(scn, &shdr) || !is_rodata(&shdr))
			continue;
		/* libelf checks that the section lies inside the file. */
		Elf_Data *data = elf_rawdata(scn, NULL);
		if (!data || !data->d_buf)
			continue;
		*searched = true;
		struct ac_error *err = ac_qemu_version_parse(data->d_buf, data->d_size,
							     prog_name, ret);
		if (!ac_error_catch(&err, AC_ERR_LOOKUP))
			return err;
	}
	return ac_error_create(AC_ERR_LOOKUP, "no QEMU version text");
}

/* No section headers: the read-only loadable segments instead. */
static struct ac_error *parse_segments(Elf *elf, const char *prog_name,
				       struct ac_qemu_version *ret)
{
	size_t raw_size, phnum;
	const char *raw = elf_rawfile(elf, &raw_size);
	if (!raw || elf_getphdrnum(elf, &phnum) < 0)
		return ac_error_create(AC_ERR_LOOKUP, "no file image of the executable");
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr phdr;
		if (!gelf_getphdr(elf, (int)i, &phdr) || phdr.p_type != PT_LOAD ||
		    (phdr.p_flags & PF_W))
			continue;
		if (phdr.p_offset > raw_size || phdr.p_filesz > raw_size - phdr.p_offset)
			continue;
		struct ac_error *err = ac_qemu_version_parse(raw + phdr.p_offset,
							     phdr.p_filesz,
							     prog_name, ret);
		if (!ac_error_catch(&err, AC_ERR_LOOKUP))
			return err;
	}
	return ac_error_create(AC_ERR_LOOKUP, "no QEMU version text");
}

struct ac_error *ac_qemu_version_read(struct ac_target *target,
				      struct ac_qemu_version *ret)
{
	Dwfl_Module *mod = ac_target_main_module(target);
	if (!mod)
		return ac_error_create(AC_ERR_LOOKUP, "no main executable");
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	if (!elf)
		return ac_error_create(AC_ERR_LOOKUP, "the executable's file is not at hand");
	const char *name = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL,
					    NULL, NULL);
	const char *base = name ? strrchr(name, '/') : NULL;
	const char *prog_name = base ? base + 1 : name;
	bool searched = false;
	struct ac_error *err = parse_sections(elf, prog_name, &searched, ret);
	if (searched || !ac_error_catch(&err, AC_ERR_LOOKUP))
		return err;
	return parse_segments(elf, prog_name, ret);
}

int ac_qemu_release_compare(const struct ac_qemu_release *a,
			    const struct ac_qemu_release *b)
{
	if (a->major != b->major)
		return a->major < b->major ? -1 : 1;
	if (a->minor != b->minor)
		return a->minor < b->minor ? -1 : 1;
	if (a->micro != b->micro)
		return a->micro < b->micro ? -1 : 1;
	return 0;
}
