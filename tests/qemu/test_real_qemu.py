# SPDX-License-Identifier: GPL-2.0-or-later
"""aiocore on real QEMU: Debian's own source package of QEMU 5.2, 7.2 or
10.0 (AIOCORE_QEMU_VERSION), built with debuginfo by build-qemu.sh, run for
real and captured with gcore.

- healthy: qemu-img convert mid-copy, an idle qemu-storage-daemon with an
  IOThread serving NBD, and (7.2) qemu-system-x86_64 -M none with an
  IOThread give no finding and decode as gdb reads them;
- hung: gdb makes a worker skip the completion BH's schedule (lost
  completion) or the aio_notify() (lost notify), in qemu-io on the main
  context and in qemu-storage-daemon on an IOThread; diagnose must name the
  pattern with the right evidence.

Without network the suite skips, unless AIOCORE_REQUIRE_QEMU=1 (CI)."""
import json
import os
import re
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "gdb"))
from aiocoretest import TempDirTestCase, aiocore, run, wait_all_sleeping  # noqa: E402
import gdbtest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "fixtures", "inject")
VERSION = os.environ.get("AIOCORE_QEMU_VERSION", "7.2")
BUILD = None


def setUpModule():
    global BUILD
    res = run([os.path.join(HERE, "build-qemu.sh"), VERSION], timeout=3000)
    sys.stderr.write(res.stderr)
    if res.returncode == 0:
        BUILD = res.stdout.strip().splitlines()[-1]
        return
    if res.returncode == 69 and os.environ.get("AIOCORE_REQUIRE_QEMU") != "1":
        raise unittest.SkipTest(f"QEMU {VERSION} source not reachable: {res.stderr.strip()}")
    raise RuntimeError(f"build-qemu.sh {VERSION} failed ({res.returncode})")


def exe(name):
    return os.path.join(BUILD, name)


def gdb_print(exe_path, core, expr):
    """One value as gdb prints it: the oracle."""
    res = run(["gdb", "-batch", "-nx", "-q", exe_path, core, "-ex", f"print {expr}"])
    lines = [line for line in res.stdout.splitlines() if line.startswith("$1 = ")]
    if not lines:
        raise AssertionError(f"gdb could not print {expr}: {res.stdout}{res.stderr}")
    return lines[0][5:]


def view_json(verb, core):
    res = aiocore(verb, "--json", core)
    if res.returncode not in (0, 3):
        raise AssertionError(f"aiocore {verb} exit {res.returncode}: {res.stderr}")
    return json.loads(res.stdout)


def gcore(pid, path):
    wait_all_sleeping(pid, timeout=20)
    res = run(["gcore", "-o", path, str(pid)], timeout=300)
    if res.returncode != 0 or not os.path.exists(f"{path}.{pid}"):
        raise AssertionError(f"gcore {pid} failed: {res.stderr}")
    os.rename(f"{path}.{pid}", path)
    return path


def kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class BuildScript(TempDirTestCase):
    def test_rejects_unknown_version(self):
        """Bad input to build-qemu.sh: usage on stderr, exit 64, no build."""
        res = run([os.path.join(HERE, "build-qemu.sh"), "2.1", self.tmp])
        self.assertEqual(res.returncode, 64, res.stderr)
        self.assertIn("usage:", res.stderr)
        self.assertEqual(os.listdir(self.tmp), [])


