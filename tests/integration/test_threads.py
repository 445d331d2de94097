# SPDX-License-Identifier: GPL-2.0-or-later
"""aiocore threads on real cores from gcore and on a live process, checked
against eu-stack on the same input."""
import os
import resource
import shutil
import signal
import subprocess
import time
import unittest

from aiocoretest import (Program, TempDirTestCase, aiocore, parse_eu_stack,
                         physical_frames, run, threads_json,
                         wait_all_sleeping)

MT_SLEEPER = os.environ["MT_SLEEPER"]


class ThreadsOnCore(TempDirTestCase):
    @classmethod
    def setUpClass(cls):
        import tempfile
        cls.dir = tempfile.mkdtemp(prefix="aiocore-threads-")
        with Program(MT_SLEEPER) as prog:
            cls.pid = prog.pid
            cls.core = prog.gcore(os.path.join(cls.dir, "mt.core"))

    @classmethod
    def tearDownClass(cls):
        import shutil
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_same_frames_as_eu_stack(self):
        ours, res = threads_json(self.core)
        self.assertEqual(res.returncode, 0, res.stderr)
        eu = run(["eu-stack", f"--core={self.core}"])
        theirs = parse_eu_stack(eu.stdout)
        self.assertEqual(len(theirs), 4)
        mine = {t["tid"]: physical_frames(t) for t in ours["threads"]}
        self.assertEqual(set(mine), set(theirs))
        for tid, frames in theirs.items():
            with self.subTest(tid=tid):
                self.assertEqual(mine[tid], frames)

    def test_expected_functions_and_inlines(self):
        ours, _ = threads_json(self.core)
        functions = [[f["function"] for f in t["frames"]] for t in ours["threads"]]
        flat = [name for frames in functions for name in frames]
        for anchor in ("main_wait", "park_in_cond_wait", "park_in_poll",
                       "cond_thread", "poll_thread", "deep_thread"):
            self.assertIn(anchor, flat)
        # poll_forever is always_inline: it must appear as an inlined entry
        # sharing park_in_poll's pc.
        for t in ours["threads"]:
            names = [f["function"] for f in t["frames"]]
            if "park_in_poll" in names:
                i = names.index("park_in_poll")
                self.assertEqual(names[i - 1], "poll_forever")
                self.assertTrue(t["frames"][i - 1]["inlined"])
                self.assertEqual(t["frames"][i - 1]["pc"], t["frames"][i]["pc"])
                self.assertTrue(t["frames"][i - 1]["file"].endswith("mt-sleeper.c"))
        deep = [t for t in ours["threads"]
                if "deep_thread" in [f["function"] for f in t["frames"]]][0]
        self.assertEqual([f["function"] for f in deep["frames"]].count(
            "recurse_then_sleep"), 6)

    def test_how_each_frame_was_found(self):
        ours, _ = threads_json(self.core)
        for t in ours["threads"]:
            self.assertEqual(t["frames"][0]["how"], "registers")
            self.assertTrue(all(f["how"] in ("cfi", "frame-pointer")
                                for f in t["frames"][1:] if not f["inlined"]
                                and f["pc"] != t["frames"][0]["pc"]))
        # Everything here has .eh_frame: every caller was found through CFI.
        hows = {f["how"] for t in ours["threads"] for f in t["frames"]}
        self.assertEqual(hows, {"registers", "cfi"})

    def test_text_output(self):
        res = aiocore("threads", self.core)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("x86_64, 4 threads", res.stdout)
        self.assertRegex(res.stdout, r"#\d+ +0x[0-9a-f]{16} in park_in_poll\+0x[0-9a-f]+ at .*mt-sleeper.c:\d+ \[mt-sleeper\] via cfi")
        self.assertIn("in poll_forever (inlined) at", res.stdout)

    def test_compressed_cores(self):
        for tool, ext in (("gzip", "gz"), ("xz", "xz"), ("zstd", "zst")):
            with self.subTest(tool=tool):
                out = self.path(f"mt.core.{ext}")
                with open(out, "wb") as f:
                    subprocess.run([tool, "-c", "-1", self.core],
                                   check=True, stdout=f)
                plain, _ = threads_json(self.core)
                packed, res = threads_json(out)
                self.assertEqual(res.returncode, 0, res.stderr)
                self.assertEqual(plain["threads"], packed["threads"])
                self.assertEqual(packed["target"], out)

    def test_exe_option_same_build(self):
        ours, res = threads_json("--exe", MT_SLEEPER, self.core)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("main_wait", [f["function"] for t in ours["threads"]
                                     for f in t["frames"]])


