# SPDX-License-Identifier: GPL-2.0-or-later
"""The wait-for analysis on real QEMU (AIOCORE_QEMU_VERSION): `qemu-img
convert` of random data, and (7.2) a `blockdev-mirror` job of
qemu-system-x86_64, whose worker gdb stops inside a pread64/preadv of the
source file -- a hung storage read as a core shows it.  diagnose must
say io-stalled with the source's path, the fd, offset and length (gdb's
registers of the stopped thread are the oracle), exit 0 (medium: one core
cannot tell stalled from slow), and `aiocore waits` must show the chain
coroutine -> request -> worker -> file, in text, JSON and dot; for the
job also job-stalled, the job a node above its coroutine.

From 5.2 (qemu-storage-daemon): the same stalled mirror read, then a QMP
`blockdev-snapshot-sync` of the source, whose transaction drains every
node (bdrv_drain_all_begin) on the main thread: drain-wait names the main
thread and the node's in_flight (gdb reads it), job-stalled the job m0 (gdb
reads its id).  And an idle daemon: no verdict, "looks idle".  And
(CoMutexHeld) a coroutine holding CoMutexes across a stalled qcow2 L2
table read while the other convert coroutines queue on one of them.

On 2.1 and 2.8 (qemu-img and qemu-io only) convert is sequential: it reads
through a synchronous wrapper (2.1 bdrv_prwv_co, 2.8 blk_prw) whose main
thread polls for the coroutine it created, so io-stalled names that thread
(gdb: the wrapper's `rwco` is the coroutine's entry_arg); the CoMutex case is
qemu-io with four aio_reads on a 4 KiB-cluster qcow2 image, the first
holding s->lock across its stalled L2 read (2.1 records no holder: the
lock says so), and qemu-io's exit drain (bdrv_drain_all) waits for them:
drain-wait; the idle case is an interactive qemu-io; on 2.8 job-stalled
is qemu-img commit's commit job (a 2.x BlockJob, no status: its flags say
running) whose read gdb stops.  2.1's qemu-img commit runs no job."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_real_qemu as rq  # noqa: E402
from test_real_qemu import exe, setUpModule  # noqa: E402,F401
from aiocoretest import TempDirTestCase, aiocore, run  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
# 2.x qemu-img convert: the synchronous wrapper its main thread polls in,
# the local variable the coroutine's argument is, and the coroutine's entry.
SYNC_WRAPPER = {"2.1": ("bdrv_prwv_co", "rwco", "bdrv_rw_co_entry"),
                "2.8": ("blk_prw", "rwco", "blk_read_entry")}
IS_2X = rq.VERSION in ("2.1", "2.8")


def gdb_python(exe_path, core, script):
    """Runs a gdb Python script on the core; returns gdb's stdout."""
    with tempfile.NamedTemporaryFile("w", suffix=".py") as f:
        f.write(script)
        f.flush()
        res = run(["gdb", "-batch", "-nx", "-q", "-x", f.name, exe_path, core])
    return res.stdout + res.stderr


def gdb_frame_variable_address(exe_path, core, function, variable):
    """(tid, address) of `variable` in each thread's frame of `function`, as
    gdb finds them: the oracle for a synchronous wrapper's stack argument."""
    out = gdb_python(exe_path, core, f"""
import gdb
for t in gdb.selected_inferior().threads():
    t.switch()
    f = gdb.newest_frame()
    while f is not None:
        if f.name() == {function!r}:
            f.select()
            print("FRAMEVAR", t.ptid[1], int(gdb.parse_and_eval("(long)&{variable}")))
            break
        f = f.older()
""")
    return [(int(x.split()[1]), int(x.split()[2])) for x in out.splitlines()
            if x.startswith("FRAMEVAR ")]


def gdb_coqueue_waiters(exe_path, core, lock):
    """The coroutines queued on a 2.x CoMutex (`locked` + CoQueue `queue`)
    as gdb walks them: QTAILQ in 2.1, QSIMPLEQ in 2.8."""
    out = gdb_python(exe_path, core, f"""
import gdb
q = gdb.parse_and_eval("((CoMutex *){lock})->queue.entries")
names = [f.name for f in q.type.fields()]
co = q["sqh_first" if "sqh_first" in names else "tqh_first"]
out = []
while int(co) and len(out) < 4096:
    out.append(int(co))
    link = co["co_queue_next"]
    co = link["sqe_next" if "sqe_next" in [f.name for f in link.type.fields()] else "tqe_next"]
print("WAITERS", " ".join(hex(x) for x in out))
""")
    line = [x for x in out.splitlines() if x.startswith("WAITERS")]
    if not line:
        raise AssertionError(f"gdb could not walk CoMutex {lock}: {out}")
    return line[0].split()[1:]


def qmp_connect(test, sock):
    """Waits for the QMP socket, connects, negotiates; returns command(name,
    wait=True, **args), which returns the reply (skipping events) or, with
    wait=False, sends only."""
    deadline = time.monotonic() + 60
    while not os.path.exists(sock):
        test.assertLess(time.monotonic(), deadline, "no QMP socket")
        time.sleep(0.05)
    # The socket file exists from bind(), before listen(): refused until then.
    while True:
        qmp = socket.socket(socket.AF_UNIX)
        try:
            qmp.connect(sock)
            break
        except ConnectionRefusedError:
            qmp.close()
            test.assertLess(time.monotonic(), deadline, "QMP socket refuses connections")
            time.sleep(0.05)
    qmp.settimeout(60)
    test.addCleanup(qmp.close)
    stream = qmp.makefile("rw")
    stream.readline()                       # greeting

    def command(name, wait=True, **args):
        stream.write(json.dumps({"execute": name, "arguments": args}) + "\n")
        stream.flush()
        while wait:                         # skip events
            reply = json.loads(stream.readline())
            if "return" in reply or "error" in reply:
                return reply
    test.assertIn("return", command("qmp_capabilities"))
    return command


