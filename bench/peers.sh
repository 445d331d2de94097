#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# aiocore against its peers on the same cores, interleaved: each round runs
# every command once, in turn, so a burst of load on the shared machine
# hits them all alike.
#
#   bench/peers.sh [--rounds N] [--out FILE] LABEL=CORE:EXE[:PROFILE] ...
#
# Commands per core: aiocore diagnose, aiocore threads, gdb
# 'thread apply all bt', eu-stack, drgn (bench/drgn-bt.py), and for a
# runtime core (PROFILE g2, g5 or g10) seed 003's gdb recipe
# (bench/seed003.gdb).  Every run goes through GNU time (-f %M: its peak
# RSS; the wall time, taken around it, includes time's ~1 ms); the report gives min / median /
# max per command, the ratios to diagnose (peer's time / diagnose's: above
# 1, diagnose is faster) and the load average before and after.
# AIOCORE: aiocore's path (default: aiocore on PATH).  DEBUGINFOD_URLS is
# unset.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
rounds=10
out=
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	-h|--help) sed -n '3,19p' "$0"; exit 0 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "peers.sh: give LABEL=CORE:EXE[:PROFILE] ..." >&2; exit 64; }
for t in gdb eu-stack; do
	command -v $t >/dev/null || { echo "peers.sh: $t is needed" >&2; exit 1; }
done
/usr/bin/python3 -c 'import drgn' 2>/dev/null || { echo "peers.sh: python3-drgn is needed" >&2; exit 1; }
unset DEBUGINFOD_URLS
exec /usr/bin/python3 - "${AIOCORE:-$(command -v aiocore)}" "$here" "$rounds" "$out" "$@" <<'PY'
import os, statistics, subprocess, sys, time

aiocore, here, rounds, out, specs = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:]
SEED003 = {"g2": ("ThreadPoolElement", "CoroutineIOCompletion", "coroutine"),
           "g5": ("ThreadPoolElement", "ThreadPoolCo", "co"),
           "g10": ("ThreadPoolElementAio", "ThreadPoolCo", "co")}


def commands(core, exe, profile):
    cmds = [("aiocore diagnose", [aiocore, "diagnose", core]),
            ("aiocore threads", [aiocore, "threads", core])]
    if profile in SEED003:
        e, o, c = SEED003[profile]
        cmds.append(("gdb seed003.gdb", ["gdb", "-nx", "-batch", "-ex", f'set $elem_type = "{e}"',
                                         "-ex", f'set $opaque_type = "{o}"', "-ex",
                                         f'set $co_member = "{c}"', "-x",
                                         os.path.join(here, "seed003.gdb"), exe, core]))
    cmds += [("gdb thread apply all bt", ["gdb", "-nx", "-batch", "-ex", "thread apply all bt",
                                          exe, core]),
             ("eu-stack", ["eu-stack", f"--core={core}", "-e", exe]),
             ("drgn", ["/usr/bin/python3", os.path.join(here, "drgn-bt.py"), core, exe])]
    return cmds


RSS_FILE = f"/tmp/peers-rss.{os.getpid()}"


def run(argv):
    # GNU time, not this Python's wait4(): a forked Python child's own
    # pages would count in ru_maxrss before the exec.
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", RSS_FILE, *argv],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = (time.perf_counter() - t0) * 1000
    with open(RSS_FILE) as f:
        kib = int(f.read().split()[-1])
    return wall, kib / 1024, p.returncode


lines = []
load0 = os.getloadavg()
lines.append(f"Date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, "
             f"{rounds} interleaved rounds; load average at start "
             f"{load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}")
lines.append("")
summary = []
for spec in specs:
    label, rest = spec.split("=", 1)
    parts = rest.split(":")
    core, exe = parts[0], parts[1]
    profile = parts[2] if len(parts) > 2 else ""
    cmds = commands(core, exe, profile)
    for _, argv in cmds:          # warm the page cache and check it runs
        run(argv)
    wall = {n: [] for n, _ in cmds}
    rss = {n: [] for n, _ in cmds}
    codes = {n: set() for n, _ in cmds}
    for r in range(rounds):
        for n, argv in cmds:
            w, m, c = run(argv)
            wall[n].append(w); rss[n].append(m); codes[n].add(c)
        print(f"[{time.strftime('%T')}] {label}: round {r + 1}/{rounds}", file=sys.stderr)
    size = os.path.getsize(core) / (1 << 20)
    lines.append(f"### {label} ({size:.1f} MiB core)")
    lines.append("")
    lines.append("| command | wall min / median / max (ms) | peak RSS median (MiB) | exit | "
                 "ratio to diagnose, per round: min / median / max |")
    lines.append("|---|---:|---:|---:|---:|")
    d = wall["aiocore diagnose"]
    for n, _ in cmds:
        w = wall[n]
        ratios = sorted(w[i] / d[i] for i in range(rounds))
        lines.append(f"| {n} | {min(w):.1f} / {statistics.median(w):.1f} / {max(w):.1f} | "
                     f"{statistics.median(rss[n]):.1f} | {','.join(map(str, sorted(codes[n])))} | "
                     f"{ratios[0]:.2f} / {statistics.median(ratios):.2f} / {ratios[-1]:.2f} |")
    lines.append("")
load1 = os.getloadavg()
lines.append(f"Load average at the end {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}.")
text = "\n".join(lines) + "\n"
sys.stdout.write(text)
if out:
    open(out, "w").write(text)
os.unlink(RSS_FILE)
PY
