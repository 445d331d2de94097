# SPDX-License-Identifier: GPL-2.0-or-later
"""aiocore diagnose and the views on cores of the reference runtime: every
pattern reproduced is diagnosed on every profile, healthy cores give no
finding, corrupted cores give clear output, and gdb agrees on the values."""
import json
import os
import re
import shutil
import struct
import unittest

import runtimecores
from aiocoretest import TempDirTestCase, aiocore, run

FIXES = {
    "lost-completion": "e8d3b1a25f28",
    "lost-notify": "5710a3e09f9b",
    "event-lost-wakeup": "9586a1329f5d",
    "nested-poll": "3c80ca158c96",
    "iohandler-race": "ab27c3b5e740",
    # no upstream fix: an invariant of aio_co_schedule(), and GitLab #780
    "lost-coroutine-wake": None,
    "bql-poll-cycle": None,
}

# (pattern, profile) the reference runtime cannot show, and why.
UNSUPPORTED = {
    ("lost-coroutine-wake", "g2"):
        "g2 models QEMU 2.x up to 2.8: no aio_co_schedule() (2.9), the runtime refuses it",
}


def diagnose_json(core):
    res = aiocore("diagnose", "--json", core)
    return json.loads(res.stdout), res


class Verdicts(unittest.TestCase):
    def test_each_pattern_on_each_profile(self):
        for profile in runtimecores.PROFILES:
            for pattern, fix in FIXES.items():
                with self.subTest(pattern=pattern, profile=profile):
                    if (pattern, profile) in UNSUPPORTED:
                        self.skipTest(UNSUPPORTED[(pattern, profile)])
                    core = runtimecores.core(pattern, profile)
                    d, res = diagnose_json(core)
                    # All of it on failure: the checked list says why.
                    self.assertEqual(res.returncode, 3, res.stderr + res.stdout)
                    self.assertEqual(d["schema"], "aiocore-diagnose/1")
                    self.assertEqual(d["verdict"], pattern)
                    self.assertEqual([f["id"] for f in d["findings"]], [pattern])
                    finding = d["findings"][0]
                    self.assertEqual(finding["confidence"], "high")
                    if fix is None:
                        self.assertIsNone(finding["fix"]["commit"])
                    else:
                        self.assertEqual(finding["fix"]["commit"], fix)
                    self.assertEqual(finding["reproduce"], f"aiocore reproduce {pattern}")
                    self.assertGreaterEqual(len(finding["evidence"]), 3)
                    self.assertEqual(d["notes"], [])

    def test_healthy_cores_give_no_finding(self):
        for profile in runtimecores.PROFILES:
            with self.subTest(profile=profile):
                core = runtimecores.core("fixed", profile)
                d, res = diagnose_json(core)
                self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
                self.assertEqual(d["verdict"], "none")
                self.assertEqual(d["findings"], [])
                self.assertEqual(d["notes"], [])
                self.assertGreater(len(d["checked"]), 3)
                text = aiocore("diagnose", core)
                self.assertIn("VERDICT: no known hang pattern", text.stdout)

    def test_lost_completion_evidence_is_seed_003(self):
        # One flush request, THREAD_DONE, waited on by a flush coroutine.
        for profile in runtimecores.PROFILES:
            with self.subTest(profile=profile):
                core = runtimecores.core("lost-completion", profile)
                res = aiocore("diagnose", core)
                self.assertEqual(res.returncode, 3)
                out = res.stdout
                self.assertIn("VERDICT: lost-completion (high confidence)", out)
                self.assertRegex(out, r"ThreadPoolElement.state = THREAD_DONE \(\d\) @0x[0-9a-f]+")
                self.assertRegex(out, r"ThreadPoolElement.func = handle_aiocb_flush \(flush request")
                self.assertRegex(out, r"waiting coroutine = entry \w*flush\w* @0x")
                self.assertIn('Upstream fix: e8d3b1a25f28 "aio: strengthen memory barriers for bottom half scheduling"', out)
                self.assertIn("Replay:       aiocore reproduce lost-completion", out)

    def test_bql_poll_cycle_evidence(self):
        for profile in runtimecores.PROFILES:
            with self.subTest(profile=profile):
                d, res = diagnose_json(runtimecores.core("bql-poll-cycle", profile))
                self.assertEqual(len(d["findings"]), 1, res.stdout)
                ev = {e["what"]: e for e in d["findings"][0]["evidence"]}
                owner = ev["qemu_global_mutex.lock.__data.__owner"]
                self.assertRegex(owner["value"], r"^\d+, not the main thread \d+$")
                self.assertRegex(ev["BQL holder"]["value"], r"^asleep in ppoll <- aio_poll on AioContext 0x[0-9a-f]+")
                self.assertEqual(ev["BQL holder"]["tid"], int(owner["value"].split(",")[0]))
                self.assertRegex(ev["polling under"]["value"], r"^mirror_exit ")
                self.assertIn("qemu_mutex_lock_iothread", ev["main thread"]["value"])
                self.assertIn("bdrv_flush_bh", ev["runnable BH on qemu_aio_context"]["value"])

    def test_lost_coroutine_wake_evidence(self):
        for profile in ("g5", "g10"):
            with self.subTest(profile=profile):
                d, res = diagnose_json(runtimecores.core("lost-coroutine-wake", profile))
                self.assertEqual(len(d["findings"]), 1, res.stdout)
                ev = {e["what"]: e for e in d["findings"][0]["evidence"]}
                self.assertIn("scheduled by aio_co_schedule",
                              ev["AioContext.scheduled_coroutines"]["value"])
                self.assertRegex(ev["Coroutine.entry"]["value"], r"^blk_aio_write_entry ")
                self.assertIn("not scheduled", ev["AioContext.co_schedule_bh"]["value"])
                self.assertRegex(ev["home thread"]["value"], r"^asleep in .*ppoll")

    def test_lost_notify_evidence(self):
        for profile in runtimecores.PROFILES:
            with self.subTest(profile=profile):
                d, res = diagnose_json(runtimecores.core("lost-notify", profile))
                self.assertEqual(len(d["findings"]), 1, res.stdout)
                ev = {e["what"]: e for e in d["findings"][0]["evidence"]}
                self.assertIn("runnable BH", ev)
                self.assertIn("thread_pool_completion_bh", ev["runnable BH"]["value"])
                self.assertEqual(ev["AioContext.notified"]["value"], "false (no wakeup pending)")
                self.assertRegex(ev["home thread"]["value"], r"^asleep in .*ppoll")


