# SPDX-License-Identifier: GPL-2.0-or-later
"""Debuginfo from debuginfod.  The g10 runtime is split the way a
distribution ships it: a fully stripped executable (with a .gnu_debuglink)
and a .debug file holding its DWARF and symbols, same build-id.  Debian's
real debuginfod server scans the .debug file (-F) and serves it on
127.0.0.1.  A core of the stripped runtime, diagnosed with the stripped
executable and DEBUGINFOD_URLS pointing at the server, gives the full
verdict (libdwfl's standard debuginfo lookup asks the server); with no
debuginfo anywhere the error names the build-id and the ways to get it.

If the test may create a network namespace (root), everything runs in a
private one where only lo exists: debuginfod 0.188 has no option to bind
one address and listens on every interface.  Otherwise only the port is
private, and clients only ever connect to 127.0.0.1."""
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

AIOCORE = os.environ.get("AIOCORE", "aiocore")
RUNTIME = os.environ.get("RUNTIME_G10")
DEBUG = os.environ.get("RUNTIME_G10_DEBUG")
STRIPPED = os.environ.get("RUNTIME_G10_STRIPPED")
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1


def run(args, timeout=120, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)


def private_network():
    """Move this (still single-threaded) process into a new network
    namespace with only lo up; False if not allowed."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        return False
    res = run(["ip", "link", "set", "lo", "up"]) if shutil.which("ip") else None
    if res is None or res.returncode != 0:
        sys.exit("debuginfod test: in a new network namespace but cannot bring lo up")
    return True


def build_id(path):
    res = run(["readelf", "-n", path])
    m = re.search(r"Build ID: ([0-9a-f]+)", res.stdout)
    if not m:
        raise AssertionError(f"no build-id in {path}: {res.stderr}")
    return m.group(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent():
    # The server must not outlive the test, even if the test is killed.
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Server:
    """debuginfod -F on DIR, on a free port of 127.0.0.1, ready once it
    answers 200 for BUILD_ID's debuginfo."""

    def __init__(self, scan_dir, workdir, build_id, timeout=60):
        self.log_path = os.path.join(workdir, "debuginfod.log")
        self.proc = None
        for attempt in range(3):  # the port may be taken in between
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            log = open(self.log_path, "w")
            self.proc = subprocess.Popen(
                ["debuginfod", "-F", "-p", str(self.port),
                 "-d", os.path.join(workdir, f"db-{attempt}.sqlite"),
                 "-t", "0", "-g", "0", "--disable-source-scan", "-v", scan_dir],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent)
            log.close()
            if self.wait_ready(build_id, timeout):
                return
            self.stop()
        raise AssertionError(f"debuginfod did not serve {build_id}: {self.log()[-2000:]}")

    def wait_ready(self, build_id, timeout):
        deadline = time.monotonic() + timeout
        url = f"{self.url}/buildid/{build_id}/debuginfo"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass  # not listening yet (refused) or not indexed yet (404)
            time.sleep(0.1)
        return False

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def diagnose(exe, core, env):
    res = run([AIOCORE, "diagnose", "--json", "--exe", exe, core], env=env)
    try:
        return res, json.loads(res.stdout)
    except ValueError:
        return res, None


