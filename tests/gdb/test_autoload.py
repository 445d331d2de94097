# SPDX-License-Identifier: GPL-2.0-or-later
"""The aio-* commands without `source`: meson installs (into a temporary
DESTDIR here) DATADIR/gdb/auto-load/usr/local/bin/qemu-img-gdb.py, and gdb
auto-loads it for an objfile at /usr/local/bin/qemu-img.  The reference
runtime is put at that very path in a private mount namespace (a tmpfs
over /usr/local/bin: nothing outside sees it), hung there, and its core
opened with gdb told only where the auto-load directory is (the two -iex
lines of docs/gdb.md).  aio-bh-list must then print what `aiocore bh-list`
prints, and must be unknown without those lines.  The one-line `-iex
'source ...'` alternative is checked on a binary at another path."""
import os
import shlex
import subprocess
import sys
import unittest

import gdbtest
from gdbtest import runtimecores

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import installed  # noqa: E402
from aiocoretest import TempDirTestCase  # noqa: E402

OBJFILE = "/usr/local/bin/qemu-img"


def in_namespace(script, timeout=300):
    """Run a shell script in a private mount namespace."""
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-ec", script],
                          capture_output=True, text=True, timeout=timeout)


class AutoLoad(TempDirTestCase):
    def setUp(self):
        super().setUp()
        probe = in_namespace("mount -t tmpfs aiocore-test /usr/local/bin", timeout=30)
        if probe.returncode != 0:
            self.skipTest("no private mount namespace here (unshare --mount): "
                          + probe.stderr.strip())
        self.files = installed.install(os.path.join(self.tmp, "dest"))
        try:
            self.autoload = installed.find(self.files, "/gdb/auto-load" + OBJFILE + "-gdb.py")
        except AssertionError:
            self.skipTest(f"{OBJFILE} is not in this build's gdb_autoload option")
        self.autoload_dir = self.autoload[:-len(OBJFILE + "-gdb.py")]
        self.script = installed.find(self.files, "/aiocore/gdb/aiocore-gdb.py")

    def gdb_line(self, iex, target):
        args = [gdbtest.GDB, "-nx", "-batch"]
        for line in iex:
            args += ["-iex", line]
        args += ["-ex", "echo @@begin\\n", "-ex", "aio-bh-list", "-ex", "echo @@end\\n", *target]
        return " ".join(shlex.quote(a) for a in args)

    @staticmethod
    def between(text):
        return text.split("@@begin\n", 1)[1].split("@@end\n", 1)[0] if "@@begin\n" in text else None

    def test_auto_loaded_for_the_installed_path(self):
        core = os.path.join(self.tmp, "qemu-img.core")
        q = shlex.quote
        told = ["add-auto-load-scripts-directory " + self.autoload_dir,
                "add-auto-load-safe-path " + self.autoload_dir]
        script = "\n".join([
            "mount -t tmpfs aiocore-test /usr/local/bin",
            f"cp {q(runtimecores.runtime('g5'))} {OBJFILE}",
            f"{OBJFILE} --variant lost-completion --out {q(core)} > /dev/null",
            f"{q(os.environ['AIOCORE'])} bh-list {q(core)} > {q(core)}.cli",
            self.gdb_line(told, [OBJFILE, core]) + f" > {q(core)}.told 2>&1",
            self.gdb_line([], [OBJFILE, core]) + f" > {q(core)}.untold 2>&1 || true",
        ])
        res = in_namespace(script)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        with open(core + ".cli") as f:
            expected = f.read()
        with open(core + ".told") as f:
            told_out = f.read()
        with open(core + ".untold") as f:
            untold_out = f.read()
        self.assertIn("cb=thread_pool_completion_bh", expected)
        self.assertEqual(self.between(told_out), expected, told_out)
        self.assertNotIn("Undefined command", told_out)
        self.assertIn('Undefined command: "aio-bh-list"', untold_out)
        self.assertFalse(os.path.exists(OBJFILE) and
                         os.path.samefile(OBJFILE, runtimecores.runtime("g5")))

    def test_source_one_liner_for_any_path(self):
        core = runtimecores.core("lost-completion", "g5")
        exe = runtimecores.executable("g5")
        res = subprocess.run(["sh", "-c", self.gdb_line(["source " + self.script], [exe, core])],
                             capture_output=True, text=True, timeout=300)
        expected = gdbtest.cli("bh-list", core).stdout
        self.assertEqual(self.between(res.stdout), expected, res.stdout + res.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
