# SPDX-License-Identifier: GPL-2.0-or-later
"""Real hangs in the shapes support cases have, on Debian's QEMU 5.2, 7.2 or
10.0 or upstream's 2.1.2 or 2.8.0 (AIOCORE_QEMU_VERSION), built by
build-qemu.sh, captured with gcore, with gdb as the oracle:

- lost-notify in qemu-img convert, whose main thread sleeps in glib's
  ppoll through main_loop_wait (Launchpad 1805256), not in aio_poll (from
  2.9's coroutine convert); before it, 2.x's synchronous convert, which
  waits in aio_poll(ctx, true); and the same lost kick under a bounded
  poll (qemu-io's sleep), not a hang;
- remote-not-answering: qemu-img convert from an NBD export whose server
  (qemu-storage-daemon from 5.0, qemu-nbd before) was stopped mid-copy.

The helpers (build, gcore, gdb as oracle, injection under gdb, CLI/gdb
parity) are test_real_qemu.py's, borrowed rather than copied."""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
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


def has_function(exe_path, name):
    """Whether the build defines function name, as gdb's symbols say."""
    res = rq.run(["gdb", "-batch", "-nx", "-q", exe_path, "-ex", f"info address {name}"])
    return "is a function at address" in res.stdout


def gdb_tracked_offset(exe_path, core, opaque, co):
    """The offset of the tracked request coroutine co runs on the node
    whose opaque is the NBD state at opaque, walking the node lists as gdb
    sees them (all_bdrv_states, else 2.1's bdrv_states and each `file`)."""
    script = ("python\n"
              "def nodes():\n"
              "    for var, link in (('all_bdrv_states', 'bs_list'), ('bdrv_states', 'device_list')):\n"
              "        try:\n"
              "            bs = gdb.parse_and_eval(var)['tqh_first']\n"
              "        except gdb.error:\n"
              "            continue\n"
              "        while int(bs):\n"
              "            yield bs\n"
              "            if var == 'bdrv_states' and int(bs['file']):\n"
              "                yield bs['file']\n"
              "            bs = bs[link]['tqe_next']\n"
              "        return\n"
              "for bs in nodes():\n"
              f"    if int(bs['opaque']) != {opaque}:\n"
              "        continue\n"
              "    r = bs['tracked_requests']['lh_first']\n"
              "    while int(r):\n"
              f"        if int(r['co']) == {co}:\n"
              "            print('OFFSET', int(r['offset']))\n"
              "        r = r['list']['le_next']\n"
              "end\n")
    with tempfile.NamedTemporaryFile("w", suffix=".gdb") as f:
        f.write(script)
        f.flush()
        res = rq.run(["gdb", "-batch", "-nx", "-q", "-x", f.name, exe_path, core])
    line = [x for x in res.stdout.splitlines() if x.startswith("OFFSET ")]
    if not line:
        raise AssertionError(f"gdb found no tracked request of {co:#x}: {res.stdout}{res.stderr}")
    return int(line[0].split()[1])


