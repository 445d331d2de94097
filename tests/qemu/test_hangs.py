# SPDX-License-Identifier: GPL-2.0-or-later
"""Real hangs in the shapes support cases have, on Debian's QEMU 5.2, 7.2 or
10.0 (AIOCORE_QEMU_VERSION), built by build-qemu.sh, captured with gcore,
with gdb as the oracle:

- lost-notify in qemu-img convert, whose main thread sleeps in glib's
  ppoll through main_loop_wait (Launchpad 1805256), not in aio_poll, and
  the same lost kick under a bounded poll (qemu-io's sleep), not a hang;
- remote-not-answering: qemu-img convert from an NBD export whose
  qemu-storage-daemon was stopped mid-copy.

The helpers (build, gcore, gdb as oracle, injection under gdb, CLI/gdb
parity) are test_real_qemu.py's, borrowed rather than copied."""
import os
import re
import signal
import subprocess
import sys
import time
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
            if pid and rq.stays_asleep(pid):
                break
            if pid:                             # it lost the race: copies on
                kill(pid)
            pid = None
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

    def test_lost_notify_bounded_poll_is_not_a_hang(self):
        """The same lost kick while qemu-io's `sleep` waits in main_loop_wait
        on a timer: the poll has a timeout, the BH runs when it expires, so
        no finding, and the checked line says why."""
        data = self.random_image(64)
        argv = [exe("qemu-io"), "-f", "raw", "-c", "aio_read 0 64M", "-c", "sleep 600000", data]
        checked = None
        for _ in range(6):                      # the poller must sleep first
            pid = self.inject("inject-lost-notify.gdb", argv)
            if not pid:
                continue
            core = gcore(pid, self.path(f"qemu-io.{pid}"))
            code, diag = self.diagnose(core)
            checked = [c for c in diag["checked"] if re.search(r": 1 runnable BH, home thread", c)]
            if checked:
                break
            kill(pid)
        self.assertTrue(checked, "no injected lost notify left a runnable BH in 6 tries")
        self.assertEqual([f["id"] for f in diag["findings"]], [], diag["findings"])
        self.assertEqual(code, 0)
        m = re.search(r"home thread asleep in poll, poll bounded \(ppoll timeout (\d+)\.\d{9} s\): "
                      r"the BH runs when it expires, not a hang$", checked[0])
        self.assertIsNotNone(m, checked)
        # gdb: ppoll's timespec (rdx) in the main thread, seconds of the
        # 600 s sleep left when the loop went to sleep.
        qio = exe("qemu-io")
        self.assertEqual(gdb_thread_print(qio, core, pid, "*(long *)$rdx"), m.group(1))
        self.assertLessEqual(int(m.group(1)), 600)

    # --- remote-not-answering (NBD) -----------------------------------------
    def convert_from_stopped_nbd(self, data, sock):
        """qemu-storage-daemon exports data over sock; qemu-img convert
        copies from it; the daemon is stopped once the copy is under way.
        Returns convert's pid, or None if the copy finished first."""
        qsd = subprocess.Popen([exe("storage-daemon/qemu-storage-daemon"),
                                "--blockdev", f"driver=file,node-name=f0,filename={data}",
                                "--nbd-server", f"addr.type=unix,addr.path={sock}",
                                "--export", "type=nbd,id=e0,node-name=f0"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pids.append(qsd.pid)
        self.wait_for(sock)
        dst = self.path("dst.raw")
        conv = subprocess.Popen([exe("qemu-img"), "convert", "-f", "raw", "-O", "raw",
                                 f"nbd+unix:///f0?socket={sock}", dst],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pids.append(conv.pid)
        # Mid-copy: once convert has written 8 MiB of the copy.
        deadline = time.monotonic() + 30
        while conv.poll() is None and time.monotonic() < deadline:
            with open(f"/proc/{conv.pid}/io") as f:
                wchar = int(re.search(r"^wchar: (\d+)", f.read(), re.M).group(1))
            if wchar >= 8 << 20:
                break
            time.sleep(0.002)
        os.kill(qsd.pid, signal.SIGSTOP)
        self.stopped.append(qsd.pid)
        time.sleep(0.5)                         # in-flight requests settle
        return conv.pid if conv.poll() is None else None

    def test_nbd_server_not_answering(self):
        """convert from an NBD export whose daemon is SIGSTOPped: the node,
        the server's socket, the requests in flight and the convert
        coroutines parked on their replies."""
        data = self.random_image(512)
        pid = None
        for attempt in range(3):
            sock = self.path(f"nbd{attempt}.sock")
            pid = self.convert_from_stopped_nbd(data, sock)
            if pid:
                break
        self.assertIsNotNone(pid, "convert always finished before the daemon was stopped")
        core = gcore(pid, self.path("convert"))
        code, diag = self.diagnose(core)
        self.assertIn(code, (0, 3), diag)       # medium confidence: no exit-3 promise
        ids = [f["id"] for f in diag["findings"]]
        self.assertEqual(ids, ["remote-not-answering"], diag["findings"])
        f = diag["findings"][0]
        self.assertEqual(f["confidence"], "medium")
        self.assertIn(f"NBD server unix:{sock} has not replied", f["summary"])
        self.assertIn("a single core cannot tell stalled from slow", f["summary"])
        self.assertEqual(f["reproduce"], None)
        server = self.evidence(f, "NBD server")
        self.assertRegex(server[0]["value"], r"^unix:%s \(export \"f0\", socket fd \d+\)$"
                         % re.escape(sock))
        state = self.evidence(f, "BDRVNBDState.state")
        self.assertRegex(state[0]["value"], r"^NBD_CLIENT_CONNECTED \(\d+\)$")
        in_flight = int(self.evidence(f, "BDRVNBDState.in_flight")[0]["value"])
        requests = [e for e in f["evidence"] if re.match(r"^requests\[\d+\]$", e["what"])]
        self.assertGreaterEqual(in_flight, 1)
        self.assertEqual(len(requests), in_flight)
        waiting = self.evidence(f, "waiting coroutine")
        self.assertEqual(len(waiting), len(requests))
        for w in waiting:
            self.assertRegex(w["value"], r"^entry=convert_co_do_copy suspended in ")
        # Every request is parked somewhere in the NBD client's receive path.
        self.assertTrue(all(re.search(r"suspended in .*nbd_", w["value"]) for w in waiting),
                        waiting)

        # coroutines finds them too, from the NBD client state.
        cos = {c["address"]: c for c in rq.view_json("coroutines", core)["coroutines"]}
        for w in waiting:
            self.assertIn("waiting on NBD reply, NBDClientRequest",
                          cos[w["address"]]["source"] or "")
        bt = aiocore("coroutines", "--bt", core)
        self.assertEqual(bt.returncode, 0, bt.stderr)
        self.assertRegex(bt.stdout, r"in nbd_client_co_preadv\+0x[0-9a-f]+ at ")

        # The wait-for graph: each parked coroutine -> the connection -> its server.
        doc = rq.view_json("waits", core)
        nodes = {n["id"]: n for n in doc["nodes"]}
        edges = {(e["from"], e["to"]): e["label"] for e in doc["edges"]}
        conns = [n for n in nodes.values() if n["type"] == "connection"]
        self.assertEqual([c["address"] for c in conns], [state[0]["address"]], conns)
        conn = conns[0]
        self.assertEqual((conn["server"], conn["in_flight"], conn["requests"]),
                         (f"unix:{sock}", in_flight, len(requests)))
        served = [b for (a, b) in edges if a == conn["id"]]
        self.assertEqual([nodes[b]["type"] for b in served], ["server"], edges)
        self.assertEqual(nodes[served[0]]["server"], f"unix:{sock}")
        for w in waiting:
            self.assertEqual(edges[(f"coroutine:{w['address']}", conn["id"])],
                             "waits for a reply on")
        text = aiocore("waits", core)
        self.assertIn(f"served by NBD server unix:{sock}: no reply yet to {len(requests)} request",
                      text.stdout)
        # 7.2+: the reply reader holds receive_mutex, the others may queue on it.
        receive = [n for n in nodes.values() if n["type"] == "co-lock"
                   and n["name"].startswith("BDRVNBDState.receive_mutex of node ")]
        if receive:
            self.assertEqual(rq.gdb_comutex_waiters(exe("qemu-img"), core, receive[0]["address"]),
                             receive[0]["waiters"])
            holder = self.evidence(f, "receive_mutex.holder")[0]["value"].split()[1]
            self.assertEqual(receive[0]["holder"], holder)
            if receive[0]["waiters"]:
                self.assertTrue(self.evidence(f, "CoMutex waiters")[0]["value"].startswith(
                    f"{len(receive[0]['waiters'])} coroutine"))

        # gdb as the oracle: the socket path and the first request's slot.
        img = exe("qemu-img")
        s = f"((BDRVNBDState *){state[0]['address']})"
        self.assertRegex(gdb_print(img, core, f"{s}->saddr->u.q_unix.path"),
                         r'^0x[0-9a-f]+ "%s"$' % re.escape(sock))
        self.assertEqual(int(gdb_print(img, core, f"{s}->in_flight")), in_flight)
        first = requests[0]
        index = re.match(r"^requests\[(\d+)\]$", first["what"]).group(1)
        offset, co = re.match(r"^offset (\d+), coroutine (0x[0-9a-f]+)", first["value"]).groups()
        self.assertEqual(gdb_print(img, core, f"{s}->requests[{index}].offset"), offset)
        self.assertEqual(int(gdb_print(img, core, f"/x {s}->requests[{index}].coroutine"), 16),
                         int(co, 16))
        self.assertEqual(int(gdb_print(img, core, f"/x &{s}->requests[{index}]"), 16),
                         int(first["address"], 16))
        self.check_gdb_parity(img, core)


if __name__ == "__main__":
    unittest.main(verbosity=2)
