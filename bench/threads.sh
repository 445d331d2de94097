#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Benchmark of `aiocore threads` against eu-stack and gdb, on a small core
# and on a big one (same program, same 5 threads, plus N GiB of touched
# anonymous memory). Not a test: it takes minutes and needs GiBs of disk.
#
#   bench/threads.sh [--big-gib N] [--runs N] [--out FILE]
#
#   --big-gib N   size of the touched mapping in the big core (default 3)
#   --runs N      hyperfine runs per command (default 5, after 1 warmup)
#   --out FILE    also write the markdown report to FILE
#
# Environment: AIOCORE (default: `aiocore` on PATH), TMPDIR (where the
# cores go; default /tmp). Needs gcc, gcore, gdb, eu-stack, hyperfine, jq,
# GNU time at /usr/bin/time, and ptrace rights over its own children.
#
# Four commands are compared: `aiocore threads`, `eu-stack` (default output:
# symbol names only), `eu-stack -i -s` (also inlined frames and source
# lines, the same work as aiocore) and gdb's `thread apply all bt`.
#
# The markdown report goes to stdout (and --out); progress goes to stderr.
# Exits non-zero, saying why, if any tool fails or if the tools do not all
# see the same 5 threads.

set -euo pipefail

big_gib=3
runs=5
out=
rss_runs=3
nthreads=5
# A function that appears in each thread's stack, in every tool's output.
markers=(park_main park_in_cond_wait park_in_poll park_in_nanosleep
	 park_in_sem_wait)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR
. "$here/lib.sh"

usage() {
	sed -n '8,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 64
}

while [ $# -gt 0 ]; do
	case "$1" in
	--big-gib) [ $# -ge 2 ] || usage; big_gib=$2; shift 2 ;;
	--runs) [ $# -ge 2 ] || usage; runs=$2; shift 2 ;;
	--out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
	-h|--help) usage ;;
	*) echo "threads.sh: unknown argument: $1" >&2; usage ;;
	esac
done
[[ $big_gib =~ ^[1-9][0-9]*$ ]] || die "--big-gib wants a positive integer"
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "--runs wants a positive integer"

aiocore=$(command -v "${AIOCORE:-aiocore}") ||
	die "aiocore not found (set AIOCORE=/path/to/aiocore)"
need_tools gcc gcore gdb eu-stack hyperfine jq

# No tool may go to the network for debug info: same conditions for all.
unset DEBUGINFOD_URLS

work=$(mktemp -d "${TMPDIR:-/tmp}/aiocore-bench.XXXXXX")
target_pid=
cleanup() {
	if [ -n "$target_pid" ]; then
		kill "$target_pid" 2>/dev/null || true
		wait "$target_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need_kib=$(( (big_gib << 20) + (512 << 10) ))
avail_kib=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
[ "$avail_kib" -ge "$need_kib" ] ||
	die "$work has $((avail_kib >> 20)) GiB free, the big core needs ~$((need_kib >> 20)) GiB"

load_start=$(cut -d' ' -f1-3 /proc/loadavg)

say "building big-touch (gcc -O2 -g) in $work"
exe=$work/big-touch
gcc -O2 -g -Wall -pthread "$here/programs/big-touch.c" -o "$exe" ||
	die "cannot build bench/programs/big-touch.c"

# make_core LABEL GIB: runs big-touch GIB, gcores it, kills it.
# Sets core_path, core_seconds.
make_core() {
	local label=$1 gib=$2 ready=$work/$1.ready pid i
	say "$label: starting big-touch $gib (touches $gib GiB first)"
	"$exe" "$gib" >"$ready" &
	target_pid=$!
	for ((i = 0; i < 600; i++)); do
		grep -q '^ready ' "$ready" && break
		kill -0 "$target_pid" 2>/dev/null ||
			die "big-touch $gib exited before it was ready"
		sleep 0.5
	done
	pid=$(awk '/^ready / { print $2 }' "$ready")
	[ "$pid" = "$target_pid" ] || die "big-touch $gib not ready after 300 s"
	say "$label: gcore of pid $pid (writes ~$gib GiB + ~30 MiB)"
	local t0 t1
	t0=$(date +%s.%N)
	gcore -o "$work/$label" "$pid" >"$work/$label.gcore.log" 2>&1 || {
		cat "$work/$label.gcore.log" >&2
		die "gcore failed on big-touch $gib"
	}
	t1=$(date +%s.%N)
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	target_pid=
	core_path=$work/$label.$pid
	[ -s "$core_path" ] || die "gcore wrote no $core_path"
	core_seconds=$(awk "BEGIN { print $t1 - $t0 }")
	say "$label: $(du -h --apparent-size "$core_path" | cut -f1) core in $(printf %.1f "$core_seconds") s"
}

# The commands, as argument arrays; name_of gives the name in the report.
cmd_of() {
	local tool=$1 core=$2
	case "$tool" in
	aiocore) cmd=("$aiocore" threads "$core") ;;
	eu-stack) cmd=(eu-stack "--core=$core") ;;
	eu-stack-i-s) cmd=(eu-stack -i -s "--core=$core") ;;
	gdb) cmd=(gdb -nx -batch -ex 'thread apply all bt' "$exe" "$core") ;;
	esac
}

