#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The analyzer's layers point one way only.

    check-includes.py ANALYZER_DIR      exit 1 and a line per violation
    check-includes.py --self-test       proves each rule fires

Layers, bottom up (analyzer/README.md): util, target, dwarf, qemu, rules,
views, then the two front ends cli and gdb, which never include each other.
A file may include a header of its own folder, or the public header of a
layer below ("target/target.h").  Inside a folder the public header sits
on top: no other header of that folder includes it.
"""
import os
import re
import sys
import tempfile

LAYERS = ["util", "target", "dwarf", "qemu", "rules", "views", "cli", "gdb"]
RANK = {"util": 0, "target": 1, "dwarf": 2, "qemu": 3, "rules": 4,
        "views": 5, "cli": 6, "gdb": 6}
PUBLIC = {"util": "util.h", "target": "target.h", "dwarf": "dwarf.h",
          "qemu": "qemu.h", "rules": "rules.h", "views": "view.h",
          "cli": "cli.h", "gdb": "gdb-api.h"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def check(root):
    problems = []
    folders = sorted(d for d in os.listdir(root)
                     if os.path.isdir(os.path.join(root, d)))
    for folder in folders:
        if folder not in RANK:
            problems.append(f"{folder}/: not a known layer (add it to {LAYERS})")
            continue
        if not os.path.exists(os.path.join(root, folder, PUBLIC[folder])):
            problems.append(f"{folder}/: has no public header {PUBLIC[folder]}")
    stray = [f for f in os.listdir(root) if f.endswith((".c", ".h"))]
    for f in stray:
        problems.append(f"{f}: source outside a layer folder")
    for folder in folders:
        if folder not in RANK:
            continue
        for name in sorted(os.listdir(os.path.join(root, folder))):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(root, folder, name)
            with open(path, encoding="utf-8") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    where = f"{folder}/{name}:{lineno}"
                    problems += judge(root, folder, name, m.group(1), where)
    return problems


def judge(root, folder, name, target, where):
    if "/" not in target:
        if not os.path.exists(os.path.join(root, folder, target)):
            return [f'{where}: "{target}" is not a header of {folder}/']
        if (name.endswith(".h") and name != PUBLIC[folder]
                and target == PUBLIC[folder]):
            return [f'{where}: "{target}" is {folder}/\'s public header, '
                    f"which sits above {name}"]
        return []
    other, header = target.split("/", 1)
    if other not in RANK:
        return [f'{where}: "{target}" is in no layer']
    if other == folder:
        return [f'{where}: "{target}": include your own folder\'s '
                f'headers without the folder ("{header}")']
    if RANK[other] >= RANK[folder]:
        return [f'{where}: "{target}" points up or sideways '
                f"({folder} may include only layers below it)"]
    if header != PUBLIC[other]:
        return [f'{where}: "{target}": from another layer include only '
                f'its public header "{other}/{PUBLIC[other]}"']
    return []


def self_test():
    cases = {
        "upward": ("qemu/bh.c", '#include "views/view.h"', "points up"),
        "sideways": ("gdb/gdb-api.c", '#include "cli/cli.h"', "points up or sideways"),
        "private": ("rules/rule.c", '#include "qemu/bh.h"', "only its public header"),
        "public-on-top": ("target/core-file.h", '#include "target.h"', "sits above"),
        "own-folder": ("dwarf/object.c", '#include "dwarf/program.h"', "without the folder"),
        "missing": ("util/error.c", '#include "nothere.h"', "is not a header"),
    }
    failed = 0
    for label, (file, line, expect) in cases.items():
        with tempfile.TemporaryDirectory() as root:
            for layer, header in PUBLIC.items():
                os.makedirs(os.path.join(root, layer))
                open(os.path.join(root, layer, header), "w").close()
            for extra in ("qemu/bh.h", "target/core-file.h", "dwarf/program.h"):
                open(os.path.join(root, extra), "w").close()
            good = check(root)
            with open(os.path.join(root, file), "a") as f:
                f.write(line + "\n")
            bad = check(root)
            if good or not any(expect in p for p in bad):
                print(f"self-test {label}: expected '{expect}', got {bad or good}")
                failed += 1
    print(f"self-test: {len(cases) - failed} of {len(cases)} rules fired")
    return 1 if failed else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 64
    problems = check(sys.argv[1])
    for p in problems:
        print(p)
    print(f"{'no' if not problems else len(problems)} layering problem"
          f"{'' if len(problems) == 1 else 's'} in {sys.argv[1]}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
