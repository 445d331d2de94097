# SPDX-License-Identifier: GPL-2.0-or-later
"""Inputs as they come in the field (issue 12): stripped executables at the
core's own path with debuginfo found by build-id, debuglink or not at all,
programs that are not QEMU, cores from a pipe (compressed or not), and no
temporary file left behind whatever happens to the process."""
import os
import re
import shutil
import signal
import subprocess
import time
import unittest

import runtimecores
from aiocoretest import AIOCORE, Program, TempDirTestCase, aiocore, build_id, run

MT_SLEEPER = os.environ["MT_SLEEPER"]
MT_SLEEPER_STRIPPED = os.environ["MT_SLEEPER_STRIPPED"]
PARTIAL, FATAL, FOUND = 1, 2, 3


class StrippedAtItsPath(TempDirTestCase):
    """The executable sits where the core says, stripped, as distributions
    ship it: no --exe needed; its debuginfo is looked up by build-id."""

    def core_of(self, exe_name, source=MT_SLEEPER_STRIPPED):
        exe = self.path(exe_name)
        shutil.copy(source, exe)
        with Program(exe) as prog:
            return exe, prog.gcore(self.path(exe_name + ".core"))

    def test_found_without_exe_no_debuginfo(self):
        exe, core = self.core_of("mt-sleeper")
        bid = build_id(MT_SLEEPER)
        res = aiocore("threads", core)
        self.assertEqual(res.returncode, PARTIAL, res.stderr)
        self.assertNotIn("not found", res.stderr)
        self.assertIn(f"no debuginfo for it either (build-id {bid})", res.stderr)
        self.assertIn(f".build-id/{bid[:2]}/{bid[2:]}.debug", res.stderr)
        for how in ("-dbgsym", "-debuginfo", "DEBUGINFOD_URLS", "--debug-dir"):
            self.assertIn(how, res.stderr)
        # The file was used: its symbol table names the frames.
        self.assertIn("main_wait", res.stdout)
        # Not QEMU: said plainly, no QEMU package advised; partial, not fatal.
        res = aiocore("diagnose", core)
        self.assertEqual(res.returncode, PARTIAL, res.stderr)
        self.assertIn(f"not a QEMU process: no AioContext in {exe}", res.stderr)
        self.assertNotIn("qemu-", res.stderr)

    def test_qemu_named_executable_gets_qemu_advice(self):
        exe, core = self.core_of("qemu-img")
        bid = build_id(MT_SLEEPER)
        for verb in ("threads", "diagnose"):
            res = aiocore(verb, core)
            self.assertEqual(res.returncode, PARTIAL, res.stderr)
            self.assertIn(f"no debuginfo for {exe} (build-id {bid})", res.stderr)
            self.assertIn("qemu-system-x86-dbgsym", res.stderr)
            self.assertIn("DEBUGINFOD_URLS", res.stderr)

    def test_debug_dir_by_build_id(self):
        _, core = self.core_of("mt-sleeper")
        bid = build_id(MT_SLEEPER)
        d = self.path("debug/.build-id/" + bid[:2])
        os.makedirs(d)
        shutil.copy(MT_SLEEPER, os.path.join(d, bid[2:] + ".debug"))
        res = aiocore("threads", "--debug-dir", self.path("debug"), core)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertRegex(res.stdout, r"park_in_poll\+0x[0-9a-f]+ at .*mt-sleeper.c:\d+")

    def test_gnu_debuglink_beside_the_executable(self):
        debug = self.path("mt-sleeper.debug")
        stripped = self.path("built")
        run(["objcopy", "--only-keep-debug", MT_SLEEPER, debug], check=True)
        run(["objcopy", "--strip-debug", "--add-gnu-debuglink=" + debug, MT_SLEEPER,
             stripped], check=True)
        _, core = self.core_of("mt-sleeper", stripped)
        res = aiocore("threads", core)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertRegex(res.stdout, r"park_in_poll\+0x[0-9a-f]+ at .*mt-sleeper.c:\d+")

    def test_distribution_binary(self):
        # A gcore core of Debian's own /usr/bin/sleep.
        proc = subprocess.Popen(["sleep", "600"])
        try:
            time.sleep(0.3)
            res = run(["gcore", "-o", self.path("sleep"), str(proc.pid)], timeout=300)
            core = f"{self.path('sleep')}.{proc.pid}"
            self.assertTrue(os.path.exists(core), res.stderr)
        finally:
            proc.kill()
            proc.wait()
        res = aiocore("threads", core)
        self.assertIn(res.returncode, (0, PARTIAL), res.stderr)
        self.assertNotIn("not found", res.stderr)
        self.assertIn("1 thread", res.stdout)
        res = aiocore("diagnose", core)
        self.assertEqual(res.returncode, PARTIAL, res.stderr)
        self.assertIn("not a QEMU process: no AioContext in /usr/bin/sleep", res.stderr)
        self.assertNotIn("qemu-", res.stderr)

    def test_unstripped_program_that_is_not_qemu(self):
        exe, core = self.core_of("mt-sleeper", MT_SLEEPER)
        res = aiocore("diagnose", core)
        self.assertEqual(res.returncode, PARTIAL, res.stderr)
        self.assertIn(f"not a QEMU process: no AioContext in {exe}", res.stderr)