# tids TOOL FILE: the thread ids the tool printed, sorted.
tids() {
	case "$1" in
	aiocore) sed -n 's/^Thread \([0-9][0-9]*\):.*/\1/p' "$2" ;;
	eu-stack*) sed -n 's/^TID \([0-9][0-9]*\):.*/\1/p' "$2" ;;
	gdb) sed -n 's/^Thread [0-9][0-9]* (.*(LWP \([0-9][0-9]*\))).*/\1/p' "$2" ;;
	esac | sort -n | tr '\n' ' '
}

tools=(aiocore eu-stack eu-stack-i-s gdb)
name_of() {
	case "$1" in
	aiocore) echo "aiocore threads" ;;
	eu-stack-i-s) echo "eu-stack -i -s" ;;
	*) echo "$1" ;;
	esac
}

# check_and_rss LABEL CORE: runs each tool rss_runs times under
# /usr/bin/time -v; the first run's output is checked (exit 0, 5 threads,
# the same tids for all the tools, every marker function present).
# Sets rss_<tool>_<label> and minflt_<tool>_<label> (medians), and
# rchar_<tool>_<label>: bytes it read with read()/pread() (one more run,
# through sh, from sh's /proc/PID/io once the tool is reaped, minus sh's own).
rchar_of() {
	sh -c '"$@" >/dev/null 2>&1; sed -n "s/^rchar: //p" /proc/$$/io' sh "$@"
}
sh_rchar=$(sh -c ': ; sed -n "s/^rchar: //p" /proc/$$/io')

check_and_rss() {
	local label=$1 core=$2 tool r rc ref='' got m base n
	for tool in "${tools[@]}"; do
		cmd_of "$tool" "$core"
		local rss=() flt=()
		for ((r = 0; r < rss_runs; r++)); do
			base=$work/$label.$tool.$r
			rc=0
			/usr/bin/time -v -o "$base.time" "${cmd[@]}" \
				>"$base.out" 2>"$base.err" || rc=$?
			if [ "$rc" -ne 0 ]; then
				echo "---- $tool stderr (last 20 lines):" >&2
				tail -n 20 "$base.err" >&2
				die "$tool failed (exit $rc) on the $label core: ${cmd[*]}"
			fi
			rss+=("$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$base.time")")
			flt+=("$(awk -F': ' '/Minor .*page faults/ { print $2 }' "$base.time")")
		done
		got=$(tids "$tool" "$work/$label.$tool.0.out")
		n=$(wc -w <<<"$got")
		[ "$n" -eq "$nthreads" ] ||
			die "$tool shows $n threads on the $label core, expected $nthreads (tids: $got)"
		if [ -z "$ref" ]; then
			ref=$got
		elif [ "$got" != "$ref" ]; then
			die "$tool shows tids [$got], aiocore shows [$ref] ($label core)"
		fi
		for m in "${markers[@]}"; do
			grep -q "$m" "$work/$label.$tool.0.out" ||
				die "$tool output on the $label core has no $m frame"
		done
		printf -v "rss_${tool//-/_}_$label" '%s' "$(median "${rss[@]}")"
		printf -v "minflt_${tool//-/_}_$label" '%s' "$(median "${flt[@]}")"
		printf -v "rchar_${tool//-/_}_$label" '%s' \
			"$(( $(rchar_of "${cmd[@]}") - sh_rchar ))"
	done
	say "$label: all ${#tools[@]} commands see the same $nthreads threads: $ref"
}

