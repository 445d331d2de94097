# SPDX-License-Identifier: GPL-2.0-or-later
"""Every kind of bad input gets a clear error naming the file and the
problem, and a documented exit code; never a crash."""
import os
import random
import re
import shutil
import subprocess
import tempfile
import struct
import unittest

import runtimecores
from aiocoretest import AIOCORE, Program, TempDirTestCase, aiocore, build_id, run

MT_SLEEPER = os.environ["MT_SLEEPER"]
MT_SLEEPER_OTHER = os.environ["MT_SLEEPER_OTHER"]
MT_SLEEPER_STRIPPED = os.environ["MT_SLEEPER_STRIPPED"]

FATAL, PARTIAL, USAGE = 2, 1, 64


class BadInput(TempDirTestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="aiocore-bad-")
        with Program(MT_SLEEPER) as prog:
            cls.core = prog.gcore(os.path.join(cls.dir, "mt.core"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def assertFails(self, res, code, *patterns):
        self.assertEqual(res.returncode, code, res.stderr)
        self.assertNotIn("Sanitizer", res.stderr)
        for p in patterns:
            self.assertRegex(res.stderr, p)

    def test_not_an_elf_file(self):
        p = self.path("notes.txt")
        with open(p, "w") as f:
            f.write("this is not a core\n" * 100)
        self.assertFails(aiocore("threads", p), FATAL, re.escape(p) + ": not an ELF file")

    def test_empty_file(self):
        p = self.path("empty")
        open(p, "w").close()
        self.assertFails(aiocore("threads", p), FATAL, re.escape(p) + ": not an ELF file")

    def test_elf_that_is_not_a_core(self):
        self.assertFails(aiocore("threads", MT_SLEEPER), FATAL,
                         re.escape(MT_SLEEPER) + r": is a shared object or PIE executable, not a core file")

    def test_missing_file(self):
        p = self.path("no-such-core")
        self.assertFails(aiocore("threads", p), FATAL,
                         re.escape(p) + ": cannot open: No such file or directory")

    def test_directory(self):
        self.assertFails(aiocore("threads", self.tmp), FATAL,
                         re.escape(self.tmp) + ": .*(Is a directory|not a regular file)")

    def test_unreadable_file(self):
        # Root reads anything: drop to nobody to see the permission error.
        p = os.path.join(self.dir, "mt.core")
        res = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                   AIOCORE, "threads", p])
        self.assertFails(res, FATAL, re.escape(p) + ": cannot open: Permission denied")

    def truncate(self, core, name, fraction):
        p = self.path(name)
        with open(core, "rb") as src, open(p, "wb") as dst:
            dst.write(src.read(int(os.path.getsize(core) * fraction)))
        return p

    def test_truncated_kernel_core(self):
        # The kernel writes the notes first: threads survive truncation.
        with Program(MT_SLEEPER, cwd=self.tmp) as prog:
            core = prog.kernel_core(self.path("kernel.core"))
        p = self.truncate(core, "truncated.core", 0.6)
        res = aiocore("threads", p)
        self.assertFails(res, PARTIAL, re.escape(p) + r": truncated: segment 0x[0-9a-f]+-0x[0-9a-f]+ is missing \d+ of \d+ bytes",
                         r"truncated: \d+ segments? incomplete, file is \d+ bytes, the headers describe at least \d+")
        # What is still there is still shown: every thread and its pc, and
        # why unwinding could not go further (the stacks were cut off).
        self.assertIn("4 threads", res.stdout)
        self.assertEqual(len(re.findall(r"#0 +0x[0-9a-f]{16}", res.stdout)), 4)
        self.assertIn("unwinding stopped", res.stdout)

    def test_truncated_gcore_core(self):
        # gcore writes the notes last: truncation takes the registers.
        p = self.truncate(self.core, "truncated.core", 0.6)
        res = aiocore("threads", p)
        self.assertFails(res, PARTIAL, re.escape(p) + r": truncated: the note segment \(thread registers\) is cut off",
                         r"truncated: \d+ segments? incomplete")
        self.assertIn("0 threads", res.stdout)

    def test_truncated_says_so_first(self):
        # gcore writes the notes last: a core cut at 1 MiB or at half has
        # no threads and no file notes.  The cut is the first thing said.
        size = os.path.getsize(self.core)
        for name, cut in (("1mib.core", 1 << 20), ("half.core", size // 2)):
            p = self.path(name)
            with open(self.core, "rb") as src, open(p, "wb") as dst:
                dst.write(src.read(cut))
            for verb in ("threads", "diagnose"):
                with self.subTest(name=name, verb=verb):
                    res = aiocore(verb, p)
                    self.assertEqual(res.returncode, PARTIAL, res.stderr)
                    first = res.stderr.splitlines()[0]
                    self.assertRegex(first, re.escape(p) + f": core truncated at {cut} of (\\d+) bytes")
                    promised = int(re.search(r"of (\d+) bytes", first).group(1))
                    self.assertEqual(promised, size)  # gcore leaves no slack

    def corrupt_registers(self, core, name, seed):
        """A copy of core whose NT_PRSTATUS notes hold random tids and
        registers, as a corrupt core would; and its number of threads."""
        rnd = random.Random(seed)
        p = self.path(name)
        shutil.copy(core, p)
        with open(p, "r+b") as f:
            data = bytearray(f.read())
            phoff, = struct.unpack_from("<Q", data, 0x20)
            phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
            n = 0
            for i in range(phnum):
                ptype, _, off, _, _, filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
                if ptype != 4:  # PT_NOTE
                    continue
                pos = off
                while pos + 12 <= off + filesz:
                    namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
                    desc = pos + 12 + (namesz + 3) // 4 * 4
                    if ntype == 1:  # NT_PRSTATUS: pr_pid at 32, registers from 112
                        data[desc + 32:desc + 36] = rnd.randbytes(4)
                        data[desc + 112:desc + 112 + 27 * 8] = rnd.randbytes(27 * 8)
                        n += 1
                    pos = desc + (descsz + 3) // 4 * 4
            f.seek(0)
            f.write(data)
        return p, n

    def test_random_registers_are_partial(self):
        for core, seed in ((self.core, 12), (runtimecores.core("fixed", "g5"), 13)):
            p, n = self.corrupt_registers(core, f"random-{seed}.core", seed)
            self.assertGreaterEqual(n, 4)
            res = aiocore("threads", p)
            self.assertFails(res, PARTIAL, r"no thread could be read: every NT_PRSTATUS note holds implausible registers")
            self.assertEqual(len(re.findall(rf"thread -?\d+ \(note \d+ of {n}\) cannot be read: ", res.stderr)), n)
        # A QEMU-shaped core: no pattern found, yet not clean.
        res = aiocore("diagnose", p)
        self.assertFails(res, PARTIAL, "no thread could be read")

    def test_truncated_inside_headers(self):
        p = self.path("stub.core")
        with open(self.core, "rb") as src, open(p, "wb") as dst:
            dst.write(src.read(100))
        res = aiocore("threads", p)
        self.assertFails(res, FATAL, re.escape(p) + r": core truncated at 100 bytes, inside its program headers")

    def test_executable_of_another_build(self):
        res = aiocore("threads", "--exe", MT_SLEEPER_OTHER, self.core)
        self.assertFails(res, FATAL,
                         re.escape(MT_SLEEPER_OTHER) + r": build-id " + build_id(MT_SLEEPER_OTHER)
                         + r" does not match the core's executable \(build-id "
                         + build_id(MT_SLEEPER) + r"\)")

    def test_executable_rebuilt_since_the_core(self):
        # The core names a path; the file there is now another build.  It
        # must not be used: that would decode with the wrong layout.
        exe = self.path("mt-sleeper")
        shutil.copy(MT_SLEEPER, exe)
        with Program(exe) as prog:
            core = prog.gcore(self.path("stale.core"))
        shutil.copy(MT_SLEEPER_OTHER, exe)
        res = aiocore("threads", core)
        self.assertFails(res, PARTIAL, re.escape(exe) + " has build-id " + build_id(MT_SLEEPER_OTHER)
                         + ", the core's module has build-id " + build_id(MT_SLEEPER),
                         "another build of the executable")
        self.assertNotIn("main_wait", res.stdout)

    def test_executable_is_a_core(self):
        # A wrong file, not a wrong command line: fatal (2), not usage (64).
        self.assertFails(aiocore("threads", "--exe", self.core, self.core), FATAL,
                         re.escape(self.core) + ": is a core file, not an executable")

    def test_no_debuginfo_for_executable(self):
        res = aiocore("threads", "--exe", MT_SLEEPER_STRIPPED, self.core)
        # mt-sleeper is no QEMU: said so, and no QEMU package is advised.
        self.assertFails(res, PARTIAL, r"not a QEMU process: no AioContext in .*mt-sleeper-stripped",
                         r"no debuginfo for it either \(build-id " + build_id(MT_SLEEPER) + r"\)",
                         "debug package", "DEBUGINFOD_URLS", "--debug-dir")
        self.assertNotIn("qemu-", res.stderr)
        # Backtraces still work from the symbol table and .eh_frame.
        self.assertIn("main_wait", res.stdout)

    def test_debug_dir_provides_debuginfo(self):
        bid = build_id(MT_SLEEPER)
        d = os.path.join(self.tmp, "debug", ".build-id", bid[:2])
        os.makedirs(d)
        shutil.copy(MT_SLEEPER, os.path.join(d, bid[2:] + ".debug"))
        res = aiocore("threads", "--exe", MT_SLEEPER_STRIPPED,
                      "--debug-dir", os.path.join(self.tmp, "debug"), self.core)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertRegex(res.stdout, r"park_in_poll\+0x[0-9a-f]+ at .*mt-sleeper.c:\d+")

    def test_fifo_never_blocks(self):
        # Nobody ever writes to it: open() must not wait for a writer.
        fifo = self.path("fifo")
        os.mkfifo(fifo)
        self.assertFails(aiocore("threads", fifo, timeout=20), FATAL,
                         re.escape(fifo) + ": not a regular file$")
        self.assertFails(aiocore("threads", "--exe", fifo, self.core, timeout=20), FATAL,
                         re.escape(fifo) + ": not a regular file$")
        # The same message as /dev/null, another file that is not a core.
        self.assertFails(aiocore("threads", "/dev/null"), FATAL,
                         "/dev/null: not a regular file$")

    def test_empty_pipe(self):
        res = run([AIOCORE, "threads", "-"], stdin=subprocess.DEVNULL)
        self.assertFails(res, FATAL, "-: not an ELF file")

    def test_pid_that_does_not_exist(self):
        # pid_max is at most 4194304: this one cannot exist.
        self.assertFails(aiocore("threads", "--pid", "4194305"), FATAL,
                         "pid 4194305: no such process")

    def test_pid_that_may_not_be_read(self):
        with Program(MT_SLEEPER) as prog:
            res = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                       AIOCORE, "threads", "--pid", str(prog.pid)])
            self.assertFails(res, FATAL, f"pid {prog.pid}: may not be read")
            self.assertIsNone(prog.proc.poll())

    def test_usage_errors(self):
        for args in ([], ["threads"], ["threads", "a", "b"],
                     ["threads", "--pid", "12", self.core], ["threads", "--pid", "x"],
                     ["threads", "--bogus", self.core], ["no-such-verb"]):
            with self.subTest(args=args):
                res = aiocore(*args)
                self.assertEqual(res.returncode, USAGE, res.stderr)
                self.assertTrue(res.stderr.strip())

    def test_help(self):
        res = aiocore("threads", "--help")
        self.assertEqual(res.returncode, 0)
        for opt in ("--exe", "--sysroot", "--debug-dir", "--pid", "--json"):
            self.assertIn(opt, res.stdout)
        res = aiocore("--help")
        self.assertEqual(res.returncode, 0)
        self.assertIn("Exit codes", res.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