class FromAPipe(TempDirTestCase):
    """`... | aiocore diagnose -`: the stream's magic says the format."""

    def setUp(self):
        super().setUp()
        self.core = runtimecores.core("lost-completion", "g5")
        self.expected = aiocore("diagnose", self.core)
        self.assertEqual(self.expected.returncode, FOUND, self.expected.stderr)

    def piped(self, producer):
        p = subprocess.Popen(producer, stdout=subprocess.PIPE)
        res = run([AIOCORE, "diagnose", "-"], stdin=p.stdout)
        p.stdout.close()
        p.wait()
        return res

    def test_plain_and_compressed(self):
        for name, producer in (("plain", ["cat", self.core]),
                               ("gzip", ["gzip", "-c", self.core]),
                               ("xz", ["xz", "-c", "-T1", self.core]),
                               ("zstd", ["zstd", "-q", "-c", self.core])):
            with self.subTest(name):
                res = self.piped(producer)
                self.assertEqual(res.returncode, FOUND, res.stderr)
                # Same verdict, word for word; only the name differs.
                self.assertEqual(res.stdout, self.expected.stdout.replace(self.core, "-"))

    def test_truncated_compressed_stream(self):
        with open(self.path("cut.zst"), "wb") as f:
            data = subprocess.run(["zstd", "-q", "-c", self.core], capture_output=True,
                                  check=True).stdout
            f.write(data[:len(data) // 2])
        res = self.piped(["cat", self.path("cut.zst")])
        self.assertEqual(res.returncode, FATAL, res.stderr)
        self.assertRegex(res.stderr, r"-: truncated zstd stream after \d+ bytes")


class NoTempFileLeft(TempDirTestCase):
    """The decompressed copy has no name: SIGPIPE or SIGKILL cannot leave
    it in $TMPDIR."""

    def setUp(self):
        super().setUp()
        self.tmpdir = self.path("tmp")
        os.mkdir(self.tmpdir)
        self.env = dict(os.environ, TMPDIR=self.tmpdir)
        self.zst = self.path("big.zst")
        run(["zstd", "-q", "-o", self.zst, runtimecores.core("lost-completion", "g10")],
            check=True)

    def test_sigpipe(self):
        # `aiocore threads big.zst | head -1`, with head gone before
        # aiocore writes: it dies of SIGPIPE mid-output.
        res = subprocess.run(f"'{AIOCORE}' threads --json '{self.zst}' | head -c 0",
                             shell=True, capture_output=True, text=True, env=self.env,
                             timeout=120)
        self.assertEqual(res.stdout, "")
        self.assertEqual(os.listdir(self.tmpdir), [])
        r, w = os.pipe()
        os.close(r)
        p = subprocess.Popen([AIOCORE, "threads", "--json", self.zst], stdout=w,
                             stderr=subprocess.DEVNULL, env=self.env)
        os.close(w)
        self.assertEqual(p.wait(timeout=120), -signal.SIGPIPE)
        self.assertEqual(os.listdir(self.tmpdir), [])

    def temp_fds(self):
        """(pid, fd) of every process with a file open in our $TMPDIR."""
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    if os.readlink(f"/proc/{pid}/fd/{fd}").startswith(self.tmpdir):
                        found.append((int(pid), int(fd)))
            except OSError:
                continue
        return found

    def test_sigkill_in_flight(self):
        # Half the core on a pipe that stays open: aiocore is mid-spool,
        # its temporary file open, when it is killed.
        with open(runtimecores.core("lost-completion", "g10"), "rb") as f:
            data = f.read()
        p = subprocess.Popen([AIOCORE, "threads", "-"], stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=self.env)
        p.stdin.write(data[:len(data) // 2])
        p.stdin.flush()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not self.temp_fds():
            time.sleep(0.02)
        self.assertTrue(self.temp_fds(), "aiocore never opened its temporary file")
        self.assertEqual(os.listdir(self.tmpdir), [])  # open, yet nameless
        p.kill()
        p.wait()
        p.stdin.close()
        self.assertEqual(os.listdir(self.tmpdir), [])

    def test_batch_sigkill(self):
        # Cores with 512 MiB of zeros after them decompress for a while: the
        # batch is killed while its children have their files open.
        big = self.path("cores/core.zst")
        os.mkdir(os.path.dirname(big))
        core = runtimecores.core("lost-completion", "g10")
        subprocess.run(f"(cat '{core}'; head -c 512M /dev/zero) | zstd -q -1 -o '{big}'",
                       shell=True, check=True, timeout=300)
        for i in range(3):
            os.link(big, self.path(f"cores/core.{i}.zst"))
        p = subprocess.Popen([AIOCORE, "diagnose", "--batch", "-j", "2",
                              os.path.dirname(big)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=self.env, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not self.temp_fds():
            time.sleep(0.01)
        in_flight = self.temp_fds()
        os.killpg(p.pid, signal.SIGKILL)  # the batch and its children
        p.wait()
        self.assertTrue(in_flight, "no core was being decompressed")
        self.assertNotIn(p.pid, [pid for pid, _ in in_flight])  # children do it
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(os.path.exists(f"/proc/{pid}")
                                                  for pid, _ in in_flight):
            time.sleep(0.02)
        self.assertEqual(os.listdir(self.tmpdir), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
