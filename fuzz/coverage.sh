#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Line coverage of the analyzer reached by the fuzzing corpora:
#
#   fuzz/coverage.sh NAME=DIR [CORE:EXE] ...
#
# NAME is notes or decoders; DIR a corpus; decoders needs CORE:EXE, the
# core the corpus was grown on and its executable.  Builds the replay
# targets (fuzz/replay-main.c) with clang's source-based coverage in
# $AIOCORE_COV_BUILD (default build-cov/), replays every corpus given and
# prints `llvm-cov report` for analyzer/ per folder, then per file.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${AIOCORE_COV_BUILD:-$top/build-cov}
[ $# -gt 0 ] || { sed -n '3,11p' "$0" | sed 's/^# \{0,1\}//'; exit 64; }
command -v clang >/dev/null && command -v llvm-cov >/dev/null ||
	{ echo "fuzz/coverage.sh: needs clang and llvm (apt-get install clang llvm)" >&2; exit 2; }
flags="-fprofile-instr-generate -fcoverage-mapping"
if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" "$top" -Dtests=enabled -Dwerror=false \
		-Dc_args="$flags" -Dc_link_args="$flags" >/dev/null
fi
ninja -C "$build" tests/fuzz-regressions/fuzz-notes-replay \
	tests/fuzz-regressions/fuzz-decoders-replay >/dev/null
profiles=$build/cov-profiles
rm -rf "$profiles" && mkdir -p "$profiles"
unset DEBUGINFOD_URLS
while [ $# -gt 0 ]; do
	name=${1%%=*} dir=${1#*=}
	shift
	case $name in
	notes) ;;
	decoders)
		spec=${1:?decoders needs CORE:EXE after the corpus}
		shift
		export AIOCORE_FUZZ_CORE=${spec%%:*} AIOCORE_FUZZ_EXE=${spec#*:} ;;
	*) echo "fuzz/coverage.sh: unknown target $name" >&2; exit 64 ;;
	esac
	LLVM_PROFILE_FILE="$profiles/$name-%p.profraw" \
		"$build/tests/fuzz-regressions/fuzz-$name-replay" "$dir" >/dev/null
done
llvm-profdata merge -sparse "$profiles"/*.profraw -o "$profiles/all.profdata"
objects=()
for name in notes decoders; do
	objects+=(-object "$build/tests/fuzz-regressions/fuzz-$name-replay")
done
report=$(llvm-cov report -instr-profile="$profiles/all.profdata" "${objects[@]:1}" \
	"$top/analyzer")
# Lines per folder, from the per-file rows (columns 8-10: lines, missed, cover).
echo "$report" | awk '$1 ~ /analyzer\// {
	n = split($1, p, "/"); dir = p[n - 1];
	lines[dir] += $8; missed[dir] += $9 }
	END { for (d in lines) printf "%-8s %6d lines, %5.1f%% covered\n", d, lines[d],
		100 * (lines[d] - missed[d]) / lines[d] }' | sort
echo
echo "$report"
