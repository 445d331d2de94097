# SPDX-License-Identifier: GPL-2.0-or-later
"""aiocore events and the event-lost-wakeup rule on cores of the reference
runtime.  A healthy core has the call_rcu thread asleep on EV_BUSY
(4294967295) with rcu_call_count == 0: decoded as BUSY, never a finding
(seed 002).  The event-lost-wakeup core has the same EV_BUSY but callbacks
queued: a finding with evidence.  gdb must agree on the values."""
import json
import re
import shutil
import unittest

import runtimecores
from aiocoretest import aiocore, run

BUSY = 4294967295


def events_json(core):
    res = aiocore("events", "--json", core)
    if res.returncode != 0:
        raise AssertionError(f"aiocore events failed ({res.returncode}): {res.stderr}")
    return json.loads(res.stdout)


def event(doc, name):
    for ev in doc["events"]:
        if ev["name"] == name:
            return ev
    raise AssertionError(f"no {name} in {[e['name'] for e in doc['events']]}")


def gdb_print(exe, core, expr):
    res = run(["gdb", "-nx", "-batch", "-ex", f"print {expr}", exe, core])
    m = re.search(r"^\$1 = (\S+)", res.stdout, re.M)
    if not m:
        raise AssertionError(f"gdb could not print {expr}: {res.stdout}{res.stderr}")
    return m.group(1)


class Events(unittest.TestCase):
    def check_rcu_waiter(self, ev):
        self.assertEqual(ev["value"], BUSY)
        self.assertEqual(ev["state"], "BUSY")
        self.assertEqual(len(ev["waiters"]), 1, ev)
        waiter = ev["waiters"][0]
        self.assertEqual(waiter["caller"], "call_rcu_thread")
        self.assertTrue(waiter["in_futex"])

    def test_healthy_busy_is_not_a_finding(self):
        for profile in runtimecores.PROFILES:
            with self.subTest(profile=profile):
                core = runtimecores.core("fixed", profile)
                doc = events_json(core)
                ev = event(doc, "rcu_call_ready_event")
                self.check_rcu_waiter(ev)
                self.assertEqual(ev["condition"], "rcu_call_count = 0")
                self.assertFalse(ev["condition_holds"])
                self.assertEqual(doc["notes"], [])
                text = aiocore("events", core).stdout
                self.assertRegex(text, r"QemuEvent rcu_call_ready_event @0x[0-9a-f]+: "
                                 r"value 4294967295 = EV_BUSY \(a waiter sleeps in the futex; normal\)")
                self.assertIn("guards: rcu_call_count = 0 (nothing queued: sleeping is correct)", text)
                self.assertRegex(text, r"waiters: thread \d+ #\d+ qemu_event_wait \(call_rcu_thread\)")

    def test_lost_wakeup_is_decoded(self):
        for profile in runtimecores.PROFILES:
            with self.subTest(profile=profile):
                core = runtimecores.core("event-lost-wakeup", profile)
                ev = event(events_json(core), "rcu_call_ready_event")
                self.check_rcu_waiter(ev)
                self.assertTrue(ev["condition_holds"])
                self.assertIsNone(ev["setter_tid"])
                self.assertRegex(ev["condition"], r"^rcu_call_count = [1-9]\d*$")

    def test_gdb_agrees(self):
        if not shutil.which("gdb"):
            self.skipTest("no gdb")
        for variant in ("fixed", "event-lost-wakeup"):
            with self.subTest(variant=variant):
                core = runtimecores.core(variant, "g5")
                exe = runtimecores.executable("g5")
                ev = event(events_json(core), "rcu_call_ready_event")
                self.assertEqual(int(gdb_print(exe, core, "rcu_call_ready_event.value")),
                                 ev["value"])
                self.assertEqual(int(gdb_print(exe, core, "(long)&rcu_call_ready_event"),
                                     0) & (2**64 - 1), int(ev["address"], 16))
                count = gdb_print(exe, core, "rcu_call_count")
                self.assertEqual(ev["condition"], f"rcu_call_count = {count}")
                gp = event(events_json(core), "rcu_gp_event")
                self.assertEqual(int(gdb_print(exe, core, "rcu_gp_event.value")), gp["value"])

    def test_diagnose(self):
        for profile in runtimecores.PROFILES:
            with self.subTest(profile=profile):
                healthy = json.loads(aiocore("diagnose", "--json",
                                             runtimecores.core("fixed", profile)).stdout)
                self.assertTrue(any("QemuEvent" in c for c in healthy["checked"]),
                                healthy["checked"])
                self.assertNotIn("event-lost-wakeup", [f["id"] for f in healthy["findings"]])
                res = aiocore("diagnose", "--json", runtimecores.core("event-lost-wakeup", profile))
                d = json.loads(res.stdout)
                self.assertEqual(res.returncode, 3, res.stderr)
                self.assertEqual([f["id"] for f in d["findings"]], ["event-lost-wakeup"])
                evidence = {e["what"]: e for e in d["findings"][0]["evidence"]}
                self.assertEqual(evidence["rcu_call_ready_event.value"]["value"],
                                 "4294967295 (EV_BUSY)")
                self.assertIn("rcu_call_count", evidence)
                self.assertIn("waiter", evidence)


if __name__ == "__main__":
    unittest.main(verbosity=2)