class StalledRead(TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.data = self.path("disk.raw")
        with open(self.data, "wb") as f:        # data, not holes: real reads
            for _ in range(64):
                f.write(os.urandom(1 << 20))

    def stalled_core(self, argv, name, while_running=None, script="stall-worker-read.gdb"):
        """Run argv under gdb until stall-worker-read.gdb stops a worker in
        the read syscall, and write the core from there; returns (core, the
        stopped thread's tid, fd, offset, length or iovcnt, syscall number)
        as gdb reads them from that thread's registers: the oracle."""
        core, log = self.path(name + ".core"), self.path(name + ".gdb.log")
        with open(log, "w") as out:
            gdb = subprocess.Popen(
                ["gdb", "-batch", "-nx", "-q", "-x", os.path.join(rq.FIXTURES, script),
                 "-ex", "printf \"ORACLE %d %d %d %d %d\\n\", $_thread, $rdi, $rdx, $r10, $orig_rax",
                 "-ex", "thread",
                 "-ex", f"generate-core-file {core}", "-ex", "kill", "--args", *argv],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=self.tmp)
        try:
            if while_running:
                while_running()
            gdb.wait(timeout=300)
        finally:
            if gdb.poll() is None:
                gdb.kill()
                gdb.wait()
        with open(log) as f:
            text = f.read()
        oracle = [line.split()[1:] for line in text.splitlines() if line.startswith("ORACLE ")]
        self.assertTrue(oracle and os.path.exists(core), text)
        thread_line = [line for line in text.splitlines()
                       if line.startswith("[Current thread is")]
        lwp = int(thread_line[0].split("LWP ")[1].split(")")[0])
        _, fd, length, offset, nr = (int(x) for x in oracle[0])
        return core, lwp, fd, offset, length, nr

    def test_io_stalled_in_convert(self):
        core, tid, fd, offset, length, nr = self.stalled_core(
            [exe("qemu-img"), "convert", "-f", "raw", "-O", "raw", "-t", "none",
             self.data, self.path("dst.raw")], "convert")
        f = self.check_io_stalled(exe("qemu-img"), core, tid, fd, offset, length, nr)
        co = [e for e in f["evidence"] if e["what"] == "waiting coroutine"]
        if IS_2X:
            self.check_sync_wrapper(exe("qemu-img"), core, f, co)
        else:
            self.assertTrue(co and "convert_co_do_copy" in co[0]["value"], f["evidence"])
        self.check_waits_view(exe("qemu-img"), core, tid, fd)

    def check_sync_wrapper(self, img, core, f, co):
        """2.x: the read's coroutine was created by a synchronous wrapper whose
        thread polls for it; gdb finds the wrapper's rwco at the coroutine's
        entry_arg on that thread's stack.  The block layer's tracked request
        is the coroutine's (gdb reads its co and offset)."""
        wrapper, variable, entry = SYNC_WRAPPER[rq.VERSION]
        self.assertTrue(co and co[0]["value"].endswith(f"({entry})"), f["evidence"])
        address = co[0]["address"]
        self.assertIn(f"<{entry}>", rq.gdb_print(img, core, f"((Coroutine *){address})->entry"))
        arg = int(rq.gdb_print(img, core, f"(long)((Coroutine *){address})->entry_arg"))
        oracle = gdb_frame_variable_address(img, core, wrapper, variable)
        self.assertEqual([a for _, a in oracle], [arg], oracle)
        thread = [e for e in f["evidence"] if e["what"] == "waiting thread"]
        self.assertEqual(len(thread), 1, f["evidence"])
        self.assertEqual(thread[0]["tid"], oracle[0][0])
        self.assertRegex(thread[0]["frame"], rf"^#\d+ {wrapper}$")
        self.assertIn(f"; polls in {wrapper} (from ", thread[0]["value"])
        self.assertIn("img_convert", thread[0]["value"])
        self.assertTrue(thread[0]["value"].endswith(f"until coroutine {address} is done"),
                        thread[0])
        tracked = [e for e in f["evidence"] if e["what"] == "tracked request"]
        self.assertEqual(len(tracked), 1, f["evidence"])
        request = f"((BdrvTrackedRequest *){tracked[0]['address']})"
        self.assertEqual(int(rq.gdb_print(img, core, f"(long){request}->co")), int(address, 16))
        req_offset = rq.gdb_print(img, core, f"{request}->offset")
        self.assertIn(f" offset {req_offset}, ", tracked[0]["value"])
        self.assertTrue(tracked[0]["value"].startswith(
            "read (is_write false)" if rq.VERSION == "2.1" else "BDRV_TRACKED_READ"), tracked)
        doc = json.loads(aiocore("waits", "--json", core).stdout)
        self.assertIn((f"thread:{oracle[0][0]}", f"coroutine:{address}", "polls for"),
                      [(e["from"], e["to"], e["label"]) for e in doc["edges"]])

    def test_job_stalled_in_qemu_img_commit(self):
        """2.8's qemu-img commit runs a real commit job (a BlockJob on
        block_jobs, mirror_run its coroutine) and polls for it; gdb stops
        the worker in a 64 KiB read of the top image once the job runs
        (stall-job-read.gdb).  io-stalled, then job-stalled: job "commit",
        running by its flags (2.x has no status), its coroutine and the
        read as gdb reads them."""
        if rq.VERSION != "2.8":
            self.skipTest(f"QEMU {rq.VERSION}: 2.8 only (2.1's qemu-img commit is the "
                          "synchronous bdrv_commit(); from 3.0 the mirror job cases cover "
                          "job-stalled)")
        img = exe("qemu-img")
        base, top = self.path("base.qcow2"), self.path("top.qcow2")
        for argv in ([img, "create", "-q", "-f", "qcow2", base, "64M"],
                     [img, "convert", "-O", "qcow2", "-B", base, self.data, top]):
            res = run(argv)
            self.assertEqual(res.returncode, 0, res.stderr)
        core, tid, fd, offset, length, nr = self.stalled_core(
            [img, "commit", "-t", "none", top], "commit", script="stall-job-read.gdb")
        self.data = top                         # the file the read is of
        f = self.check_io_stalled(img, core, tid, fd, offset, length, nr)
        co = [e for e in f["evidence"] if e["what"] == "waiting coroutine"]
        self.assertTrue(co and co[0]["value"].endswith("(mirror_run)"), f["evidence"])
        self.check_waits_view(img, core, tid, fd)
        job_f = self.job_stalled_finding(core)
        self.assertTrue(job_f["summary"].startswith('job "commit" (commit, running, '),
                        job_f["summary"])
        job = [e for e in job_f["evidence"] if e["what"] == "job"][0]
        self.assertIn("BLOCK_JOB_TYPE_COMMIT running (no status field: from its flags)",
                      job["value"])
        bj = f"((BlockJob *){job['address']})"
        self.assertIn('"commit"', rq.gdb_print(img, core, f"{bj}->id"))
        for flag in ("cancelled", "paused", "ready", "completed"):
            self.assertEqual(rq.gdb_print(img, core, f"{bj}->{flag}"), "false")
        self.assertIn(f"offset {rq.gdb_print(img, core, f'{bj}->offset')} of "
                      f"{rq.gdb_print(img, core, f'{bj}->len')}", job["value"])
        job_co = [e for e in job_f["evidence"] if e["what"] == "job coroutine"][0]
        self.assertEqual(int(rq.gdb_print(img, core, f"(long){bj}->co")),
                         int(job_co["address"], 16))
        self.assertEqual(job_co["address"], co[0]["address"])
        leaf = [e for e in job_f["evidence"] if e["what"] == "leaf"][0]
        self.assertEqual(leaf["tid"], tid)
        self.assertIn("io-stalled has its file", leaf["value"])
        doc = json.loads(aiocore("waits", "--json", core).stdout)
        jobs = [n for n in doc["nodes"] if n["type"] == "job"]
        self.assertEqual([n["job_id"] for n in jobs], ["commit"])
        self.assertIn((jobs[0]["id"], f"coroutine:{job_co['address']}", "runs in"),
                      [(e["from"], e["to"], e["label"]) for e in doc["edges"]])

    def test_io_stalled_in_mirror_job(self):
        """qemu-system-x86_64 (7.2 builds it): a blockdev-mirror job over
        QMP whose source read does not return."""
        qemu = exe("qemu-system-x86_64")
        if not os.path.exists(qemu):
            self.skipTest(f"no system emulator in the QEMU {rq.VERSION} build (7.2 only)")
        sock, target = self.path("qmp.sock"), self.path("target.raw")
        with open(target, "wb") as f:
            f.truncate(64 << 20)

        def mirror():
            command = qmp_connect(self, sock)
            command("blockdev-mirror", wait=False, **{
                "job-id": "m0", "device": "f0", "target": "t0", "sync": "full"})

        core, tid, fd, offset, length, nr = self.stalled_core(
            [qemu, "-M", "none", "-nodefaults", "-display", "none", "-accel", "tcg",
             "-blockdev", f"driver=file,node-name=f0,filename={self.data}",
             "-blockdev", f"driver=file,node-name=t0,filename={target}",
             "-qmp", f"unix:{sock},server=on,wait=off"], "mirror", mirror)
        f = self.check_io_stalled(qemu, core, tid, fd, offset, length, nr)
        co = [e for e in f["evidence"] if e["what"] == "waiting coroutine"]
        self.assertTrue(co and "mirror_co_read" in co[0]["value"], f["evidence"])
        self.check_waits_view(qemu, core, tid, fd)
        # The job's own coroutine (Job.co), found from the job list.
        job = [c for c in rq.view_json("coroutines", core)["coroutines"]
               if 'coroutine of job "m0"' in (c["source"] or "")]
        self.assertEqual(len(job), 1)
        self.assertEqual(int(rq.gdb_print(qemu, core, "/x jobs.lh_first->co"), 16),
                         int(job[0]["address"], 16))
        self.check_job_stalled(qemu, core, tid)

    def job_stalled_finding(self, core):
        """diagnose's job-stalled finding, medium, after io-stalled."""
        diag = json.loads(aiocore("diagnose", "--json", core).stdout)
        ids = [f["id"] for f in diag["findings"]]
        self.assertIn("job-stalled", ids)
        self.assertLess(ids.index("io-stalled"), ids.index("job-stalled"))
        f = diag["findings"][ids.index("job-stalled")]
        self.assertEqual(f["confidence"], "medium")
        return f

    def check_job_stalled(self, exe_path, core, tid):
        """job-stalled after io-stalled: job m0 (gdb reads the id at the
        evidence's address) waits on the worker's read, not repeated."""
        f = self.job_stalled_finding(core)
        self.assertIn("a single core cannot tell stalled from slow", f["summary"])
        self.assertTrue(f["summary"].startswith('job "m0" (mirror, running'), f["summary"])
        job = [e for e in f["evidence"] if e["what"] == "job"][0]
        self.assertIn('"m0"', rq.gdb_print(exe_path, core, f"((Job *){job['address']})->id"))
        status = rq.gdb_print(exe_path, core, f"((Job *){job['address']})->status")
        self.assertIn(status, job["value"])
        leaf = [e for e in f["evidence"] if e["what"] == "leaf"][0]
        self.assertEqual(leaf["tid"], tid)
        self.assertIn("io-stalled has its file", leaf["value"])
        # The file's evidence is io-stalled's alone.
        self.assertNotIn("file", [e["what"] for e in f["evidence"]])
        # In the graph: job -> its coroutine (Job.co, gdb's oracle).
        doc = json.loads(aiocore("waits", "--json", core).stdout)
        jobs = [n for n in doc["nodes"] if n["type"] == "job"]
        self.assertEqual([n["job_id"] for n in jobs], ["m0"])
        co = rq.gdb_print(exe_path, core, f"((Job *){jobs[0]['address']})->co")
        self.assertIn(jobs[0]["coroutine"], co)
        self.assertIn((jobs[0]["id"], f"coroutine:{jobs[0]['coroutine']}", "runs in"),
                      [(e["from"], e["to"], e["label"]) for e in doc["edges"]])

    def check_io_stalled(self, exe_path, core, tid, fd, offset, length, nr):
        res = aiocore("diagnose", "--json", core)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)   # medium: not 3
        diag = json.loads(res.stdout)
        self.assertEqual(diag["verdict"], "io-stalled", diag["findings"])
        f = diag["findings"][0]
        self.assertEqual(f["confidence"], "medium")
        self.assertIn("a single core cannot tell stalled from slow", f["summary"])
        self.assertIn(self.data, f["summary"])
        call = {"17": "pread64", "295": "preadv"}[str(nr)]
        syscall = [e for e in f["evidence"] if e["what"] == "system call"][0]
        self.assertEqual(syscall["tid"], tid)
        self.assertTrue(syscall["value"].startswith(f"{call}(fd {fd}, offset {offset}, "),
                        syscall)
        if call == "pread64":
            self.assertIn(f", {length} bytes)", syscall["value"])
        request = [e for e in f["evidence"] if e["what"] == "RawPosixAIOData"][0]
        self.assertRegex(request["value"], rf"^read fd {fd} offset \d+ length \d+$")
        req_offset, req_len = (int(x) for x in request["value"].split()[4::2])
        # The syscall reads inside its request (a partial read resumes later).
        self.assertLessEqual(req_offset, offset)
        self.assertLessEqual(offset, req_offset + req_len)
        img = exe_path
        self.assertEqual(int(rq.gdb_print(
            img, core, f"((RawPosixAIOData *){request['address']})->aio_fildes")), fd)
        self.assertEqual(int(rq.gdb_print(
            img, core, f"((RawPosixAIOData *){request['address']})->aio_offset")), req_offset)
        file = [e for e in f["evidence"] if e["what"] == "file"][0]
        self.assertTrue(file["value"].startswith(self.data + " (block node "), file)
        self.assertIn(self.data, rq.gdb_print(
            img, core, f"((BlockDriverState *){file['address']})->filename"))
        # The chain above the worker: its request, then the convert coroutine.
        whats = [e["what"] for e in f["evidence"]]
        self.assertIn("waiting request", whats)

        text = aiocore("diagnose", core)
        self.assertEqual(text.returncode, 0, text.stderr)
        self.assertIn("VERDICT: io-stalled (medium confidence)", text.stdout)
        self.assertIn("Waits:\n", text.stdout)
        return f

    def check_waits_view(self, exe_path, core, tid, fd):
        res = aiocore("waits", "--json", core)
        self.assertEqual(res.returncode, 0, res.stderr)
        doc = json.loads(res.stdout)
        self.assertEqual(doc["schema"], "aiocore-waits/1")
        nodes = {n["id"]: n for n in doc["nodes"]}
        worker = nodes[f"thread:{tid}"]
        self.assertEqual((worker["wait"], worker["fd"]), ("io", fd))
        edges = {(e["from"], e["to"]): e["label"] for e in doc["edges"]}
        into_worker = [a for (a, b) in edges if b == worker["id"]]
        self.assertEqual(len(into_worker), 1, edges)
        self.assertEqual(nodes[into_worker[0]]["type"], "request")
        out_of_worker = [b for (a, b) in edges if a == worker["id"]]
        self.assertEqual([nodes[b]["filename"] for b in out_of_worker], [self.data])
        text = aiocore("waits", core)
        self.assertEqual(text.returncode, 0, text.stderr)
        self.assertRegex(text.stdout, rf"served by thread {tid}: p\w+\(fd {fd}, offset ")
        dot = aiocore("waits", "--dot", core)
        self.assertEqual(dot.returncode, 0, dot.stderr)
        self.assertTrue(dot.stdout.startswith("digraph waits {"), dot.stdout)
        if shutil.which("dot"):
            svg = run(["dot", "-Tsvg"], input=dot.stdout)
            self.assertEqual(svg.returncode, 0, svg.stderr)
            self.assertIn("<svg", svg.stdout)
        rq.RealQemu.check_gdb_parity(self, exe_path, core)
        if rq.gdbtest.SCRIPT:                   # --dot too: the same bytes in gdb
            results, _ = rq.gdbtest.gdb_run([exe_path, core], ["aio-waits --dot"])
            self.assertEqual(results[0], (dot.stdout, dot.returncode))


