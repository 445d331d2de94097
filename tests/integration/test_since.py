# SPDX-License-Identifier: GPL-2.0-or-later
"""aiocore diagnose --since EARLIER CORE on the reference runtime: two
gcores of one hung process say "no progress" (exit 3), two of a healthy
one ("fixed") say "progressing" (exit 0), cores of two processes or one
core twice are refused (exit 2).  gdb reads the counters compared."""
import json
import os
import shutil
import signal
import subprocess
import time
import unittest

import runtimecores
from aiocoretest import TempDirTestCase, aiocore, run

PROFILE = "g10"
GAP = 2.0   # seconds between the two cores


def gcore(pid, out):
    res = run(["gcore", "-o", out, str(pid)], timeout=300)
    produced = f"{out}.{pid}"
    if res.returncode != 0 or not os.path.exists(produced):
        raise RuntimeError(f"gcore {pid} failed: {res.stderr}")
    os.rename(produced, out)   # keeps the modification time --since reads
    return out


def gdb_value(core, expr):
    res = run(["gdb", "-nx", "-batch", "-ex", f"p {expr}",
               runtimecores.executable(PROFILE), core], timeout=120)
    return res.stdout.strip().rsplit("= ", 1)[-1]


def since(earlier, later):
    res = aiocore("diagnose", "--json", "--since", earlier, later)
    return (json.loads(res.stdout) if res.stdout else None), res


def comparison(d, what):
    return next(c for c in d["since"]["comparisons"] if c["what"] == what)


class Since(TempDirTestCase):
    def hung_pair(self):
        """Two gcores, GAP s apart, of a runtime hung by lost-completion."""
        # The kept runtime holds what it inherits: no pipes, or run() waits for it.
        with open(self.path("runtime.out"), "w+") as out:
            rc = subprocess.call([runtimecores.runtime(PROFILE), "--variant", "lost-completion",
                                  "--keep", "--out", self.path("first.core")],
                                 stdout=out, stderr=subprocess.STDOUT, timeout=120)
            out.seek(0)
            text = out.read()
        self.assertEqual(rc, 0, text)
        pid = int(text.split("pid ")[1].split()[0])
        try:
            a = gcore(pid, self.path("a.core"))
            time.sleep(GAP)
            b = gcore(pid, self.path("b.core"))
        finally:
            os.kill(pid, signal.SIGKILL)
        return pid, a, b

    def healthy_pair(self):
        """Two gcores, GAP s apart, of the fixed variant while it works."""
        watchdog = subprocess.Popen([runtimecores.runtime(PROFILE), "--variant", "fixed",
                                     "--seconds", "30", "--hang-ms", "30000"],
                                    stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        try:
            children = ""
            for _ in range(100):
                with open(f"/proc/{watchdog.pid}/task/{watchdog.pid}/children") as f:
                    children = f.read().split()
                if children:
                    break
                time.sleep(0.05)
            pid = int(children[0])
            time.sleep(0.5)   # let it settle into its loop
            a = gcore(pid, self.path("fa.core"))
            time.sleep(GAP)
            b = gcore(pid, self.path("fb.core"))
        finally:
            watchdog.kill()   # the runtime dies with it (PDEATHSIG)
            watchdog.wait()
        return pid, a, b

    def test_hung_process_makes_no_progress(self):
        pid, a, b = self.hung_pair()
        d, res = since(a, b)
        self.assertEqual(res.returncode, 3, res.stderr + res.stdout)
        s = d["since"]
        self.assertEqual(s["state"], "no-progress")
        self.assertEqual(s["pid"], pid)
        self.assertGreaterEqual(s["seconds"], GAP - 0.5)
        self.assertGreaterEqual(s["stalled"], 1)
        self.assertEqual(s["completed"], 0)
        ids = [f["id"] for f in d["findings"]]
        self.assertIn("no-progress", ids)
        f = d["findings"][ids.index("no-progress")]
        self.assertEqual(f["confidence"], "high")
        self.assertIsNone(f["reproduce"])
        self.assertTrue(f["summary"].startswith("no progress in "), f["summary"])
        # The stalled request is the one gdb finds on the pool's list in both cores.
        stalled = [e for e in f["evidence"] if e["what"] == "ThreadPoolElement"]
        self.assertTrue(stalled)
        for core in (a, b):
            head = gdb_value(core, "(void *)qemu_aio_context->thread_pool->head.lh_first")
            self.assertIn(stalled[0]["address"], head)
        for name in ("rcu_gp_ctr", "rcu_call_count"):
            c = comparison(d, name)
            self.assertEqual((c["earlier"], c["later"]), (gdb_value(a, name), gdb_value(b, name)))
            self.assertFalse(c["moved"])
        text = aiocore("diagnose", "--since", a, b)
        self.assertEqual(text.returncode, 3)
        self.assertIn("ALSO: no-progress (high confidence)", text.stdout)
        self.assertIn(f"pid {pid}:", text.stdout)

    def test_healthy_process_is_progressing(self):
        pid, a, b = self.healthy_pair()
        d, res = since(a, b)
        self.assertEqual(res.returncode, 0, res.stderr + res.stdout)
        s = d["since"]
        self.assertEqual(s["state"], "progressing", s["summary"])
        self.assertEqual(d["verdict"], "none")
        self.assertEqual(s["stalled"], 0)
        self.assertTrue(s["summary"].startswith("progressing: "))
        # What the later core alone suggests (a kick gcore raced) is medium
        # at most, and follows the progress verdict.
        text = aiocore("diagnose", "--since", a, b).stdout
        self.assertIn("VERDICT: progressing: ", text)
        for f in d["findings"]:
            self.assertEqual(f["confidence"], "medium", f)
            self.assertIn(f"ALSO: {f['id']} (medium confidence)", text)
        c = comparison(d, "rcu_gp_ctr")
        self.assertEqual((c["earlier"], c["later"]), (gdb_value(a, "rcu_gp_ctr"), gdb_value(b, "rcu_gp_ctr")))
        self.assertNotEqual(c["earlier"], c["later"])
        # One core alone says it cannot tell.
        one = aiocore("diagnose", b)
        if "requests in flight" in one.stdout or "request in flight" in one.stdout:
            self.assertIn("a single core cannot tell stalled from slow", one.stdout)

    def test_refusals(self):
        _, a, b = self.hung_pair()
        other = runtimecores.core("lost-notify", PROFILE)
        for args, why in (((other, b), "not the same process"),
                          ((b, b), "the same core"),
                          ((b, a), "give the older core to --since")):
            with self.subTest(why=why):
                res = aiocore("diagnose", "--since", *args)
                self.assertEqual(res.returncode, 2, res.stdout + res.stderr)
                self.assertIn(why, res.stderr)
                self.assertEqual(res.stdout, "")
        # A copy that kept its time: 0 s apart, too close to tell.
        copy = self.path("copy.core")
        shutil.copy2(b, copy)
        d, res = since(b, copy)
        self.assertEqual(d["since"]["state"], "too-close")
        self.assertNotIn("no-progress", [f["id"] for f in d["findings"]])


if __name__ == "__main__":
    unittest.main()
