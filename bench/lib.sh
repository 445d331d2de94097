# shellcheck shell=bash disable=SC2034,SC2154 # the callers set and read the globals
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Functions shared by the bench scripts (diagnose.sh, real-qemu.sh,
# threads.sh), sourced with `. "$here/lib.sh"`; it runs nothing itself.
#
# What the caller defines, for the functions that use it:
#   work          scratch directory (check, rss, time_all, stat_ms, report_*)
#   runs          hyperfine runs per command (time_all, report_summary)
#   rss_runs      /usr/bin/time runs per command (rss, report_summary)
#   tools         array of the commands' keys, in report order
#   cmd_of TOOL ARG   sets the array cmd to TOOL's command line
#   name_of TOOL  TOOL's name in hyperfine's output and in the report
#   want_rc TOOL  the exit status TOOL must have (rss)
#   labels        array of the labels, in report order (report_summary)
#   threads_of    associative array, LABEL -> thread count (check sets it)
#   aiocore, script   aiocore's path and seed003.gdb's (diag_cmd)
#   report        prints the markdown report (print_report)
#   out           --out FILE, or empty (print_report)
# and optionally:
#   label_prefix  put before LABEL in time_all's progress line
#   hf_ignore_rc  non-empty: hyperfine -i (a command exits non-zero on purpose)

die() {
	echo "${0##*/}: error: $*" >&2
	exit 1
}

say() {
	echo "[$(date +%T)] $*" >&2
}

# need_tools TOOL...: each TOOL on PATH, and GNU time at /usr/bin/time.
need_tools() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || die "$t is needed and not on PATH"
	done
	[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time) is needed"
	[[ $(/usr/bin/time -v true 2>&1) == *'Maximum resident set size'* ]] ||
		die "/usr/bin/time is not GNU time (no -v)"
}

mib() { awk "BEGIN { printf \"%.1f\", $1 / 1048576 }"; }
kib_to_mib() { awk "BEGIN { printf \"%.1f\", $1 / 1024 }"; }
fmt1() { printf %.1f "$1"; }

# median N...: the middle one of the numbers (the upper one of an even count).
median() {
	printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"
}

# The commands diagnose.sh and real-qemu.sh compare, keyed as in diag_tools.
diag_tools=(aiocore seed003 gdb-bt threads)
diag_name_of() {
	case "$1" in
	aiocore) echo "aiocore diagnose" ;;
	seed003) echo "gdb seed003.gdb" ;;
	gdb-bt) echo "gdb thread apply all bt" ;;
	threads) echo "aiocore threads" ;;
	esac
}

# diag_cmd TOOL PROFILE EXE CORE: sets cmd to TOOL's command on CORE of EXE;
# PROFILE (g2, g5 or g10: the runtime's, or the QEMU layout it matches)
# gives seed 003's type names (see bench/seed003.gdb).
diag_cmd() {
	local tool=$1 profile=$2 exe=$3 core=$4 vars=()
	case "$tool" in
	aiocore) cmd=("$aiocore" diagnose "$core") ;;
	seed003)
		case "$profile" in
		g2) vars=(ThreadPoolElement CoroutineIOCompletion coroutine) ;;
		g5) vars=(ThreadPoolElement ThreadPoolCo co) ;;
		g10) vars=(ThreadPoolElementAio ThreadPoolCo co) ;;
		esac
		cmd=(gdb -nx -batch
		     -ex "set \$elem_type = \"${vars[0]}\""
		     -ex "set \$opaque_type = \"${vars[1]}\""
		     -ex "set \$co_member = \"${vars[2]}\""
		     -x "$script" "$exe" "$core") ;;
	gdb-bt) cmd=(gdb -nx -batch -ex 'thread apply all bt' "$exe" "$core") ;;
	threads) cmd=("$aiocore" threads "$core") ;;
	esac
}

