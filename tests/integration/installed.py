# SPDX-License-Identifier: GPL-2.0-or-later
"""`meson install` of this build into a temporary DESTDIR, for the tests
of what only an installed aiocore does (the Docs: line, gdb auto-load)."""
import json
import os
import shutil
import subprocess


def install(destdir):
    """Install the build (AIOCORE_BUILD_ROOT) under destdir without
    rebuilding; returns {file in the build or source tree: installed path
    under destdir}."""
    build = os.environ["AIOCORE_BUILD_ROOT"]
    meson = os.environ.get("MESON") or shutil.which("meson")
    res = subprocess.run([meson, "install", "-C", build, "--no-rebuild", "--quiet",
                          "--destdir", destdir], capture_output=True, text=True, timeout=300)
    if res.returncode != 0:
        raise RuntimeError(f"meson install --destdir {destdir}: {res.stdout}{res.stderr}")
    res = subprocess.run([meson, "introspect", build, "--installed"],
                         capture_output=True, text=True, timeout=120, check=True)
    return {src: destdir + dest for src, dest in json.loads(res.stdout).items()}


def find(installed, suffix):
    """The one installed path that ends with suffix (a file, or a whole
    directory such as docs/, which introspection lists as one entry)."""
    found = [dest for dest in installed.values() if dest.endswith(suffix)]
    if len(found) != 1:
        raise AssertionError(f"{len(found)} installed files end with {suffix}: {found}")
    return found[0]
