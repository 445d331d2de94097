# SPDX-License-Identifier: GPL-2.0-or-later
"""Every --json output against docs/json.md's own field tables: each view
(ctx, bh-list, thread-pool, events, coroutines with and without --bt,
waits, diagnose), threads, diagnose --since, the --batch lines and summary
and reproduce's line, on real cores of the reference runtime in its three
layouts.  A field the program prints that the page does not list, a
listed field missing, a value of another type, or a documented schema no
output has, fails.  (The real-QEMU suite runs the same on QEMU's cores.)"""
import copy
import json
import os
import re
import signal
import subprocess
import tempfile
import unittest

import jsonfields
import runtimecores
from aiocoretest import TempDirTestCase, aiocore, run

PATTERNS = ("lost-completion", "lost-notify", "event-lost-wakeup", "nested-poll",
            "iohandler-race")
OK_EXITS = (0, 1, 3)


def verbs_with_json():
    """The verbs `aiocore --help` lists, less reproduce (checked apart)."""
    text = aiocore("--help").stdout.split("Verbs:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in text.splitlines()
            if line.split() and line.split()[0] != "reproduce"]


class JsonSchema(TempDirTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tables = jsonfields.parse()
        cls.seen = set()

    def check(self, document, what):
        self.assertEqual(jsonfields.validate(document, self.tables), [], what)
        self.seen.add(document["schema"])

    def check_output(self, args):
        res = aiocore(*args)
        what = "aiocore " + " ".join(args)
        self.assertIn(res.returncode, OK_EXITS, what + ": " + res.stderr)
        self.check(json.loads(res.stdout), what)

    def test_1_views_on_runtime_cores(self):
        verbs = verbs_with_json()
        self.assertTrue({"diagnose", "ctx", "threads", "waits"} <= set(verbs), verbs)
        for profile in runtimecores.PROFILES:
            for pattern in PATTERNS:
                core = runtimecores.core(pattern, profile)
                for verb in verbs:
                    with self.subTest(verb=verb, core=os.path.basename(core)):
                        self.check_output([verb, "--json", core])
                with self.subTest(verb="coroutines --bt", core=os.path.basename(core)):
                    self.check_output(["coroutines", "--json", "--bt", core])

    def test_2_batch_lines_and_summary(self):
        cores = [runtimecores.core(p, "g5") for p in PATTERNS[:2]]
        with open(self.path("not-a-core"), "w") as f:
            f.write("text\n")
        os.symlink(cores[0], self.path("one.core"))
        res = aiocore("diagnose", "--batch", self.tmp, cores[1], self.path("missing.core"))
        lines = res.stdout.splitlines()
        self.assertEqual(len(lines), 4, res.stdout + res.stderr)   # 2 cores, 1 error, summary
        documents = [json.loads(line) for line in lines]
        self.assertEqual([d["schema"] for d in documents],
                         ["aiocore-batch/1"] * 3 + ["aiocore-batch-summary/1"])
        self.assertTrue(any(d.get("error") for d in documents[:3]))
        self.assertTrue(documents[-1]["summary"]["skipped"])
        for line, document in zip(lines, documents):
            self.check(document, line)

    def test_3_reproduce_and_since(self):
        """reproduce --json --keep: its line; then a gcore of the kept
        process: diagnose --since the first core."""
        first = self.path("first.core")
        with open(self.path("reproduce.out"), "w+") as out:
            # the kept runtime holds its stdout: a file, not a pipe
            rc = subprocess.call([os.environ.get("AIOCORE", "aiocore"), "reproduce",
                                  "lost-completion", "--json", "--keep", "--out", first],
                                 stdout=out, stderr=subprocess.STDOUT, timeout=120)
            out.seek(0)
            text = out.read()
        self.assertEqual(rc, 0, text)
        line = json.loads([t for t in text.splitlines() if t.startswith("{")][0])
        self.check(line, text)
        self.assertTrue(line["kept"])
        try:
            later = self.path("later.core")
            res = run(["gcore", "-o", later, str(line["pid"])], timeout=300)
            os.rename(f"{later}.{line['pid']}", later)
            self.assertEqual(res.returncode, 0, res.stderr)
        finally:
            os.kill(line["pid"], signal.SIGKILL)
        res = aiocore("diagnose", "--json", "--since", first, later)
        self.assertIn(res.returncode, OK_EXITS, res.stderr)
        document = json.loads(res.stdout)
        self.assertIn("since", document)
        self.check(document, "diagnose --since")

    def test_4_every_documented_schema_is_produced(self):
        """Runs after the others (unittest sorts by name): a schema the page
        documents that no output had is a stale section."""
        self.assertEqual(set(self.tables) - self.seen, set())


class Validator(unittest.TestCase):
    """The validator fails where it must, on a real output changed by hand."""

    @classmethod
    def setUpClass(cls):
        cls.tables = jsonfields.parse()
        res = aiocore("bh-list", "--json", runtimecores.core("lost-completion", "g5"))
        cls.real = json.loads(res.stdout)
        assert cls.real["contexts"][0]["bhs"], res.stdout

    def problems(self, change):
        document = copy.deepcopy(self.real)
        change(document)
        return jsonfields.validate(document, self.tables)

    def test_real_output_is_valid(self):
        self.assertEqual(self.problems(lambda d: None), [])

    def test_unknown_field(self):
        def add(d):
            d["contexts"][0]["bhs"][0]["colour"] = "red"
        self.assertEqual(self.problems(add),
                         ["contexts[].bhs[].colour: not documented in docs/json.md "
                          "(aiocore-bh-list/1)"])

    def test_missing_field(self):
        def drop(d):
            del d["contexts"][0]["bhs"][0]["runnable"]
        self.assertEqual(self.problems(drop),
                         ["contexts[].bhs[].runnable: documented, missing"])

    def test_wrong_type(self):
        def retype(d):
            d["contexts"][0]["context"] = int(d["contexts"][0]["context"], 16)
        self.assertEqual(len(self.problems(retype)), 1)
        self.assertRegex(self.problems(retype)[0], r"^contexts\[\]\.context: \d+ is not address$")

    def test_no_or_unknown_schema(self):
        self.assertEqual(self.problems(lambda d: d.pop("schema")),
                         ["no \"schema\" field at the top"])
        self.assertEqual(len(self.problems(lambda d: d.update(schema="aiocore-bh-list/9"))), 1)

    def test_bad_table(self):
        """A malformed block names its line."""
        with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False) as f:
            f.write("```fields x/1\nschema string\nb.c int\n```\n")
        doc = f.name
        self.addCleanup(os.unlink, doc)
        with self.assertRaisesRegex(ValueError, re.escape(doc) + r":3: b.c before its parent b"):
            jsonfields.parse(doc)


if __name__ == "__main__":
    unittest.main(verbosity=2)
