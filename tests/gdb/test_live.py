# SPDX-License-Identifier: GPL-2.0-or-later
"""gdb -p on a live hung runtime: every aio-* command prints what
`aiocore VIEW --pid PID` prints on the same process, nothing in the
process changes, and after detach it runs on (not traced, not stopped)."""
import os
import signal
import subprocess
import time
import unittest

import gdbtest
from gdbtest import runtimecores


def status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


class Live(unittest.TestCase):
    def setUp(self):
        self.tmp = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                "aiocore-gdb-live-%d.core" % os.getpid())
        # The kept process inherits stdout and stderr: read them from files,
        # not from pipes that stay open as long as the process lives.
        with open(self.tmp + ".out", "w+") as out, open(self.tmp + ".err", "w+") as err:
            res = subprocess.run([runtimecores.runtime("g5"), "--variant", "lost-completion",
                                  "--keep", "--out", self.tmp],
                                 stdout=out, stderr=err, timeout=120)
            out.seek(0)
            err.seek(0)
            res.stdout, res.stderr = out.read(), err.read()
        os.unlink(self.tmp + ".out")
        os.unlink(self.tmp + ".err")
        self.addCleanup(lambda: os.path.exists(self.tmp) and os.unlink(self.tmp))
        self.assertEqual(res.returncode, 0, res.stderr)
        pids = [line.split()[1] for line in res.stdout.splitlines()
                if line.startswith("pid ")]
        self.assertEqual(len(pids), 1, res.stdout)
        self.pid = int(pids[0])
        self.addCleanup(self.kill)
        self.wait_until_settled()

    def wait_until_settled(self, timeout=60):
        """The thread pool's idle workers exit 10 s after their last request
        (as QEMU's do): a read before and a read after that would differ
        (cur_threads 4 in gdb, 0 in the CLI).  Compare the process only once
        they are gone and nothing in it can change any more."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            names = []
            for tid in os.listdir(f"/proc/{self.pid}/task"):
                try:
                    with open(f"/proc/{self.pid}/task/{tid}/comm") as f:
                        names.append(f.read().strip())
                except FileNotFoundError:
                    names.append("?")  # exiting right now
            if "worker" not in names and "?" not in names:
                return
            time.sleep(0.2)
        self.fail(f"pid {self.pid}: thread-pool workers still there after {timeout} s")

    def kill(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def threads(self):
        return sorted(os.listdir(f"/proc/{self.pid}/task"))

    def test_every_command(self):
        threads = self.threads()
        before = status(self.pid)
        self.assertEqual(before["TracerPid"], "0")
        cases = [(view, opts) for view in gdbtest.views()
                 for opts in ([], ["--json"], ["--bt"] if view == "coroutines" else None)
                 if opts is not None]
        commands = ["aio-%s %s" % (view, " ".join(opts)) for view, opts in cases]
        commands += ["output $aio_ctx_count()", "output/x (unsigned long) $aio_ctx(0)",
                     "output $aio_bh_count($aio_ctx(0))", "info threads", "detach"]
        results, res = gdbtest.gdb_run(["-p", str(self.pid)], commands)
        self.assertIn("detached", res.stdout + res.stderr)
        time.sleep(0.2)
        # Still running, not traced, not stopped, no thread lost.
        after = status(self.pid)
        self.assertEqual(after["TracerPid"], "0")
        self.assertNotIn(after["State"][0], "tTZX", after["State"])
        self.assertEqual(self.threads(), threads)
        os.kill(self.pid, 0)
        # The same views as the CLI reading the same process itself.
        for (view, opts), (out, code) in zip(cases, results):
            with self.subTest(view=view, opts=opts):
                expected = gdbtest.cli(view, *opts, "--pid", str(self.pid))
                self.assertEqual(out, expected.stdout)
                self.assertEqual(code, expected.returncode)
                self.assertTrue(out)
        n_ctx = results[len(cases)][0]
        self.assertGreaterEqual(int(n_ctx), 2)
        self.assertTrue(results[len(cases) + 1][0].startswith("0x"))
        # Still hung the same way after gdb left.
        self.assertEqual(gdbtest.cli("diagnose", "--pid", str(self.pid)).returncode, 3)


if __name__ == "__main__":
    unittest.main(verbosity=2)
