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

usage() {
	sed -n '9,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 64
}

die() {
	echo "diagnose.sh: error: $*" >&2
	exit 1
}

say() {
	echo "[$(date +%T)] $*" >&2
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
for t in gdb hyperfine jq; do
	command -v "$t" >/dev/null || die "$t is needed and not on PATH"
done
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time) is needed"
[[ $(/usr/bin/time -v true 2>&1) == *'Maximum resident set size'* ]] ||
	die "/usr/bin/time is not GNU time (no -v)"
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

# seed 003's type names per profile (see bench/seed003.gdb)
gdb_vars() {
	case "$1" in
	g2) vars=(ThreadPoolElement CoroutineIOCompletion coroutine) ;;
	g5) vars=(ThreadPoolElement ThreadPoolCo co) ;;
	g10) vars=(ThreadPoolElementAio ThreadPoolCo co) ;;
	esac
}

cmd_of() {
	local tool=$1 label=$2 core=${core_of[$2]} profile=${profile_of[$2]}
	local exe=$rtdir/aiocore-runtime-$profile
	case "$tool" in
	aiocore) cmd=("$aiocore" diagnose "$core") ;;
	seed003)
		gdb_vars "$profile"
		cmd=(gdb -nx -batch
		     -ex "set \$elem_type = \"${vars[0]}\""
		     -ex "set \$opaque_type = \"${vars[1]}\""
		     -ex "set \$co_member = \"${vars[2]}\""
		     -x "$script" "$exe" "$core") ;;
	gdb-bt) cmd=(gdb -nx -batch -ex 'thread apply all bt' "$exe" "$core") ;;
	threads) cmd=("$aiocore" threads "$core") ;;
	esac
}

tools=(aiocore seed003 gdb-bt threads)
name_of() {
	case "$1" in
	aiocore) echo "aiocore diagnose" ;;
	seed003) echo "gdb seed003.gdb" ;;
	gdb-bt) echo "gdb thread apply all bt" ;;
	threads) echo "aiocore threads" ;;
	esac
}
want_rc() { [ "$1" = aiocore ] && echo 3 || echo 0; }

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

# check LABEL: the first /usr/bin/time run of each tool is checked.
check() {
	local label=$1 f=$work/$1 n
	grep -q '^VERDICT: lost-completion' "$f.aiocore.0.out" ||
		die "aiocore diagnose did not find lost-completion on the $label core"
	n=$(sed -n 's/^.*: x86_64, \([0-9][0-9]*\) threads$/\1/p' "$f.aiocore.0.out")
	[ -n "$n" ] || die "no thread count in aiocore's output ($label)"
	threads_of[$label]=$n
	grep -q 'state = THREAD_DONE' "$f.seed003.0.out" ||
		die "seed003.gdb printed no THREAD_DONE element ($label)"
	grep -q '^\$[0-9]* = {entry = 0x[0-9a-f]* <' "$f.seed003.0.out" ||
		die "seed003.gdb printed no Coroutine ($label)"
	for t in seed003 gdb-bt; do
		[ "$(grep -c '^Thread [0-9]* (' "$f.$t.0.out")" -eq "$n" ] ||
			die "$t shows $(grep -c '^Thread [0-9]* (' "$f.$t.0.out") threads, aiocore $n ($label)"
	done
	[ "$(grep -c '^Thread [0-9]*:' "$f.threads.0.out")" -eq "$n" ] ||
		die "aiocore threads does not show $n threads ($label)"
}

rss() {
	local label=$1 tool r rc base v=()
	for tool in "${tools[@]}"; do
		cmd_of "$tool" "$label"
		v=()
		for ((r = 0; r < rss_runs; r++)); do
			base=$work/$label.$tool.$r
			rc=0
			/usr/bin/time -v -o "$base.time" "${cmd[@]}" >"$base.out" 2>"$base.err" || rc=$?
			[ "$rc" -eq "$(want_rc "$tool")" ] || {
				tail -n 20 "$base.err" >&2
				die "$tool exited $rc on the $label core: ${cmd[*]}"
			}
			v+=("$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$base.time")")
		done
		printf -v "rss_${tool//-/_}_$label" '%s' \
			"$(printf '%s\n' "${v[@]}" | sort -n | sed -n "$(( (rss_runs + 1) / 2 ))p")"
	done
}

