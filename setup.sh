#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Set up aiocore on a fresh Debian 12 machine and run it on a built-in example.
#
#   ./setup.sh             install packages, build, install aiocore, run the example
#   ./setup.sh --deps      only install the Debian packages (what CI uses)
#   ./setup.sh --no-deps   skip the package step (already installed)
#
# Needs root for apt-get and for installing to /usr/local (use sudo otherwise).
set -eu
top=$(cd "$(dirname "$0")" && pwd)
build=${AIOCORE_BUILD:-$top/build}

PACKAGES="meson ninja-build gcc pkg-config binutils \
libdw-dev libelf-dev libcmocka-dev zlib1g-dev liblzma-dev libzstd-dev libdebuginfod-dev \
elfutils gdb gdb-multiarch python3 gzip xz-utils zstd util-linux \
gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user debuginfod hyperfine time \
dpkg-dev libglib2.0-dev libpixman-1-dev libfdt-dev python3-venv flex bison \
make patch python3-docutils graphviz"

install_packages() {
	echo "== installing Debian packages" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
}

case "${1:-}" in
--deps) install_packages; exit 0 ;;
--no-deps) ;;
"") install_packages ;;
*) echo "usage: $0 [--deps | --no-deps]" >&2; exit 64 ;;
esac

echo "== building in $build" >&2
[ -f "$build/build.ninja" ] || meson setup "$build" "$top" >/dev/null
ninja -C "$build" >/dev/null
echo "== installing aiocore" >&2
meson install -C "$build" --quiet

exec "$top/examples/run-example.sh"
