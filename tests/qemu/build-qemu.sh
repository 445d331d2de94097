#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fetch Debian's source package of a real QEMU and build its tools with
# debuginfo, for the `qemu` test suite:
#
#   tests/qemu/build-qemu.sh VERSION [CACHE]   VERSION: 2.1, 2.8, 5.2, 7.2 or 10.0
#                                              or 2.8-sigaltstack
#
# Prints the build directory (holding qemu-img, qemu-io and, from 5.2 on,
# storage-daemon/qemu-storage-daemon, for 2.x qemu-nbd, and for 7.2
# qemu-system-x86_64 with TCG and no default devices) on stdout; progress
# goes to stderr.
# 2.1 (2.1.2) and 2.8 (2.8.0) come from upstream's release tarballs in
# ../shared/qemu-src beside the repository (checked against its
# SHA256SUMS), built with Debian 11's Python 2.7, unpacked, not installed.
# 2.8-sigaltstack is 2.8.0 configured --with-coroutine=sigaltstack (the
# other coroutine backend of that era; every distribution shipped
# ucontext), qemu-img and qemu-io only.
# CACHE defaults to $AIOCORE_QEMU_CACHE or /var/cache/aiocore-qemu; a
# finished build is reused.  The source comes through apt from
# deb.debian.org with its own apt state under CACHE (the system's apt
# configuration is not touched), so the signed archive index vouches for
# every file.  Nothing of QEMU lands in this tree.
#
# Exit codes: 0 built, 64 usage, 69 the archive (or the 2.x tarball)
# could not be reached, 70 configure or build failed or a tarball's
# checksum is wrong (the log is named).
set -euo pipefail

usage() { echo "usage: $0 2.1|2.8|2.8-sigaltstack|5.2|7.2|10.0 [CACHE]" >&2; exit 64; }
[ $# -ge 1 ] || usage
version=$1
cache=${2:-${AIOCORE_QEMU_CACHE:-/var/cache/aiocore-qemu}}
# Which Debian release carries which QEMU: bullseye 5.2, bookworm 7.2,
# trixie 10.0.  10.0 needs meson >= 1.5; trixie's (pure Python) is used.
# 2.x: bullseye's Python 2.7 only; the source is upstream's tarball.
case $version in
2.1|2.8|2.8-sigaltstack) suite=bullseye ;;
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
# 2.x's -3 adds qemu-nbd (the NBD server before qemu-storage-daemon).
stamp=$build/.aiocore-built-2
case $version in 2.1|2.8) stamp=$build/.aiocore-built-3 ;; 2.8-*) stamp=$build/.aiocore-built-1 ;; esac
if [ -f "$stamp" ]; then
	echo "$build"
	exit 0
fi
mkdir -p "$top/apt/lists/partial" "$top/apt/archives/partial"
log=$top/build.log
: >"$log"
say() { echo "== QEMU $version ($suite): $*" >&2; }
apt_opts=(-o "Dir::Etc::SourceList=$top/apt/sources.list"
	-o "Dir::Etc::SourceParts=/nonexistent"
	-o "Dir::State::Lists=$top/apt/lists"
	-o "Dir::Cache::Archives=$top/apt/archives"
	-o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
	-o "APT::Sandbox::User=root")
apt_update() {
	if ! apt-get "${apt_opts[@]}" -qq update >>"$log" 2>&1; then
		echo "$0: deb.debian.org could not be reached (see $log)" >&2
		exit 69
	fi
}

