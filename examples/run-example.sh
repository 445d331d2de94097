#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The built-in example.  Until the reference runtime lands, it captures the
# multi-threaded test program with gcore and prints every thread's stack.
set -eu
build=${1:-$(cd "$(dirname "$0")/.." && pwd)/build}
out=${AIOCORE_EXAMPLE_DIR:-/tmp/aiocore-example}
mkdir -p "$out"
prog="$build/tests/programs/mt-sleeper"
fifo="$out/ready"
rm -f "$fifo" "$out/example.core"
mkfifo "$fifo"
(cd "$out" && exec "$prog" >"$fifo") &
read -r _ pid <"$fifo"
rm -f "$fifo"
echo "== gcore -o $out/example $pid" >&2
gcore -o "$out/example" "$pid" >/dev/null 2>&1
kill "$pid"
mv "$out/example.$pid" "$out/example.core"
rm -f "$out"/mt-sleeper-shared-*
echo "== aiocore threads $out/example.core" >&2
aiocore threads "$out/example.core"
