#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Measure the reference runtime in stress mode (no injected help):
#   - per racy variant: median seconds to hang over RUNS runs, each bounded
#     by BOUND seconds ("did not hang in BOUND s" when no run hung)
#   - fixed: completed requests per second over FIXED_SECONDS
# Usage: bench/reproduce.sh [BUILD_DIR] [PROFILE]
# Env: RUNS (3), BOUND (20), FIXED_SECONDS (5), VARIANTS (all racy ones)
# Prints a Markdown table; put only numbers it printed into docs/reproduce.md.
set -u
build=${1:-build}
profile=${2:-g5}
runs=${RUNS:-3}
bound=${BOUND:-20}
fixed_seconds=${FIXED_SECONDS:-5}
variants=${VARIANTS:-"lost-completion lost-notify event-lost-wakeup nested-poll iohandler-race"}
bin="$build/runtime/aiocore-runtime-$profile"
[ -x "$bin" ] || { echo "no $bin (build first)" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/aiocore-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

field() { # field NAME JSON
	echo "$2" | sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" | tr -d '"'
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) exit; if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "# aiocore-runtime-$profile stress, $(date -u +%Y-%m-%d), $(nproc) CPUs, $(uname -m)"
echo "# command: bench/reproduce.sh $build $profile (RUNS=$runs BOUND=$bound FIXED_SECONDS=$fixed_seconds)"
echo
echo "| variant | runs hung | median s to hang | median iterations to hang |"
echo "|---|---|---|---|"
for v in $variants; do
	: > "$tmp/secs"
	: > "$tmp/iters"
	hung=0
	i=0
	while [ $i -lt "$runs" ]; do
		i=$((i + 1))
		json=$("$bin" --variant "$v" --mode stress --seconds "$bound" \
			--out "$tmp/$v.core" --json 2>/dev/null | tail -n 1)
		rm -f "$tmp/$v.core"
		if [ "$(field result "$json")" = hang ]; then
			hung=$((hung + 1))
			field seconds_to_hang "$json" >> "$tmp/secs"
			field iterations "$json" >> "$tmp/iters"
		fi
	done
	if [ $hung -eq 0 ]; then
		echo "| $v | 0/$runs | did not hang in $bound s | - |"
	else
		echo "| $v | $hung/$runs | $(median < "$tmp/secs") | $(median < "$tmp/iters") |"
	fi
done

json=$("$bin" --variant fixed --mode stress --seconds "$fixed_seconds" --json 2>/dev/null | tail -n 1)
iters=$(field iterations "$json")
secs=$(field seconds "$json")
echo
echo "fixed: $(field result "$json"), $iters requests in $secs s = $(awk -v n="$iters" -v s="$secs" 'BEGIN { printf "%.0f", n / s }') requests/s"
