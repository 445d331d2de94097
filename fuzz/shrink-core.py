#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Shrink an x86_64/aarch64 ELF core into a fuzzing seed.

    fuzz/shrink-core.py [--max-segment KB | --notes-only] IN.core OUT.core

Keeps the ELF header, the program headers and the notes (threads, NT_FILE,
auxv), and of the memory only what the decoders live on:

  - all-zero pages are cut out: the never-touched part of thread and
    coroutine stacks (stacks grow down, so the used part is at the top),
    the untouched parts of heaps;
  - what is left of a segment is kept if it is small (--max-segment, 256
    KiB by default) or holds a thread's stack pointer; anything else keeps
    its mapping but not its bytes (p_filesz = 0, as the kernel's core
    filter does), so a read there is "not in the core", never "unmapped".

A segment cut this way becomes several PT_LOADs covering the same
addresses; the cut-out parts are mapped with p_filesz = 0.  Section headers are dropped: readers of cores use segments.
The result of a ~8 MB runtime core is a few hundred KB that still decodes
(`aiocore diagnose --exe RUNTIME OUT.core` finds the same pattern).

--notes-only keeps no memory at all (every PT_LOAD mapped, p_filesz = 0):
tens of KB, the seeds of fuzz-notes, which reads only headers and notes.
"""
import argparse
import struct
import sys

PT_LOAD, PT_NOTE = 1, 4
NT_PRSTATUS = 1
EM_X86_64, EM_AARCH64 = 62, 183
PAGE = 4096
PHDR = struct.Struct("<IIQQQQQQ")   # type flags offset vaddr paddr filesz memsz align


def notes(data):
    """(type, name, desc) of each note in a PT_NOTE's bytes."""
    off = 0
    while off + 12 <= len(data):
        namesz, descsz, ntype = struct.unpack_from("<III", data, off)
        name_off = off + 12
        desc_off = name_off + ((namesz + 3) & ~3)
        end = desc_off + ((descsz + 3) & ~3)
        if end > len(data):
            break
        yield ntype, data[name_off:name_off + namesz], data[desc_off:desc_off + descsz]
        off = end


def stack_pointers(machine, note_blobs):
    """Stack pointer of every thread (NT_PRSTATUS pr_reg)."""
    sps = []
    for blob in note_blobs:
        for ntype, name, desc in notes(blob):
            if ntype != NT_PRSTATUS or name.rstrip(b"\0") != b"CORE":
                continue
            # pr_reg at 112; x86_64 rsp is register 19, aarch64 sp is 31
            index = 19 if machine == EM_X86_64 else 31
            at = 112 + 8 * index
            if len(desc) >= at + 8:
                sps.append(struct.unpack_from("<Q", desc, at)[0])
    return sps


def nonzero_runs(raw):
    """[start, end) byte ranges of raw that are not all-zero pages."""
    runs = []
    for start in range(0, len(raw), PAGE):
        page = raw[start:start + PAGE]
        if page.count(0) == len(page):
            continue
        end = start + len(page)
        if runs and runs[-1][1] == start:
            runs[-1][1] = end
        else:
            runs.append([start, end])
    return runs


def shrink(core, max_segment, notes_only=False):
    if core[:4] != b"\x7fELF" or core[4] != 2 or core[5] != 1:
        raise SystemExit("not a 64-bit little-endian ELF file")
    (e_type, machine, _, _, e_phoff, _, _, _, e_phentsize, e_phnum) = \
        struct.unpack_from("<HHIQQQIHHH", core, 16)
    if e_type != 4 or machine not in (EM_X86_64, EM_AARCH64):
        raise SystemExit("not an x86_64 or aarch64 core")
    if e_phentsize != PHDR.size:
        raise SystemExit("unexpected program header size")
    phdrs = [PHDR.unpack_from(core, e_phoff + i * PHDR.size) for i in range(e_phnum)]
    note_blobs = [core[p[2]:p[2] + p[5]] for p in phdrs if p[0] == PT_NOTE]
    sps = stack_pointers(machine, note_blobs)

    out_phdrs = []  # [type, flags, data(bytes), vaddr, filesz, memsz, align]
    for p_type, flags, offset, vaddr, _, filesz, memsz, align in phdrs:
        if p_type == PT_NOTE:
            out_phdrs.append([p_type, flags, core[offset:offset + filesz], 0, filesz, 0, align])
            continue
        if p_type != PT_LOAD:
            continue
        raw = core[offset:offset + min(filesz, memsz)]
        runs = [] if notes_only else nonzero_runs(raw)
        has_sp = any(vaddr <= sp < vaddr + memsz for sp in sps)
        if notes_only or (sum(end - start for start, end in runs) > max_segment
                          and not has_sp):
            runs = []
        # Kept runs with their bytes; the gaps stay mapped, not in the core.
        at = 0
        for start, end in runs + [[memsz, memsz]]:
            if start > at:
                out_phdrs.append([PT_LOAD, flags, b"", vaddr + at, 0,
                                  start - at, align])
            if end > start:
                out_phdrs.append([PT_LOAD, flags, raw[start:end], vaddr + start,
                                  end - start, end - start, align])
            at = end

    if len(out_phdrs) >= 0xffff:
        raise SystemExit("too many segments")
    ehdr = bytearray(core[:64])
    struct.pack_into("<QQ", ehdr, 32, 64, 0)          # e_phoff, e_shoff
    struct.pack_into("<HHHH", ehdr, 56, len(out_phdrs), 64, 0, 0)  # phnum, shentsize, shnum, shstrndx
    offset = 64 + PHDR.size * len(out_phdrs)
    headers, body = bytearray(), bytearray()
    for p_type, flags, data, vaddr, filesz, memsz, align in out_phdrs:
        headers += PHDR.pack(p_type, flags, offset + len(body), vaddr, 0,
                             filesz, memsz, align)
        body += data
    return bytes(ehdr) + bytes(headers) + bytes(body)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-segment", type=int, default=256,
                        help="largest segment kept whole, in KiB (256)")
    parser.add_argument("--notes-only", action="store_true",
                        help="keep no memory, only headers and notes")
    parser.add_argument("input")
    parser.add_argument("output")
    args = parser.parse_args()
    with open(args.input, "rb") as f:
        core = f.read()
    small = shrink(core, args.max_segment * 1024, args.notes_only)
    with open(args.output, "wb") as f:
        f.write(small)
    print(f"{args.output}: {len(small)} bytes (from {len(core)})", file=sys.stderr)


if __name__ == "__main__":
    main()