class Hangs(TempDirTestCase):
    # Borrowed: they only use self.tmp, self.path() and self.pids.
    inject = rq.RealQemu.inject
    diagnose = rq.RealQemu.diagnose
    evidence = rq.RealQemu.evidence
    wait_for = rq.RealQemu.wait_for
    check_gdb_parity = rq.RealQemu.check_gdb_parity
    lost_notify_script = rq.RealQemu.lost_notify_script

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
        if not has_function(exe("qemu-img"), "convert_co_do_copy"):
            self.skipTest(f"QEMU {rq.VERSION}: qemu-img convert has no glib main-loop path: "
                          "its synchronous copy waits in aio_poll(ctx, true) (bdrv_rw_co, "
                          "2.8's BDRV_POLL_WHILE); main_loop_wait came with 2.9's coroutine "
                          "convert (test_lost_notify_in_convert_blocking_poll covers this build)")
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

    def test_lost_notify_in_convert_blocking_poll(self):
        """2.x's convert reads and writes synchronously: bdrv_rw_co (2.1) or
        blk_prw's BDRV_POLL_WHILE (2.8) loops in aio_poll(ctx, true) until
        the request's coroutine finishes.  A worker's kick skipped there
        (inject-lost-notify-inlined.gdb: aio_notify is inlined at -O2)
        leaves the completion BH runnable and the loop asleep for good."""
        img = exe("qemu-img")
        if has_function(img, "convert_co_do_copy"):
            self.skipTest(f"QEMU {rq.VERSION}: convert copies in coroutines and sleeps in "
                          "main_loop_wait (glib), not in a blocking aio_poll: "
                          "test_lost_notify_in_convert covers this build")
        data = self.random_image(256)
        script = self.lost_notify_script("qemu-img")
        argv = [img, "convert", "-f", "raw", "-O", "raw", data, self.path("dst.raw")]
        for _ in range(6):                      # a race: the poller must sleep first
            pid = self.inject(script, argv)
            if pid:
                break
        self.assertIsNotNone(pid, "no injected lost notify hung qemu-img convert in 6 tries")
        core = gcore(pid, self.path("convert"))
        code, diag = self.diagnose(core)
        # gdb: the pool's completion BH is scheduled, the main thread polls
        # with no timeout (ppoll's timespec, rdx, is NULL).
        self.assertEqual(gdb_print(img, core, "(int)qemu_aio_context->thread_pool->completion_bh->scheduled"),
                         "1")
        self.assertEqual(gdb_thread_print(img, core, pid, "/x $rdx"), "0x0")
        if rq.gdb_try(img, core, "qemu_aio_context->dispatching") == "false":
            # 2.1: aio_notify() kicks whenever !dispatching, so one core
            # shows a kick in flight, not a lost one (test_real_qemu's
            # lost notify in qemu-io): no lost-notify, and it says why.
            self.assertNotIn("lost-notify", [f["id"] for f in diag["findings"]], diag)
            self.assertTrue([c for c in diag["checked"] if c.startswith("lost-notify:")
                             and "1 runnable BH" in c and "dispatching false" in c],
                            diag["checked"])
            self.check_gdb_parity(img, core)
            return
        self.assertEqual(code, 3, diag)
        f = diag["findings"][0]
        self.assertEqual((f["id"], f["confidence"]), ("lost-notify", "high"))
        bh = self.evidence(f, "runnable BH")
        self.assertRegex(bh[0]["value"], r"cb=thread_pool_completion_bh \[scheduled\] runnable")
        self.assertTrue(rq.bh_scheduled(img, core, bh[0]["address"]))
        home = self.evidence(f, "home thread")
        self.assertEqual(home[0]["tid"], pid)
        self.assertRegex(home[0]["value"], r"^asleep in ppoll <- aio_poll ")
        self.assertNotIn("main_loop_wait", home[0]["value"])
        self.assertEqual(self.evidence(f, "AioContext.notified")[0]["value"].split()[0], "false")
        self.assertEqual(gdb_print(img, core, "qemu_aio_context->notified"), "false")
        self.assertEqual(self.evidence(f, "poll timeout")[0]["value"],
                         "none (ppoll timeout NULL): nothing but the lost kick would wake it")
        self.check_gdb_parity(img, core)

    def test_lost_notify_bounded_poll_is_not_a_hang(self):
        """The same lost kick while qemu-io's `sleep` waits in main_loop_wait
        on a timer: the poll has a timeout, the BH runs when it expires, so
        no finding, and the checked line says why."""
        data = self.random_image(64)
        argv = [exe("qemu-io"), *rq.QEMU_IO_RAW, "-c", "aio_read 0 64M", "-c", "sleep 600000",
                data]
        checked = None
        script = self.lost_notify_script()      # 2.x: aio_notify inlined
        for _ in range(6):                      # the poller must sleep first
            pid = self.inject(script, argv)
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
        qio = exe("qemu-io")
        if rq.gdb_try(qio, core, "qemu_aio_context->dispatching") == "false":
            # 2.1 decides by `dispatching` first: every aio_notify() kicks.
            self.assertIn("dispatching false (every aio_notify() kicks)", checked[0])
            return
        m = re.search(r"home thread asleep in poll, poll bounded \(ppoll timeout (\d+)\.\d{9} s\): "
                      r"the BH runs when it expires, not a hang$", checked[0])
        self.assertIsNotNone(m, checked)
        # gdb: ppoll's timespec (rdx) in the main thread, seconds of the
        # 600 s sleep left when the loop went to sleep.
        self.assertEqual(gdb_thread_print(qio, core, pid, "*(long *)$rdx"), m.group(1))
        self.assertLessEqual(int(m.group(1)), 600)

    # --- remote-not-answering (NBD) -----------------------------------------
    def nbd_server(self, data, sock):
        """An NBD server exporting data over sock: qemu-storage-daemon
        (5.0 on; export "f0"), else qemu-nbd (export "f0" where it has
        -x, 2.8; 2.1's has no names: the old-style handshake).  Returns
        the server and the image name convert opens, and the export."""
        if os.path.exists(exe("storage-daemon/qemu-storage-daemon")):
            argv = [exe("storage-daemon/qemu-storage-daemon"),
                    "--blockdev", f"driver=file,node-name=f0,filename={data}",
                    "--nbd-server", f"addr.type=unix,addr.path={sock}",
                    "--export", "type=nbd,id=e0,node-name=f0"]
            source, export = f"nbd+unix:///f0?socket={sock}", "f0"
        else:
            named = "--export-name" in rq.run([exe("qemu-nbd"), "--help"]).stdout
            argv = [exe("qemu-nbd"), "-f", "raw", "-r", "-k", sock,
                    *(["-x", "f0"] if named else []), data]
            # 2.x's own syntax, nbd:unix:PATH[:exportname=NAME].
            source = f"nbd:unix:{sock}" + (":exportname=f0" if named else "")
            export = "f0" if named else None
        server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pids.append(server.pid)
        self.wait_for(sock)
        return server, source, export

    def convert_from_stopped_nbd(self, data, sock):
        """An NBD server exports data over sock; qemu-img convert copies
        from it; the server is stopped once the copy is under way.
        Returns convert's pid (None if the copy finished first) and the
        export name (None: the server has none)."""
        qsd, source, export = self.nbd_server(data, sock)
        dst = self.path("dst.raw")
        conv = subprocess.Popen([exe("qemu-img"), "convert", "-f", "raw", "-O", "raw",
                                 source, dst],
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
        return (conv.pid if conv.poll() is None else None), export

    def test_nbd_server_not_answering(self):
        """convert from an NBD export whose server is SIGSTOPped: the node,
        the server's socket, the requests in flight and the convert
        coroutines parked on their replies.  5.2+ keep each request in
        requests[] (offset, coroutine); 2.x only its coroutine, in
        recv_coroutine[] by handle, and the offset is the node's tracked
        request's."""
        data = self.random_image(512)
        pid = None
        for attempt in range(3):
            sock = self.path(f"nbd{attempt}.sock")
            pid, export = self.convert_from_stopped_nbd(data, sock)
            if pid:
                break
        self.assertIsNotNone(pid, "convert always finished before the daemon was stopped")
        core = gcore(pid, self.path("convert"))
        code, diag = self.diagnose(core)
        # Medium confidence: no exit-3 promise.  2.1 exits 1 (partial) for
        # its one note: the current coroutine is pthread-specific data.
        if diag["notes"] and all("thread_state_key" in n for n in diag["notes"]):
            self.assertEqual(code, 1, diag)
        else:
            self.assertIn(code, (0, 3), diag)
        ids = [f["id"] for f in diag["findings"]]
        self.assertEqual(ids, ["remote-not-answering"], diag["findings"])
        f = diag["findings"][0]
        self.assertEqual(f["confidence"], "medium")
        self.assertIn(f"NBD server unix:{sock} has not replied", f["summary"])
        self.assertIn("a single core cannot tell stalled from slow", f["summary"])
        self.assertEqual(f["reproduce"], None)
        server = self.evidence(f, "NBD server")
        self.assertRegex(server[0]["value"], r"^unix:%s \(export \"%s\", socket fd (\d+)\)$"
                         % (re.escape(sock), re.escape(export or "?")))
        fd = int(re.search(r"socket fd (\d+)", server[0]["value"]).group(1))
        # The connection: BDRVNBDState (4.2+), else the NBDClientSession
        # `client` at its start (2.1: NbdClientSession).
        flight = [e for e in f["evidence"] if e["what"].endswith(".in_flight")]
        self.assertEqual(len(flight), 1, f["evidence"])
        conn_type = flight[0]["what"].split(".")[0]
        conn_address = flight[0]["address"]
        in_flight = int(flight[0]["value"])
        slots = "requests" if conn_type == "BDRVNBDState" else "recv_coroutine"
        state = self.evidence(f, f"{conn_type}.state")
        if conn_type == "BDRVNBDState":
            self.assertRegex(state[0]["value"], r"^NBD_CLIENT_CONNECTED \(\d+\)$")
        else:                                   # before 4.2: no state
            self.assertEqual(state, [])
        requests = [e for e in f["evidence"] if re.match(r"^%s\[\d+\]$" % slots, e["what"])]
        self.assertGreaterEqual(in_flight, 1)
        self.assertEqual(len(requests), in_flight)
        waiting = self.evidence(f, "waiting coroutine")
        self.assertEqual(len(waiting), len(requests))
        img = exe("qemu-img")
        for w in waiting:
            entry = re.match(r"^entry=(\w+) suspended in ", w["value"]).group(1)
            if slots == "requests":
                self.assertEqual(entry, "convert_co_do_copy")
            else:   # 2.x's synchronous convert: bdrv_rw_co_entry, blk_read_entry
                self.assertIn(f"<{entry}>",
                              gdb_print(img, core, f"((Coroutine *){w['address']})->entry"))
        # Every request is parked somewhere in the NBD client's receive path.
        self.assertTrue(all(re.search(r"suspended in .*nbd_", w["value"]) for w in waiting),
                        waiting)

        # coroutines finds them too, from the NBD client state.
        res = aiocore("coroutines", "--json", core)
        doc = json.loads(res.stdout)
        # 1 (partial): 2.1's current coroutines are pthread-specific data.
        self.assertEqual(res.returncode, 1 if any("thread_state_key" in n for n in doc["notes"])
                         else 0, res.stderr)
        cos = {c["address"]: c for c in doc["coroutines"]}
        for w in waiting:
            self.assertRegex(cos[w["address"]]["source"] or "",
                             r"^waiting on NBD reply, (NBDClientRequest 0x|recv_coroutine\[\d+\] "
                             r"of %s %s)" % (conn_type, conn_address))
        bt = aiocore("coroutines", "--bt", core)
        self.assertIn(bt.returncode, (0, 1), bt.stderr)   # 1: 2.1's current coroutine unread
        self.assertRegex(bt.stdout, r"in nbd_(client_co_preadv|co_readv_1)\+0x[0-9a-f]+ at ")

        # The wait-for graph: each parked coroutine -> the connection -> its server.
        doc = rq.view_json("waits", core)
        nodes = {n["id"]: n for n in doc["nodes"]}
        edges = {(e["from"], e["to"]): e["label"] for e in doc["edges"]}
        conns = [n for n in nodes.values() if n["type"] == "connection"]
        self.assertEqual([c["address"] for c in conns], [conn_address], conns)
        conn = conns[0]
        self.assertEqual((conn["server"], conn["in_flight"], conn["requests"], conn["fd"]),
                         (f"unix:{sock}", in_flight, len(requests), fd))
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
            self.assertEqual(rq.gdb_comutex_waiters(img, core, receive[0]["address"]),
                             receive[0]["waiters"])
            holder = self.evidence(f, "receive_mutex.holder")[0]["value"].split()[1]
            self.assertEqual(receive[0]["holder"], holder)
            if receive[0]["waiters"]:
                self.assertTrue(self.evidence(f, "CoMutex waiters")[0]["value"].startswith(
                    f"{len(receive[0]['waiters'])} coroutine"))

        # gdb as the oracle: the socket path, its fd, in_flight and the
        # first request's slot.
        s = f"((BDRVNBDState *){conn_address})"
        c = s if conn_type == "BDRVNBDState" else f"{s}->client"   # client is first
        paths = [rq.gdb_try(img, core, f"{s}->{p}") for p in (
            "saddr->u.q_unix.path",                 # 5.2+
            "saddr->u.q_unix.data->path",           # 2.8: the wrapped union arm
            "socket_opts->head.tqh_first->str")]    # 2.1: QemuOpts, "path" first
        self.assertRegex(next(p for p in paths if p), r'^0x[0-9a-f]+ "%s"$' % re.escape(sock))
        self.assertEqual(gdb_print(img, core, f"*(char **){server[0]['address']}"),
                         next(p for p in paths if p))
        sock_fd = rq.gdb_try(img, core, f"{c}->sock") or rq.gdb_try(img, core, f"{c}->sioc->fd")
        if sock_fd is not None:                 # 2.1's int sock, else the channel's
            self.assertEqual(int(sock_fd), fd)
        self.assertEqual(int(gdb_print(img, core, f"{c}->in_flight")), in_flight)
        first = requests[0]
        index = re.match(r"^%s\[(\d+)\]$" % slots, first["what"]).group(1)
        if slots == "requests":
            offset, co = re.match(r"^offset (\d+), coroutine (0x[0-9a-f]+)", first["value"]).groups()
            self.assertEqual(gdb_print(img, core, f"{s}->requests[{index}].offset"), offset)
            slot = f"{s}->requests[{index}].coroutine"
        else:
            co, offset = re.match(r"^coroutine (0x[0-9a-f]+), its request at offset (\d+), \d+ "
                                  r"bytes \(the node's tracked request\)$", first["value"]).groups()
            self.assertEqual(gdb_tracked_offset(img, core, int(conn_address, 16), int(co, 16)),
                             int(offset))
            slot = f"{c}->recv_coroutine[{index}]"
        self.assertEqual(int(gdb_print(img, core, f"/x {slot}"), 16), int(co, 16))
        self.assertEqual(int(gdb_print(img, core, f"/x &{slot}"), 16), int(first["address"], 16))
        self.check_gdb_parity(img, core)


if __name__ == "__main__":
    unittest.main(verbosity=2)
