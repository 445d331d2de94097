#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fetch Debian's source package of a real QEMU and build its tools with
# debuginfo, for the `qemu` test suite:
#
#   tests/qemu/build-qemu.sh VERSION [CACHE]      VERSION: 5.2, 7.2 or 10.0
#
# Prints the build directory (holding qemu-img, qemu-io and
# storage-daemon/qemu-storage-daemon, and for 7.2 qemu-system-x86_64 with
# TCG and no default devices) on stdout; progress goes to stderr.
# CACHE defaults to $AIOCORE_QEMU_CACHE or /var/cache/aiocore-qemu; a
# finished build is reused.  The source comes through apt from
# deb.debian.org with its own apt state under CACHE (the system's apt
# configuration is not touched), so the signed archive index vouches for
# every file.  Nothing of QEMU lands in this tree.
#
# Exit codes: 0 built, 64 usage, 69 the archive could not be reached,
# 70 configure or build failed (the log is named).
set -euo pipefail

usage() { echo "usage: $0 5.2|7.2|10.0 [CACHE]" >&2; exit 64; }
[ $# -ge 1 ] || usage
version=$1
cache=${2:-${AIOCORE_QEMU_CACHE:-/var/cache/aiocore-qemu}}
# Which Debian release carries which QEMU: bullseye 5.2, bookworm 7.2,
# trixie 10.0.  10.0 needs meson >= 1.5; trixie's (pure Python) is used.
case $version in
5.2) suite=bullseye ;;
7.2) suite=bookworm ;;
10.0) suite=trixie ;;
*) usage ;;
esac

top=$cache/qemu-$version
build=$top/build
mkdir -p "$top"
# One builder per version: a second run (another build directory's test
# suite, CI beside a developer) waits, then finds the build done.
exec 9>"$top.lock"
if ! flock -n 9; then
	echo "== QEMU $version: waiting for another build of it to finish" >&2
	flock 9
fi
# The stamp names what the build holds: a cache of an older layout rebuilds.
stamp=$build/.aiocore-built-2
if [ -f "$stamp" ]; then
	echo "$build"
	exit 0
fi
mkdir -p "$top/apt/lists/partial" "$top/apt/archives/partial"
log=$top/build.log
: >"$log"
say() { echo "== QEMU $version ($suite): $*" >&2; }

echo "deb-src http://deb.debian.org/debian $suite main" >"$top/apt/sources.list"
[ "$version" != 10.0 ] || echo "deb http://deb.debian.org/debian trixie main" >>"$top/apt/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$top/apt/sources.list"
	-o "Dir::Etc::SourceParts=/nonexistent"
	-o "Dir::State::Lists=$top/apt/lists"
	-o "Dir::Cache::Archives=$top/apt/archives"
	-o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
	-o "APT::Sandbox::User=root")

say "fetching Debian's source package"
if ! apt-get "${apt_opts[@]}" -qq update >>"$log" 2>&1; then
	echo "$0: deb.debian.org could not be reached (see $log)" >&2
	exit 69
fi
rm -rf "$top/src"
mkdir -p "$top/src"
if ! (cd "$top/src" && apt-get "${apt_opts[@]}" -qq source "qemu/$suite") >>"$log" 2>&1; then
	echo "$0: apt-get source qemu/$suite failed (see $log)" >&2
	exit 69
fi
src=$(find "$top/src" -mindepth 1 -maxdepth 1 -type d -name 'qemu-*' | head -n 1)
[ -n "$src" ] || { echo "$0: no source tree under $top/src (see $log)" >&2; exit 70; }

env_cmd=(env)
python=/usr/bin/python3
if [ "$version" = 10.0 ]; then
	if ! (cd "$top/apt/archives" && apt-get "${apt_opts[@]}" -qq download meson/trixie) >>"$log" 2>&1; then
		echo "$0: apt-get download meson/trixie failed (see $log)" >&2
		exit 69
	fi
	rm -rf "$top/meson"
	dpkg-deb -x "$(ls "$top"/apt/archives/meson_*_all.deb | head -n 1)" "$top/meson"
	env_cmd+=("PYTHONPATH=$top/meson/usr/lib/python3/dist-packages")
fi

# The tools: the AIO core, thread pool, coroutines and RCU are the same
# code as in a system emulator, which only 7.2 adds (2 more minutes): one
# real BQL, vCPU-less (-M none).  -O2 -g as distributions build it.
common=(--prefix="$top/install" --disable-user --enable-tools
	--disable-docs --disable-werror --enable-debug-info --extra-cflags="-O2 -g")
targets=(qemu-img qemu-io storage-daemon/qemu-storage-daemon)
case $version in
5.2) opts=(--disable-system --meson=meson --disable-gnutls --disable-nettle --disable-gcrypt
	--disable-curl --disable-linux-aio --disable-linux-io-uring --disable-libudev
	--disable-vnc --disable-sdl --disable-gtk --disable-spice --disable-guest-agent
	--disable-capstone) ;;
7.2) opts=(--meson=meson --without-default-features --target-list=x86_64-softmmu
	--enable-tcg --enable-fdt=system --without-default-devices)
	targets+=(qemu-system-x86_64) ;;
10.0) opts=(--disable-system --python="$python" --without-default-features
	--disable-install-blobs) ;;
esac

say "configuring in $build"
rm -rf "$build"
mkdir -p "$build"
if ! (cd "$build" && "${env_cmd[@]}" "$src/configure" "${common[@]}" "${opts[@]}") >>"$log" 2>&1; then
	echo "$0: configure failed (see $log)" >&2
	exit 70
fi
say "building ${targets[*]##*/} (a minute or two on 2 cores)"
if ! "${env_cmd[@]}" ninja -C "$build" "${targets[@]}" >>"$log" 2>&1; then
	echo "$0: build failed (see $log)" >&2
	exit 70
fi
touch "$stamp"
say "done"
echo "$build"
