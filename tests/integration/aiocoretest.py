# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared helpers for aiocore's integration tests: run a test program,
capture it with the real gcore, run aiocore and the reference tools."""
import json
import os
import re
import resource
import signal
import shutil
import subprocess
import tempfile
import time
import unittest

AIOCORE = os.environ.get("AIOCORE", "aiocore")


def run(args, check=False, timeout=120, **kw):
    """Run a command, return CompletedProcess with text output."""
    return subprocess.run(args, capture_output=True, text=True, check=check,
                          timeout=timeout, **kw)


def aiocore(*args, timeout=120):
    res = run([AIOCORE, *args], timeout=timeout)
    if os.environ.get("AIOCORE_CASE_LOG") and args and args[0] == "diagnose":
        record_case(args, res)
    return res


def record_case(args, res):
    """One line per diagnose a test runs, in $AIOCORE_CASE_LOG: the test,
    the QEMU version, the exit code, the verdict line and the --since
    answer, for the per-case table of docs/real-qemu.md (a record, not an
    assertion: the tests assert)."""
    import inspect
    test = next((f.function for f in inspect.stack() if f.function.startswith("test_")), "?")
    verdict, since = "?", ""
    if "--json" in args:
        try:
            d = json.loads(res.stdout)
            found = ", ".join(f"{f['id']} ({f['confidence']})" for f in d.get("findings", []))
            verdict = f"verdict {d.get('verdict')}" + (
                f"; findings {found}; first: {d['findings'][0]['summary']}" if found else "")
            if d.get("since"):
                since = d["since"]["summary"]
        except (ValueError, KeyError, TypeError, IndexError):
            verdict = "(no JSON)"
    else:
        lines = res.stdout.splitlines()
        verdict = next((x for x in lines if x.startswith("VERDICT:")), "(no VERDICT line)")
    cols = [test, os.environ.get("AIOCORE_QEMU_VERSION", "-"), str(res.returncode),
            " ".join(os.path.basename(a) if os.path.sep in a else a for a in args), verdict, since]
    with open(os.environ["AIOCORE_CASE_LOG"], "a") as out:
        out.write("\t".join(c.replace("\t", " ").replace("\n", " ") for c in cols) + "\n")


def build_id(path):
    """The GNU build-id of an ELF file, as eu-readelf prints it."""
    out = run(["eu-readelf", "-n", path]).stdout
    return re.search(r"Build ID: ([0-9a-f]+)", out).group(1)


def wait_all_sleeping(pid, timeout=10.0):
    """Wait until every thread of pid sleeps in the kernel (state S), twice
    in a row: 'ready' is printed just before the last thread parks."""
    deadline = time.monotonic() + timeout
    calm = 0
    while time.monotonic() < deadline:
        states = []
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/stat") as f:
                    states.append(f.read().rsplit(")", 1)[1].split()[0])
        except FileNotFoundError:
            states = ["?"]
        calm = calm + 1 if states and all(s == "S" for s in states) else 0
        if calm >= 2:
            return
        time.sleep(0.02)
    raise RuntimeError(f"threads of {pid} did not all go to sleep")


class Program:
    """A test program that prints 'ready PID' once it is parked."""

    def __init__(self, path, *args, cwd=None):
        def allow_core():
            resource.setrlimit(resource.RLIMIT_CORE,
                               (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        self.cwd = cwd
        self.proc = subprocess.Popen([path, *args], stdout=subprocess.PIPE,
                                     text=True, cwd=cwd, preexec_fn=allow_core)
        line = self.proc.stdout.readline().split()
        if len(line) != 2 or line[0] != "ready":
            self.stop()
            raise RuntimeError(f"{path} did not start: {line}")
        self.pid = int(line[1])
        wait_all_sleeping(self.pid)

    def gcore(self, out_path):
        res = run(["gcore", "-o", out_path, str(self.pid)], timeout=300)
        produced = f"{out_path}.{self.pid}"
        if res.returncode != 0 or not os.path.exists(produced):
            raise RuntimeError(f"gcore failed: {res.stderr}")
        os.rename(produced, out_path)
        return out_path

    def kernel_core(self, out_path):
        """Let the kernel write the core (SIGQUIT), as a crash would.
        Needs kernel.core_pattern to be a plain file name ("core")."""
        with open("/proc/sys/kernel/core_pattern") as f:
            pattern = f.read().strip()
        if pattern.startswith("|") or "/" in pattern:
            raise unittest.SkipTest(f"core_pattern is {pattern!r}")
        os.kill(self.pid, signal.SIGQUIT)
        self.proc.wait()
        self.stop()
        for name in os.listdir(self.cwd):
            if name == pattern or name.startswith(pattern + "."):
                os.rename(os.path.join(self.cwd, name), out_path)
                return out_path
        raise RuntimeError(f"no kernel core in {self.cwd}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        shared = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                              f"mt-sleeper-shared-{self.pid}")
        if os.path.exists(shared):
            os.unlink(shared)
        if self.proc.stdout:
            self.proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class TempDirTestCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="aiocore-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)


def parse_eu_stack(text):
    """{tid: [(pc, function), ...]} from eu-stack's default output."""
    threads, current = {}, None
    for line in text.splitlines():
        if line.startswith("TID "):
            current = threads.setdefault(int(line[4:].rstrip(":")), [])
        elif line.startswith("#") and current is not None:
            parts = line.split()
            current.append((int(parts[1], 16), parts[2] if len(parts) > 2 else None))
    return threads


def physical_frames(thread_json):
    """aiocore's frames without the inline expansions: one per pc."""
    return [(int(f["pc"], 16), f["function"])
            for f in thread_json["frames"] if not f["inlined"]]


def threads_json(*args):
    res = aiocore("threads", "--json", *args)
    if res.returncode not in (0, 1):
        raise AssertionError(f"aiocore threads failed ({res.returncode}): {res.stderr}")
    return json.loads(res.stdout), res