# QEMU 2.x: upstream's tarball, Python 2.7 for its build scripts, make.
if [ "${version%%-*}" = 2.1 ] || [ "${version%%-*}" = 2.8 ]; then
	base=${version%%-*}
	case $base in 2.1) full=2.1.2 ;; 2.8) full=2.8.0 ;; esac
	coroutine=() targets=(qemu-img qemu-io qemu-nbd)
	if [ "$version" = 2.8-sigaltstack ]; then
		coroutine=(--with-coroutine=sigaltstack) targets=(qemu-img qemu-io)
	fi
	# A -2 cache lacks only qemu-nbd: add it in place rather than delete
	# the binaries a running test of another checkout may be using.
	if [ -f "$build/.aiocore-built-2" ] && [ -f "$build/config-host.mak" ]; then
		say "adding qemu-nbd to $build"
		if ! make -C "$build" -j"$(nproc)" qemu-nbd >>"$log" 2>&1; then
			echo "$0: build failed (see $log)" >&2
			exit 70
		fi
		touch "$stamp"
		echo "$build"
		exit 0
	fi
	# CI clones the repository with shared/ beside it (read-only).
	srcdir=${AIOCORE_QEMU_TARBALLS:-$(cd "$(dirname "$0")/../.." && pwd)/../shared/qemu-src}
	tarball=$srcdir/qemu-$full.tar.xz
	if [ ! -r "$tarball" ] || [ ! -r "$srcdir/SHA256SUMS" ]; then
		echo "$0: $tarball or its SHA256SUMS is missing" >&2
		exit 69
	fi
	say "checking $tarball against SHA256SUMS"
	if ! (cd "$srcdir" && grep " qemu-$full.tar.xz\$" SHA256SUMS | sha256sum -c --quiet -) >>"$log" 2>&1; then
		echo "$0: $tarball does not match $srcdir/SHA256SUMS (see $log)" >&2
		exit 70
	fi
	say "fetching Python 2.7 from Debian 11 (unpacked, not installed)"
	echo "deb http://deb.debian.org/debian bullseye main" >"$top/apt/sources.list"
	apt_update
	rm -f "$top"/apt/archives/*python2.7*.deb
	if ! (cd "$top/apt/archives" && apt-get "${apt_opts[@]}" -qq download \
		python2.7-minimal/bullseye libpython2.7-minimal/bullseye libpython2.7-stdlib/bullseye) >>"$log" 2>&1; then
		echo "$0: apt-get download python2.7 (bullseye) failed (see $log)" >&2
		exit 69
	fi
	py=$top/python2.7
	rm -rf "$py"
	for deb in "$top"/apt/archives/*python2.7*.deb; do dpkg-deb -x "$deb" "$py"; done
	printf '#!/bin/sh\nPYTHONHOME=%s/usr exec %s/usr/bin/python2.7 "$@"\n' "$py" "$py" >"$py/python"
	chmod +x "$py/python"
	rm -rf "$top/src"
	mkdir -p "$top/src"
	tar -xJf "$tarball" -C "$top/src"
	src=$(find "$top/src" -mindepth 1 -maxdepth 1 -type d | head -n 1)
	# Build fixes only, never QEMU's logic: see each patch's header.
	for p in "$(dirname "$0")"/qemu-$base-*.patch; do
		[ -e "$p" ] || continue
		if ! patch -d "$src" -p1 <"$p" >>"$log" 2>&1; then
			echo "$0: $p does not apply (see $log)" >&2
			exit 70
		fi
	done
	# gcc 12 on trees this old: -fcommon (tentative definitions in
	# headers), no -Werror.  The default coroutine backend (ucontext),
	# unless the version names another.
	say "configuring in $build"
	rm -rf "$build"
	mkdir -p "$build"
	if ! (cd "$build" && "$src/configure" --prefix="$top/install" --python="$py/python" \
		--disable-system --disable-user --enable-tools --disable-werror \
		--disable-docs --disable-guest-agent --disable-curl --disable-linux-aio \
		--disable-vnc --disable-sdl --disable-gtk \
		"${coroutine[@]}" --extra-cflags="-O2 -g -fcommon") >>"$log" 2>&1; then
		echo "$0: configure failed (see $log)" >&2
		exit 70
	fi
	say "building ${targets[*]} (a minute on 2 cores)"
	if ! make -C "$build" -j"$(nproc)" "${targets[@]}" >>"$log" 2>&1; then
		echo "$0: build failed (see $log)" >&2
		exit 70
	fi
	# -2 too: it is a superset of what older checkouts of this script
	# expect, so they reuse it instead of rebuilding it under us.
	touch "$build/.aiocore-built-2" "$stamp"
	say "done"
	echo "$build"
	exit 0
fi

echo "deb-src http://deb.debian.org/debian $suite main" >"$top/apt/sources.list"
[ "$version" != 10.0 ] || echo "deb http://deb.debian.org/debian trixie main" >>"$top/apt/sources.list"

say "fetching Debian's source package"
apt_update
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
