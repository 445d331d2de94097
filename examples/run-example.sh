#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The built-in example: reproduce the famous lost thread-pool completion
# (fixed upstream by e8d3b1a25f28) in aiocore's reference runtime, capture
# the hung process with gcore, and diagnose the core.
set -eu
out=${AIOCORE_EXAMPLE_DIR:-/tmp/aiocore-example}
mkdir -p "$out"
core="$out/lost-completion.core"
rm -f "$core"
echo "== aiocore reproduce lost-completion --profile g2 --out $core" >&2
aiocore reproduce lost-completion --profile g2 --out "$core"
echo "== the same core, seen as seed 003's gdb recipe would: aiocore thread-pool $core" >&2
aiocore thread-pool "$core"
