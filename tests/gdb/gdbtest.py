# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers for the gdb suite: run real gdb in batch mode with the aio-*
commands loaded, cut each command's output out of gdb's stdout, and run the
CLI on the same target for comparison."""
import ctypes
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
import runtimecores  # noqa: E402  (tests/integration/runtimecores.py)

AIOCORE = os.environ.get("AIOCORE", "aiocore")
GDB = os.environ.get("GDB", "gdb")
SCRIPT = os.environ.get("AIOCORE_GDB_SCRIPT")
LIBRARY = os.environ.get("LIBAIOCORE_GDB")  # not AIOCORE_GDB_LIB: gdb finds its own
BEGIN, END = "@@aiocore-begin", "@@aiocore-end"
_EXIT = re.compile(r"^@@aiocore-exit (\S+)$", re.MULTILINE)


def views():
    """The view names in the library's table (what the commands are made of)."""
    lib = ctypes.CDLL(LIBRARY)
    lib.aiocore_view_name.restype = ctypes.c_char_p
    return [lib.aiocore_view_name(i).decode() for i in range(lib.aiocore_view_count())]


def gdb_run(target_args, commands, timeout=300):
    """Run gdb -batch on target_args with the script sourced first; each
    command's stdout is bracketed by markers and followed by $aio_exit.
    Returns ([(stdout, exit code or None)], CompletedProcess)."""
    args = [GDB, "-nx", "-batch", "-ex", "set pagination off",
            "-ex", "set width 0", "-ex", "source " + SCRIPT]
    args += target_args
    for command in commands:
        args += ["-ex", "set $aio_exit = -1",
                 "-ex", "echo " + BEGIN + "\\n",
                 "-ex", command,
                 "-ex", "echo \\n" + END + "\\n",
                 "-ex", "printf \"@@aiocore-exit %d\\n\", $aio_exit"]
    res = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    results = []
    rest = res.stdout
    for _ in commands:
        start = rest.find(BEGIN + "\n")
        # the output, then the "\n" the END echo starts with
        end = rest.find("\n" + END + "\n", start) if start >= 0 else -1
        if end < 0:
            raise AssertionError("gdb output lost a marker:\n" + res.stdout + res.stderr)
        body = rest[start + len(BEGIN) + 1:end]
        rest = rest[end + len(END) + 2:]
        match = _EXIT.search(rest)
        code = int(match.group(1)) if match else None
        results.append((body, None if code == -1 else code))
    return results, res


def core_args(core, exe):
    return [exe, core]


def cli(*args, timeout=300):
    return subprocess.run([AIOCORE, *args], capture_output=True, text=True,
                          timeout=timeout)
