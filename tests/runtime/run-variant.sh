#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# run-variant.sh BINARY VARIANT MODE [extra runtime options...]
# A racy variant must hang, the watchdog must fire and leave a valid ELF
# core; fixed must run clean (and, with --out, leave a core too).
set -u
bin=$1 variant=$2 mode=$3
shift 3
dir=$(mktemp -d "${TMPDIR:-/tmp}/aiocore-rt-test.XXXXXX")
trap 'rm -rf "$dir"' EXIT
core="$dir/$variant.core"

case "$variant:$*" in
fixed:*--seconds*) set -- --json "$@" ;;            # a bounded run, no capture
*) set -- --out "$core" --json "$@" ;;
esac
out=$("$bin" --variant "$variant" --mode "$mode" "$@" 2>"$dir/stderr")
rc=$?
echo "$out"
cat "$dir/stderr" >&2
# Variants a profile does not model: the runtime must refuse them (exit 64).
case "$variant:$bin" in
lost-coroutine-wake:*-g2)   # QEMU <= 2.8 has no aio_co_schedule()
	refusal='needs aio_co_schedule()' why='g2 (QEMU <= 2.8) has no aio_co_schedule()' ;;
bql-ctx-cycle:*-g10)        # QEMU 9.0 removed the AioContext lock
	refusal='which QEMU 9.0 removed' why='g10 (QEMU 9.0+) has no AioContext lock' ;;
*)	refusal= ;;
esac
if [ -n "$refusal" ]; then
	if [ $rc -eq 64 ] && grep -q "$refusal" "$dir/stderr"; then
		echo "SKIP: $why; the runtime refuses it"
		exit 77
	fi
	echo "FAIL: expected $bin to refuse $variant (exit 64), got $rc" >&2
	exit 1
fi
if [ $rc -ne 0 ]; then
	echo "FAIL: $bin --variant $variant exited $rc" >&2
	exit 1
fi
case "$variant:$*" in
fixed:*--seconds*)
	# a bounded run: must not have hung, must not have written a core
	echo "$out" | grep -q '"result":"clean"' || { echo "FAIL: fixed did not run clean" >&2; exit 1; }
	[ ! -e "$core" ] || { echo "FAIL: fixed wrote a core" >&2; exit 1; }
	exit 0 ;;
esac
[ -s "$core" ] || { echo "FAIL: no core at $core" >&2; exit 1; }
if ! readelf -h "$core" | grep -q 'Type:[[:space:]]*CORE'; then
	echo "FAIL: $core is not an ELF core" >&2
	exit 1
fi
# the core holds the runtime's threads only: no watchdog, no gcore
if command -v eu-readelf >/dev/null 2>&1; then
	n=$(eu-readelf -n "$core" | grep -c 'PRSTATUS')
	[ "$n" -ge 3 ] || { echo "FAIL: only $n threads in the core" >&2; exit 1; }
fi
echo "ok: $variant ($mode) -> ELF core"
