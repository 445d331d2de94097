# SPDX-License-Identifier: GPL-2.0-or-later
"""The gdb side beyond the views' text: help, completion, convenience
functions, exit codes surfaced as $aio_exit, errors as gdb errors."""
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import unittest

import gdbtest
from gdbtest import runtimecores


def cut_segment(core, out, address):
    """Copy an x86_64 core, with the PT_LOAD that holds address dumped only
    up to address's page: as if the rest had been filtered out."""
    with open(core, "rb") as f:
        data = bytearray(f.read())
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        off = phoff + i * phentsize
        p_type, _, _, vaddr, _, filesz = struct.unpack_from("<IIQQQQ", data, off)
        if p_type == 1 and vaddr <= address < vaddr + filesz:
            struct.pack_into("<Q", data, off + 32, (address - vaddr) & ~0xfff)
    with open(out, "wb") as f:
        f.write(data)


class Commands(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.core = os.path.abspath(runtimecores.core("lost-completion", "g5"))
        cls.exe = runtimecores.executable("g5")
        cls.target = [cls.exe, cls.core]

    def gdb(self, *commands):
        return gdbtest.gdb_run(self.target, list(commands))

    def test_help(self):
        views = gdbtest.views()
        self.assertTrue({"ctx", "bh-list", "thread-pool", "diagnose"} <= set(views))
        results, _ = self.gdb(*("help aio-" + v for v in views))
        for view, (out, _) in zip(views, results):
            with self.subTest(view=view):
                self.assertIn("Usage: aio-%s [--json] [--ctx ADDR] [--bt]" % view, out)
                self.assertIn("--ctx ADDR        only the AioContext at ADDR", out)
                cli_help = gdbtest.cli(view, "--help").stdout
                # the view's own paragraph is the CLI's, word for word
                paragraph = cli_help.split("\n\n")[1]
                self.assertIn(paragraph, out)
        (out, _), = self.gdb("help aio-ctx")[0][:1]
        self.assertTrue(out.startswith("AioContexts"), out)
        (apropos, _), = self.gdb("apropos aiocore")[0]
        for view in views:
            self.assertIn("aio-" + view, apropos)

    def test_help_aio(self):
        """`help aio` lists every aio-* command gdb has registered (from gdb's
        own completion, not from our list), each once with the view's summary,
        and nothing that is not registered; `aio` prints the same list."""
        results, _ = self.gdb("help aio", "aio", "complete aio-", "show convenience")
        (listing, _), (plain, code), (registered, _), (functions, _) = results
        self.assertEqual(listing.rstrip("\n"), plain.rstrip("\n"))
        self.assertEqual(code, None)   # `aio` does not touch $aio_exit
        registered = set(registered.split())
        self.assertTrue(registered, "gdb completes no aio-* command")
        listed = re.findall(r"^(aio-\S+) +-- (.+)$", listing, re.MULTILINE)
        names = [name for name, _ in listed]
        self.assertEqual(len(names), len(set(names)), listing)
        self.assertEqual(set(names), registered,
                         "missing from help aio: %s; listed but not registered: %s"
                         % (registered - set(names), set(names) - registered))
        summaries = dict(listed)
        for view in gdbtest.views():
            # the view's one-line summary: the CLI's `aiocore --help` line
            cli_line = [line for line in gdbtest.cli("--help").stdout.split("\n")
                        if re.match(r"^ +%s +" % re.escape(view), line)]
            self.assertTrue(cli_line, view)
            summary = cli_line[0].split(None, 1)[1].strip()
            self.assertEqual(summaries["aio-" + view].lower(), summary.lower())
        listed_functions = set(re.findall(r"^\$(aio_\w+)\(", listing, re.MULTILINE))
        internal = set(re.findall(r"^\$(aio_\w+) = <internal function", functions,
                                  re.MULTILINE))
        self.assertTrue(internal, functions)
        self.assertEqual(listed_functions, internal)

    def test_dash_help_option(self):
        (out, code), = self.gdb("aio-bh-list --help")[0]
        self.assertIn("Usage: aio-bh-list", out)
        self.assertEqual(code, 0)

    def test_completion(self):
        views = gdbtest.views()
        ctxs = json.loads(gdbtest.cli("ctx", "--json", self.core).stdout)["contexts"]
        results, _ = self.gdb("complete aio-", "complete aio-ctx --j",
                              "complete aio-coroutines --", "complete aio-bh-list --ctx ",
                              "complete aio-bh-list --json --")
        commands = results[0][0].split()
        for view in views:
            self.assertIn("aio-" + view, commands)
        self.assertEqual(results[1][0], "aio-ctx --json\n")
        self.assertEqual(sorted(results[2][0].split("\n")[:-1]),
                         sorted("aio-coroutines " + o
                                for o in ("--bt", "--ctx", "--help", "--json")))
        self.assertEqual(sorted(results[3][0].split()[2::3]),
                         sorted(c["address"] for c in ctxs))
        lines = results[4][0].split("\n")[:-1]
        self.assertTrue(lines)
        for line in lines:
            self.assertTrue(line.startswith("aio-bh-list --json --"), line)
            self.assertNotEqual(line, "aio-bh-list --json --json")

    def test_functions(self):
        ctxs = json.loads(gdbtest.cli("ctx", "--json", self.core).stdout)["contexts"]
        bhs = json.loads(gdbtest.cli("bh-list", "--json", self.core).stdout)["contexts"]
        commands = ["output $aio_ctx_count()"]
        commands += ["output/x (unsigned long) $aio_ctx(%d)" % i for i in range(len(ctxs))]
        commands += ["output $aio_bh_count($aio_ctx(%d))" % i for i in range(len(ctxs))]
        commands += ["output/x (unsigned long) $aio_bh(%s, %d)" % (c["context"], j)
                     for c in bhs for j in range(len(c["bhs"]))]
        commands += ["set $c = $aio_ctx(0)", "ptype $c", "set $b = $aio_bh($c, 0)", "ptype $b",
                     "output $aio_ctx(99)", "output $aio_bh(1234, 0)"]
        results, res = self.gdb(*commands)
        outs = [out for out, _ in results]
        self.assertEqual(outs[0], str(len(ctxs)))
        n = len(ctxs)
        self.assertEqual(outs[1:1 + n], [c["address"] for c in ctxs])
        self.assertEqual(outs[1 + n:1 + 2 * n],
                         [str(len(c["bhs"])) for c in bhs])
        flat = [b["address"] for c in bhs for b in c["bhs"]]
        self.assertEqual(outs[1 + 2 * n:1 + 2 * n + len(flat)], flat)
        self.assertIn("type = struct AioContext {", outs[-5])
        self.assertIn("type = struct QEMUBH {", outs[-3])
        self.assertEqual(outs[-2], "")
        self.assertIn("$aio_ctx: index 99 out of range (there are %d)" % n, res.stderr)
        self.assertIn("0x4d2 is not an AioContext", res.stderr)

    def test_ctx_expression(self):
        """--ctx takes a gdb expression; the output is the CLI's for its value."""
        ctxs = json.loads(gdbtest.cli("ctx", "--json", self.core).stdout)["contexts"]
        results, _ = self.gdb("aio-bh-list --ctx $aio_ctx(1)", "aio-ctx --ctx=$aio_ctx(0)")
        self.assertEqual(results[0][0],
                         gdbtest.cli("bh-list", "--ctx", ctxs[1]["address"], self.core).stdout)
        self.assertEqual(results[1][0],
                         gdbtest.cli("ctx", "--ctx", ctxs[0]["address"], self.core).stdout)

    def test_exit_codes(self):
        """A found pattern is not an error: output, $aio_exit 3, next command runs.
        Usage and fatal errors are gdb errors with the CLI's message."""
        results, res = self.gdb("aio-diagnose", "aio-ctx --ctx zzz",
                                "aio-ctx --frobnicate", "aio-ctx")
        self.assertEqual(results[0][1], 3)
        self.assertIn("VERDICT: lost-completion", results[0][0])
        self.assertEqual(results[1], ("", 64))
        self.assertIn("aiocore ctx: --ctx zzz: not an address", res.stderr)
        self.assertEqual(results[2][1], 64)
        self.assertIn("aiocore ctx: unrecognized argument '--frobnicate'", res.stderr)
        self.assertEqual(results[3][1], 0)
        cli = gdbtest.cli("ctx", "--ctx", "zzz", self.core)
        self.assertEqual(cli.returncode, 64)
        self.assertIn(cli.stderr.strip(), res.stderr)

    def test_partial(self):
        """A core whose thread pool was not dumped: the notes are in the
        output, $aio_exit is 1 (as the CLI's exit code), no gdb error."""
        tmp = tempfile.mkdtemp(prefix="aiocore-gdb-partial-")
        self.addCleanup(shutil.rmtree, tmp, True)
        core = os.path.join(tmp, "filtered.core")
        pool = json.loads(gdbtest.cli("ctx", "--json", self.core).stdout)["contexts"][0]["thread_pool"]
        cut_segment(self.core, core, int(pool, 16))
        for view in ("thread-pool", "bh-list"):
            with self.subTest(view=view):
                expected = gdbtest.cli(view, core)
                self.assertEqual(expected.returncode, 1, expected.stderr)
                self.assertIn("note: ", expected.stdout)
                results, res = gdbtest.gdb_run([self.exe, core], ["aio-" + view])
                self.assertEqual(results[0], (expected.stdout, 1))
                self.assertNotIn("Error", res.stderr)

    def test_no_target(self):
        results, res = gdbtest.gdb_run([], ["aio-ctx", "output $aio_ctx_count()"])
        self.assertEqual(results[0], ("", None))
        self.assertIn("aiocore: no process and no core", res.stderr)

    def test_source_twice_and_from_source_tree(self):
        """Sourcing again is harmless; the source-tree copy finds a library
        through AIOCORE_GDB_LIB."""
        src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                           "gdb-scripts", "aiocore-gdb.py")
        env = dict(os.environ, AIOCORE_GDB_LIB=gdbtest.LIBRARY)
        res = subprocess.run([gdbtest.GDB, "-nx", "-batch", "-ex", "source " + src,
                              "-ex", "source " + gdbtest.SCRIPT, "-ex", "aio-ctx --json",
                              self.exe, self.core],
                             capture_output=True, text=True, timeout=300, env=env)
        self.assertIn(gdbtest.cli("ctx", "--json", self.core).stdout, res.stdout)
        self.assertNotIn("Error", res.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
