# SPDX-License-Identifier: GPL-2.0-or-later
"""aiocore diagnose --since on real QEMU (AIOCORE_QEMU_VERSION, built by
build-qemu.sh like test_real_qemu.py): two gcores of one qemu-img convert,
seconds apart.

- busy: a rate-limited convert from a file copies while it is captured
  (2.x has no -r: a compressed one, -c, busy deflating): "progressing",
  exit 0;
- busy: a rate-limited blockdev-mirror job in qemu-storage-daemon (QMP):
  "progressing", the job's progress moved as gdb reads it;
- stalled: a convert from an NBD export (qemu-storage-daemon's, 2.x's
  qemu-nbd) whose server is stopped (SIGSTOP) mid-copy: its reads stay in
  flight, "no progress in N s on READ ...", exit 3;
- stalled: a convert whose worker gdb sends from pread64 into pause()
  (fixtures/inject/stall-pread.gdb), as a read from dead storage: its
  request stays THREAD_ACTIVE, exit 3.

The mirror cases need qemu-storage-daemon (5.0 on) and skip on 2.x.
gdb is the oracle for the counters and the stalled requests."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import test_real_qemu as rq  # noqa: E402
import test_hangs  # noqa: E402
from aiocoretest import TempDirTestCase, aiocore, run  # noqa: E402

setUpModule = rq.setUpModule
GAP = 2.5   # seconds between the two cores
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "inject")


def gcore_busy(pid, path):
    """gcore of a process whose threads work (rq.gcore waits for sleep)."""
    res = run(["gcore", "-o", path, str(pid)], timeout=300)
    if res.returncode != 0 or not os.path.exists(f"{path}.{pid}"):
        raise AssertionError(f"gcore {pid} failed: {res.stderr}")
    os.rename(f"{path}.{pid}", path)   # keeps the modification time
    return path


def since(earlier, later):
    res = aiocore("diagnose", "--json", "--since", earlier, later)
    return res.returncode, (json.loads(res.stdout) if res.stdout else None), res


def comparison(d, what):
    return next(c for c in d["since"]["comparisons"] if c["what"] == what)


def written(pid):
    """Bytes pid has written so far (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/io") as f:
            return int(re.search(r"^wchar: (\d+)", f.read(), re.M).group(1))
    except (FileNotFoundError, ProcessLookupError):
        return 0


class Since(TempDirTestCase):
    wait_for = rq.RealQemu.wait_for
    def setUp(self):
        super().setUp()
        self.pids = []
        self.data = self.path("disk.raw")
        with open(self.data, "wb") as f:        # data, not holes: real reads
            for _ in range(512):
                f.write(os.urandom(1 << 20))

    def tearDown(self):
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
            rq.kill(pid)
        super().tearDown()

    def start(self, argv):
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pids.append(proc.pid)
        return proc

    def check_rcu(self, d, earlier, later):
        img = rq.exe("qemu-img")
        if rq.gdb_try(img, earlier, "rcu_gp_ctr") is None:   # 2.1: no RCU yet
            self.assertEqual([c for c in d["since"]["comparisons"] if c["what"] == "rcu_gp_ctr"], [])
            return
        c = comparison(d, "rcu_gp_ctr")
        self.assertEqual(c["earlier"], rq.gdb_print(img, earlier, "rcu_gp_ctr"))
        self.assertEqual(c["later"], rq.gdb_print(img, later, "rcu_gp_ctr"))

    def test_busy_convert_is_progressing(self):
        # 512 MiB at 32 MiB/s: copying for 16 s, long enough for two cores.
        # 2.x's convert has no -r: compressing random data keeps it busy
        # as long (measured: 27 s on 2.1, 36 s on 2.8, on 2 shared CPUs).
        img = rq.exe("qemu-img")
        slow = ["-r", "32M"] if "rate_limit" in rq.run([img, "--help"]).stdout else ["-c"]
        proc = self.start([img, "convert", "-f", "raw", "-O", "qcow2", *slow,
                           self.data, self.path("dst.qcow2")])
        time.sleep(1)
        a = gcore_busy(proc.pid, self.path("a.core"))
        time.sleep(GAP)
        b = gcore_busy(proc.pid, self.path("b.core"))
        self.assertIsNone(proc.poll(), "convert finished before the second core")
        code, d, res = since(a, b)
        self.assertEqual(code, 0, res.stderr + res.stdout)
        s = d["since"]
        self.assertEqual(s["state"], "progressing", s["summary"])
        self.assertEqual(s["stalled"], 0)
        self.assertGreaterEqual(s["seconds"], GAP)
        self.assertTrue(s["summary"].startswith("progressing: "), s["summary"])
        # Writes reached the target between the cores: write_gen moved
        # (2.8 on), or 2.1's wr_highest_sector on the target's file node;
        # gdb reads the same counter in both cores.
        if rq.gdb_try(img, a, "sizeof(((BlockDriverState *)0)->write_gen)") is not None:
            self.assertGreater(s["write_gen"], 0, s)
        else:
            self.check_wr_highest_sector(d, a, b)
        # At most what one core of a busy convert may show (a worker caught
        # in a read, a kick gcore raced): medium, never a claimed hang.
        for f in d["findings"]:
            self.assertEqual(f["confidence"], "medium", f)
            self.assertIn(f["id"], ("io-stalled", "lost-notify"), f)
        self.check_rcu(d, a, b)
        # Progress outranks them: the verdict is none, they follow as ALSO.
        self.assertEqual(d["verdict"], "none")
        text = aiocore("diagnose", "--since", a, b)
        self.assertEqual(text.returncode, 0)
        self.assertIn("VERDICT: progressing: ", text.stdout)
        for f in d["findings"]:
            self.assertIn(f"ALSO: {f['id']} (medium confidence)", text.stdout)

    def check_wr_highest_sector(self, d, earlier, later):
        """2.1: the target file node's wr_highest_sector moved, as gdb reads
        it on that node (bdrv_states' target device, its `file`)."""
        moved = [c for c in d["since"]["comparisons"]
                 if c["what"].endswith(" wr_highest_sector") and c["moved"]
                 and "(file dst.qcow2)" in c["what"]]
        self.assertEqual(len(moved), 1, d["since"]["comparisons"])
        self.assertLess(int(moved[0]["earlier"]), int(moved[0]["later"]))
        img = rq.exe("qemu-img")
        for core, value in ((earlier, moved[0]["earlier"]), (later, moved[0]["later"])):
            target = "bdrv_states.tqh_first->device_list.tqe_next"   # source, then target
            self.assertEqual(rq.gdb_print(img, core, f"$_streq({target}->device_name, \"target\")"), "1")
            self.assertEqual(rq.gdb_print(img, core, f"{target}->file->wr_highest_sector"), value)

    def skip_without_storage_daemon(self):
        if not os.path.exists(rq.exe("storage-daemon/qemu-storage-daemon")):
            self.skipTest(f"QEMU {rq.VERSION} has no qemu-storage-daemon (5.0 on) to run a "
                          "blockdev-mirror job, and the suite builds no 2.x system emulator")

    def mirror(self, prefix=(), speed=32 << 20):
        """qemu-storage-daemon (under prefix, e.g. gdb) mirroring src to
        dst through QMP, job m0; returns its pid once the job started."""
        qmp = self.path("qmp.sock")
        with open(self.path("dst.raw"), "wb") as f:
            f.truncate(os.path.getsize(self.data))
        argv = [*prefix, rq.exe("storage-daemon/qemu-storage-daemon"),
                "--blockdev", f"driver=file,node-name=src,filename={self.data}",
                "--blockdev", f"driver=file,node-name=dst,filename={self.path('dst.raw')}",
                "--chardev", f"socket,id=m,path={qmp},server=on,wait=off",
                "--monitor", "chardev=m"]
        log = open(self.path("mirror.log"), "w")   # a file: the daemon outlives gdb
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, cwd=self.tmp)
        log.close()
        self.pids.append(proc.pid)
        deadline = time.monotonic() + 60
        # The file exists from bind(), before listen(): refused until then.
        while True:
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(qmp)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                s.close()
                self.assertLess(time.monotonic(), deadline, "no QMP socket accepting")
                time.sleep(0.05)
        with s, s.makefile("rw") as f:

            def command(name, **args):
                f.write(json.dumps({"execute": name, "arguments": args}) + "\n")
                f.flush()
                while True:   # skip events
                    reply = json.loads(f.readline())
                    if "return" in reply or "error" in reply:
                        return reply
            f.readline()   # greeting
            self.assertIn("return", command("qmp_capabilities"))
            self.assertIn("return", command("blockdev-mirror", **{
                "job-id": "m0", "device": "src", "target": "dst", "sync": "full",
                "speed": speed}))
        return proc

    def test_mirror_job_is_progressing(self):
        self.skip_without_storage_daemon()
        # 512 MiB at 32 MiB/s: mirroring for 16 s.
        qsd = self.mirror()
        time.sleep(1)
        a = gcore_busy(qsd.pid, self.path("a.core"))
        time.sleep(GAP)
        b = gcore_busy(qsd.pid, self.path("b.core"))
        code, d, res = since(a, b)
        self.assertEqual(code, 0, res.stderr + res.stdout)
        s = d["since"]
        self.assertEqual(s["state"], "progressing", s["summary"])
        self.assertEqual(s["stalled"], 0)
        c = comparison(d, "job m0 (mirror) progress")
        daemon = rq.exe("storage-daemon/qemu-storage-daemon")
        for core, value in ((a, c["earlier"]), (b, c["later"])):
            # 5.2 and later: ProgressMeter progress, Job first on `jobs`.
            current = rq.gdb_print(daemon, core, "((Job *)jobs.lh_first)->progress.current")
            total = rq.gdb_print(daemon, core, "((Job *)jobs.lh_first)->progress.total")
            self.assertEqual(value.split()[0], f"{current}/{total}")
        self.assertTrue(c["moved"])
        self.assertEqual(s["job_progress"], int(c["later"].split("/")[0]) - int(c["earlier"].split("/")[0]))

    def test_convert_from_stopped_nbd_server_makes_no_progress(self):
        for attempt in range(3):
            sock = self.path(f"nbd{attempt}.sock")
            # qemu-storage-daemon, or 2.x's qemu-nbd: test_hangs' server.
            qsd, source, _ = test_hangs.Hangs.nbd_server(self, self.data, sock)
            convert = self.start([rq.exe("qemu-img"), "convert", "-f", "raw", "-O", "qcow2",
                                  source, self.path(f"dst{attempt}.qcow2")])
            # Mid-copy: once convert has written 8 MiB (2.1 copies 512 MiB
            # in about half a second, so a fixed sleep could miss it).
            deadline = time.monotonic() + 30
            while convert.poll() is None and time.monotonic() < deadline:
                if written(convert.pid) >= 8 << 20:
                    break
                time.sleep(0.002)
            os.kill(qsd.pid, signal.SIGSTOP)   # the server stops answering mid-copy
            time.sleep(0.2)
            if convert.poll() is None:
                break
        self.assertIsNone(convert.poll(), "convert always finished before the server stopped")
        a = rq.gcore(convert.pid, self.path("a.core"))
        time.sleep(GAP)
        b = rq.gcore(convert.pid, self.path("b.core"))
        code, d, res = since(a, b)
        self.assertEqual(code, 3, res.stderr + res.stdout)
        s = d["since"]
        self.assertEqual(s["state"], "no-progress", s["summary"])
        self.assertGreaterEqual(s["stalled"], 1)
        self.assertEqual(s["completed"], 0)
        self.assertEqual(s["pid"], convert.pid)
        self.assertEqual(d["verdict"], "no-progress")
        f = d["findings"][0]
        self.assertEqual(f["confidence"], "high")
        img = rq.exe("qemu-img")
        requests = [e for e in f["evidence"] if e["what"] == "BdrvTrackedRequest"]
        self.assertEqual(len(requests), s["stalled"])
        # BdrvTrackedRequest.type (READ, WRITE...) is 2.12's; before, a
        # request (or, named from 2.x's is_write, a read).
        typed = rq.gdb_try(img, b, f"((BdrvTrackedRequest *){requests[0]['address']})->type")
        self.assertRegex(f["summary"], r"^no progress in \d+\.\d s on %s of \d+ bytes at offset \d+ on node "
                         % ("READ" if typed else r"(request|read \(is_write false\))"))
        if not typed:   # gdb: a read all the same
            self.assertEqual(rq.gdb_print(img, b, f"((BdrvTrackedRequest *){requests[0]['address']})->is_write"),
                             "false")
        for e in requests:
            offset = e["value"].split(" at offset ")[1].split()[0]
            for core in (a, b):   # the same request, in both cores, says gdb
                self.assertEqual(rq.gdb_print(img, core, f"((BdrvTrackedRequest *){e['address']})->offset"),
                                 offset)
        self.check_rcu(d, a, b)
        # One core alone cannot tell stalled from slow: remote-not-answering
        # at medium confidence only, so no hang is claimed (exit 0).
        one = aiocore("diagnose", "--json", b)
        notes = json.loads(one.stdout)["notes"]
        # 1 (partial) only for 2.1's pthread-specific current coroutine.
        self.assertEqual(one.returncode, 1 if notes and all("thread_state_key" in n for n in notes)
                         else 0, one.stderr + str(notes))
        alone = json.loads(one.stdout)["findings"]
        self.assertEqual([(f["id"], f["confidence"]) for f in alone],
                         [("remote-not-answering", "medium")])

    def test_convert_with_worker_stuck_in_pread_makes_no_progress(self):
        log = self.path("gdb.log")
        with open(log, "w") as out:   # a file: the detached convert outlives gdb
            gdb = subprocess.Popen(["gdb", "-batch", "-nx", "-q", "-x",
                                    os.path.join(FIXTURES, "stall-pread.gdb"), "--args",
                                    rq.exe("qemu-img"), "convert", "-f", "raw", "-O", "qcow2",
                                    self.data, self.path("dst.qcow2")],
                                   stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT, cwd=self.tmp)
            gdb.wait(timeout=120)
        with open(log) as f:
            m = re.search(r"\[Inferior 1 \(process (\d+)\) detached\]", f.read())
        self.assertTrue(m, "gdb did not stop a worker in pread64")
        pid = int(m.group(1))
        self.pids.append(pid)
        a = rq.gcore(pid, self.path("a.core"))
        time.sleep(GAP)
        b = rq.gcore(pid, self.path("b.core"))
        code, d, res = since(a, b)
        self.assertEqual(code, 3, res.stderr + res.stdout)
        self.assertEqual(d["since"]["state"], "no-progress")
        f = d["findings"][0]
        self.assertEqual(f["id"], "no-progress")
        self.assertEqual(f["confidence"], "high")
        elements = [e for e in f["evidence"] if e["what"] == "ThreadPoolElement"]
        self.assertEqual(len(elements), 1, f["evidence"])
        # handle_aiocb_rw, or aio_worker before 4.0: as gdb names the func.
        func = re.search(r"\(read (\w+), arg 0x[0-9a-f]+, THREAD_ACTIVE\)", elements[0]["value"])
        self.assertIn(func.group(1), ("handle_aiocb_rw", "aio_worker"), elements[0]["value"])
        self.assertTrue(f["summary"].startswith("no progress in "), f["summary"])
        self.assertIn(elements[0]["address"], f["summary"])
        pool = rq.gdb_print(rq.exe("qemu-img"), b, "qemu_aio_context->thread_pool")
        elem_type = "ThreadPoolElementAio" if "ThreadPoolAio" in pool else "ThreadPoolElement"
        self.assertIn(f"<{func.group(1)}>", rq.gdb_print(rq.exe("qemu-img"), b,
                      f"(({elem_type} *){elements[0]['address']})->func"))
        for core in (a, b):   # gdb: THREAD_ACTIVE in both
            self.assertEqual(rq.gdb_print(rq.exe("qemu-img"), core,
                                          f"(({elem_type} *){elements[0]['address']})->state"),
                             "THREAD_ACTIVE")

    def test_mirror_with_worker_stuck_in_pread_makes_no_progress(self):
        self.skip_without_storage_daemon()
        gdb = self.mirror(prefix=["gdb", "-batch", "-nx", "-q", "-x",
                                  os.path.join(FIXTURES, "stall-pread.gdb"), "--args"])
        gdb.wait(timeout=120)   # detached once a worker is sent into pause()
        with open(self.path("mirror.log")) as f:
            m = re.search(r"\[Inferior 1 \(process (\d+)\) detached\]", f.read())
        self.assertTrue(m, "gdb did not stop a worker in pread64")
        pid = int(m.group(1))
        self.pids.append(pid)
        time.sleep(0.5)
        a = rq.gcore(pid, self.path("a.core"))
        time.sleep(GAP)
        b = rq.gcore(pid, self.path("b.core"))
        code, d, res = since(a, b)
        self.assertEqual(code, 3, res.stderr + res.stdout)
        f = d["findings"][0]
        self.assertEqual(f["id"], "no-progress")
        whats = [e["what"] for e in f["evidence"]]
        self.assertIn("ThreadPoolElement", whats)
        job = [e for e in f["evidence"] if e["what"] == "Job"]
        self.assertEqual(len(job), 1, f["evidence"])
        self.assertRegex(job[0]["value"], r"^job m0 \(mirror, running\) at \d+ of \d+")
        current = job[0]["value"].split(" at ")[1].split()[0]
        daemon = rq.exe("storage-daemon/qemu-storage-daemon")
        for core in (a, b):   # gdb: the job did not move
            self.assertEqual(rq.gdb_print(daemon, core, "((Job *)jobs.lh_first)->progress.current"),
                             current)


if __name__ == "__main__":
    unittest.main()
