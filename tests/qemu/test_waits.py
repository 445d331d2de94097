# SPDX-License-Identifier: GPL-2.0-or-later
"""The wait-for analysis on real QEMU (AIOCORE_QEMU_VERSION): `qemu-img
convert` of random data, and (7.2) a `blockdev-mirror` job of
qemu-system-x86_64, whose worker gdb stops inside a pread64/preadv of the
source file -- a hung storage read as a core shows it.  diagnose must
say io-stalled with the source's path, the fd, offset and length (gdb's
registers of the stopped thread are the oracle), exit 0 (medium: one core
cannot tell stalled from slow), and `aiocore waits` must show the chain
coroutine -> request -> worker -> file, in text, JSON and dot.  And
(CoMutexHeld) a coroutine holding CoMutexes across a stalled qcow2 L2
table read while the other convert coroutines queue on one of them."""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_real_qemu as rq  # noqa: E402
from test_real_qemu import exe, setUpModule  # noqa: E402,F401
from aiocoretest import TempDirTestCase, aiocore, run  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


class StalledRead(TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.data = self.path("disk.raw")
        with open(self.data, "wb") as f:        # data, not holes: real reads
            for _ in range(64):
                f.write(os.urandom(1 << 20))

    def stalled_core(self, argv, name, while_running=None):
        """Run argv under gdb until stall-worker-read.gdb stops a worker in
        the read syscall, and write the core from there; returns (core, the
        stopped thread's tid, fd, offset, length or iovcnt, syscall number)
        as gdb reads them from that thread's registers: the oracle."""
        core, log = self.path(name + ".core"), self.path(name + ".gdb.log")
        with open(log, "w") as out:
            gdb = subprocess.Popen(
                ["gdb", "-batch", "-nx", "-q", "-x", os.path.join(rq.FIXTURES, "stall-worker-read.gdb"),
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
        self.assertTrue(co and "convert_co_do_copy" in co[0]["value"], f["evidence"])
        self.check_waits_view(exe("qemu-img"), core, tid, fd)

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
            deadline = time.monotonic() + 60
            while not os.path.exists(sock):
                self.assertLess(time.monotonic(), deadline, "no QMP socket")
                time.sleep(0.05)
            qmp = socket.socket(socket.AF_UNIX)
            qmp.connect(sock)
            qmp.settimeout(60)
            stream = qmp.makefile("rw")
            stream.readline()                   # greeting
            for cmd in ({"execute": "qmp_capabilities"},
                        {"execute": "blockdev-mirror",
                         "arguments": {"job-id": "m0", "device": "f0", "target": "t0",
                                       "sync": "full"}}):
                stream.write(json.dumps(cmd) + "\n")
                stream.flush()
                if cmd["execute"] == "qmp_capabilities":
                    stream.readline()
            self.addCleanup(qmp.close)

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


class CoMutexHeld(TempDirTestCase):
    """qemu-img convert -m 8 from a qcow2 image of 4 KiB clusters with a
    2-entry L2 cache, whose worker gdb stops (non-stop) in the pread64 of an
    L2 table: the coroutine that issued it holds qcow2's s->lock and
    convert's ImgConvertState.lock (taken around block status) across that
    read, and the other seven queue on the latter.  gdb is the oracle for
    the holder and the waiter lists."""

    def stalled_core(self, argv):
        core, log = self.path("comutex.core"), self.path("comutex.gdb.log")
        out = open(log, "w")
        self.addCleanup(out.close)

        def read_log():
            with open(log) as f:
                return f.read()
        gdb = subprocess.Popen(
            ["gdb", "-q", "-nx", "-x", os.path.join(rq.FIXTURES, "stall-metadata-read.py"),
             "--args", *argv], stdin=subprocess.PIPE, stdout=out,
            stderr=subprocess.STDOUT, cwd=self.tmp, text=True)
        try:
            deadline = time.monotonic() + 300
            while "[Current thread is" not in read_log():
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

    def test_comutex_held_across_stalled_read(self):
        img = exe("qemu-img")
        raw, qcow2 = self.path("src.raw"), self.path("src.qcow2")
        with open(raw, "wb") as f:
            for _ in range(64):
                f.write(os.urandom(1 << 20))
        res = run([img, "convert", "-f", "raw", "-O", "qcow2", "-o", "cluster_size=4096",
                   raw, qcow2])
        self.assertEqual(res.returncode, 0, res.stderr)
        core, tid, fd = self.stalled_core(
            [img, "convert", "-m", "8", "-O", "raw", "-t", "none", "--image-opts",
             f"driver=qcow2,file.filename={qcow2},l2-cache-size=8192", self.path("dst.raw")])

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