declare -A core_size core_time
for label in small big; do
	if [ "$label" = small ]; then gib=0; else gib=$big_gib; fi
	make_core "$label" "$gib"
	core_size[$label]=$(stat -c %s "$core_path")
	core_time[$label]=$core_seconds
	check_and_rss "$label" "$core_path"
	time_all "$label" "$core_path"
	say "$label: deleting the core"
	rm -f "$core_path"
done

load_end=$(cut -d' ' -f1-3 /proc/loadavg)

report() {
	local tool v s b
	echo "# aiocore threads benchmark"
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- Machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1)," \
		"$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM"
	echo "- Load average (1/5/15 min): $load_start at start, $load_end at end"
	echo "- aiocore: $aiocore ($("$aiocore" --version 2>/dev/null | head -1 || echo 'no --version'))"
	echo "- $(gdb --version | head -1)"
	echo "- $(eu-stack --version | head -1)"
	echo "- $(hyperfine --version)"
	echo "- Target: bench/programs/big-touch.c, gcc -O2 -g, 5 threads (main + 4)"
	echo
	echo "| core | big-touch argument | core size (MiB) | gcore time (s) |"
	echo "|---|---:|---:|---:|"
	echo "| small | 0 | $(mib "${core_size[small]}") | $(printf %.1f "${core_time[small]}") |"
	echo "| big | $big_gib | $(mib "${core_size[big]}") | $(printf %.1f "${core_time[big]}") |"
	echo
	echo "Commands (CORE and EXE are the core and the big-touch binary):"
	echo
	echo '```'
	echo "aiocore threads CORE"
	echo "eu-stack --core=CORE"
	echo "eu-stack -i -s --core=CORE"
	echo "gdb -nx -batch -ex 'thread apply all bt' EXE CORE"
	echo '```'
	echo
	echo "Each tool's output was checked: exit status 0, the same $nthreads thread ids,"
	echo "and a frame of ${markers[*]} present."
	echo
	echo "## Summary"
	echo
	echo "| command | small: mean wall (ms) | big: mean wall (ms) | big / small | small: peak RSS (MiB) | big: peak RSS (MiB) |"
	echo "|---|---:|---:|---:|---:|---:|"
	for tool in "${tools[@]}"; do
		s=$(printf %.1f "$(stat_ms small "$tool" mean)")
		b=$(printf %.1f "$(stat_ms big "$tool" mean)")
		v=rss_${tool//-/_}_small; local rs=${!v}
		v=rss_${tool//-/_}_big; local rb=${!v}
		echo "| $(name_of "$tool") | $s | $b | $(awk "BEGIN { printf \"%.2f\", $b / $s }")" \
			"| $(kib_to_mib "$rs") | $(kib_to_mib "$rb") |"
	done
	echo
	echo "## Wall time (hyperfine -N, warmup 1, $runs runs; cores in the page cache)"
	echo
	echo "### Small core ($(mib "${core_size[small]}") MiB)"
	echo
	cat "$work/small.hf.md"
	echo
	echo "### Big core ($(mib "${core_size[big]}") MiB)"
	echo
	cat "$work/big.hf.md"
	echo
	echo "## Peak memory (/usr/bin/time -v, median of $rss_runs runs)"
	echo
	echo "Maximum resident set size; minor page faults show how much memory"
	echo "(including pages of mapped files) each tool touched; bytes read are"
	echo "what it read with read()/pread() (rchar in /proc/PID/io, one run)."
	echo
	echo "| command | core | max RSS (KiB) | minor page faults | bytes read |"
	echo "|---|---|---:|---:|---:|"
	for label in small big; do
		for tool in "${tools[@]}"; do
			v=rss_${tool//-/_}_$label; local r=${!v}
			v=minflt_${tool//-/_}_$label; local f=${!v}
			v=rchar_${tool//-/_}_$label; local c=${!v}
			echo "| $(name_of "$tool") | $label | $r | $f | $c |"
		done
	done
}

print_report
