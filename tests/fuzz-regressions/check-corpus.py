#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The fuzzing corpora kept in fixtures/fuzz-corpus/ replay without a finding.

fuzz/run.sh grows them with libFuzzer (clang); here the same targets, linked
with fuzz/replay-main.c instead of libFuzzer, run every input once:

- notes/: whole small cores (headers and notes of runtime and real QEMU
  cores, mutated) through fuzz-notes, the ELF core layer;
- decoders-g10/: mutated read sets through fuzz-decoders, laid over a fresh
  core of the g10 runtime (lost-completion).  The corpus was grown on
  another core of the same recipe, so the bytes land on the same kind of
  fields, not the same addresses: a replay, not a bit-exact rerun.

Each replay must exit 0, run every file, and print no sanitizer report; in
CI's ASan/UBSan build that makes an overflow, a leak or UB a failure.
"""
import os
import re
import subprocess
import tempfile
import unittest

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
CORPUS = os.path.join(TOP, "fixtures", "fuzz-corpus")
REPORTS = ("Sanitizer", "runtime error")


def files(name):
    d = os.path.join(CORPUS, name)
    return d, [f for f in os.listdir(d) if not f.startswith(".")]


class Corpus(unittest.TestCase):
    def replay(self, exe, corpus, env=None):
        directory, names = files(corpus)
        self.assertGreaterEqual(len(names), 20, f"{directory}: hardly a corpus")
        run_env = dict(os.environ)
        run_env.pop("DEBUGINFOD_URLS", None)
        run_env.update(env or {})
        res = subprocess.run([exe, directory], capture_output=True, text=True,
                             errors="replace", env=run_env, timeout=240)
        for report in REPORTS:
            self.assertNotIn(report, res.stderr, res.stderr[-3000:])
        self.assertEqual(res.returncode, 0, res.stderr[-3000:])
        self.assertEqual(res.stdout.strip(), f"{len(names)} inputs run")
        return res

    def test_notes_corpus(self):
        self.replay(os.environ["FUZZ_NOTES_REPLAY"], "notes")

    def test_decoders_corpus(self):
        runtime = os.environ["RUNTIME_G10"]
        with tempfile.TemporaryDirectory() as tmp:
            core = os.path.join(tmp, "lc.core")
            subprocess.run([runtime, "--variant", "lost-completion", "--out", core],
                           check=True, capture_output=True, timeout=120)
            res = self.replay(os.environ["FUZZ_DECODERS_REPLAY"], "decoders-g10",
                              {"AIOCORE_FUZZ_CORE": core,
                               "AIOCORE_FUZZ_EXE": runtime})
        # The views read the core: a read set of some size, not nothing.
        m = re.search(r"read set of (\d+) bytes in (\d+) ranges", res.stderr)
        self.assertTrue(m, res.stderr)
        self.assertGreater(int(m.group(1)), 500)


if __name__ == "__main__":
    unittest.main(verbosity=2)
