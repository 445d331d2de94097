# SPDX-License-Identifier: GPL-2.0-or-later
"""Real hangs in the shapes support cases have, on Debian's QEMU 5.2, 7.2 or
10.0 (AIOCORE_QEMU_VERSION), built by build-qemu.sh, captured with gcore,
with gdb as the oracle:

- lost-notify in qemu-img convert, whose main thread sleeps in glib's
  ppoll through main_loop_wait (Launchpad 1805256), not in aio_poll.

The helpers (build, gcore, gdb as oracle, injection under gdb, CLI/gdb
parity) are test_real_qemu.py's, borrowed rather than copied."""
import os
import re
import signal
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_real_qemu as rq  # noqa: E402
from test_real_qemu import TempDirTestCase, aiocore, gcore, gdb_print, kill  # noqa: E402

exe = rq.exe


def setUpModule():
    rq.setUpModule()


def gdb_thread_print(exe_path, core, tid, expr):
    """One value in thread tid's innermost frame, as gdb prints it."""
    res = rq.run(["gdb", "-batch", "-nx", "-q", exe_path, core, "-ex", "info threads"])
    m = re.search(r"^\*?\s*(\d+)\s+(?:Thread 0x[0-9a-f]+ \(LWP|LWP) %d\b" % tid,
                  res.stdout, re.M)
    if not m:
        raise AssertionError(f"gdb lists no thread {tid}: {res.stdout}")
    res = rq.run(["gdb", "-batch", "-nx", "-q", exe_path, core, "-ex", f"thread {m.group(1)}",
                  "-ex", f"print {expr}"])
    lines = [line for line in res.stdout.splitlines() if line.startswith("$1 = ")]
    if not lines:
        raise AssertionError(f"gdb could not print {expr}: {res.stdout}{res.stderr}")
    return lines[0][5:]


class Hangs(TempDirTestCase):
    # Borrowed: they only use self.tmp, self.path() and self.pids.
    inject = rq.RealQemu.inject
    diagnose = rq.RealQemu.diagnose
    evidence = rq.RealQemu.evidence
    wait_for = rq.RealQemu.wait_for
    check_gdb_parity = rq.RealQemu.check_gdb_parity

    def setUp(self):
        super().setUp()
        self.pids = []
        self.stopped = []

    def tearDown(self):
        for pid in self.stopped:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        for pid in self.pids:
            kill(pid)
        super().tearDown()

    def random_image(self, mib):
        path = self.path("disk.raw")
        with open(path, "wb") as f:             # data, not holes: real reads
            for _ in range(mib):
                f.write(os.urandom(1 << 20))
        return path

    # --- lost-notify on the glib path ---------------------------------------
    def test_lost_notify_in_convert(self):
        """A worker's eventfd kick is skipped while convert's main thread
        sleeps in main_loop_wait's ppoll with no timeout: `notified` is
        true, and it is still a lost wakeup -- at medium confidence, since
        one core of a running process can show a kick written after the
        main thread was captured in the same shape."""
        data = self.random_image(256)
        argv = [exe("qemu-img"), "convert", "-m", "1", "-f", "raw", "-O", "raw",
                data, self.path("dst.raw")]
        for _ in range(6):                      # a race: the poller must sleep first
            pid = self.inject("inject-lost-notify-glib.gdb", argv)
            if pid:
                break
        self.assertIsNotNone(pid, "no injected lost notify hung qemu-img convert in 6 tries")
        core = gcore(pid, self.path("convert"))
        code, diag = self.diagnose(core)
        self.assertIn(code, (0, 3), diag)       # medium: no exit-3 promise
        f = diag["findings"][0]
        self.assertEqual(f["id"], "lost-notify")
        self.assertEqual(f["confidence"], "medium")
        self.assertIn("(notified is true); a second core seconds later tells", f["summary"])
        bh = self.evidence(f, "runnable BH")
        self.assertRegex(bh[0]["value"],
                         r"cb=thread_pool_completion_bh \[pending scheduled\] runnable")
        home = self.evidence(f, "home thread")
        self.assertEqual(home[0]["tid"], pid)
        # The glib path, not the blocking aio_poll of qemu-io.
        self.assertRegex(home[0]["value"], r"^asleep in ppoll <- .*main_loop_wait")
        self.assertNotIn("aio_poll", home[0]["value"])
        self.assertRegex(self.evidence(f, "AioContext.notify_me")[0]["value"],
                         r"^1 \(glib prepare bit set, 0 blocking aio_poll\)")
        self.assertEqual(self.evidence(f, "poll timeout")[0]["value"],
                         "none (ppoll timeout NULL): nothing but the lost kick would wake it")
        self.assertTrue(any(re.search(r"1 runnable BH, home thread asleep in poll, "
                                      r"poll unbounded \(ppoll timeout NULL\)$", c)
                            for c in diag["checked"]), diag["checked"])
        # gdb: the flags, `notified` and the NULL timespec in ppoll's third
        # argument register (rdx), in the main thread.
        img = exe("qemu-img")
        self.assertEqual(int(gdb_print(img, core, f"/x ((QEMUBH *){bh[0]['address']})->flags"),
                             16) & 3, 3)
        notified = self.evidence(f, "AioContext.notified")[0]["value"].split()[0]
        self.assertEqual(gdb_print(img, core, "qemu_aio_context->notified"), notified)
        self.assertEqual(gdb_print(img, core, "qemu_aio_context->notify_me"), "1")
        self.assertEqual(gdb_thread_print(img, core, pid, "/x $rdx"), "0x0")
        self.check_gdb_parity(img, core)


if __name__ == "__main__":
    unittest.main(verbosity=2)
