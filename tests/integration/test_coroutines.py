# SPDX-License-Identifier: GPL-2.0-or-later
"""aiocore coroutines on cores of the reference runtime (profiles g2, g5,
g10): the coroutine waiting on a thread-pool request is found with its
entry point, state and a backtrace unwound from its saved sigjmp_buf
through CFI.  gdb is the oracle for the saved context: it prints the raw
__jmpbuf words and the pointer guard, the test demangles them itself and
compares with aiocore's sp/pc/fp, and gdb names the function of that pc.
An aarch64 build of the runtime under qemu-aarch64 checks the other
demangling (xor with __pointer_chk_guard, x29 not mangled)."""
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aiocoretest import AIOCORE, run  # noqa: E402

RUNTIMES = {p: os.environ.get("RUNTIME_" + p.upper()) for p in ("g2", "g5", "g10")}
RUNTIME_AARCH64 = os.environ.get("RUNTIME_G5_AARCH64")
AARCH64_SYSROOT = "/usr/aarch64-linux-gnu"

# The request coroutine's entry point, and the function that yielded
# (qemu_coroutine_yield is a tail call into qemu_coroutine_switch, so the
# frame above the switch is the one waiting: bdrv_co_io_em in 2.x, inlined
# into bdrv_co_flush; thread_pool_submit_co from 5.x on).
EXPECTED = {
    "g2": ("bdrv_aio_flush_co_entry", "bdrv_co_io_em"),
    "g5": ("blk_aio_flush_entry", "thread_pool_submit_co"),
    "g10": ("blk_aio_flush_entry", "thread_pool_submit_co"),
}
SWITCH = "qemu_coroutine_switch"
MASK = (1 << 64) - 1


def ror(v, n):
    return ((v >> n) | (v << (64 - n))) & MASK


def demangle_x86_64(v, guard):
    return ror(v, 17) ^ guard


def coroutines(*args):
    res = run([AIOCORE, "coroutines", "--json", "--bt", *args])
    if res.returncode not in (0, 1):
        raise AssertionError(f"aiocore coroutines failed ({res.returncode}): {res.stderr}")
    return json.loads(res.stdout), res


def make_core(runtime, out, variant="lost-completion", extra=()):
    mode = [] if variant == "fixed" else ["--mode", "inject"]
    res = run([runtime, "--variant", variant, *mode, "--out", out, *extra], timeout=120)
    if res.returncode != 0 or not os.path.exists(out):
        raise AssertionError(f"{runtime} --variant {variant}: {res.returncode} {res.stderr}")
    return out


def waiting_coroutine(doc):
    waiting = [c for c in doc["coroutines"]
               if (c["source"] or "").startswith("waiting on ThreadPoolElement")]
    return waiting


