#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fuzz everything that reads a core:
#
#   fuzz/run.sh [--runs N] [--qemu VERSION] [SECONDS]     (default 60 s)
#
# 1. configures and builds $AIOCORE_FUZZ_BUILD (default build-fuzz/) with
#    clang, ASan and UBSan, and the libFuzzer targets (-Dfuzzing=true);
# 2. makes seeds from cores of the reference runtime (every pattern and a
#    healthy one, profiles g2, g5, g10): shrunk by fuzz/shrink-core.py for
#    fuzz-core (each checked to still decode), headers and notes only for
#    fuzz-notes, and the read sets fuzz-decoders writes for a fresh g10
#    lost-completion core;
#    with --qemu VERSION (10.0, 7.2, 5.2: a tests/qemu/build-qemu.sh build)
#    also real QEMU cores made by bench/qemu-cores.py: their notes join
#    fuzz-notes' seeds, and fuzz-decoders runs on the convert, storage
#    daemon and (7.2) mirror-job cores too;
# 3. runs, one process at a time and niced: fuzz-notes, fuzz-core per
#    profile, fuzz-decoders per core; each for SECONDS (fuzz-core SECONDS/3
#    per profile), or each for N executions with --runs N.
#
# The corpora in fixtures/fuzz-corpus/ seed the runs; what the runs add
# stays in WORK/corpus-* (to fold it back, see docs/robustness.md).  Prints
# executions and executions/s per run; a crash, leak, timeout or UB report
# leaves its input in WORK/artifacts/ and makes the exit status 1.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
runs="" qemu=""
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--qemu) qemu=$2; shift 2 ;;
	-h|--help) sed -n '3,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "fuzz/run.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
	*) break ;;
	esac
done
seconds=${1:-60}
build=${AIOCORE_FUZZ_BUILD:-$top/build-fuzz}
work=$build/fuzz-work
corpus_tree=$top/fixtures/fuzz-corpus
profiles="g2 g5 g10"
variants="lost-completion lost-notify event-lost-wakeup nested-poll iohandler-race fixed"

command -v clang >/dev/null || { echo "fuzz/run.sh: needs clang (apt-get install clang)" >&2; exit 2; }
if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" "$top" -Dfuzzing=true -Dtests=disabled \
		-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C "$build" fuzz/fuzz-core fuzz/fuzz-notes fuzz/fuzz-decoders analyzer/cli/aiocore \
	runtime/aiocore-runtime-g2 runtime/aiocore-runtime-g5 runtime/aiocore-runtime-g10 >/dev/null

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
unset DEBUGINFOD_URLS
mkdir -p "$work/artifacts" "$work/cores" "$work/seeds-notes"

# --- seeds: made once per runtime build, kept in WORK/seeds-*
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
		python3 "$top/fuzz/shrink-core.py" --notes-only "$core" \
			"$work/seeds-notes/$v-$p.core" 2>/dev/null
		if [ "$p-$v" = g10-lost-completion ]; then
			mv "$core" "$work/cores/decoders-g10.core"
		else
			rm -f "$core"
		fi
		rc=0
		"$build/analyzer/cli/aiocore" diagnose --exe "$runtime" "$seeds/$v.core" \
			>/dev/null 2>&1 || rc=$?
		echo "seed $p/$v.core: $(stat -c %s "$seeds/$v.core") bytes, diagnose exit $rc"
	done
done

# Cores fuzz-decoders mutates: "LABEL=CORE:EXE" each.
decoder_cores="g10=$work/cores/decoders-g10.core:$build/runtime/aiocore-runtime-g10"
if [ -n "$qemu" ]; then
	qdir=$work/qemu-$qemu
	if [ ! -f "$qdir/args.txt" ]; then
		mkdir -p "$qdir"
		python3 "$top/bench/qemu-cores.py" "$qdir" "$qemu" > "$qdir/args.new"
		mv "$qdir/args.new" "$qdir/args.txt"
	fi
	while IFS= read -r spec; do
		label=${spec%%=*} rest=${spec#*=}
		core=${rest%%:*}
		python3 "$top/fuzz/shrink-core.py" --notes-only "$core" \
			"$work/seeds-notes/qemu-$label.core" 2>/dev/null
		case $label in
		convert-*|qsd-*|mirror-*) decoder_cores="$decoder_cores qemu-$label=$(echo "$rest" | cut -d: -f1-2)" ;;
		esac
	done < "$qdir/args.txt"
fi

# --- runs
failed=0
run() {  # run NAME BINARY BUDGET CORPUS SEEDS...
	name=$1 binary=$2 budget=$3 corpus=$4
	shift 4
	mkdir -p "$corpus"
	log=$work/$name.log
	rc=0
	t0=$(date +%s)
	if [ -n "$runs" ]; then limit=-runs=$runs; else limit=-max_total_time=$budget; fi
	nice -n 10 "$build/fuzz/$binary" "$limit" -timeout=60 -rss_limit_mb=4096 \
		-print_final_stats=1 -artifact_prefix="$work/artifacts/$name-" \
		"$corpus" "$@" >"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(grep -oE "cov: [0-9]+ ft: [0-9]+" "$log" | tail -1)
	echo "$name: ${execs:-?} executions in $(( $(date +%s) - t0 )) s (${rate:-?}/s), ${cov:-cov: ?}, corpus $(find "$corpus" -type f | wc -l) inputs, exit $rc"
	if [ "$rc" != 0 ]; then
		failed=1
		grep -E "ERROR: |runtime error|SUMMARY|Test unit written" "$log" | head -20 >&2
	fi
}

# fuzz-notes reads headers and notes only: small inputs, thousands a second.
run fuzz-notes fuzz-notes "$seconds" "$work/corpus-notes" -max_len=65536 \
	"$work/seeds-notes" "$corpus_tree/notes"
per_profile=$(( seconds / 3 > 10 ? seconds / 3 : 10 ))
for p in $profiles; do
	export AIOCORE_FUZZ_EXE="$build/runtime/aiocore-runtime-$p"
	run "fuzz-core-$p" fuzz-core "$per_profile" "$work/corpus-core-$p" \
		-max_len=1048576 "$work/seeds-$p"
done
for spec in $decoder_cores; do
	label=${spec%%=*} rest=${spec#*=}
	export AIOCORE_FUZZ_CORE=${rest%%:*} AIOCORE_FUZZ_EXE=${rest#*:}
	seeds=$work/seeds-decoders-$label
	rm -rf "$seeds" && mkdir -p "$seeds"
	AIOCORE_FUZZ_SEED_OUT=$seeds "$build/fuzz/fuzz-decoders" 2>/dev/null
	tree=$corpus_tree/decoders-$label
	[ -d "$tree" ] || tree=""
	# shellcheck disable=SC2086
	run "fuzz-decoders-$label" fuzz-decoders "$seconds" \
		"$work/corpus-decoders-$label" "$seeds" $tree
done
unset AIOCORE_FUZZ_CORE AIOCORE_FUZZ_EXE

found=$(find "$work/artifacts" -type f | wc -l)
echo "artifacts: $found in $work/artifacts"
[ "$found" = 0 ] || failed=1
exit $failed