time_all() {
	local label=$1 tool args=()
	for tool in "${tools[@]}"; do
		cmd_of "$tool" "$label"
		args+=(-n "$(name_of "$tool")" "$(printf '%q ' "${cmd[@]}")")
	done
	say "$label: hyperfine --warmup 1 --runs $runs (${#tools[@]} commands)"
	# -i: aiocore diagnose exits 3 when it finds a pattern (checked above)
	hyperfine -N -i --style basic --warmup 1 --runs "$runs" \
		--export-markdown "$work/$label.hf.md" \
		--export-json "$work/$label.hf.json" "${args[@]}" >&2 ||
		die "hyperfine failed on the $label core"
}

stat_ms() { # stat_ms LABEL TOOL FIELD
	jq -r --arg t "$(name_of "$2")" --arg f "$3" \
		'.results[] | select(.command == $t) | .[$f] * 1000' "$work/$1.hf.json"
}

for label in "${labels[@]}"; do
	make_core "$label"
	rss "$label"
	check "$label"
	time_all "$label"
done

load_end=$(cut -d' ' -f1-3 /proc/loadavg)

mib() { awk "BEGIN { printf \"%.1f\", $1 / 1048576 }"; }
kib_to_mib() { awk "BEGIN { printf \"%.1f\", $1 / 1024 }"; }
fmt1() { printf %.1f "$1"; }

report() {
	local label tool v a f
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
	echo "## Summary"
	echo
	echo "Wall: hyperfine -N, warmup 1, $runs runs (mean ± σ, and min). CPU: mean user + system"
	echo "time from the same runs. RSS: maximum resident set size (/usr/bin/time -v), median of $rss_runs."
	echo
	echo "| core | command | wall mean (ms) | wall min (ms) | CPU user+sys (ms) | peak RSS (MiB) |"
	echo "|---|---|---:|---:|---:|---:|"
	for label in "${labels[@]}"; do
		for tool in "${tools[@]}"; do
			v=rss_${tool//-/_}_$label
			echo "| $label | $(name_of "$tool") |" \
				"$(fmt1 "$(stat_ms "$label" "$tool" mean)") ± $(fmt1 "$(stat_ms "$label" "$tool" stddev)") |" \
				"$(fmt1 "$(stat_ms "$label" "$tool" min)") |" \
				"$(fmt1 "$(awk "BEGIN { print $(stat_ms "$label" "$tool" user) + $(stat_ms "$label" "$tool" system) }")") |" \
				"$(kib_to_mib "${!v}") |"
		done
	done
	echo
	echo "How many times faster / smaller aiocore diagnose is than each gdb run:"
	echo
	echo "| core | vs seed003.gdb: wall mean | wall min | CPU | RSS | vs thread apply all bt: wall mean | wall min | CPU | RSS |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	for label in "${labels[@]}"; do
		local row="| $label"
		for tool in seed003 gdb-bt; do
			for f in mean min; do
				row+=" | $(awk "BEGIN { printf \"%.1f\", $(stat_ms "$label" "$tool" "$f") / $(stat_ms "$label" aiocore "$f") }")"
			done
			row+=" | $(awk "BEGIN { printf \"%.1f\", ($(stat_ms "$label" "$tool" user) + $(stat_ms "$label" "$tool" system)) / ($(stat_ms "$label" aiocore user) + $(stat_ms "$label" aiocore system)) }")"
			v=rss_${tool//-/_}_$label; a=rss_aiocore_$label
			row+=" | $(awk "BEGIN { printf \"%.1f\", ${!v} / ${!a} }")"
		done
		echo "$row |"
	done
	for label in "${labels[@]}"; do
		echo
		echo "## Core $label ($(mib "${size_of[$label]}") MiB, ${threads_of[$label]} threads)"
		echo
		cat "$work/$label.hf.md"
		echo
		echo "| command | max RSS (KiB) |"
		echo "|---|---:|"
		for tool in "${tools[@]}"; do
			v=rss_${tool//-/_}_$label
			echo "| $(name_of "$tool") | ${!v} |"
		done
	done
}

if [ -n "$out" ]; then
	report | tee "$out"
else
	report
fi
say "done"
