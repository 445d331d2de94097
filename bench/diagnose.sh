#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Benchmark of `aiocore diagnose` against seed 003's manual gdb procedure
# (bench/seed003.gdb, run with gdb -batch) and against gdb's
# `thread apply all bt`, on lost-completion cores of the reference runtime.
# Not a test: it takes minutes.
#
#   bench/diagnose.sh [--runs N] [--big-threads N] [--out FILE]
#
#   --runs N         hyperfine runs per command (default 10, after 1 warmup)
#   --big-threads N  thread-pool size and queue depth of the big core (64)
#   --out FILE       also write the markdown report to FILE
#
# Environment: AIOCORE (default: `aiocore` on PATH), RUNTIME_DIR (the
# directory holding aiocore-runtime-g2|g5|g10; default: runtime/ next to
# AIOCORE's build tree), TMPDIR (where the cores go; default /tmp). Needs
# gdb, hyperfine, jq and GNU time at /usr/bin/time.
#
# Cores: the inject-mode lost-completion core of each profile (g2, g5,
# g10) and a big one: g5 with --threads N --queue-depth N (N pool workers,
# each with its stack in the core). Commands compared on each core:
#
#   aiocore diagnose CORE
#   gdb -nx -batch -ex 'set $elem_type = ...' ... -x bench/seed003.gdb EXE CORE
#   gdb -nx -batch -ex 'thread apply all bt' EXE CORE
#   aiocore threads CORE         (reference: the unwinding part of diagnose)
#
# Each command's output is checked before timing: aiocore says
# lost-completion (exit 3), the seed 003 script prints a THREAD_DONE element
# and its Coroutine, and both gdb runs show as many threads as aiocore.
# The markdown report goes to stdout (and --out); progress goes to stderr.

set -euo pipefail

runs=10
big_threads=64
out=
rss_runs=3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR
. "$here/lib.sh"

usage() {
	sed -n '9,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 64
}

while [ $# -gt 0 ]; do
	case "$1" in
	--runs) [ $# -ge 2 ] || usage; runs=$2; shift 2 ;;
	--big-threads) [ $# -ge 2 ] || usage; big_threads=$2; shift 2 ;;
	--out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
	-h|--help) usage ;;
	*) echo "diagnose.sh: unknown argument: $1" >&2; usage ;;
	esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "--runs wants a positive integer"
[[ $big_threads =~ ^[1-9][0-9]*$ ]] || die "--big-threads wants a positive integer"

aiocore=$(command -v "${AIOCORE:-aiocore}") ||
	die "aiocore not found (set AIOCORE=/path/to/aiocore)"
rtdir=${RUNTIME_DIR:-$(dirname "$(dirname "$(dirname "$aiocore")")")/runtime}
for p in g2 g5 g10; do
	[ -x "$rtdir/aiocore-runtime-$p" ] ||
		die "no $rtdir/aiocore-runtime-$p (set RUNTIME_DIR)"
done
need_tools gdb hyperfine jq
script=$here/seed003.gdb
[ -r "$script" ] || die "no $script"

# No tool may go to the network for debug info: same conditions for all.
unset DEBUGINFOD_URLS

work=$(mktemp -d "${TMPDIR:-/tmp}/aiocore-bench-diag.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# The cores: label profile runtime-arguments...
labels=(g2 g5 g10 big)
declare -A profile_of args_of core_of size_of threads_of
profile_of=([g2]=g2 [g5]=g5 [g10]=g10 [big]=g5)
args_of=([g2]='' [g5]='' [g10]='' [big]="--threads $big_threads --queue-depth $big_threads")

tools=("${diag_tools[@]}")
name_of() { diag_name_of "$1"; }
want_rc() { [ "$1" = aiocore ] && echo 3 || echo 0; }
cmd_of() {
	local profile=${profile_of[$2]}
	diag_cmd "$1" "$profile" "$rtdir/aiocore-runtime-$profile" "${core_of[$2]}"
}
# -i: aiocore diagnose exits 3 when it finds a pattern (checked by rss)
hf_ignore_rc=1

make_core() {
	local label=$1 profile=${profile_of[$1]} core=$work/$1.core
	say "$label: aiocore-runtime-$profile --variant lost-completion ${args_of[$label]}"
	# shellcheck disable=SC2086
	"$rtdir/aiocore-runtime-$profile" --variant lost-completion \
		${args_of[$label]} --out "$core" >/dev/null 2>"$work/$label.rt.err" || {
		cat "$work/$label.rt.err" >&2
		die "the runtime did not hang ($label)"
	}
	core_of[$label]=$core
	size_of[$label]=$(stat -c %s "$core")
}

for label in "${labels[@]}"; do
	make_core "$label"
	rss "$label"
	check "$label"
	time_all "$label"
done

load_end=$(cut -d' ' -f1-3 /proc/loadavg)

report() {
	local label
	echo "# aiocore diagnose vs the seed 003 gdb procedure"
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- Machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1)," \
		"$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM"
	echo "- Load average (1/5/15 min): $load_start at start, $load_end at end"
	echo "- aiocore: $aiocore ($("$aiocore" --version 2>/dev/null | head -1 || echo 'no --version'))"
	echo "- $(gdb --version | head -1)"
	echo "- $(hyperfine --version)"
	echo
	echo "| core | runtime | arguments | threads | core size (MiB) |"
	echo "|---|---|---|---:|---:|"
	for label in "${labels[@]}"; do
		echo "| $label | aiocore-runtime-${profile_of[$label]} | --variant lost-completion${args_of[$label]:+ ${args_of[$label]}} |" \
			"${threads_of[$label]} | $(mib "${size_of[$label]}") |"
	done
	echo
	report_summary core
	for label in "${labels[@]}"; do
		echo
		echo "## Core $label ($(mib "${size_of[$label]}") MiB, ${threads_of[$label]} threads)"
		echo
		report_label "$label"
	done
}

print_report
