# SPDX-License-Identifier: GPL-2.0-or-later
"""aiocore on real QEMU: Debian's own source package of QEMU 5.2, 7.2 or
10.0, or upstream's 2.1.2 or 2.8.0 tarball (AIOCORE_QEMU_VERSION), built
with debuginfo by build-qemu.sh, run for real and captured with gcore.
Where a layout differs between versions (2.1's `dispatching` for
`notify_me`, QEMUBH booleans for `flags`), gdb says which one the build
has and is the oracle for it.

- healthy: qemu-img convert mid-copy, an idle qemu-storage-daemon with an
  IOThread serving NBD, and (7.2) qemu-system-x86_64 -M none with an
  IOThread give no finding and decode as gdb reads them; convert stopped
  by gdb inside a coroutine names it as the main thread's current one;
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
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "gdb"))
from aiocoretest import TempDirTestCase, aiocore, run, wait_all_sleeping  # noqa: E402
import gdbtest  # noqa: E402
import jsonfields  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "fixtures", "inject")
VERSION = os.environ.get("AIOCORE_QEMU_VERSION", "7.2")
# "2.8-sigaltstack": 2.8.0 built with the other coroutine backend of its time.
BASE = VERSION.split("-")[0]
COROUTINE_TYPE = ("CoroutineSigAltStack" if VERSION.endswith("-sigaltstack")
                  else "CoroutineUContext")
BUILD = None
# qemu-io 2.1 has no -f: it probes the format (raw for random data).
QEMU_IO_RAW = [] if BASE == "2.1" else ["-f", "raw"]


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


def gdb_try(exe_path, core, expr):
    """gdb's value of expr, or None where this build has no such field or
    symbol: which layout a version has, asked of its own debuginfo."""
    try:
        return gdb_print(exe_path, core, expr)
    except AssertionError:
        return None


def gdb_comutex_waiters(exe_path, core, lock):
    """The coroutines waiting on the 2.9+ CoMutex at lock as gdb walks
    them: to_pop in order, then from_push (pushed newest first) reversed."""
    script = ("python\n"
              f"m = gdb.parse_and_eval('*(CoMutex *){lock}')\n"
              "out = []\n"
              "for name in ('to_pop', 'from_push'):\n"
              "    part, w = [], m[name]['slh_first']\n"
              "    while int(w):\n"
              "        part.append(int(w['co']))\n"
              "        w = w['next']['sle_next']\n"
              "    out += part if name == 'to_pop' else part[::-1]\n"
              "print('WAITERS', ' '.join(hex(x) for x in out))\n"
              "end\n")
    with tempfile.NamedTemporaryFile("w", suffix=".gdb") as f:
        f.write(script)
        f.flush()
        res = run(["gdb", "-batch", "-nx", "-q", "-x", f.name, exe_path, core])
    line = [x for x in res.stdout.splitlines() if x.startswith("WAITERS")]
    if not line:
        raise AssertionError(f"gdb could not walk CoMutex {lock}: {res.stdout}{res.stderr}")
    return line[0].split()[1:]


def bh_scheduled(exe_path, core, bh):
    """QEMUBH's scheduled bit as gdb reads it: `flags` (BH_SCHEDULED, 5.0
    on) or the 2.x `scheduled` boolean."""
    flags = gdb_try(exe_path, core, f"/x ((QEMUBH *){bh})->flags")
    if flags is not None:
        return bool(int(flags, 16) & 2)
    return int(gdb_print(exe_path, core, f"(int)((QEMUBH *){bh})->scheduled")) != 0


def view_json(verb, core, *args):
    res = aiocore(verb, "--json", *args, core)
    if res.returncode not in (0, 3):
        raise AssertionError(f"aiocore {verb} exit {res.returncode}: {res.stderr}")
    return json.loads(res.stdout)


def cpu_ticks(pid):
    """utime + stime of every thread of pid, or None once it is gone."""
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return total


def stays_asleep(pid, seconds=1.0):
    """True if every thread of pid sleeps and none used CPU for `seconds`:
    an injection that gdb detached from may still have lost its race (the
    poller was awake), and the process then copies on or exits."""
    try:
        wait_all_sleeping(pid, timeout=20)
    except RuntimeError:
        return False
    before = cpu_ticks(pid)
    time.sleep(seconds)
    try:
        wait_all_sleeping(pid, timeout=5)
    except RuntimeError:
        return False
    return before is not None and cpu_ticks(pid) == before


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
        res = run([os.path.join(HERE, "build-qemu.sh"), "0.0", self.tmp])
        self.assertEqual(res.returncode, 64, res.stderr)
        self.assertIn("usage:", res.stderr)
        self.assertEqual(os.listdir(self.tmp), [])


    def test_checks_the_2x_tarball(self):
        """A 2.x tarball is checked before anything is fetched: a missing
        one is 69 (unreachable), a corrupt one 70, each named."""
        tarballs = self.path("qemu-src")
        os.mkdir(tarballs)
        cache = self.path("cache")
        env = dict(os.environ, AIOCORE_QEMU_TARBALLS=tarballs)
        script = os.path.join(HERE, "build-qemu.sh")
        res = subprocess.run([script, "2.1", cache], env=env, capture_output=True, text=True)
        self.assertEqual(res.returncode, 69, res.stderr)
        self.assertIn(os.path.join(tarballs, "qemu-2.1.2.tar.xz"), res.stderr)
        with open(os.path.join(tarballs, "qemu-2.1.2.tar.xz"), "wb") as f:
            f.write(b"not the release")
        with open(os.path.join(tarballs, "SHA256SUMS"), "w") as f:
            f.write("d87f02f191e7cf70e97e5988e5105dec4feba5a13963d944dd5db55039f9a7e9"
                    "  qemu-2.1.2.tar.xz\n")
        res = subprocess.run([script, "2.1", cache], env=env, capture_output=True, text=True)
        self.assertEqual(res.returncode, 70, res.stderr)
        self.assertIn("does not match", res.stderr)
        self.assertFalse(os.path.exists(os.path.join(cache, "qemu-2.1", "build")))


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

    def check_roots_only(self, core):
        """Contexts come from roots (statics, thread-locals, IOThreads,
        pools, block nodes): no memory scan runs by default, and the scan,
        asked for, finds nothing more."""
        d = view_json("ctx", core)
        self.assertIsNone(d["memory_scan"])
        self.assertFalse([n for n in d["notes"] if "memory scan" in n], d["notes"])
        self.assertTrue(d["contexts"])
        for c in d["contexts"]:
            self.assertNotIn("memory scan", c["found_as"], c)
        scanned = view_json("ctx", core, "--scan-memory")
        self.assertEqual(scanned["memory_scan"]["why"], "--scan-memory")
        self.assertGreater(scanned["memory_scan"]["bytes_read"], 0)
        self.assertEqual(scanned["memory_scan"]["found_only_by_it"], 0)
        self.assertEqual(sorted(c["address"] for c in scanned["contexts"]),
                         sorted(c["address"] for c in d["contexts"]))
        return d

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
            # Capture once the pool has a worker (main, call_rcu, worker;
            # 2.x's qemu-img runs no call_rcu thread).
            with_worker = 2 if BASE in ("2.1", "2.8") else 3
            deadline = time.monotonic() + 10
            while proc.poll() is None and time.monotonic() < deadline:
                if len(os.listdir(f"/proc/{proc.pid}/task")) >= with_worker:
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
        # No high-confidence finding, so exit 0.  gcore stops threads one by
        # one: a worker may kick the eventfd after the main thread was
        # captured, which looks like lost-notify with notified true
        # (medium); workers caught in pread64 are io-stalled (medium): one
        # core cannot tell a busy convert from a stalled one.
        self.assertEqual(code, 0, diag["findings"])
        for f in diag["findings"]:
            self.assertEqual(f["confidence"], "medium", f)
            self.assertIn(f["id"], ("lost-notify", "io-stalled"), f)
            if f["id"] == "lost-notify":
                self.assertTrue(self.evidence(f, "AioContext.notified")[0]["value"]
                                .startswith("true"), f)

        ctxs = self.check_roots_only(core)["contexts"]
        roles = {c["role"]: c for c in ctxs}
        self.assertIn("main", roles)
        img = exe("qemu-img")
        # iohandler_ctx: 2.6 on; 2.1 has no such context.
        iohandler = gdb_try(img, core, "/x iohandler_ctx")
        if iohandler is None:
            self.assertNotIn("iohandler", roles)
        else:
            self.assertEqual(int(roles["iohandler"]["address"], 16), int(iohandler, 16))
        main = roles["main"]
        self.assertEqual(int(main["address"], 16),
                         int(gdb_print(img, core, "/x qemu_aio_context"), 16))
        # notify_me and notified (2.4/2.5 on), or 2.1's dispatching.
        notify_me = gdb_try(img, core, "qemu_aio_context->notify_me")
        self.assertEqual(main["notify_me"], None if notify_me is None else int(notify_me))
        notified = gdb_try(img, core, "qemu_aio_context->notified")
        self.assertEqual(None if main["notified"] is None else str(main["notified"]).lower(),
                         notified)
        dispatching = gdb_try(img, core, "qemu_aio_context->dispatching")
        text = aiocore("ctx", core).stdout
        if dispatching is None:
            self.assertNotIn("dispatching:", text)
        else:
            self.assertIn(f"dispatching:  {dispatching}\n", text)
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
            # The copy's reads and writes, or the flush that ends it:
            # handle_aiocb_* from 4.0 on, before that one aio_worker.
            self.assertIn((req["func"], req["kind"]),
                          [("handle_aiocb_rw", "read"), ("handle_aiocb_rw", "write"),
                           ("handle_aiocb_flush", "flush"), ("aio_worker", "read"),
                           ("aio_worker", "write"), ("aio_worker", "flush")])
            self.assertTrue(req["valid_aiocb_info"])
            if req["func"] == "handle_aiocb_rw" and BASE not in ("2.1", "2.8"):
                self.assertEqual(req["coroutine_entry"], "convert_co_do_copy")
            else:
                self.assertTrue(req["coroutine_entry"], req)
            elem_type = "ThreadPoolElementAio" if pool["type"] == "ThreadPoolAio" \
                else "ThreadPoolElement"
            self.assertEqual(req["state"], gdb_print(
                img, core, f"(({elem_type} *){req['address']})->state"))
            self.assertRegex(gdb_print(img, core, f"(({elem_type} *){req['address']})->func"),
                             rf"<{req['func']}>$")
            self.assertRegex(gdb_print(img, core, f"((Coroutine *){req['coroutine']})->entry"),
                             rf"<{req['coroutine_entry']}>$")

        # Complete on every version: 2.1's pthread-specific current
        # coroutine is found by the threads' stack pointers.
        res = aiocore("coroutines", "--json", core)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(json.loads(res.stdout)["notes"], [])
        cos = json.loads(res.stdout)["coroutines"]
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
        # stack, inside the submit: thread_pool_submit_co, or before 2.9
        # bdrv_co_io_em or (a flush) bdrv_co_flush waiting on a
        # CoroutineIOCompletion; gcc may name a split part "X.part.0".
        submit = ("thread_pool_submit_co", "bdrv_co_io_em", "bdrv_co_flush")
        bt = aiocore("coroutines", "--bt", core)
        self.assertEqual(bt.returncode, 0, bt.stderr)
        if any(c["state"] == "suspended" for c in waiting.values()):
            self.assertRegex(bt.stdout,
                             rf"in ({'|'.join(submit)})(\.part\.\d+)?\+0x[0-9a-f]+ at ")
        threads = None
        for c in waiting.values():
            if c["state"] == "running":
                if threads is None:
                    threads = {t["tid"]: t for t in
                               json.loads(aiocore("threads", "--json", core).stdout)["threads"]}
                functions = [(f["function"] or "").split(".")[0]
                             for f in threads[c["current_in_tid"]]["frames"]]
                self.assertTrue(set(submit) & set(functions), functions)
            elif c["state"] != "running":
                self.assertEqual(c["state"], "suspended", c)

        events = {e["name"]: e for e in view_json("events", core)["events"]}
        ready = gdb_try(img, core, "rcu_call_ready_event.value")   # RCU: 2.3 on
        if ready is None:
            self.assertNotIn("rcu_call_ready_event", events)
        else:
            self.assertEqual(events["rcu_call_ready_event"]["value"], int(ready))

    def test_current_coroutine_from_the_stack(self):
        """qemu-img convert stopped by gdb inside a request's coroutine, at
        its first thread_pool_submit_aio() (submit.core: the request does
        not exist yet) and on its return (submitted.core: the request
        names the coroutine): aiocore names the coroutine the main thread
        runs as gdb's coroutine_trampoline frame does, and gdb's sp is
        inside that coroutine's stack.  On 2.1 (pthread-specific current)
        the first is found from the trampoline frame, the second by its
        stack holding the thread's sp; elsewhere `current` names both and
        the stack agrees (no note)."""
        log = self.path("gdb.log")
        with open(log, "w") as out:
            subprocess.run(["gdb", "-batch", "-nx", "-q", "-x",
                            os.path.join(FIXTURES, "capture-in-coroutine.gdb"), "--args",
                            exe("qemu-img"), "convert", "-f", "raw", "-O", "qcow2", "-t", "none",
                            self.data, self.path("dst.qcow2")],
                           stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                           cwd=self.tmp, timeout=300)
        with open(log) as f:
            text = f.read()
        tid = int(re.search(r"\(process (\d+)\) killed", text).group(1))
        img = exe("qemu-img")
        parts = re.split(r"^oracle (\S+) sp (0x[0-9a-f]+)$", text, flags=re.M)
        oracle = {parts[i]: (int(parts[i + 1], 16), parts[i + 2])
                  for i in range(1, len(parts) - 2, 3)}
        self.assertEqual(sorted(oracle), ["submit.core", "submitted.core"], text)
        for name, (sp, locals_text) in oracle.items():
            with self.subTest(core=name):
                core = self.path(name)
                # gdb: co, else self (base first), of the backend's first frame.
                found = dict(re.findall(r"^(co|self) = (0x[0-9a-f]+)", locals_text, re.M))
                self.assertTrue(found, locals_text)
                gdb_co = int(found.get("co", found.get("self")), 16)

                res = aiocore("coroutines", "--json", core)
                self.assertEqual(res.returncode, 0, res.stderr)
                doc = json.loads(res.stdout)
                self.assertEqual(doc["notes"], [])
                current = [c for c in doc["coroutines"] if c["current_in_tid"] == tid]
                self.assertEqual(len(current), 1, doc)
                co = current[0]
                self.assertEqual(int(co["address"], 16), gdb_co)
                self.assertEqual(co["state"], "running")
                self.assertIn(f"current in thread {tid}", co["source"])
                if name == "submitted.core":
                    self.assertIn("waiting on ThreadPoolElement", co["source"])
                self.assertRegex(gdb_print(img, core, f"((Coroutine *){co['address']})->entry"),
                                 rf"<{co['entry_name']}>$")
                base = int(gdb_print(img, core,
                                     f"/x (({COROUTINE_TYPE} *){co['address']})->stack"), 16)
                # 2.8 on record stack_size; before, qemu_coroutine_new's 1 << 20.
                size = gdb_try(img, core, f"(({COROUTINE_TYPE} *){co['address']})->stack_size")
                size = 1 << 20 if size is None else int(size)
                self.assertTrue(base <= sp < base + size, (hex(base), size, hex(sp)))
                view = aiocore("coroutines", core).stdout
                self.assertIn(f"Coroutine {co['address']}  entry {co['entry_name']} ", view)
                self.assertIn(f"running (current in thread {tid})", view)

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
        argv = ["stdbuf", "-oL", exe("qemu-io"), "-r", *QEMU_IO_RAW, "-c", "read 0 1M",
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

    def skip_without_storage_daemon(self):
        if not os.path.exists(exe("storage-daemon/qemu-storage-daemon")):
            self.skipTest(f"QEMU {VERSION} has no qemu-storage-daemon (5.0 on), and its "
                          "qemu-img and qemu-io run no IOThread")

    def test_storage_daemon_iothread_is_healthy(self):
        """An IOThread's context is found through iothread_run, tied to its
        thread, and a daemon that served a read has no finding."""
        self.skip_without_storage_daemon()
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
        ctxs = self.check_roots_only(core)["contexts"]
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
        self.assertTrue(diag["qemu_version"].startswith(BASE + "."), diag["qemu_version"])
        self.assertIn("bql-poll-cycle: qemu_global_mutex is free", diag["checked"])
        self.assertEqual(gdb_print(qemu, core, "qemu_global_mutex.lock.__data.__owner"), "0")
        ctxs = self.check_roots_only(core)["contexts"]
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
        self.assertRegex(func[0]["value"],
                         r"^(handle_aiocb_rw|aio_worker) \(read request, ret 0\)$")
        bh = self.evidence(f, "ThreadPool.completion_bh")
        self.assertIn("not scheduled", bh[0]["value"])
        home = self.evidence(f, "home thread")
        self.assertEqual(home[0]["tid"], home_tid)
        self.assertRegex(home[0]["value"], r"^asleep in ")
        self.check_fix_in_build(diag, f)
        return f, state[0]["address"], bh[0]["address"]

    def check_fix_in_build(self, diag, finding):
        """The release read from the executable, and whether it has the
        finding's fix: 2.1.2 predates e8d3b1a25f28 (2.3.0)."""
        self.assertRegex(diag["qemu_version"] or "", rf"^{re.escape(BASE)}\.\d+")
        release = tuple(int(n) for n in diag["qemu_version"].split()[0].split("."))
        fixed_in = tuple(int(n) for n in finding["fix"]["release"].split("."))
        self.assertEqual(finding["fix_in_build"], release >= fixed_in)
        text = aiocore("diagnose", diag["target"]).stdout
        if release < fixed_in:
            self.assertIn(f"  This build:   {diag['qemu_version'].split()[0]} predates this fix "
                          f"(in {finding['fix']['release']})", text)

    def test_lost_completion_in_qemu_io(self):
        pid = self.inject("inject-lost-completion.gdb",
                          [exe("qemu-io"), *QEMU_IO_RAW, "-c", "read 0 1M", self.data])
        self.assertIsNotNone(pid, "the injected qemu-io did not stay hung")
        core = gcore(pid, self.path("qemu-io"))
        _, elem, bh = self.check_lost_completion(core, pid)
        self.check_roots_only(core)
        qio = exe("qemu-io")
        pool = gdb_print(qio, core, "/x qemu_aio_context->thread_pool")
        elem_type = "ThreadPoolElementAio" if "ThreadPoolAio" in gdb_print(
            qio, core, "qemu_aio_context->thread_pool") else "ThreadPoolElement"
        self.assertEqual(gdb_print(qio, core, f"(({elem_type} *){elem})->state"), "THREAD_DONE")
        self.assertFalse(bh_scheduled(qio, core, bh))
        self.assertNotEqual(int(pool, 16), 0)
        self.check_gdb_parity(qio, core)
        self.check_json_fields(core)

    def check_json_fields(self, core):
        """Every view's --json on this QEMU's core against docs/json.md's
        field tables (tests/integration/test_json_schema.py does the
        runtime's cores)."""
        tables = jsonfields.parse()
        for args in (["ctx"], ["bh-list"], ["thread-pool"], ["events"], ["coroutines", "--bt"],
                     ["waits"], ["diagnose"], ["threads"]):
            with self.subTest(json=args[0]):
                res = aiocore(*args, "--json", core)
                self.assertIn(res.returncode, (0, 1, 3), res.stderr)
                self.assertEqual(jsonfields.validate(json.loads(res.stdout), tables), [])

    # --- field inputs (issue 12) -------------------------------------------
    def test_stripped_qemu_at_its_path_and_a_piped_core(self):
        """As distributions ship it: the executable stripped of everything
        but .dynsym, at the path the core names, debuginfo apart.  No --exe;
        the debuginfo is found by build-id, or its absence said with the
        package to install.  The same core on a pipe, compressed."""
        qio = self.path("qemu-io")
        run(["objcopy", "--strip-all", exe("qemu-io"), qio], check=True)
        bid = re.search(r"Build ID: ([0-9a-f]+)", run(["eu-readelf", "-n", qio]).stdout).group(1)
        proc = subprocess.Popen([qio, *QEMU_IO_RAW, self.data], stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pids.append(proc.pid)
        try:
            core = gcore(proc.pid, self.path("stripped.core"))
        finally:
            proc.kill()
            proc.wait()
            proc.stdin.close()
        res = aiocore("diagnose", core)
        self.assertEqual(res.returncode, 1, res.stderr)
        self.assertIn(f"no debuginfo for {qio} (build-id {bid})", res.stderr)
        for how in ("qemu-utils-dbgsym", "DEBUGINFOD_URLS",
                    f".build-id/{bid[:2]}/{bid[2:]}.debug"):
            self.assertIn(how, res.stderr)
        self.assertNotIn("not found", res.stderr)
        debug = self.path(f"debug/.build-id/{bid[:2]}")
        os.makedirs(debug)
        os.symlink(exe("qemu-io"), os.path.join(debug, bid[2:] + ".debug"))
        res = aiocore("diagnose", "--debug-dir", self.path("debug"), core)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("no known hang pattern", res.stdout)
        piped = subprocess.run(f"zstd -q -c '{core}' | '{os.environ['AIOCORE']}' diagnose "
                               f"--debug-dir '{self.path('debug')}' -", shell=True,
                               capture_output=True, text=True, timeout=600)
        self.assertEqual(piped.returncode, 0, piped.stderr)
        self.assertEqual(piped.stdout, res.stdout.replace(core, "-"))

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
        self.skip_without_storage_daemon()
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

    def lost_notify_script(self, tool="qemu-io"):
        """Where aio_notify() is inlined into qemu_bh_schedule() (2.x at
        -O2) gdb cannot return from it: the script for those builds."""
        res = run(["gdb", "-batch", "-nx", "-q", exe(tool),
                   "-ex", "disassemble qemu_bh_schedule"])
        self.assertIn("End of assembler dump", res.stdout, res.stderr)
        if "<aio_notify>" in res.stdout:
            return "inject-lost-notify.gdb"
        self.assertIn("<event_notifier_set>", res.stdout)
        return "inject-lost-notify-inlined.gdb"

    def test_lost_notify_in_qemu_io(self):
        script = self.lost_notify_script()
        for _ in range(6):                      # a race: the poller must sleep first
            pid = self.inject(script,
                              [exe("qemu-io"), *QEMU_IO_RAW, "-c", "read 0 256M", self.data])
            if pid:
                break
        self.assertIsNotNone(pid, "no injected lost notify hung qemu-io in 6 tries")
        core = gcore(pid, self.path("qemu-io"))
        code, diag = self.diagnose(core)
        qio = exe("qemu-io")
        dispatching = gdb_try(qio, core, "qemu_aio_context->dispatching")
        if dispatching == "false":
            # 2.1: aio_notify() kicks whenever !dispatching, so this state is
            # a kick in flight in that code, not a hang: no lost-notify.
            self.assertNotIn("lost-notify", [f["id"] for f in diag["findings"]], diag)
            self.assertTrue([c for c in diag["checked"] if c.startswith("lost-notify:")
                             and "dispatching false" in c], diag["checked"])
            self.check_gdb_parity(qio, core)
            return
        self.assertEqual(code, 3, diag)
        f = diag["findings"][0]
        self.assertEqual(f["id"], "lost-notify")
        bh = self.evidence(f, "runnable BH")
        # BH_PENDING and BH_SCHEDULED (5.0 on), or 2.x's scheduled boolean.
        self.assertRegex(bh[0]["value"],
                         r"cb=thread_pool_completion_bh \[(pending )?scheduled\] runnable")
        home = self.evidence(f, "home thread")
        self.assertEqual(home[0]["tid"], pid)
        notified = gdb_try(qio, core, "qemu_aio_context->notified")
        if notified is None:                    # before 2.5: no such field
            self.assertEqual(self.evidence(f, "AioContext.notified"), [])
        else:
            self.assertEqual(self.evidence(f, "AioContext.notified")[0]["value"].split()[0],
                             "false")
            self.assertEqual(notified, "false")
        if dispatching is not None:             # 2.1: decides whether aio_notify kicks
            self.assertEqual(self.evidence(f, "AioContext.dispatching")[0]["value"].split()[0],
                             dispatching)
        self.assertTrue(bh_scheduled(qio, core, bh[0]["address"]))
        flags = gdb_try(qio, core, f"/x ((QEMUBH *){bh[0]['address']})->flags")
        if flags is not None:
            self.assertEqual(int(flags, 16) & 3, 3)
        self.check_gdb_parity(qio, core)


if __name__ == "__main__":
    unittest.main(verbosity=2)
