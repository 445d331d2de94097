#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Benchmark of `aiocore diagnose` against seed 003's manual gdb procedure
# (bench/seed003.gdb) and gdb's `thread apply all bt`, on lost-completion
# cores of real QEMU: qemu-io from Debian's source packages of QEMU 5.2,
# 7.2 and 10.0, built with debuginfo by tests/qemu/build-qemu.sh.
#
#   bench/real-qemu.sh [--runs N] [--versions "5.2 7.2 10.0"] [--out FILE]
#
#   --runs N        hyperfine runs per command (default 10, after 1 warmup)
#   --versions V    the QEMU versions, space-separated (default 5.2 7.2 10.0)
#   --out FILE      also write the markdown report to FILE
#
# Environment: AIOCORE (default: `aiocore` on PATH), AIOCORE_QEMU_CACHE
# (build-qemu.sh's cache; a finished build there is reused, otherwise it
# is built, which takes long and needs deb.debian.org), TMPDIR (where the
# cores go; default /tmp; ~160 MiB per version). Needs gdb, gcore,
# hyperfine, jq, readelf (or eu-readelf), GNU time at /usr/bin/time, and
# ptrace rights over its own children.
#
# The hang is real: qemu-io -f raw -c 'read 0 1M' DISK runs under gdb with
# fixtures/inject/inject-lost-completion.gdb, which makes the pool worker skip
# the schedule of the completion BH and detaches; qemu-io then sleeps
# forever, gcore takes its core and it is killed. Commands compared on each
# core (EXE is that version's qemu-io):
#
#   aiocore diagnose CORE
#   gdb -nx -batch -ex 'set $elem_type = ...' ... -x bench/seed003.gdb EXE CORE
#   gdb -nx -batch -ex 'thread apply all bt' EXE CORE
#   aiocore threads CORE         (reference: the unwinding part of diagnose)
#
# Each command's output is checked before timing: aiocore says
# lost-completion (exit 3), the seed 003 script prints a THREAD_DONE element
# and its Coroutine, and both gdb runs and `aiocore threads` show as many
# threads as aiocore. The markdown report goes to stdout (and --out);
# progress goes to stderr.

set -euo pipefail

runs=10
versions=(5.2 7.2 10.0)
out=
rss_runs=3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(dirname "$here")
# shellcheck source-path=SCRIPTDIR
. "$here/lib.sh"

usage() {
	sed -n '9,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 64
}

while [ $# -gt 0 ]; do
	case "$1" in
	--runs) [ $# -ge 2 ] || usage; runs=$2; shift 2 ;;
	--versions) [ $# -ge 2 ] || usage; read -r -a versions <<<"$2"; shift 2 ;;
	--out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
	-h|--help) usage ;;
	*) echo "real-qemu.sh: unknown argument: $1" >&2; usage ;;
	esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "--runs wants a positive integer"
[ ${#versions[@]} -gt 0 ] || die "--versions is empty"
for v in "${versions[@]}"; do
	case "$v" in
	5.2|7.2|10.0) ;;
	*) die "unknown QEMU version $v (5.2, 7.2 or 10.0)" ;;
	esac
done

aiocore=$(command -v "${AIOCORE:-aiocore}") ||
	die "aiocore not found (set AIOCORE=/path/to/aiocore)"
need_tools gdb gcore hyperfine jq
if command -v readelf >/dev/null; then
	readelf=readelf
elif command -v eu-readelf >/dev/null; then
	readelf=eu-readelf
else
	die "readelf or eu-readelf is needed"
fi
script=$here/seed003.gdb
inject=$top/fixtures/inject/inject-lost-completion.gdb
build_qemu=$top/tests/qemu/build-qemu.sh
for f in "$script" "$inject"; do
	[ -r "$f" ] || die "no $f"
done
[ -x "$build_qemu" ] || die "no $build_qemu"

# No tool may go to the network for debug info: same conditions for all.
unset DEBUGINFOD_URLS