class Views(unittest.TestCase):
    def view(self, name, core, *args):
        res = aiocore(name, "--json", *args, core)
        self.assertIn(res.returncode, (0, 3), res.stderr)
        return json.loads(res.stdout)

    def test_ctx_finds_every_context(self):
        for profile in runtimecores.PROFILES:
            with self.subTest(profile=profile):
                d = self.view("ctx", runtimecores.core("lost-completion", profile))
                roles = sorted(c["role"] for c in d["contexts"])
                self.assertEqual(roles, ["iohandler", "iothread", "main"])
                main = [c for c in d["contexts"] if c["role"] == "main"][0]
                self.assertIsNotNone(main["home_tid"])
                self.assertTrue(main["home_sleeping_in_poll"])
                self.assertNotEqual(main["thread_pool"], "0x0")
                # From roots only: its static, the pool's back-link, the
                # block graph; no memory scan ran.
                self.assertRegex(main["found_as"], r"^qemu_aio_context; .*worker_thread.*"
                                 r"; all_bdrv_states$")
                self.assertIsNone(d["memory_scan"])
                # The IOThread's context: from its thread's iothread_run
                # frame, and independently from its thread-local.
                io = [c for c in d["contexts"] if c["role"] == "iothread"][0]
                self.assertRegex(io["found_as"],
                                 r"^IOThread 0x[0-9a-f]+ \(iothread_run, thread (\d+)\)"
                                 r"; .*my_aiocontext of thread \1$")
                self.assertIsNotNone(io["home_tid"])
                self.assertIn(f"thread {io['home_tid']})", io["found_as"])
                self.assertIn("aio_poll", io["blocked_in"])

    def test_memory_scan_finds_no_phantom_context(self):
        # Mid-flight cores have &aio_source_funcs in stack locals: those
        # words must not become AioContexts.  The third context is the
        # runtime's IOThread, named through its iothread_run frame.
        for profile in runtimecores.PROFILES:
            for variant in ("fixed", "nested-poll"):
                with self.subTest(profile=profile, variant=variant):
                    d = self.view("ctx", "--scan-memory", runtimecores.core(variant, profile))
                    self.assertEqual(sorted(c["role"] for c in d["contexts"]),
                                     ["iohandler", "iothread", "main"], d)
                    self.assertEqual(d["notes"], [])
                    # It ran, read the heap, and found nothing the roots missed.
                    scan = d["memory_scan"]
                    self.assertEqual(scan["why"], "--scan-memory")
                    self.assertGreater(scan["bytes_read"], 0)
                    self.assertEqual(scan["found_only_by_it"], 0)
                    for c in d["contexts"]:
                        self.assertTrue(c["found_as"].endswith("; memory scan"), c)

    def test_ctx_filter(self):
        core = runtimecores.core("lost-notify", "g5")
        d = self.view("ctx", core)
        addr = d["contexts"][1]["address"]
        only = self.view("ctx", core, "--ctx", addr)
        self.assertEqual([c["address"] for c in only["contexts"]], [addr])

    def test_bh_list_layouts(self):
        # g2: booleans on first_bh; g5/g10: flags from the enumerators.
        for profile in runtimecores.PROFILES:
            with self.subTest(profile=profile):
                d = self.view("bh-list", runtimecores.core("lost-notify", profile))
                bhs = [b for c in d["contexts"] for b in c["bhs"]]
                completion = [b for b in bhs if b["cb"] == "thread_pool_completion_bh"]
                self.assertEqual(len(completion), 1)
                b = completion[0]
                self.assertTrue(b["scheduled"] and b["runnable"])
                if profile == "g2":
                    self.assertIsNone(b["flags"])
                    self.assertIn("first_bh", b["where"])
                else:
                    self.assertTrue(b["pending"])
                    self.assertEqual(b["name"], "thread_pool_completion_bh")
                    self.assertIn("bh_list", b["where"])
                self.assertIn("ThreadPool.completion_bh", b["where"])

    def test_thread_pool_chain_to_coroutine(self):
        for profile in runtimecores.PROFILES:
            with self.subTest(profile=profile):
                d = self.view("thread-pool", runtimecores.core("lost-completion", profile))
                self.assertEqual(len(d["pools"]), 1)
                pool = d["pools"][0]
                self.assertEqual(pool["type"], "ThreadPoolAio" if profile == "g10" else "ThreadPool")
                [req] = pool["requests"]
                self.assertEqual(req["state"], "THREAD_DONE")
                self.assertEqual(req["kind"], "flush")
                self.assertTrue(req["valid_aiocb_info"])
                self.assertIsNotNone(req["coroutine"])
                self.assertIn("flush", req["coroutine_entry"])


