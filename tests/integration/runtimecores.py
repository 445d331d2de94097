# SPDX-License-Identifier: GPL-2.0-or-later
"""Cores made by the reference runtime, once per test run and shared."""
import atexit
import os
import shutil
import subprocess
import tempfile

PROFILES = ("g2", "g5", "g10")
PATTERNS = ("lost-completion", "lost-notify", "event-lost-wakeup",
            "nested-poll", "iohandler-race")

_dir = None
_cores = {}


def runtime(profile):
    path = os.environ.get("RUNTIME_" + profile.upper())
    if not path:
        raise RuntimeError(f"RUNTIME_{profile.upper()} is not set")
    return path


def core(variant, profile):
    """Path of a core of the runtime in this variant and profile (inject
    mode), made on first use."""
    global _dir
    key = (variant, profile)
    if key in _cores:
        return _cores[key]
    if _dir is None:
        _dir = tempfile.mkdtemp(prefix="aiocore-cores-")
        atexit.register(shutil.rmtree, _dir, True)
    out = os.path.join(_dir, f"{variant}-{profile}.core")
    res = subprocess.run([runtime(profile), "--variant", variant, "--out", out],
                         capture_output=True, text=True, timeout=120)
    if res.returncode != 0 or not os.path.exists(out):
        raise RuntimeError(f"runtime {variant} {profile} failed ({res.returncode}): {res.stderr}")
    _cores[key] = out
    return out


def executable(profile):
    return runtime(profile)
