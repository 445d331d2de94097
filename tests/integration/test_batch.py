# SPDX-License-Identifier: GPL-2.0-or-later
"""aiocore diagnose --batch: one JSON line per core, a summary grouped by
hang signature, parallel jobs, and a bad core never stops the batch."""
import json
import os
import shutil
import subprocess
import unittest

import runtimecores
from aiocoretest import TempDirTestCase, aiocore


class Batch(TempDirTestCase):
    def make_case_dir(self):
        d = self.path("case-1234")
        os.makedirs(os.path.join(d, "host-b"))
        for variant in ("lost-completion", "lost-notify", "fixed"):
            shutil.copy(runtimecores.core(variant, "g5"), os.path.join(d, f"{variant}.core"))
        with open(os.path.join(d, "host-b", "core.77.zst"), "wb") as f:
            subprocess.run(["zstd", "-q", "-1", "-c", runtimecores.core("lost-completion", "g10")],
                           stdout=f, check=True)
        with open(os.path.join(d, "sosreport.txt"), "w") as f:
            f.write("not a core\n")
        with open(runtimecores.core("fixed", "g2"), "rb") as src, \
             open(os.path.join(d, "host-b", "cut.core"), "wb") as dst:
            dst.write(src.read(4096))
        return d

    def test_directory_in_parallel(self):
        d = self.make_case_dir()
        res = aiocore("diagnose", "--batch", "-j", "2", d)
        self.assertEqual(res.returncode, 1, res.stderr)  # one core is broken
        lines = [json.loads(l) for l in res.stdout.splitlines()]
        per_core, summary = lines[:-1], lines[-1]["summary"]
        by_name = {os.path.basename(l["core"]): l for l in per_core}
        self.assertEqual(set(by_name), {"lost-completion.core", "lost-notify.core",
                                        "fixed.core", "core.77.zst", "cut.core"})
        self.assertEqual(by_name["lost-completion.core"]["verdict"], "lost-completion")
        self.assertEqual(by_name["core.77.zst"]["verdict"], "lost-completion")
        self.assertEqual(by_name["lost-notify.core"]["verdict"], "lost-notify")
        self.assertEqual(by_name["fixed.core"]["verdict"], "none")
        self.assertEqual(by_name["cut.core"]["verdict"], "error")
        self.assertIn("cut.core", by_name["cut.core"]["error"])
        self.assertEqual(summary["cores"], 5)
        self.assertEqual(summary["with_pattern"], 3)
        self.assertEqual(summary["errors"], 1)
        self.assertEqual(summary["skipped_files"], 1)
        groups = {g["signature"]: g["count"] for g in summary["groups"]}
        self.assertEqual(groups["lost-completion @ main_loop_wait"], 2)
        self.assertEqual(summary["groups"][0]["count"], 2)  # largest first
        self.assertIn("5 cores: 3 with a hang pattern", res.stderr)

    def test_explicit_cores_and_exit_code(self):
        res = aiocore("diagnose", "--batch", runtimecores.core("fixed", "g5"),
                      runtimecores.core("nested-poll", "g2"))
        self.assertEqual(res.returncode, 3, res.stderr)
        lines = [json.loads(l) for l in res.stdout.splitlines()]
        self.assertEqual([l.get("verdict") for l in lines[:-1]], ["none", "nested-poll"])

    def test_every_input_named(self):
        d = self.make_case_dir()
        missing = self.path("no-such-core")
        res = aiocore("diagnose", "--batch", d, missing)
        lines = [json.loads(l) for l in res.stdout.splitlines()]
        per_core, summary = lines[:-1], lines[-1]["summary"]
        # A named path that does not exist: its own JSON error line.
        line = [l for l in per_core if l["core"] == missing]
        self.assertEqual(len(line), 1)
        self.assertEqual(line[0]["verdict"], "error")
        self.assertEqual(line[0]["exit"], 2)
        self.assertEqual(line[0]["error"], missing + ": cannot open: No such file or directory")
        # Skipped files: by name, with the reason, in JSON and on stderr.
        txt = os.path.join(d, "sosreport.txt")
        self.assertEqual(summary["skipped"],
                         [{"path": txt, "reason": "not a core (neither an ELF core nor compressed)"}])
        self.assertIn(f"skipped: {txt}: not a core", res.stderr)
        self.assertEqual(res.returncode, 1, res.stderr)  # errors win over patterns

    def test_usage(self):
        self.assertEqual(aiocore("diagnose", "--batch").returncode, 64)
        self.assertEqual(aiocore("diagnose", "--batch", "-j", "0", self.tmp).returncode, 64)
        res = aiocore("diagnose", "--batch", self.tmp)
        self.assertEqual(res.returncode, 2)
        self.assertIn("no core found", res.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
