#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The whole suite, N times in a row, each on a fresh clone: what "green on
# every run" is measured with (docs/robustness.md).
#
#   tests/repeat.sh [-n N] [--rev REV] [--keep] WORKDIR
#
# Each run clones this repository into WORKDIR/clone (removed first),
# checks out REV (default HEAD), and runs README's test command with
# AIOCORE_REQUIRE_QEMU=1 (the real-QEMU suites may not skip), its log in
# WORKDIR/runI.log.  One line per run goes to WORKDIR/summary.txt and to
# stdout: revision, exit code, seconds, load average, the closing count.
# Stops at the first red run unless --keep.  Exit 0 if every run was
# green, 1 otherwise, 64 on usage errors.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
n=5
rev=HEAD
keep=0
while [ $# -gt 0 ]; do
	case $1 in
	-n) n=$2; shift 2 ;;
	--rev) rev=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	-h|--help) sed -n '4,15s/^# \{0,1\}//p' "$0"; exit 0 ;;
	-*) echo "repeat.sh: unknown option $1" >&2; exit 64 ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || { echo "usage: tests/repeat.sh [-n N] [--rev REV] [--keep] WORKDIR" >&2; exit 64; }
case $n in ''|*[!0-9]*|0) echo "repeat.sh: -n wants a positive number" >&2; exit 64 ;; esac
work=$(mkdir -p "$1" && cd "$1" && pwd)
commit=$(git -C "$top" rev-parse -q --verify "$rev^{commit}") || { echo "repeat.sh: no revision $rev" >&2; exit 64; }
status=0
for i in $(seq 1 "$n"); do
	rm -rf "$work/clone"
	git clone -q "$top" "$work/clone" && git -C "$work/clone" checkout -q "$commit" || exit 1
	start=$(date +%s)
	(cd "$work/clone" && AIOCORE_REQUIRE_QEMU=1 tests/run "$work/clone/build" > "$work/run$i.log" 2>&1)
	rc=$?
	line="run $i/$n at ${commit:0:7}: rc=$rc, $(( $(date +%s) - start )) s, load $(cut -d' ' -f1-3 /proc/loadavg), $(tail -1 "$work/run$i.log")"
	echo "$line" | tee -a "$work/summary.txt"
	if [ $rc -ne 0 ]; then
		status=1
		[ $keep -eq 1 ] || break
	fi
done
exit $status
