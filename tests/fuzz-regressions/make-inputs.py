#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The recipe of the hand-made inputs in fixtures/fuzz-regressions/: each is
the headers and notes of a core of the reference runtime (no memory, so tens of KB), broken
in one way a hostile or damaged core can be.

    tests/fuzz-regressions/make-inputs.py CORE OUTDIR

CORE: e.g. `aiocore-runtime-g5 --variant lost-completion --out CORE`.
"""
import struct
import sys

PHDR = struct.Struct("<IIQQQQQQ")
PT_LOAD, PT_NOTE = 1, 4
NT_PRSTATUS, NT_FILE = 1, 0x46494c45


def split(core):
    phoff, = struct.unpack_from("<Q", core, 32)
    phnum, = struct.unpack_from("<H", core, 56)
    phdrs = [list(PHDR.unpack_from(core, phoff + i * PHDR.size)) for i in range(phnum)]
    note = next(p for p in phdrs if p[0] == PT_NOTE)
    return phdrs, bytearray(core[note[2]:note[2] + note[5]])


def build(core, phdrs, notes):
    """ELF header, program headers, the notes; PT_LOADs point past the end."""
    ehdr = bytearray(core[:64])
    struct.pack_into("<QQ", ehdr, 32, 64, 0)
    struct.pack_into("<HHHH", ehdr, 56, len(phdrs), 64, 0, 0)
    note_off = 64 + PHDR.size * len(phdrs)
    out = bytearray(ehdr)
    end = note_off + len(notes)
    for p in phdrs:
        p = list(p)
        if p[0] == PT_NOTE:
            p[2], p[5] = note_off, len(notes)
        else:
            p[2] = end            # every segment "truncated away"
        out += PHDR.pack(*p)
    return bytes(out + notes)


def each_note(notes):
    off = 0
    while off + 12 <= len(notes):
        namesz, descsz, ntype = struct.unpack_from("<III", notes, off)
        desc = off + 12 + ((namesz + 3) & ~3)
        yield off, ntype, desc, descsz
        off = desc + ((descsz + 3) & ~3)


def main():
    src, outdir = sys.argv[1], sys.argv[2]
    core = open(src, "rb").read()
    phdrs, notes = split(core)
    made = {}
    made["notes-only"] = build(core, phdrs, notes)

    n = bytearray(notes)               # NT_FILE claims 2^60 files
    off = next(d for _, t, d, _ in each_note(n) if t == NT_FILE)
    struct.pack_into("<Q", n, off, 1 << 60)
    made["nt-file-huge-count"] = build(core, phdrs, n)

    n = bytearray(notes)               # NT_FILE page size 2^63: offsets wrap
    struct.pack_into("<Q", n, off + 8, 1 << 63)
    made["nt-file-page-size-wraps"] = build(core, phdrs, n)

    n = bytearray(notes)               # the first NT_PRSTATUS too short
    o = next(o for o, t, _, _ in each_note(n) if t == NT_PRSTATUS)
    struct.pack_into("<I", n, o + 4, 100)
    made["prstatus-short"] = build(core, phdrs, n)

    n = bytearray(notes)               # a note whose size runs past the end
    struct.pack_into("<I", n, o + 4, 0xfffffff0)
    made["note-size-past-end"] = build(core, phdrs, n)

    ph = [list(p) for p in phdrs]      # every PT_LOAD at one address
    for p in ph:
        if p[0] == PT_LOAD:
            p[3], p[6] = ph[1][3], 1 << 62
    made["overlapping-segments"] = build(core, ph, notes)

    ph = [list(p) for p in phdrs]      # segments that wrap the address space
    for p in ph:
        if p[0] == PT_LOAD:
            p[3], p[5], p[6] = 0xfffffffffffff000, 1 << 40, 1 << 63
    made["segments-wrap"] = build(core, ph, notes)

    for name, data in made.items():
        with open(f"{outdir}/{name}.input", "wb") as f:
            f.write(data)
        print(f"{name}.input: {len(data)} bytes")


if __name__ == "__main__":
    main()