class CoroutinesOnRuntimeCores(unittest.TestCase):
    """One hung core (lost-completion) per profile, made once."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="aiocore-test-co-")
        cls.cores = {}
        for profile, exe in RUNTIMES.items():
            if exe:
                cls.cores[profile] = make_core(
                    exe, os.path.join(cls.tmp, f"lc-{profile}.core"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def profiles(self):
        if not self.cores:
            self.skipTest("RUNTIME_G2/G5/G10 not set")
        return sorted(self.cores.items())

    def test_waiting_coroutine_and_backtrace(self):
        for profile, core in self.profiles():
            with self.subTest(profile=profile):
                entry, yielder = EXPECTED[profile]
                doc, res = coroutines("--exe", RUNTIMES[profile], core)
                self.assertEqual(res.returncode, 0, res.stderr + str(doc.get("notes")))
                waiting = waiting_coroutine(doc)
                self.assertEqual(len(waiting), 1, doc)
                co = waiting[0]
                self.assertEqual(co["entry_name"], entry)
                self.assertEqual(co["state"], "suspended")
                self.assertIsNone(co["current_in_tid"])
                self.assertEqual(co["caller"], "0x0")
                self.assertIsNone(co["problem"])
                bt = co["backtrace"]
                names = [f["function"] for f in bt]
                self.assertEqual(names[0], SWITCH)
                self.assertEqual(bt[0]["how"], "registers")
                # The first physical caller is the function that yielded.
                self.assertEqual(names[1], yielder)
                self.assertIn(entry, names)
                self.assertIn("coroutine_trampoline", names)
                self.assertLess(names.index(yielder), names.index(entry))
                # Everything above frame 0 came from CFI, no frame pointers.
                self.assertEqual({f["how"] for f in bt[1:]}, {"cfi"})
                runtime_frames = [f for f in bt if f["function"] and
                                  f["module"] == os.path.basename(RUNTIMES[profile])]
                for f in runtime_frames:
                    self.assertTrue(f["file"], f)
                # 2.x has no Coroutine.ctx; later profiles record it.
                if profile == "g2":
                    self.assertIsNone(co["ctx"])
                else:
                    self.assertIsNotNone(co["ctx"])

    def test_saved_context_matches_gdb(self):
        if not shutil.which("gdb"):
            self.skipTest("needs gdb")
        for profile, core in self.profiles():
            with self.subTest(profile=profile):
                doc, _ = coroutines("--exe", RUNTIMES[profile], core)
                co = waiting_coroutine(doc)[0]
                res = run(["gdb", "-nx", "-batch",
                           "-ex", f"p/x ((CoroutineUContext *){co['address']})->env[0].__jmpbuf",
                           "-ex", "p/x *(unsigned long *)($fs_base + 0x30)",
                           RUNTIMES[profile], core], timeout=120)
                values = re.findall(r"^\$\d+ = (.*)$", res.stdout, re.M)
                self.assertEqual(len(values), 2, res.stdout + res.stderr)
                words = [int(w, 16) for w in re.findall(r"0x[0-9a-f]+", values[0])]
                self.assertEqual(len(words), 8)
                guard = int(values[1], 16)
                ctx = co["saved_context"]
                self.assertEqual(int(ctx["fp"], 16), demangle_x86_64(words[1], guard))
                self.assertEqual(int(ctx["sp"], 16), demangle_x86_64(words[6], guard))
                pc = demangle_x86_64(words[7], guard)
                self.assertEqual(int(ctx["pc"], 16), pc)
                self.assertEqual(int(co["backtrace"][0]["pc"], 16), pc)
                sym = run(["gdb", "-nx", "-batch", "-ex", f"info symbol {pc:#x}",
                           RUNTIMES[profile], core], timeout=120)
                self.assertRegex(sym.stdout, rf"(?m)^{SWITCH} \+ \d+ in section \.text")

    def test_text_output(self):
        for profile, core in self.profiles():
            with self.subTest(profile=profile):
                entry, _ = EXPECTED[profile]
                res = run([AIOCORE, "coroutines", "--bt", "--exe", RUNTIMES[profile], core])
                self.assertEqual(res.returncode, 0, res.stderr)
                self.assertRegex(
                    res.stdout,
                    rf"Coroutine 0x[0-9a-f]+  entry {entry} \(arg 0x[0-9a-f]+\)  suspended\n"
                    r"  source: waiting on ThreadPoolElement 0x[0-9a-f]+\n")
                self.assertRegex(res.stdout, rf"  #0 +0x[0-9a-f]+ in {SWITCH}\+0x[0-9a-f]+ at ")
                # Without --bt: no frames.
                res = run([AIOCORE, "coroutines", "--exe", RUNTIMES[profile], core])
                self.assertEqual(res.returncode, 0, res.stderr)
                self.assertNotIn(" #0 ", res.stdout)
                self.assertIn(f"entry {entry}", res.stdout)


class CoroutinesOnHealthyCore(unittest.TestCase):
    """A core captured mid-flight: whatever coroutines are reachable decode,
    and every suspended one unwinds from the switch."""

    def test_fixed_variant(self):
        exe = RUNTIMES.get("g10")
        if not exe:
            self.skipTest("RUNTIME_G10 not set")
        tmp = tempfile.mkdtemp(prefix="aiocore-test-co-")
        try:
            core = make_core(exe, os.path.join(tmp, "fixed.core"), "fixed",
                             ["--queue-depth", "16"])
            doc, res = coroutines("--exe", exe, core)
            self.assertEqual(res.returncode, 0, res.stderr + str(doc.get("notes")))
            addresses = [c["address"] for c in doc["coroutines"]]
            # 16 requests in flight: some wait on the pool when frozen.
            self.assertGreater(len(addresses), 0)
            self.assertEqual(len(addresses), len(set(addresses)))
            for co in doc["coroutines"]:
                self.assertIn(co["state"], ("running", "suspended"))
                self.assertIsNone(co["problem"])
                if co["state"] == "suspended":
                    self.assertEqual(co["backtrace"][0]["function"], SWITCH)
                    self.assertIn(co["entry_name"], [f["function"] for f in co["backtrace"]])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


# The aarch64 suite's stand-in for gcore: qemu-user writes the guest's core
# itself on SIGABRT, and the script keeps qemu from dumping itself too.
FAKE_GCORE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "aarch64",
                          "gcore-qemu-user.sh")


class CoroutinesOnAarch64Core(unittest.TestCase):
    """The g5 runtime cross-built for aarch64, run under qemu-aarch64; the
    watchdog's gcore is replaced by a script that makes qemu-user dump."""

    def test_aarch64_waiting_coroutine(self):
        if not RUNTIME_AARCH64 or not shutil.which("qemu-aarch64"):
            self.skipTest("needs the aarch64 runtime build and qemu-user")
        tmp = tempfile.mkdtemp(prefix="aiocore-test-co-a64-")
        try:
            bindir = os.path.join(tmp, "bin")
            os.mkdir(bindir)
            shutil.copy(FAKE_GCORE, os.path.join(bindir, "gcore"))
            os.chmod(os.path.join(bindir, "gcore"), 0o755)
            env = dict(os.environ, QEMU_LD_PREFIX=AARCH64_SYSROOT,
                       PATH=bindir + os.pathsep + os.environ["PATH"])
            out = os.path.join(tmp, "a64.core")
            res = subprocess.run(
                ["qemu-aarch64", RUNTIME_AARCH64, "--variant", "lost-completion",
                 "--mode", "inject", "--out", out, "--seconds", "60"],
                cwd=tmp, env=env, capture_output=True, text=True, timeout=180,
                preexec_fn=lambda: resource.setrlimit(
                    resource.RLIMIT_CORE, (resource.RLIM_INFINITY,) * 2))
            self.assertEqual(res.returncode, 0, res.stderr[-2000:])
            self.assertTrue(os.path.exists(out), res.stderr[-2000:])
            doc, res = coroutines("--sysroot", AARCH64_SYSROOT, "--exe", RUNTIME_AARCH64, out)
            waiting = waiting_coroutine(doc)
            self.assertEqual(len(waiting), 1, doc)
            co = waiting[0]
            self.assertEqual(co["entry_name"], "blk_aio_flush_entry")
            self.assertEqual(co["state"], "suspended")
            names = [f["function"] for f in co["backtrace"]]
            self.assertEqual(names[0], SWITCH)
            self.assertIn("blk_aio_flush_entry", names)
            self.assertIn("thread_pool_submit_co", names)
            self.assertEqual({f["how"] for f in co["backtrace"][1:]
                              if f["function"] and f["module"] != "libc.so.6"}, {"cfi"})
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