class GdbOracle(unittest.TestCase):
    """The values aiocore prints, against real gdb on the same core."""

    def gdb(self, profile, core, *exprs):
        args = ["gdb", "-nx", "-batch"]
        for e in exprs:
            args += ["-ex", e]
        res = run(args + [runtimecores.executable(profile), core])
        values = re.findall(r"^\$\d+ = (.*)$", res.stdout, re.M)
        self.assertEqual(len(values), len(exprs), res.stdout + res.stderr)
        return values

    def test_fields_match_gdb(self):
        for profile in runtimecores.PROFILES:
            with self.subTest(profile=profile):
                core = runtimecores.core("lost-notify", profile)
                ctx = json.loads(aiocore("ctx", "--json", core).stdout)
                main = [c for c in ctx["contexts"] if c["role"] == "main"][0]
                addr, notify_me, notified, pool, rfd = self.gdb(
                    profile, core, "p/x qemu_aio_context", "p qemu_aio_context->notify_me",
                    "p qemu_aio_context->notified", "p/x qemu_aio_context->thread_pool",
                    "p qemu_aio_context->notifier.rfd")
                self.assertEqual(main["address"], addr)
                self.assertEqual(str(main["notify_me"]), notify_me)
                self.assertEqual(str(main["notified"]).lower(), notified)
                self.assertEqual(main["thread_pool"], pool)
                self.assertEqual(str(main["eventfd"]), rfd)

    def test_request_state_matches_gdb(self):
        for profile in runtimecores.PROFILES:
            with self.subTest(profile=profile):
                core = runtimecores.core("lost-completion", profile)
                pools = json.loads(aiocore("thread-pool", "--json", core).stdout)
                req = pools["pools"][0]["requests"][0]
                first, state = self.gdb(
                    profile, core, "p/x qemu_aio_context->thread_pool->head.lh_first",
                    "p qemu_aio_context->thread_pool->head.lh_first->state")
                self.assertEqual(req["address"], first)
                self.assertEqual(req["state"], state)

    def _lock_evidence(self, core):
        d, res = diagnose_json(core)
        self.assertEqual(res.returncode, 3, res.stdout + res.stderr)
        self.assertEqual(d["verdict"], "lock-cycle")
        self.assertEqual([f["id"] for f in d["findings"]], ["lock-cycle"])
        finding = d["findings"][0]
        self.assertEqual(finding["confidence"], "high")
        self.assertEqual(finding["reproduce"], "aiocore reproduce lock-cycle")
        self.assertEqual(len(finding["evidence"]), 2, res.stdout)
        return {e["what"]: e for e in finding["evidence"]}

    def _waiter_of(self, profile, core, symbol):
        """The LWP gdb shows asleep on the futex of symbol."""
        res = run(["gdb", "-nx", "-batch", "-ex", "info threads",
                   runtimecores.executable(profile), core])
        lwps = re.findall(r"\(LWP (\d+)\).*futex_word=0x[0-9a-f]+ <" + symbol + ">",
                          res.stdout)
        self.assertEqual(len(lwps), 1, res.stdout)
        return int(lwps[0])

    def test_lock_cycle_owners_match_gdb(self):
        # ABBA on two QemuMutexes: each waits for the lock the other owns.
        for profile in runtimecores.PROFILES:
            with self.subTest(profile=profile):
                core = runtimecores.core("lock-cycle", profile)
                ev = self._lock_evidence(core)
                owner_a, owner_b, addr_a, addr_b = self.gdb(
                    profile, core, "p abba_lock_a.lock.__data.__owner",
                    "p abba_lock_b.lock.__data.__owner", "p/x &abba_lock_a", "p/x &abba_lock_b")
                for name, owner, addr in (("a", owner_a, addr_a), ("b", owner_b, addr_b)):
                    e = ev[f"QemuMutex abba_lock_{name}"]
                    self.assertEqual(e["address"], addr)
                    self.assertEqual(e["tid"], self._waiter_of(profile, core, f"abba_lock_{name}"))
                    self.assertTrue(e["value"].startswith(f"held by thread {owner} (runs abba_run) "
                                                          "(lock.__data.__owner)"), e["value"])
                    self.assertEqual(e["frame"], "#2 qemu_mutex_lock")
                # the cycle: each owner is the other lock's waiter
                self.assertEqual(ev["QemuMutex abba_lock_a"]["tid"], int(owner_b))
                self.assertEqual(ev["QemuMutex abba_lock_b"]["tid"], int(owner_a))

    def test_bql_ctx_cycle_owners_match_gdb(self):
        # The main thread holds the BQL and waits for iothread0's AioContext
        # lock (a QemuRecMutex), whose owner waits for the BQL.  g10: no such lock.
        for profile in ("g2", "g5"):
            with self.subTest(profile=profile):
                core = runtimecores.core("bql-ctx-cycle", profile)
                ev = self._lock_evidence(core)
                ctx, lock, ctx_owner, bql, bql_owner = self.gdb(
                    profile, core, "p/x iothread0->ctx", "p/x &iothread0->ctx->lock",
                    "p iothread0->ctx->lock.lock.__data.__owner", "p/x &qemu_global_mutex",
                    "p qemu_global_mutex.lock.__data.__owner")
                rec = ev[f"QemuRecMutex AioContext {ctx} lock (an IOThread's)"]
                self.assertEqual(rec["address"], lock)
                self.assertEqual(rec["tid"], int(bql_owner))
                self.assertTrue(rec["value"].startswith(f"held by thread {ctx_owner} (runs iothread_run)"),
                                rec["value"])
                big = ev["QemuMutex qemu_global_mutex"]
                self.assertEqual(big["address"], bql)
                self.assertEqual(big["tid"], int(ctx_owner))
                self.assertTrue(big["value"].startswith(f"held by thread {bql_owner} (runs main)"),
                                big["value"])