def client_env(**extra):
    """The environment without any debuginfod configuration of the host
    (Debian sets DEBUGINFOD_URLS in /etc/profile.d)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEBUGINFOD_")}
    env.update(extra)
    return env


def missing():
    for what, path in (("RUNTIME_G10", RUNTIME), ("RUNTIME_G10_DEBUG", DEBUG),
                       ("RUNTIME_G10_STRIPPED", STRIPPED)):
        if not path:
            return f"{what} is not set"
    if not shutil.which("debuginfod"):
        return "needs debuginfod (Debian package debuginfod)"
    return None


class DebuginfodServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = None
        if missing():
            raise unittest.SkipTest(missing())
        cls.tmp = tempfile.mkdtemp(prefix="aiocore-test-debuginfod-")
        # The stripped executable alone in its directory: its debuglink
        # must not find the .debug file next to it (as in the build dir).
        bindir = os.path.join(cls.tmp, "bin")
        os.mkdir(bindir)
        cls.exe = os.path.join(bindir, os.path.basename(STRIPPED))
        shutil.copy2(STRIPPED, cls.exe)
        cls.build_id = build_id(cls.exe)
        assert cls.build_id == build_id(DEBUG) == build_id(RUNTIME)
        res = run(["readelf", "-S", cls.exe])
        assert ".debug_info" not in res.stdout and ".symtab" not in res.stdout, res.stdout
        # A core of the stripped runtime itself.
        cls.core = os.path.join(cls.tmp, "lost-completion.core")
        res = run([cls.exe, "--variant", "lost-completion", "--out", cls.core], cwd=cls.tmp)
        if res.returncode != 0 or not os.path.exists(cls.core):
            raise AssertionError(f"stripped runtime: {res.returncode} {res.stderr}")

    @classmethod
    def tearDownClass(cls):
        if cls.tmp:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_verdict_with_debuginfod(self):
        scan_dir = os.path.join(self.tmp, "served")
        os.mkdir(scan_dir)
        shutil.copy2(DEBUG, scan_dir)
        server = Server(scan_dir, self.tmp, self.build_id)
        try:
            cache = os.path.join(self.tmp, "cache")
            env = client_env(DEBUGINFOD_URLS=server.url, DEBUGINFOD_CACHE_PATH=cache)
            res, doc = diagnose(self.exe, self.core, env)
            self.assertIsNotNone(doc, res.stderr)
            self.assertEqual(res.returncode, 3, res.stderr)
            self.assertEqual(doc["verdict"], "lost-completion")
            self.assertEqual(doc["notes"], [])
            # It came from the server: in the client cache, and logged.
            self.assertTrue(os.path.exists(os.path.join(cache, self.build_id, "debuginfo")))
            self.assertRegex(server.log(),
                             rf"GET /buildid/{self.build_id}/debuginfo 200")
            # No --exe: the stripped executable at the core's own path is
            # found by its path and build-id, its DWARF from the server.
            cache2 = os.path.join(self.tmp, "cache-no-exe")
            res2 = run([AIOCORE, "diagnose", "--json", self.core],
                       env=client_env(DEBUGINFOD_URLS=server.url, DEBUGINFOD_CACHE_PATH=cache2))
            self.assertEqual(res2.returncode, 3, res2.stderr)
            self.assertEqual(json.loads(res2.stdout)["verdict"], "lost-completion")
            self.assertTrue(os.path.exists(os.path.join(cache2, self.build_id, "debuginfo")))
            # Exactly what the unstripped executable gives on this core.
            ref_res, ref = diagnose(RUNTIME, self.core, client_env())
            self.assertEqual(ref_res.returncode, 3, ref_res.stderr)
            for key in ("verdict", "findings", "checked", "counts"):
                self.assertEqual(doc[key], ref[key], key)
            # The coroutine view unwinds through the served DWARF too.
            res = run([AIOCORE, "coroutines", "--bt", "--exe", self.exe, self.core], env=env)
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertRegex(res.stdout, r"entry blk_aio_flush_entry .*suspended")
            self.assertRegex(res.stdout, r"in thread_pool_submit_co\+0x[0-9a-f]+ at \S+thread-pool\.c:")
        finally:
            server.stop()
        self.assertIsNotNone(server.proc.poll())

    def test_no_debuginfo_anywhere(self):
        env = client_env(DEBUGINFOD_CACHE_PATH=os.path.join(self.tmp, "empty-cache"))
        res = run([AIOCORE, "diagnose", "--exe", self.exe, self.core], env=env)
        # Partial, as documented: the threads can still be read.
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        err = res.stderr
        self.assertIn(f"build-id {self.build_id}", err)
        self.assertIn("debug package", err)
        self.assertIn("DEBUGINFOD_URLS", err)
        self.assertIn("--debug-dir", err)
        self.assertIn(f".build-id/{self.build_id[:2]}/{self.build_id[2:]}.debug", err)


if __name__ == "__main__":
    if missing():
        print(f"SKIP: {missing()}", file=sys.stderr)
        sys.exit(77)  # meson's "skipped"
    if private_network():
        print("debuginfod test: private network namespace (lo only)", file=sys.stderr)
    else:
        print("debuginfod test: no network namespace; the server listens on every "
              "interface (debuginfod 0.188 cannot bind one), clients use 127.0.0.1",
              file=sys.stderr)
    unittest.main(verbosity=2)