# check LABEL: the first /usr/bin/time run of each of diag_tools is checked.
check() {
	local label=$1 f=$work/$1 n t
	grep -q '^VERDICT: lost-completion' "$f.aiocore.0.out" ||
		die "aiocore diagnose did not find lost-completion on the $label core"
	n=$(sed -n 's/^.*: x86_64, \([0-9][0-9]*\) threads$/\1/p' "$f.aiocore.0.out")
	[ -n "$n" ] || die "no thread count in aiocore's output ($label)"
	# shellcheck disable=SC2004 # threads_of is the caller's associative array
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

# rss_of TOOL LABEL: the median peak RSS (KiB) that rss found.
rss_of() {
	local v=rss_${1//-/_}_${2//./_}
	echo "${!v}"
}

# rss LABEL: runs each tool rss_runs times under /usr/bin/time -v (outputs
# in $work/LABEL.TOOL.RUN.out), checks its exit status, and sets
# rss_<tool>_<label> (see rss_of).
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
		printf -v "rss_${tool//-/_}_${label//./_}" '%s' "$(median "${v[@]}")"
	done
}

# time_all LABEL [ARG]: hyperfine, all the commands in one run (cmd_of gets
# ARG, default LABEL); writes $work/LABEL.hf.md and $work/LABEL.hf.json.
time_all() {
	local label=$1 arg=${2:-$1} tool args=() ignore=()
	for tool in "${tools[@]}"; do
		cmd_of "$tool" "$arg"
		args+=(-n "$(name_of "$tool")" "$(printf '%q ' "${cmd[@]}")")
	done
	[ -z "${hf_ignore_rc:-}" ] || ignore=(-i)
	say "${label_prefix:-}$label: hyperfine --warmup 1 --runs $runs (${#tools[@]} commands)"
	hyperfine -N "${ignore[@]}" --style basic --warmup 1 --runs "$runs" \
		--export-markdown "$work/$label.hf.md" \
		--export-json "$work/$label.hf.json" "${args[@]}" >&2 ||
		die "hyperfine failed on the $label core"
}

stat_ms() { # stat_ms LABEL TOOL FIELD
	jq -r --arg t "$(name_of "$2")" --arg f "$3" \
		'.results[] | select(.command == $t) | .[$f] * 1000' "$work/$1.hf.json"
}

# report_summary COLUMN: the summary tables of diagnose.sh and real-qemu.sh,
# one row per label of the array labels; COLUMN heads the label column.
report_summary() {
	local col=$1 label tool f row
	echo "## Summary"
	echo
	echo "Wall: hyperfine -N, warmup 1, $runs runs (mean ± σ, and min). CPU: mean user + system"
	echo "time from the same runs. RSS: maximum resident set size (/usr/bin/time -v), median of $rss_runs."
	echo
	echo "| $col | command | wall mean (ms) | wall min (ms) | CPU user+sys (ms) | peak RSS (MiB) |"
	echo "|---|---|---:|---:|---:|---:|"
	for label in "${labels[@]}"; do
		for tool in "${tools[@]}"; do
			echo "| $label | $(name_of "$tool") |" \
				"$(fmt1 "$(stat_ms "$label" "$tool" mean)") ± $(fmt1 "$(stat_ms "$label" "$tool" stddev)") |" \
				"$(fmt1 "$(stat_ms "$label" "$tool" min)") |" \
				"$(fmt1 "$(awk "BEGIN { print $(stat_ms "$label" "$tool" user) + $(stat_ms "$label" "$tool" system) }")") |" \
				"$(kib_to_mib "$(rss_of "$tool" "$label")") |"
		done
	done
	echo
	echo "How many times faster / smaller aiocore diagnose is than each gdb run:"
	echo
	echo "| $col | vs seed003.gdb: wall mean | wall min | CPU | RSS | vs thread apply all bt: wall mean | wall min | CPU | RSS |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	for label in "${labels[@]}"; do
		row="| $label"
		for tool in seed003 gdb-bt; do
			for f in mean min; do
				row+=" | $(awk "BEGIN { printf \"%.1f\", $(stat_ms "$label" "$tool" "$f") / $(stat_ms "$label" aiocore "$f") }")"
			done
			row+=" | $(awk "BEGIN { printf \"%.1f\", ($(stat_ms "$label" "$tool" user) + $(stat_ms "$label" "$tool" system)) / ($(stat_ms "$label" aiocore user) + $(stat_ms "$label" aiocore system)) }")"
			row+=" | $(awk "BEGIN { printf \"%.1f\", $(rss_of "$tool" "$label") / $(rss_of aiocore "$label") }")"
		done
		echo "$row |"
	done
}

# report_label LABEL: hyperfine's table of LABEL and the RSS of each tool.
report_label() {
	local label=$1 tool
	cat "$work/$label.hf.md"
	echo
	echo "| command | max RSS (KiB) |"
	echo "|---|---:|"
	for tool in "${tools[@]}"; do
		echo "| $(name_of "$tool") | $(rss_of "$tool" "$label") |"
	done
}

# print_report: the report to stdout, and to $out if set.
print_report() {
	if [ -n "$out" ]; then
		report | tee "$out"
	else
		report
	fi
	say "done"
}