class Reproduce(TempDirTestCase):
    """aiocore reproduce end to end: the runtime hangs, gcore, diagnose."""

    def test_bql_ctx_cycle_is_a_lock_cycle(self):
        # A runtime variant whose verdict has another id: reproduce accepts it.
        out = self.path("bql-ctx.core")
        res = aiocore("reproduce", "bql-ctx-cycle", "--profile", "g5", "--out", out)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertIn("VERDICT: lock-cycle (high confidence)", res.stdout)
        self.assertTrue(os.path.exists(out))

    def test_g10_has_no_context_lock(self):
        res = aiocore("reproduce", "bql-ctx-cycle", "--profile", "g10",
                      "--out", self.path("x.core"))
        self.assertEqual(res.returncode, 64, res.stdout + res.stderr)
        self.assertIn("QEMU 9.0 removed", res.stderr)


class CorruptedCores(TempDirTestCase):
    """Hostile cores: damage the bytes behind one pointer and look."""

    def patch(self, src, profile, pointer_expr, value):
        """Copy src, then write value at the address gdb gives for pointer_expr."""
        res = run(["gdb", "-nx", "-batch", "-ex", f"p/x {pointer_expr}",
                   runtimecores.executable(profile), src])
        m = re.search(r"^\$1 = (0x[0-9a-f]+)", res.stdout, re.M)
        self.assertIsNotNone(m, res.stdout + res.stderr)
        where = int(m.group(1), 16)
        dst = self.path("corrupt.core")
        shutil.copy(src, dst)
        with open(dst, "r+b") as f:
            data = f.read(64)
            phoff, = struct.unpack_from("<Q", data, 0x20)
            phnum, = struct.unpack_from("<H", data, 0x38)
            f.seek(phoff)
            headers = f.read(56 * phnum)
            for i in range(phnum):
                ptype, _, off, vaddr, _, filesz, _, _ = struct.unpack_from("<IIQQQQQQ", headers, 56 * i)
                if ptype == 1 and vaddr <= where < vaddr + filesz:
                    f.seek(off + where - vaddr)
                    f.write(struct.pack("<Q", value))
                    return dst
        self.fail(f"0x{where:x} is not in the core")

    def test_cyclic_bh_list(self):
        src = runtimecores.core("lost-notify", "g5")
        res = run(["gdb", "-nx", "-batch", "-ex", "p/x qemu_aio_context->bh_list.slh_first",
                   runtimecores.executable("g5"), src])
        first = int(re.search(r"= (0x[0-9a-f]+)", res.stdout).group(1), 16)
        core = self.patch(src, "g5", f"&((QEMUBH *){first})->next.sle_next", first)
        res = aiocore("bh-list", core)
        self.assertEqual(res.returncode, 1, res.stderr)
        self.assertRegex(res.stdout, r"<list broken: bh_list: cycle at 0x[0-9a-f]+>")
        self.assertRegex(res.stdout, r"note: bh_list: cycle at 0x[0-9a-f]+; the walk stopped there")
        d = aiocore("diagnose", "--json", core)
        self.assertIn(d.returncode, (1, 3))
        self.assertTrue(any("cycle" in n for n in json.loads(d.stdout)["notes"]))

    def test_pool_head_pointing_nowhere(self):
        src = runtimecores.core("lost-completion", "g5")
        core = self.patch(src, "g5", "&qemu_aio_context->thread_pool->head.lh_first", 0xdead0000)
        res = aiocore("thread-pool", core)
        self.assertEqual(res.returncode, 1, res.stderr)
        # The first member read tells where it failed: inside that element.
        self.assertRegex(res.stdout,
                         r"0xdead0000  <unreadable: address 0xdead00[0-9a-f]{2} is not mapped in the process>")
        d = aiocore("diagnose", core)
        self.assertEqual(d.returncode, 1, d.stdout)
        self.assertIn("VERDICT: no known hang pattern", d.stdout)
        self.assertRegex(d.stdout, r"note: ThreadPoolElement 0xdead0000: address 0xdead00[0-9a-f]{2} is not mapped")

    def test_runtime_rebuilt_since_the_core(self):
        # Same path, another build: a fatal mismatch, never a wrong verdict.
        exe = self.path("aiocore-runtime-g5")
        shutil.copy(runtimecores.executable("g5"), exe)
        core = self.path("stale.core")
        res = run([exe, "--variant", "lost-completion", "--out", core], timeout=120)
        self.assertEqual(res.returncode, 0, res.stderr)
        shutil.copy(runtimecores.executable("g10"), exe)
        d = aiocore("diagnose", core)
        self.assertEqual(d.returncode, 2, d.stdout)
        self.assertIn("the core was made by another build of the executable", d.stderr)
        self.assertNotIn("VERDICT", d.stdout)
        d = aiocore("diagnose", "--exe", runtimecores.executable("g5"), core)
        self.assertEqual(d.returncode, 3, d.stderr)

    def test_truncated_core(self):
        src = runtimecores.core("lost-completion", "g5")
        dst = self.path("truncated.core")
        with open(src, "rb") as f, open(dst, "wb") as g:
            g.write(f.read(os.path.getsize(src) // 2))
        res = aiocore("diagnose", dst)
        self.assertIn(res.returncode, (1, 2), res.stdout)
        self.assertIn("truncated", res.stderr)
        self.assertNotIn("Sanitizer", res.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
