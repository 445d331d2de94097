#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fuzz everything that reads a core, for a bounded time:
#
#   fuzz/run.sh [SECONDS]      (default 60)
#
# 1. configures and builds $AIOCORE_FUZZ_BUILD (default build-fuzz/) with
#    clang, ASan and UBSan, and the libFuzzer targets (-Dfuzzing=true);
# 2. makes seeds: cores of the reference runtime (every pattern and a
#    healthy one, profiles g2, g5, g10) shrunk by fuzz/shrink-core.py to a
#    few hundred KB, each checked to still decode (`aiocore diagnose`);
# 3. runs fuzz-notes for SECONDS on all seeds, and fuzz-core for SECONDS/3
#    per profile with that profile's runtime as the executable.
#
# Prints executions and executions/s per run; a crash, leak, timeout or UB
# report leaves its input in WORK/artifacts/ and makes the exit status 1.
# The corpora (WORK/corpus-*) grow from run to run (fuzz-core's start over
# when the runtime is rebuilt: its inputs match one build-id).  One process at a time
# (no -jobs/-workers) and niced: the machine is shared.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
build=${AIOCORE_FUZZ_BUILD:-$top/build-fuzz}
work=$build/fuzz-work
profiles="g2 g5 g10"
variants="lost-completion lost-notify event-lost-wakeup nested-poll iohandler-race fixed"

command -v clang >/dev/null || { echo "fuzz/run.sh: needs clang (apt-get install clang)" >&2; exit 2; }
if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" "$top" -Dfuzzing=true -Dtests=disabled \
		-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C "$build" fuzz/fuzz-core fuzz/fuzz-notes analyzer/cli/aiocore \
	runtime/aiocore-runtime-g2 runtime/aiocore-runtime-g5 runtime/aiocore-runtime-g10 >/dev/null

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
unset DEBUGINFOD_URLS
mkdir -p "$work/artifacts" "$work/cores"

# --- seeds: made once per runtime build, kept in WORK/seeds-PROFILE
for p in $profiles; do
	runtime=$build/runtime/aiocore-runtime-$p
	seeds=$work/seeds-$p
	[ -d "$seeds" ] && [ "$seeds" -nt "$runtime" ] && continue
	# A new runtime build has a new build-id: the old inputs no longer match.
	rm -rf "$seeds" "$work/corpus-core-$p" && mkdir -p "$seeds"
	for v in $variants; do
		core=$work/cores/$v-$p.core
		"$runtime" --variant "$v" --out "$core" >/dev/null 2>&1 || {
			echo "seed $v-$p: the runtime did not capture a core" >&2; continue; }
		python3 "$top/fuzz/shrink-core.py" "$core" "$seeds/$v.core" 2>/dev/null
		rm -f "$core"
		rc=0
		"$build/analyzer/cli/aiocore" diagnose --exe "$runtime" "$seeds/$v.core" \
			>/dev/null 2>&1 || rc=$?
		echo "seed $p/$v.core: $(stat -c %s "$seeds/$v.core") bytes, diagnose exit $rc"
	done
done

# --- runs
failed=0
run() {  # run NAME SECONDS CORPUS SEEDS...
	name=$1 secs=$2 corpus=$3
	shift 3
	mkdir -p "$corpus"
	log=$work/$name.log
	rc=0
	t0=$(date +%s)
	nice -n 10 "$build/fuzz/$(echo "$name" | cut -d- -f1-2)" \
		-max_total_time="$secs" -timeout=60 -rss_limit_mb=4096 \
		-max_len=1048576 -print_final_stats=1 \
		-artifact_prefix="$work/artifacts/$name-" \
		"$corpus" "$@" >"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	echo "$name: ${execs:-?} executions in $(( $(date +%s) - t0 )) s (${rate:-?}/s), corpus $(find "$corpus" -type f | wc -l) inputs, exit $rc"
	if [ "$rc" != 0 ]; then
		failed=1
		grep -E "ERROR: |runtime error|SUMMARY|Test unit written" "$log" | head -20 >&2
	fi
}

all_seeds=""
for p in $profiles; do all_seeds="$all_seeds $work/seeds-$p"; done
# shellcheck disable=SC2086
run fuzz-notes "$seconds" "$work/corpus-notes" $all_seeds
per_profile=$(( seconds / 3 > 10 ? seconds / 3 : 10 ))
for p in $profiles; do
	export AIOCORE_FUZZ_EXE="$build/runtime/aiocore-runtime-$p"
	run "fuzz-core-$p" "$per_profile" "$work/corpus-core-$p" "$work/seeds-$p"
done

found=$(find "$work/artifacts" -type f | wc -l)
echo "artifacts: $found in $work/artifacts"
[ "$found" = 0 ] || failed=1
exit $failed