class ThreadsOnKernelCore(TempDirTestCase):
    def test_kernel_core_matches_eu_stack(self):
        # Kernel cores leave out read-only file mappings (text, rodata):
        # unwinding must read those from the module files.
        with Program(MT_SLEEPER, cwd=self.tmp) as prog:
            core = prog.kernel_core(self.path("kernel.core"))
        ours, res = threads_json(core)
        self.assertEqual(res.returncode, 0, res.stderr)
        theirs = parse_eu_stack(run(["eu-stack", f"--core={core}"]).stdout)
        mine = {t["tid"]: physical_frames(t) for t in ours["threads"]}
        self.assertEqual(mine, theirs)
        self.assertIn("main_wait", [f for t in mine.values() for _, f in t])


class ThreadsOnAarch64Core(TempDirTestCase):
    """A foreign-architecture core: the program is cross-built and run under
    qemu-aarch64, which writes the core; analysed here on x86_64."""
    SYSROOT = "/usr/aarch64-linux-gnu"

    def make_core(self):
        exe = os.environ.get("MT_SLEEPER_AARCH64")
        if not exe or not shutil.which("qemu-aarch64"):
            self.skipTest("needs gcc-aarch64-linux-gnu and qemu-user")
        env = dict(os.environ, QEMU_LD_PREFIX=self.SYSROOT)
        # qemu-user writes the guest core, then lets the kernel dump the
        # emulator too (~170 MB) under core_pattern "core": a directory of
        # that name makes the kernel skip it.
        os.mkdir(os.path.join(self.tmp, "core"))
        proc = subprocess.Popen(
            ["qemu-aarch64", exe], cwd=self.tmp, env=env, text=True,
            stdout=subprocess.PIPE,
            preexec_fn=lambda: resource.setrlimit(
                resource.RLIMIT_CORE, (resource.RLIM_INFINITY,) * 2))
        self.assertEqual(proc.stdout.readline().split()[0], "ready")
        wait_all_sleeping(proc.pid)
        proc.send_signal(signal.SIGABRT)
        proc.wait(timeout=30)
        proc.stdout.close()
        shared = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                              f"mt-sleeper-shared-{proc.pid}")
        if os.path.exists(shared):
            os.unlink(shared)
        cores = [n for n in os.listdir(self.tmp) if n.startswith("qemu_")]
        self.assertEqual(len(cores), 1, os.listdir(self.tmp))
        return exe, os.path.join(self.tmp, cores[0])

    def test_aarch64_core_with_sysroot(self):
        exe, core = self.make_core()
        ours, res = threads_json("--sysroot", self.SYSROOT, "--exe", exe, core)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(ours["arch"], "aarch64")
        self.assertEqual(len(ours["threads"]), 4)
        stacks = [[f["function"] for f in t["frames"]] for t in ours["threads"]]
        main = [s for s in stacks if "main_wait" in s][0]
        # The whole chain, libc included: its libraries came from the
        # link map under the sysroot (qemu-user cores lack NT_FILE).
        # (Debian's cross libc has no .symtab: its static functions are ??.)
        self.assertEqual([f for f in main if f],
                         ["read", "main_wait", "main", "__libc_start_main", "_start"])
        poller = [t for t in ours["threads"]
                  if "park_in_poll" in [f["function"] for f in t["frames"]]][0]
        names = [f["function"] for f in poller["frames"]]
        i = names.index("park_in_poll")
        self.assertEqual(names[i - 1], "poll_forever")
        self.assertTrue(poller["frames"][i - 1]["inlined"])
        deep = [s for s in stacks if "deep_thread" in s][0]
        self.assertEqual(deep.count("recurse_then_sleep"), 6)
        modules = {f["module"] for t in ours["threads"] for f in t["frames"]}
        self.assertIn("libc.so.6", modules)
        hows = {f["how"] for t in ours["threads"] for f in t["frames"][1:]}
        self.assertIn("cfi", hows)


class ThreadsLive(unittest.TestCase):
    def test_live_process_matches_eu_stack_and_survives(self):
        with Program(MT_SLEEPER) as prog:
            ours, res = threads_json("--pid", str(prog.pid))
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertGreater(ours["stopped_seconds"], 0)
            self.assertLess(ours["stopped_seconds"], 1.0)
            names = {t["name"] for t in ours["threads"]}
            self.assertTrue({"cond-waiter", "poller", "deep-sleeper"} <= names)
            eu = parse_eu_stack(run(["eu-stack", "-p", str(prog.pid)]).stdout)
            mine = {t["tid"]: physical_frames(t) for t in ours["threads"]}
            self.assertEqual(mine, eu)
            # Read-only and detached: the process goes on and is not traced.
            time.sleep(0.1)
            self.assertIsNone(prog.proc.poll())
            with open(f"/proc/{prog.pid}/status") as f:
                self.assertIn("TracerPid:\t0", f.read())


if __name__ == "__main__":
    unittest.main(verbosity=2)