class DrainWait(TempDirTestCase):
    """qemu-storage-daemon (5.0+): a mirror whose source read is stopped
    by gdb (non-stop: the other threads run on), then a drain."""

    def setUp(self):
        super().setUp()
        self.data = self.path("disk.raw")
        with open(self.data, "wb") as f:        # data, not holes: real reads
            f.write(os.urandom(64 << 20))

    def daemon(self, why_2x):
        qsd = exe("storage-daemon/qemu-storage-daemon")
        if not os.path.exists(qsd):
            self.skipTest(f"QEMU {rq.VERSION} has no qemu-storage-daemon (5.0 on)"
                          + (f"; {why_2x}" if IS_2X else ""))
        return qsd


    def test_drain_wait_and_job_stalled(self):
        qsd = self.daemon("2.x's drain-wait case is qemu-io's exit drain (CoMutexHeld), "
                          "2.8's job-stalled qemu-img commit (StalledRead); 2.1's qemu-img "
                          "commit runs no job")
        sock, target = self.path("qmp.sock"), self.path("target.raw")
        with open(target, "wb") as f:
            f.truncate(64 << 20)
        core, log = self.path("drain.core"), self.path("drain.gdb.log")
        argv = [qsd, "--blockdev", f"driver=file,node-name=src,filename={self.data}",
                "--blockdev", f"driver=file,node-name=dst,filename={target}",
                "--chardev", f"socket,id=m,path={sock},server=on,wait=off",
                "--monitor", "chardev=m"]
        with open(log, "w") as out:
            gdb = subprocess.Popen(
                ["gdb", "-nx", "-q", "-x", os.path.join(rq.FIXTURES, "stall-worker-drain.gdb"),
                 "--args", *argv], stdin=subprocess.PIPE, stdout=out,
                stderr=subprocess.STDOUT, cwd=self.tmp, text=True)
        try:
            command = qmp_connect(self, sock)
            self.assertIn("return", command("blockdev-mirror", **{
                "job-id": "m0", "device": "src", "target": "dst", "sync": "full"}))
            deadline = time.monotonic() + 120
            while not os.path.exists(self.path("stopped")):
                self.assertLess(time.monotonic(), deadline, "no worker stopped in a read")
                time.sleep(0.05)
            # Never answers: the transaction drains first, and the read holds it.
            command("blockdev-snapshot-sync", wait=False, **{
                "node-name": "src", "snapshot-file": self.path("snap.qcow2"),
                "format": "qcow2"})
            time.sleep(2)
            gdb.stdin.write("interrupt -a\n")
            gdb.stdin.flush()
            time.sleep(3)                       # gdb handles the stops between commands
            gdb.stdin.write(f"thread 1\ninfo thread\ngenerate-core-file {core}\nkill\nquit\n")
            gdb.stdin.close()
            gdb.wait(timeout=300)
        finally:
            if gdb.poll() is None:
                gdb.kill()
                gdb.wait()
        with open(log) as f:
            text = f.read()
        self.assertTrue(os.path.exists(core), text)
        main_lwp = int(text.split("* 1    Thread ")[1].split("LWP ")[1].split(")")[0])

        res = aiocore("diagnose", "--json", core)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)   # medium: not 3
        diag = json.loads(res.stdout)
        by_id = {f["id"]: f for f in diag["findings"]}
        self.assertIn("drain-wait", by_id, diag["findings"])
        f = by_id["drain-wait"]
        self.assertEqual(f["confidence"], "medium")
        self.assertIn("a single core cannot tell stalled from slow", f["summary"])
        thread = [e for e in f["evidence"] if e["what"] == "draining thread"][0]
        self.assertEqual(thread["tid"], main_lwp)
        self.assertRegex(thread["frame"], r"^#\d+ bdrv_drain_all_begin")
        self.assertIn("called from qmp_transaction", thread["value"])
        node = [e for e in f["evidence"] if e["what"] == "block node"][0]
        in_flight = int(rq.gdb_print(qsd, core, f"((BlockDriverState *){node['address']})->in_flight"))
        self.assertGreater(in_flight, 0)
        self.assertIn(f"in_flight {in_flight},", node["value"])
        self.assertIn(self.data, node["value"])
        quiesce = int(rq.gdb_print(qsd, core, f"((BlockDriverState *){node['address']})->quiesce_counter"))
        self.assertIn(f"quiesce_counter {quiesce}", node["value"])
        self.assertTrue([e for e in f["evidence"] if e["what"] == "worker"], f["evidence"])
        tracked = [e for e in f["evidence"] if e["what"] == "tracked request"]
        self.assertTrue(tracked and tracked[0]["value"].startswith("BDRV_TRACKED_READ"), tracked)

        self.assertIn("job-stalled", by_id)
        job = [e for e in by_id["job-stalled"]["evidence"] if e["what"] == "job"][0]
        self.assertIn('"m0"', rq.gdb_print(qsd, core, f"((Job *){job['address']})->id"))
        # The drain asked the job to pause; gdb reads the count.
        pause = [e for e in f["evidence"] if e["what"] == "job"][0]
        count = rq.gdb_print(qsd, core, f"((Job *){job['address']})->pause_count")
        self.assertIn(f"pause_count {count})", pause["value"])

        doc = json.loads(aiocore("waits", "--json", core).stdout)
        edges = [(e["from"], e["label"], e["to"]) for e in doc["edges"]]
        self.assertIn((f"thread:{main_lwp}", "drains", f"block:{node['address']}"), edges)
        text = aiocore("diagnose", core).stdout
        self.assertIn(f"ALSO: drain-wait (medium confidence)\n  thread {main_lwp} in "
                      "bdrv_drain_all_begin (from qmp_transaction) waits for ", text)

    def test_idle_daemon_looks_idle(self):
        qsd = self.daemon("the idle case is IdleQemuIo")
        proc = subprocess.Popen([qsd, "--blockdev", f"driver=file,node-name=src,filename={self.data}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(proc.wait)
        self.addCleanup(rq.kill, proc.pid)
        time.sleep(1)
        core = self.path("idle")
        res = run(["gcore", "-o", core, str(proc.pid)])
        core = f"{core}.{proc.pid}"
        self.assertTrue(os.path.exists(core), res.stdout + res.stderr)
        res = aiocore("diagnose", "--json", core)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        diag = json.loads(res.stdout)
        self.assertEqual(diag["verdict"], "none", diag["findings"])
        self.assertEqual(diag["waits"], {"idle": True, "leaves": []})
        # gdb: the node really has nothing in flight.
        self.assertEqual(rq.gdb_print(qsd, core, "all_bdrv_states.tqh_first->in_flight"), "0")
        text = aiocore("diagnose", core)
        self.assertIn("Wait summary: nothing waits on anything: the process looks idle\n",
                      text.stdout)


class IdleQemuIo(TempDirTestCase):
    def test_idle_qemu_io_looks_idle(self):
        """Interactive qemu-io waiting for a command (every version; on 2.x
        the idle case, as 2.x has no qemu-storage-daemon): no verdict, the
        process looks idle; gdb reads no tracked request on the image."""
        data = self.path("disk.raw")
        with open(data, "wb") as f:
            f.write(os.urandom(1 << 20))
        img = exe("qemu-io")
        proc = subprocess.Popen([img, *rq.QEMU_IO_RAW, data], stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(proc.wait)
        self.addCleanup(proc.stdin.close)
        self.addCleanup(rq.kill, proc.pid)
        time.sleep(1)
        core = rq.gcore(proc.pid, self.path("idle.core"))
        res = aiocore("diagnose", "--json", core)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        diag = json.loads(res.stdout)
        self.assertEqual(diag["verdict"], "none", diag["findings"])
        self.assertEqual(diag["waits"], {"idle": True, "leaves": []})
        # all_bdrv_states from 2.6; 2.1 names its image in bdrv_states.
        nodes = "all_bdrv_states" if rq.gdb_try(img, core, "all_bdrv_states") else "bdrv_states"
        self.assertEqual(rq.gdb_print(
            img, core, f"(long){nodes}.tqh_first->tracked_requests.lh_first"), "0")
        text = aiocore("diagnose", core)
        self.assertIn("Wait summary: nothing waits on anything: the process looks idle\n",
                      text.stdout)


class CoMutexHeld(TempDirTestCase):
    """qemu-img convert -m 8 from a qcow2 image of 4 KiB clusters with a
    2-entry L2 cache, whose worker gdb stops (non-stop) in the pread64 of an
    L2 table: the coroutine that issued it holds qcow2's s->lock and
    convert's ImgConvertState.lock (taken around block status) across that
    read, and the other seven queue on the latter.  gdb is the oracle for
    the holder and the waiter lists."""

    def stalled_core(self, argv, env=None):
        for attempt in range(3):
            got = self.stalled_core_once(argv, env, attempt)
            if got:
                return got
        self.fail("the program exited unstalled three times")

    def stalled_core_once(self, argv, env, attempt):
        """The core and oracle, or None if the program ran to its end
        without the read to stall (the injection script says NO-STALL)."""
        core = self.path(f"comutex{attempt}.core")
        log = self.path(f"comutex{attempt}.gdb.log")
        out = open(log, "w")
        self.addCleanup(out.close)

        def read_log():
            with open(log) as f:
                return f.read()
        gdb = subprocess.Popen(
            ["gdb", "-q", "-nx", "-x", os.path.join(rq.FIXTURES, "stall-metadata-read.py"),
             "--args", *argv], stdin=subprocess.PIPE, stdout=out,
            stderr=subprocess.STDOUT, cwd=self.tmp, text=True,
            env=dict(os.environ, **(env or {})))
        try:
            deadline = time.monotonic() + 300
            while "[Current thread is" not in read_log():
                if "NO-STALL:" in read_log():
                    return None
                self.assertIsNone(gdb.poll(), read_log())
                self.assertLess(time.monotonic(), deadline, read_log())
                time.sleep(0.1)
            time.sleep(2)           # the other coroutines run on and queue
            for command in ("interrupt -a", "shell sleep 1", f"generate-core-file {core}",
                            "kill", "quit"):
                gdb.stdin.write(command + "\n")
                gdb.stdin.flush()
                time.sleep(0.3)
            gdb.stdin.close()
            gdb.wait(timeout=120)
        finally:
            if gdb.poll() is None:
                gdb.kill()
                gdb.wait()
        text = read_log()
        oracle = [line.split()[1:] for line in text.splitlines() if line.startswith("ORACLE ")]
        self.assertTrue(oracle and os.path.exists(core), text)
        line = [x for x in text.splitlines() if x.startswith("[Current thread is")][0]
        tid = int(line.split("LWP ")[1].split(")")[0])
        return core, tid, int(oracle[0][1])

    def qcow2_image(self, img):
        """64 MiB of random data in a qcow2 image of 4 KiB clusters (an L2
        table per 2 MiB, read with one 4096-byte pread64)."""
        raw, qcow2 = self.path("src.raw"), self.path("src.qcow2")
        with open(raw, "wb") as f:
            for _ in range(64):
                f.write(os.urandom(1 << 20))
        res = run([img, "convert", "-f", "raw", "-O", "qcow2", "-o", "cluster_size=4096",
                   raw, qcow2])
        self.assertEqual(res.returncode, 0, res.stderr)
        return qcow2

    def test_comutex_held_in_qemu_io_2x(self):
        """2.x: qemu-io issues four aio_reads 4 MiB apart; the first takes
        qcow2's s->lock and stalls in its L2 table read (the worker existed
        before: the injection stops it at libc's pread64 first), the other
        three queue on the lock.  2.8
        records the holder (CoMutex.holder): waiters -> lock -> holder ->
        request -> worker.  2.1's CoMutex has no holder field: the lock is
        shown locked with its waiters and "holder not recorded", not a guess."""
        if not IS_2X:
            self.skipTest(f"QEMU {rq.VERSION}: covered by convert -m 8 "
                          "(test_comutex_held_across_stalled_read)")
        img = exe("qemu-img")
        qcow2 = self.qcow2_image(img)
        io = exe("qemu-io")
        reads = [arg for i in range(4) for arg in ("-c", f"aio_read {4 * i}M 4k")]
        core, tid, fd = self.stalled_core([io, *reads, qcow2],
                                          {"STALL_BREAK": "aio_read_f"})
        doc = rq.view_json("waits", core)
        nodes = {n["id"]: n for n in doc["nodes"]}
        edges = {(e["from"], e["to"]): e["label"] for e in doc["edges"]}
        state = "BDRVQcowState" if rq.VERSION == "2.1" else "BDRVQcow2State"
        locks = [n for n in nodes.values() if n["type"] == "co-lock"]
        self.assertEqual([n["name"].split(" of node ")[0] for n in locks], [f"{state}.lock"],
                         locks)
        lock = locks[0]
        self.assertTrue(lock["locked"])
        self.assertEqual(rq.gdb_print(io, core, f"((CoMutex *){lock['address']})->locked"), "true")
        waiters = gdb_coqueue_waiters(io, core, lock["address"])
        self.assertEqual(waiters, lock["waiters"])
        self.assertEqual(len(waiters), 3, waiters)
        for co in waiters:
            self.assertEqual(edges[(f"coroutine:{co}", lock["id"])], "waits for")
        worker = nodes[f"thread:{tid}"]
        self.assertEqual((worker["wait"], worker["fd"]), ("io", fd))
        request = [a for (a, b) in edges if b == worker["id"]]
        self.assertEqual([nodes[r]["type"] for r in request], ["request"], edges)
        reader = [a for (a, b) in edges if b == request[0]]
        self.assertEqual(len(reader), 1, edges)
        self.assertNotIn(reader[0].split(":")[1], waiters)
        res = aiocore("diagnose", "--json", core)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)   # medium: not 3
        diag = json.loads(res.stdout)
        self.assertEqual(diag["verdict"], "io-stalled", diag["findings"])
        summary = diag["findings"][0]["summary"]
        text = aiocore("waits", core).stdout
        if rq.VERSION == "2.1":
            # No holder field: gdb cannot print one either.
            self.assertIsNone(rq.gdb_try(io, core, f"((CoMutex *){lock['address']})->holder"))
            self.assertNotIn("holder", lock)
            self.assertNotIn("held by", [edges[k] for k in edges if k[0] == lock["id"]])
            self.assertIn(f"{state}.lock of node ", text)
            self.assertIn(": locked, holder not recorded (no CoMutex.holder in this QEMU), "
                          "3 waiters", text)
            self.assertNotIn("queued behind it", summary)
            self.assertIn(lock["id"], [leaf["id"] for leaf in diag["waits"]["leaves"]])
        else:
            holder = lock["holder"]
            self.assertEqual(int(rq.gdb_print(io, core, f"(long)((CoMutex *){lock['address']})->holder")),
                             int(holder, 16))
            self.assertEqual(reader[0], f"coroutine:{holder}")
            self.assertEqual(edges[(lock["id"], f"coroutine:{holder}")], "held by")
            self.assertIn(f", 3 coroutines queued behind it on CoMutex {state}.lock of node ",
                          summary)
        self.check_exit_drain(io, core, diag, doc)
        # 2.1: partial (exit 1) when a thread's current coroutine counts.
        cos = aiocore("coroutines", "--bt", core)
        self.assertIn(cos.returncode, (0, 1), cos.stderr)
        for co in waiters:
            self.assertRegex(cos.stdout, rf"Coroutine {co} .*\n  source: .*waits for CoMutex "
                             rf"{lock['address']} ")
        rq.RealQemu.check_gdb_parity(self, io, core)

    def check_exit_drain(self, io, core, diag, doc):
        """qemu-io drains every node after its commands (bdrv_drain_all):
        drain-wait on the main thread, the qcow2 node's in_flight as gdb
        reads it (2.1 has none: its tracked requests, which its drain waits
        for, counted instead) and its first tracked request."""
        by_id = {f["id"]: f for f in diag["findings"]}
        self.assertIn("drain-wait", by_id, diag["findings"])
        evidence = by_id["drain-wait"]["evidence"]
        thread = [e for e in evidence if e["what"] == "draining thread"][0]
        self.assertRegex(thread["frame"], r"^#\d+ bdrv_drain_(all|recurse)$")
        self.assertIn(" called from main", thread["value"])
        at = [i for i, e in enumerate(evidence)
              if e["what"] == "block node" and "(qcow2 " in e["value"]][0]
        bs = f"((BlockDriverState *){evidence[at]['address']})"
        in_flight = rq.gdb_try(io, core, f"{bs}->in_flight")
        if rq.VERSION == "2.1":
            self.assertIsNone(in_flight)
            self.assertTrue(evidence[at]["value"].endswith(
                " 4 tracked requests (no in_flight field)"), evidence[at])
        else:
            self.assertGreater(int(in_flight), 0)
            self.assertIn(f") in_flight {in_flight},", evidence[at]["value"])
        self.assertEqual(evidence[at + 1]["what"], "tracked request")
        self.assertEqual(int(rq.gdb_print(io, core, f"(long){bs}->tracked_requests.lh_first")),
                         int(evidence[at + 1]["address"], 16))
        self.assertIn((f"thread:{thread['tid']}", "drains", f"block:{evidence[at]['address']}"),
                      [(e["from"], e["label"], e["to"]) for e in doc["edges"]])

    def test_comutex_held_across_stalled_read(self):
        if IS_2X:
            self.skipTest(f"QEMU {rq.VERSION}: qemu-img convert is sequential (no -m): "
                          "test_comutex_held_in_qemu_io_2x")
        img = exe("qemu-img")
        qcow2 = self.qcow2_image(img)
        # From the first copy coroutine on: convert_do_copy() first counts
        # the allocated sectors synchronously, reading L2 tables outside
        # any coroutine (a stall there holds no lock anyone queues on).
        core, tid, fd = self.stalled_core(
            [img, "convert", "-m", "8", "-O", "raw", "-t", "none", "--image-opts",
             f"driver=qcow2,file.filename={qcow2},l2-cache-size=8192", self.path("dst.raw")],
            {"STALL_BREAK": "convert_co_do_copy"})

        doc = rq.view_json("waits", core)
        nodes = {n["id"]: n for n in doc["nodes"]}
        edges = {(e["from"], e["to"]): e["label"] for e in doc["edges"]}
        locks = [n for n in nodes.values() if n["type"] == "co-lock"]
        qlock = [n for n in locks if n["name"].startswith("BDRVQcow2State.lock of node ")]
        clock = [n for n in locks if n["name"].startswith("ImgConvertState.lock")]
        self.assertEqual((len(qlock), len(clock)), (1, 1), locks)
        qlock, clock = qlock[0], clock[0]
        holder = clock["holder"]
        self.assertEqual(qlock["holder"], holder)
        # The oracle: holders and waiters as gdb reads them.
        for lock in (qlock, clock):
            self.assertEqual(int(rq.gdb_print(img, core, f"(long)((CoMutex *){lock['address']})->holder")),
                             int(holder, 16))
            self.assertGreater(int(rq.gdb_print(img, core, f"((CoMutex *){lock['address']})->locked")), 0)
        self.assertEqual(rq.gdb_comutex_waiters(img, core, qlock["address"]), qlock["waiters"])
        waiters = rq.gdb_comutex_waiters(img, core, clock["address"])
        self.assertEqual(waiters, clock["waiters"])
        self.assertEqual(len(waiters), 7, waiters)         # -m 8: all but the holder
        # Edges: waiter -> lock -> holder -> request -> the stopped worker.
        for co in waiters:
            self.assertEqual(edges[(f"coroutine:{co}", clock["id"])], "waits for")
        self.assertEqual(edges[(clock["id"], f"coroutine:{holder}")], "held by")
        request = [b for (a, b) in edges if a == f"coroutine:{holder}"]
        self.assertEqual([nodes[r]["type"] for r in request], ["request"], edges)
        self.assertEqual(edges[(request[0], f"thread:{tid}")], "served by")
        self.assertEqual((nodes[f"thread:{tid}"]["wait"], nodes[f"thread:{tid}"]["fd"]), ("io", fd))

        res = aiocore("diagnose", "--json", core)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)   # medium: not 3
        diag = json.loads(res.stdout)
        self.assertEqual(diag["verdict"], "io-stalled", diag["findings"])
        self.assertIn(f", {len(waiters)} coroutines queued behind it on CoMutex "
                      "ImgConvertState.lock (convert_co_do_copy's argument); a single core",
                      diag["findings"][0]["summary"])
        held = [e for e in diag["findings"][0]["evidence"]
                if e["what"] in ("held across it", "coroutine lock")]
        self.assertIn(clock["address"], [e["address"] for e in held])
        self.assertIn(f"held, {len(waiters)} waiters",
                      [e for e in held if e["address"] == clock["address"]][0]["value"])

        cos = aiocore("coroutines", "--bt", core)
        self.assertEqual(cos.returncode, 0, cos.stderr)
        for co in waiters:
            self.assertRegex(cos.stdout, rf"Coroutine {co} .*\n  source: waits for CoMutex "
                             rf"{clock['address']} ")
        self.assertIn(f"holds CoMutex {clock['address']} ", cos.stdout)
        self.assertIn("qemu_co_mutex_lock", cos.stdout)
        rq.RealQemu.check_gdb_parity(self, img, core)


if __name__ == "__main__":
    unittest.main(verbosity=2)