class RealQemu(TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.pids = []
        self.data = self.path("disk.raw")
        with open(self.data, "wb") as f:        # data, not holes: real reads
            for _ in range(1024):
                f.write(os.urandom(1 << 20))

    def tearDown(self):
        for pid in self.pids:
            kill(pid)
        super().tearDown()

    def inject(self, script, argv, before_hit=None):
        """Run argv under gdb with an inject-*.gdb script; once gdb has
        detached, return the pid of the hung process (None: no hang)."""
        # A file, not a pipe: the inferior inherits it and outlives gdb.
        log = self.path("gdb.log")
        with open(log, "w") as out:
            gdb = subprocess.Popen(["gdb", "-batch", "-nx", "-q", "-x",
                                    os.path.join(FIXTURES, script), "--args", *argv],
                                   stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT, cwd=self.tmp)
        try:
            if before_hit:
                before_hit()
            gdb.wait(timeout=120)
        finally:
            if gdb.poll() is None:
                gdb.kill()
                gdb.wait()
        with open(log) as f:
            out = f.read()
        m = re.search(r"\[Inferior 1 \(process (\d+)\) detached\]", out)
        if not m:
            return None
        pid = int(m.group(1))
        self.pids.append(pid)
        return pid

    def diagnose(self, core):
        res = aiocore("diagnose", "--json", core)
        return res.returncode, json.loads(res.stdout)

    def evidence(self, finding, what):
        return [e for e in finding["evidence"] if e["what"] == what]

    # --- healthy ----------------------------------------------------------
    def test_convert_mid_copy_is_healthy(self):
        """qemu-img convert captured while it copies: no finding, and the
        pool, its requests and their coroutines decode as gdb sees them."""
        core = None
        for attempt in range(5):
            dst = self.path("dst.qcow2")
            proc = subprocess.Popen([exe("qemu-img"), "convert", "-f", "raw", "-O", "qcow2",
                                     "-t", "none", self.data, dst],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            # Capture once the pool has a worker (main, call_rcu, worker).
            deadline = time.monotonic() + 10
            while proc.poll() is None and time.monotonic() < deadline:
                if len(os.listdir(f"/proc/{proc.pid}/task")) >= 3:
                    break
                time.sleep(0.001)
            res = run(["gcore", "-o", self.path("convert"), str(proc.pid)], timeout=300)
            proc.wait()
            produced = self.path(f"convert.{proc.pid}")
            if res.returncode == 0 and os.path.exists(produced):
                core = produced
                break
        self.assertIsNotNone(core, "convert always finished before gcore")
        code, diag = self.diagnose(core)
        self.assertEqual(code, 0, diag["findings"])
        # Workers caught in pread64 are io-stalled at medium confidence:
        # one core cannot tell a busy convert from a stalled one.
        self.assertEqual([f["id"] for f in diag["findings"]
                          if f["confidence"] == "high" or f["id"] != "io-stalled"], [])

        ctxs = view_json("ctx", core)["contexts"]
        roles = {c["role"]: c for c in ctxs}
        self.assertIn("main", roles)
        self.assertIn("iohandler", roles)
        main = roles["main"]
        img = exe("qemu-img")
        self.assertEqual(int(main["address"], 16),
                         int(gdb_print(img, core, "/x qemu_aio_context"), 16))
        self.assertEqual(main["notify_me"], int(gdb_print(img, core, "qemu_aio_context->notify_me")))
        self.assertEqual(str(main["notified"]).lower(),
                         gdb_print(img, core, "qemu_aio_context->notified"))
        self.assertEqual(int(main["thread_pool"], 16),
                         int(gdb_print(img, core, "/x qemu_aio_context->thread_pool"), 16))
        self.assertTrue(main["home_tid"])

        pools = view_json("thread-pool", core)["pools"]
        self.assertEqual(len(pools), 1)
        pool = pools[0]
        self.assertEqual(pool["ctx"], main["address"])
        self.assertEqual(pool["cur_threads"],
                         int(gdb_print(img, core, "qemu_aio_context->thread_pool->cur_threads")))
        for req in pool["requests"]:
            self.assertIn(req["state"], ("THREAD_QUEUED", "THREAD_ACTIVE", "THREAD_DONE"))
            # The copy's reads and writes, or the flush that ends it.
            self.assertIn((req["func"], req["kind"]),
                          [("handle_aiocb_rw", "read"), ("handle_aiocb_rw", "write"),
                           ("handle_aiocb_flush", "flush")])
            self.assertTrue(req["valid_aiocb_info"])
            if req["func"] == "handle_aiocb_rw":
                self.assertEqual(req["coroutine_entry"], "convert_co_do_copy")
            else:
                self.assertTrue(req["coroutine_entry"], req)
            elem_type = "ThreadPoolElementAio" if pool["type"] == "ThreadPoolAio" \
                else "ThreadPoolElement"
            self.assertEqual(req["state"], gdb_print(
                img, core, f"(({elem_type} *){req['address']})->state"))

        cos = view_json("coroutines", core)["coroutines"]
        # Each request's coroutine waits on it (another may be running).
        waiting = {m.group(1): c for c in cos
                   for m in [re.search(r"waiting on ThreadPoolElement (0x[0-9a-f]+)",
                                       c["source"] or "")] if m}
        self.assertEqual(sorted(waiting), sorted(r["address"] for r in pool["requests"]))
        entries = {r["address"]: r["coroutine_entry"] for r in pool["requests"]}
        for address, c in waiting.items():
            self.assertEqual(c["entry_name"], entries[address])
        # A suspended one unwinds from its sigjmp_buf through the submit; a
        # running one (caught between submit and yield) is on its thread's
        # stack, inside the submit.
        bt = aiocore("coroutines", "--bt", core)
        self.assertEqual(bt.returncode, 0, bt.stderr)
        if any(c["state"] == "suspended" for c in waiting.values()):
            self.assertRegex(bt.stdout, r"in thread_pool_submit_co\+0x[0-9a-f]+ at ")
        threads = None
        for c in waiting.values():
            if c["state"] == "running":
                if threads is None:
                    threads = {t["tid"]: t for t in
                               json.loads(aiocore("threads", "--json", core).stdout)["threads"]}
                functions = [f["function"] for f in threads[c["current_in_tid"]]["frames"]]
                self.assertIn("thread_pool_submit_co", functions)
            else:
                self.assertEqual(c["state"], "suspended", c)

        events = {e["name"]: e for e in view_json("events", core)["events"]}
        ready = events["rcu_call_ready_event"]
        self.assertEqual(ready["value"], int(gdb_print(img, core, "rcu_call_ready_event.value")))

    def storage_daemon(self, sock):
        return [exe("storage-daemon/qemu-storage-daemon"),
                "--blockdev", f"driver=file,node-name=f0,filename={self.data}",
                "--object", "iothread,id=io0",
                "--nbd-server", f"addr.type=unix,addr.path={sock}",
                "--export", "type=nbd,id=e0,node-name=f0,iothread=io0"]

    def nbd_read(self, sock):
        """A client that reads 1 MiB, then stays connected: Debian's 7.2
        daemon aborts on an assertion (nbd_blockdev_client_closed) when a
        client of an IOThread export disconnects."""
        argv = ["stdbuf", "-oL", exe("qemu-io"), "-r", "-f", "raw", "-c", "read 0 1M",
                "-c", "sleep 600000",
                f"nbd+unix:///f0?socket={sock}"]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        self.pids.append(proc.pid)
        return proc

    def wait_for(self, path):
        deadline = time.monotonic() + 30
        while not os.path.exists(path):
            if time.monotonic() > deadline:
                raise AssertionError(f"{path} did not appear")
            time.sleep(0.05)

    def test_storage_daemon_iothread_is_healthy(self):
        """An IOThread's context is found through iothread_run, tied to its
        thread, and a daemon that served a read has no finding."""
        sock = self.path("nbd.sock")
        proc = subprocess.Popen(self.storage_daemon(sock), stdout=subprocess.DEVNULL)
        self.pids.append(proc.pid)
        self.wait_for(sock)
        client = self.nbd_read(sock)
        line = client.stdout.readline()
        self.assertRegex(line, r"^read 1048576/1048576 bytes at offset 0$")
        core = gcore(proc.pid, self.path("qsd"))
        code, diag = self.diagnose(core)
        self.assertEqual(code, 0, diag["findings"])
        ctxs = view_json("ctx", core)["contexts"]
        io = [c for c in ctxs if c["role"] == "iothread"]
        self.assertEqual(len(io), 1, ctxs)
        self.assertRegex(io[0]["found_as"], r"^IOThread 0x[0-9a-f]+ \(iothread_run, thread \d+\)")
        tid = int(re.search(r"thread (\d+)", io[0]["found_as"]).group(1))
        self.assertEqual(io[0]["home_tid"], tid)
        self.assertNotEqual(tid, proc.pid)
        iothread = re.search(r"IOThread (0x[0-9a-f]+)", io[0]["found_as"]).group(1)
        qsd = exe("storage-daemon/qemu-storage-daemon")
        self.assertEqual(int(io[0]["address"], 16), int(gdb_print(
            qsd, core, f"/x ((IOThread *){iothread})->ctx"), 16))

    def test_system_emulator_is_healthy(self):
        """qemu-system-x86_64 (7.2 builds it): the version text, the BQL
        read as gdb reads it, and every context with its home thread --
        the main loop's two, the IOThread's and the QMP monitor's own
        IOThread (which runs a GMainLoop, not aio_poll)."""
        qemu = exe("qemu-system-x86_64")
        if not os.path.exists(qemu):
            self.skipTest(f"no system emulator in the QEMU {VERSION} build (7.2 only)")
        sock = self.path("qmp.sock")
        proc = subprocess.Popen([qemu, "-M", "none", "-nodefaults", "-display", "none",
                                 "-accel", "tcg", "-object", "iothread,id=io0",
                                 "-blockdev", f"driver=file,node-name=f0,filename={self.data}",
                                 "-qmp", f"unix:{sock},server=on,wait=off"],
                                stdout=subprocess.DEVNULL)
        self.pids.append(proc.pid)
        self.wait_for(sock)
        core = gcore(proc.pid, self.path("system"))
        code, diag = self.diagnose(core)
        self.assertEqual(code, 0, diag["findings"])
        self.assertTrue(diag["qemu_version"].startswith(VERSION + "."), diag["qemu_version"])
        self.assertIn("bql-poll-cycle: qemu_global_mutex is free", diag["checked"])
        self.assertEqual(gdb_print(qemu, core, "qemu_global_mutex.lock.__data.__owner"), "0")
        ctxs = view_json("ctx", core)["contexts"]
        self.assertEqual(sorted(c["role"] for c in ctxs),
                         ["iohandler", "iothread", "iothread", "main"], ctxs)
        for c in ctxs:
            self.assertIsNotNone(c["home_tid"], c)
            self.assertTrue(c["home_sleeping_in_poll"], c)
            if c["role"] == "iothread":
                iothread = re.search(r"IOThread (0x[0-9a-f]+)", c["found_as"]).group(1)
                self.assertEqual(int(c["address"], 16), int(gdb_print(
                    qemu, core, f"/x ((IOThread *){iothread})->ctx"), 16))
        self.check_gdb_parity(qemu, core)

    # --- hung -------------------------------------------------------------
    def check_lost_completion(self, core, home_tid):
        code, diag = self.diagnose(core)
        self.assertEqual(code, 3, diag)
        ids = [f["id"] for f in diag["findings"]]
        self.assertEqual(ids[0], "lost-completion", ids)
        f = diag["findings"][0]
        state = self.evidence(f, "ThreadPoolElement.state")
        self.assertEqual(len(state), 1, f["evidence"])
        self.assertEqual(state[0]["value"], "THREAD_DONE (2)")
        func = self.evidence(f, "ThreadPoolElement.func")
        self.assertRegex(func[0]["value"], r"^handle_aiocb_rw \(read request, ret 0\)$")
        bh = self.evidence(f, "ThreadPool.completion_bh")
        self.assertIn("not scheduled", bh[0]["value"])
        home = self.evidence(f, "home thread")
        self.assertEqual(home[0]["tid"], home_tid)
        self.assertRegex(home[0]["value"], r"^asleep in ")
        return f, state[0]["address"], bh[0]["address"]

    def test_lost_completion_in_qemu_io(self):
        pid = self.inject("inject-lost-completion.gdb",
                          [exe("qemu-io"), "-f", "raw", "-c", "read 0 1M", self.data])
        self.assertIsNotNone(pid, "the injected qemu-io did not stay hung")
        core = gcore(pid, self.path("qemu-io"))
        _, elem, bh = self.check_lost_completion(core, pid)
        qio = exe("qemu-io")
        pool = gdb_print(qio, core, "/x qemu_aio_context->thread_pool")
        elem_type = "ThreadPoolElementAio" if "ThreadPoolAio" in gdb_print(
            qio, core, "qemu_aio_context->thread_pool") else "ThreadPoolElement"
        self.assertEqual(gdb_print(qio, core, f"(({elem_type} *){elem})->state"), "THREAD_DONE")
        self.assertEqual(int(gdb_print(qio, core, f"/x ((QEMUBH *){bh})->flags"), 16) & 2, 0)
        self.assertNotEqual(int(pool, 16), 0)
        self.check_gdb_parity(qio, core)

    def check_gdb_parity(self, exe_path, core):
        """Every aio-* command under gdb prints what the CLI prints."""
        if not gdbtest.SCRIPT:
            return                              # sanitized build: no gdb library
        views = gdbtest.views()
        cases = [(v, opts) for v in views for opts in ([], ["--json"])]
        results, res = gdbtest.gdb_run([exe_path, core],
                                       ["aio-%s %s" % (v, " ".join(o)) for v, o in cases])
        self.assertGreaterEqual(len(cases), 12)
        for (view, opts), (out, code) in zip(cases, results):
            with self.subTest(view=view, opts=opts):
                expected = gdbtest.cli(view, *opts, core)
                self.assertEqual(out, expected.stdout)
                self.assertEqual(code, expected.returncode)

    def test_lost_completion_in_iothread(self):
        """The hung poller is the IOThread, not the main thread."""
        sock = self.path("nbd.sock")
        pid = self.inject("inject-lost-completion.gdb", self.storage_daemon(sock),
                          before_hit=lambda: (self.wait_for(sock),
                                              self.nbd_read(sock)))
        self.assertIsNotNone(pid, "the injected qemu-storage-daemon did not stay hung")
        core = gcore(pid, self.path("qsd"))
        ctxs = view_json("ctx", core)["contexts"]
        io = [c for c in ctxs if c["role"] == "iothread"]
        self.assertEqual(len(io), 1, ctxs)
        self.assertNotEqual(io[0]["home_tid"], pid)
        f, _, _ = self.check_lost_completion(core, io[0]["home_tid"])
        pool = re.search(r"on ThreadPool(?:Aio)? (0x[0-9a-f]+)", f["summary"]).group(1)
        pools = {p["address"]: p for p in view_json("thread-pool", core)["pools"]}
        self.assertEqual(pools[pool]["ctx"], io[0]["address"])

    def test_lost_notify_in_qemu_io(self):
        for _ in range(6):                      # a race: the poller must sleep first
            pid = self.inject("inject-lost-notify.gdb",
                              [exe("qemu-io"), "-f", "raw", "-c", "read 0 256M", self.data])
            if pid:
                break
        self.assertIsNotNone(pid, "no injected lost notify hung qemu-io in 6 tries")
        core = gcore(pid, self.path("qemu-io"))
        code, diag = self.diagnose(core)
        self.assertEqual(code, 3, diag)
        f = diag["findings"][0]
        self.assertEqual(f["id"], "lost-notify")
        bh = self.evidence(f, "runnable BH")
        self.assertRegex(bh[0]["value"], r"cb=thread_pool_completion_bh \[pending scheduled\] runnable")
        self.assertEqual(self.evidence(f, "AioContext.notified")[0]["value"].split()[0], "false")
        home = self.evidence(f, "home thread")
        self.assertEqual(home[0]["tid"], pid)
        qio = exe("qemu-io")
        self.assertEqual(gdb_print(qio, core, "qemu_aio_context->notified"), "false")
        self.assertEqual(int(gdb_print(qio, core, f"/x ((QEMUBH *){bh[0]['address']})->flags"),
                             16) & 3, 3)


if __name__ == "__main__":
    unittest.main(verbosity=2)
