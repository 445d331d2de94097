#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Cold page cache: each run starts after the kernel dropped its clean
# caches (`echo 3 > /proc/sys/vm/drop_caches`, root only; it slows every
# other program on the machine for a while), so the core, the executable
# and its debuginfo are read from disk.  Runs interleave across the cores
# within each round, like bench/peers.sh.
#
#   bench/cold.sh [--rounds N] [--gdb] LABEL=CORE:EXE ...
#
# Prints per core the wall time min / median / max (ms) and the median peak
# RSS of `aiocore diagnose` (and of gdb 'thread apply all bt' with --gdb),
# then the ratio of each core's median to the first core's.
# AIOCORE: aiocore's path (default: aiocore on PATH).
set -eu
rounds=5
with_gdb=0
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=$2; shift 2 ;;
	--gdb) with_gdb=1; shift ;;
	-h|--help) sed -n '3,16p' "$0"; exit 0 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "cold.sh: give LABEL=CORE:EXE ..." >&2; exit 64; }
[ -w /proc/sys/vm/drop_caches ] || { echo "cold.sh: needs root (writes /proc/sys/vm/drop_caches)" >&2; exit 1; }
unset DEBUGINFOD_URLS
exec /usr/bin/python3 - "${AIOCORE:-$(command -v aiocore)}" "$rounds" "$with_gdb" "$@" <<'PY'
import os, statistics, subprocess, sys, tempfile, time

aiocore, rounds, with_gdb, specs = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4:]
cores = []
for spec in specs:
    label, rest = spec.split("=", 1)
    core, exe = rest.split(":")[:2]
    cores.append((label, core, exe))


def drop_caches():
    subprocess.run(["sync"], check=True)
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def run(cmd):
    with tempfile.NamedTemporaryFile("r") as t:
        drop_caches()
        start = time.monotonic()
        res = subprocess.run(["/usr/bin/time", "-o", t.name, "-f", "%M"] + cmd,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = (time.monotonic() - start) * 1000
        return wall, int(t.read().split()[-1]) / 1024, res.returncode


commands = [("aiocore diagnose", lambda core, exe: [aiocore, "diagnose", core, "--exe", exe])]
if with_gdb:
    commands.append(("gdb thread apply all bt",
                     lambda core, exe: ["gdb", "-nx", "-batch", "-ex", "thread apply all bt", exe, core]))
results = {}
print(f"Date {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {os.cpu_count()} CPUs, "
      f"{rounds} interleaved rounds, page cache dropped before every run; "
      f"load average at start {'%.2f %.2f %.2f' % os.getloadavg()}")
for r in range(rounds):
    for label, core, exe in cores:
        for name, cmd in commands:
            print(f"[{time.strftime('%H:%M:%S')}] {label}: {name}, round {r + 1}/{rounds}",
                  file=sys.stderr, flush=True)
            results.setdefault((label, name), []).append(run(cmd(core, exe)))
print()
print("| core | command | wall min / median / max (ms) | peak RSS median (MiB) | exit codes | median / first core's |")
print("|---|---|---:|---:|---|---:|")
first = {}
for label, core, exe in cores:
    for name, _ in commands:
        runs = results[(label, name)]
        walls = sorted(w for w, _, _ in runs)
        med = statistics.median(walls)
        first.setdefault(name, med)
        rss = statistics.median(m for _, m, _ in runs)
        codes = ",".join(sorted({str(c) for _, _, c in runs}))
        print(f"| {label} | {name} | {walls[0]:.1f} / {med:.1f} / {walls[-1]:.1f} | {rss:.1f} | {codes} | {med / first[name]:.2f} |")
print()
print(f"Load average at the end {'%.2f %.2f %.2f' % os.getloadavg()}")
PY
