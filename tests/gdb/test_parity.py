# SPDX-License-Identifier: GPL-2.0-or-later
"""One implementation per view: every aio-<view> command prints on a core
exactly what `aiocore VIEW CORE` prints (byte for byte) and ends with the
CLI's exit code, for every view in the table, on cores of each runtime
profile (g2, g5, g10)."""
import json
import os
import unittest

import gdbtest
from gdbtest import runtimecores

CORES = [("lost-completion", "g2"), ("lost-completion", "g5"),
         ("lost-completion", "g10"), ("lost-notify", "g5")]


def option_sets(view, ctx):
    """The CLI options worth comparing for a view."""
    sets = [[], ["--json"]]
    if view == "coroutines":
        sets += [["--bt"], ["--bt", "--json"]]
    if ctx:
        sets += [["--ctx", ctx]]
    return sets


class Parity(unittest.TestCase):
    def check_core(self, variant, profile):
        core = os.path.abspath(runtimecores.core(variant, profile))
        exe = runtimecores.executable(profile)
        ctxs = json.loads(gdbtest.cli("ctx", "--json", core).stdout)["contexts"]
        ctx = ctxs[-1]["address"] if ctxs else None
        cases = [(view, opts) for view in gdbtest.views()
                 for opts in option_sets(view, ctx)]
        commands = ["aio-%s %s" % (view, " ".join(opts)) for view, opts in cases]
        results, res = gdbtest.gdb_run([exe, core], commands)
        self.assertGreaterEqual(len(cases), 12)
        for (view, opts), (out, code) in zip(cases, results):
            with self.subTest(core=f"{variant}-{profile}", view=view, opts=opts):
                expected = gdbtest.cli(view, *opts, core)
                self.assertEqual(out, expected.stdout)
                self.assertEqual(code, expected.returncode)
                for line in expected.stderr.splitlines():
                    self.assertIn(line, res.stderr)

    def test_g2(self):
        self.check_core("lost-completion", "g2")

    def test_g5(self):
        self.check_core("lost-completion", "g5")

    def test_g10(self):
        self.check_core("lost-completion", "g10")

    def test_g5_lost_notify(self):
        self.check_core("lost-notify", "g5")


if __name__ == "__main__":
    unittest.main(verbosity=2)
