#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Hostile cores never crash aiocore: fuzzing finds and their neighbours.

Every file in fixtures/fuzz-regressions/ (docs/robustness.md says where each comes from;
make-inputs.py is the recipe of the hand-made ones) goes through `aiocore diagnose`,
every view (text and --json, coroutines with --bt) and `threads`, once with
--exe RUNTIME (the reference runtime, as fuzz/fuzz-core runs) and once
without.  Each run must end with a documented exit code (0, 1, 2, 3), not a
signal, and print no sanitizer report: in the ASan/UBSan CI build a leak,
an overflow or undefined behaviour fails here.
"""
import os
import subprocess
import sys
import unittest

AIOCORE = os.environ["AIOCORE"]
RUNTIME = os.environ["RUNTIME_G5"]
INPUTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                      "fixtures", "fuzz-regressions")
VERBS = [["diagnose"], ["diagnose", "--json"], ["ctx"], ["ctx", "--json"],
         ["bh-list"], ["bh-list", "--json"], ["thread-pool"],
         ["thread-pool", "--json"], ["events"], ["events", "--json"],
         ["coroutines", "--bt"], ["coroutines", "--bt", "--json"],
         ["threads"], ["threads", "--json"]]
REPORTS = ("Sanitizer", "runtime error", "LeakSanitizer")


def inputs():
    return sorted(f for f in os.listdir(INPUTS) if not f.startswith(".")
                  and f != "README.md")


class FuzzRegressions(unittest.TestCase):
    def test_inputs_present(self):
        self.assertTrue(inputs(), "fixtures/fuzz-regressions/ is empty")

    def test_every_input_every_verb(self):
        env = dict(os.environ)
        env.pop("DEBUGINFOD_URLS", None)
        for name in inputs():
            path = os.path.join(INPUTS, name)
            for exe in (["--exe", RUNTIME], []):
                for verb in VERBS:
                    args = [AIOCORE, *verb, *exe, path]
                    with self.subTest(args=" ".join(args[1:])):
                        res = subprocess.run(args, capture_output=True,
                                             text=True, errors="replace",
                                             env=env, timeout=120)
                        self.assertIn(res.returncode, (0, 1, 2, 3),
                                      res.stderr[-3000:])
                        for report in REPORTS:
                            self.assertNotIn(report, res.stderr,
                                             res.stderr[-3000:])


if __name__ == "__main__":
    unittest.main(verbosity=2, argv=sys.argv[:1])