work=$(mktemp -d "${TMPDIR:-/tmp}/aiocore-bench-qemu.XXXXXX")
hung=()
cleanup() {
	local pid
	for pid in "${hung[@]}"; do
		kill -9 "$pid" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

load_start=$(cut -d' ' -f1-3 /proc/loadavg)

labels=("${versions[@]}")
declare -A exe_of core_of size_of threads_of qemu_of exe_size_of dinfo_of load_after

# The layout of seed 003's type names per QEMU version (see bench/seed003.gdb):
# 5.2 and 7.2 have the g5 one, 10.0 the g10 one.
declare -A profile_of=([5.2]=g5 [7.2]=g5 [10.0]=g10)

tools=("${diag_tools[@]}")
name_of() { diag_name_of "$1"; }
want_rc() { [ "$1" = aiocore ] && echo 3 || echo 0; }
cmd_of() { diag_cmd "$1" "${profile_of[$2]}" "${exe_of[$2]}" "${core_of[$2]}"; }
# -i: aiocore diagnose exits 3 when it finds a pattern (checked by rss)
hf_ignore_rc=1
label_prefix="QEMU "

# build LABEL: build-qemu.sh prints the build directory last on stdout.
build() {
	local label=$1 dir
	say "QEMU $label: tests/qemu/build-qemu.sh $label (reused if cached)"
	dir=$("$build_qemu" "$label" 2>"$work/$label.build.err" | tail -n 1) || {
		tail -n 20 "$work/$label.build.err" >&2
		die "build-qemu.sh $label failed"
	}
	[ -x "$dir/qemu-io" ] || die "build-qemu.sh $label: no qemu-io in '$dir'"
	exe_of[$label]=$dir/qemu-io
	exe_size_of[$label]=$(stat -c %s "$dir/qemu-io")
	# .debug_info's size as the section header has it (hex, both readelfs)
	local hex
	hex=$($readelf -SW "$dir/qemu-io" | awk '
		{ for (i = 1; i <= NF; i++) if ($i == ".debug_info") { print $(i + 4); exit } }')
	[[ $hex =~ ^[0-9a-fA-F]+$ ]] || die "qemu-io $label has no .debug_info"
	dinfo_of[$label]=$((16#$hex))
}

# all_asleep PID: every thread sleeps in the kernel (state S), twice in a row.
all_asleep() {
	local pid=$1 calm=0 i t s ok
	for ((i = 0; i < 1000; i++)); do
		ok=1
		for t in /proc/"$pid"/task/*/stat; do
			s=$(sed 's/.*) //' "$t" 2>/dev/null | cut -d' ' -f1) || s='?'
			[ "$s" = S ] || ok=0
		done
		if [ "$ok" = 1 ]; then
			calm=$((calm + 1))
			[ "$calm" -ge 2 ] && return 0
		else
			calm=0
		fi
		sleep 0.02
	done
	return 1
}

make_core() {
	local label=$1 exe=${exe_of[$1]} log=$work/$1.inject.log pid core=$work/$1.core
	say "QEMU $label: qemu-io -f raw -c 'read 0 1M' under inject-lost-completion.gdb"
	# gdb's output goes to a file, not a pipe: the inferior inherits it and
	# outlives gdb.
	(cd "$work" && timeout 120 gdb -batch -nx -q -x "$inject" \
		--args "$exe" -f raw -c 'read 0 1M' "$work/disk.raw" \
		</dev/null >"$log" 2>&1) || true
	pid=$(sed -n 's/^\[Inferior 1 (process \([0-9][0-9]*\)) detached\]$/\1/p' "$log" | head -n 1)
	[ -n "$pid" ] || { cat "$log" >&2; die "the injected qemu-io $label did not stay hung"; }
	hung+=("$pid")
	all_asleep "$pid" || die "the threads of qemu-io $label (pid $pid) did not all go to sleep"
	if ! gcore -o "$work/$label.gcore" "$pid" >"$work/$label.gcore.log" 2>&1 ||
		[ ! -f "$work/$label.gcore.$pid" ]; then
		cat "$work/$label.gcore.log" >&2
		die "gcore $pid failed ($label)"
	fi
	kill -9 "$pid" 2>/dev/null || true
	mv "$work/$label.gcore.$pid" "$core"
	core_of[$label]=$core
	size_of[$label]=$(stat -c %s "$core")
}

# The disk qemu-io reads: data, not holes, so the read is a real one.
head -c 4M /dev/urandom >"$work/disk.raw"

for label in "${labels[@]}"; do
	build "$label"
	make_core "$label"
	rss "$label"
	check "$label"
	qemu_of[$label]=$(sed -n 's/^QEMU: \(.*\) (from the executable)$/\1/p' "$work/$label.aiocore.0.out")
	time_all "$label"
	load_after[$label]=$(cut -d' ' -f1-3 /proc/loadavg)
done

load_end=$(cut -d' ' -f1-3 /proc/loadavg)

report() {
	local label
	echo "# aiocore diagnose vs the seed 003 gdb procedure on real QEMU"
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- Machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1)," \
		"$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM"
	echo "- Load average (1/5/15 min): $load_start at start, $load_end at end" \
		"(after each version: $(for label in "${labels[@]}"; do printf '%s: %s; ' "$label" "${load_after[$label]}"; done | sed 's/; $//'))"
	echo "- aiocore: $aiocore ($("$aiocore" --version 2>/dev/null | head -1 || echo 'no --version'))"
	echo "- $(gdb --version | head -1)"
	echo "- $(hyperfine --version)"
	echo
	echo "| QEMU | qemu-io says | threads | core size (MiB) | qemu-io size (MiB) | its .debug_info (MiB) |"
	echo "|---|---|---:|---:|---:|---:|"
	for label in "${labels[@]}"; do
		echo "| $label | ${qemu_of[$label]:-?} | ${threads_of[$label]} | $(mib "${size_of[$label]}") |" \
			"$(mib "${exe_size_of[$label]}") | $(mib "${dinfo_of[$label]}") |"
	done
	echo
	report_summary QEMU
	for label in "${labels[@]}"; do
		echo
		echo "## QEMU $label ($(mib "${size_of[$label]}") MiB core, ${threads_of[$label]} threads)"
		echo
		report_label "$label"
	done
}

print_report
