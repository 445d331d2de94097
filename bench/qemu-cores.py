# SPDX-License-Identifier: GPL-2.0-or-later
"""The real QEMU cores bench/peers.sh compares on, made the way the qemu
test suite makes them (tests/qemu/build-qemu.sh's builds, real hangs,
gcore or gdb's generate-core-file):

  /usr/bin/python3 bench/qemu-cores.py DIR [VERSION ...]   (default 5.2 7.2 10.0)

- io-lc-V: qemu-io -c 'read 0 1M' with a lost completion
  (fixtures/inject/inject-lost-completion.gdb), as bench/real-qemu.sh;
- sys-7.2: a healthy qemu-system-x86_64 -M none with an IOThread, a file
  node and QMP (test_real_qemu's test_system_emulator_is_healthy);
- mirror-7.2: the same emulator running a blockdev-mirror job whose
  source read gdb stops in the syscall (fixtures/inject/stall-worker-read.gdb,
  test_waits' test_io_stalled_in_mirror_job): io-stalled, job-stalled;
- qsd-V (5.2 on): qemu-storage-daemon exporting a file over NBD from an
  IOThread, one client connected (healthy);
- convert-V: qemu-img convert whose worker gdb stops inside a read
  (io-stalled).

Prints one peers.sh argument per core on stdout (LABEL=CORE:EXE[:PROFILE]),
progress on stderr.  Each process is killed once its core is written."""
import json
import os
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
from aiocoretest import wait_all_sleeping  # noqa: E402
INJECT = os.path.join(TOP, "fixtures", "inject")
PROFILE = {"5.2": "g5", "7.2": "g5", "10.0": "g10"}


def say(msg):
    print(f"[{time.strftime('%T')}] {msg}", file=sys.stderr, flush=True)


def build(version):
    res = subprocess.run([os.path.join(TOP, "tests", "qemu", "build-qemu.sh"), version],
                         stdout=subprocess.PIPE, text=True, check=True)
    return res.stdout.strip().splitlines()[-1]


def gcore(pid, path):
    wait_all_sleeping(pid, timeout=30)
    subprocess.run(["gcore", "-o", path, str(pid)], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True, timeout=300)
    os.rename(f"{path}.{pid}", path)
    return path


def fresh(path):
    """path, with what an earlier run left there removed."""
    if os.path.lexists(path):
        os.unlink(path)
    return path


def wait_for(path, seconds=60):
    for _ in range(seconds * 20):
        if os.path.exists(path):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{path} did not appear")


def connect(sock, seconds=60):
    """A connected socket: the file exists from bind(), before listen(),
    and connect() is refused until then."""
    deadline = time.monotonic() + seconds
    while True:
        conn = socket.socket(socket.AF_UNIX)
        try:
            conn.connect(sock)
            return conn
        except ConnectionRefusedError:
            conn.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def kill(proc):
    proc.kill()
    proc.wait()


def lost_completion(d, v, b):
    log = os.path.join(d, f"io-lc-{v}.log")
    with open(log, "w") as out:
        subprocess.run(["timeout", "120", "gdb", "-batch", "-nx", "-q", "-x",
                        os.path.join(INJECT, "inject-lost-completion.gdb"), "--args",
                        os.path.join(b, "qemu-io"), "-f", "raw", "-c", "read 0 1M",
                        os.path.join(d, "disk.raw")],
                       stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=d)
    pid = None
    for line in open(log):
        if line.startswith("[Inferior 1 (process ") and "detached" in line:
            pid = int(line.split("process ")[1].split(")")[0])
    if pid is None:
        raise RuntimeError(f"qemu-io {v} did not stay hung: see {log}")
    try:
        return gcore(pid, os.path.join(d, f"io-lc-{v}.core"))
    finally:
        os.kill(pid, 9)


def system_healthy(d, v, b):
    sock = fresh(os.path.join(d, f"sys-{v}.qmp"))
    proc = subprocess.Popen([os.path.join(b, "qemu-system-x86_64"), "-M", "none", "-nodefaults",
                             "-display", "none", "-accel", "tcg", "-object", "iothread,id=io0",
                             "-blockdev", f"driver=file,node-name=f0,filename={d}/disk.raw",
                             "-qmp", f"unix:{sock},server=on,wait=off"],
                            stdout=subprocess.DEVNULL)
    try:
        wait_for(sock)
        return gcore(proc.pid, os.path.join(d, f"sys-{v}.core"))
    finally:
        kill(proc)


def stalled(d, name, argv, while_running=None):
    """argv under gdb until a worker is stopped inside a read; the core from
    there.  while_running() may return something to keep open till then."""
    core = os.path.join(d, name + ".core")
    with open(os.path.join(d, name + ".log"), "w") as out:
        gdb = subprocess.Popen(["gdb", "-batch", "-nx", "-q", "-x",
                                os.path.join(INJECT, "stall-worker-read.gdb"),
                                "-ex", f"generate-core-file {core}", "-ex", "kill",
                                "--args", *argv],
                               stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                               cwd=d)
        keep = None
        try:
            if while_running:
                keep = while_running()
            gdb.wait(timeout=300)
        finally:
            if gdb.poll() is None:
                kill(gdb)
            if keep:
                keep.close()
    if not os.path.exists(core):
        raise RuntimeError(f"no {core}: see {name}.log")
    return core


def mirror(d, v, b):
    sock, target = fresh(os.path.join(d, f"mirror-{v}.qmp")), os.path.join(d, f"mirror-{v}.raw")
    with open(target, "wb") as f:
        f.truncate(64 << 20)

    def start():
        wait_for(sock)
        qmp = connect(sock)
        s = qmp.makefile("rw")
        s.readline()
        for cmd in ({"execute": "qmp_capabilities"},
                    {"execute": "blockdev-mirror", "arguments": {
                        "job-id": "m0", "device": "f0", "target": "t0", "sync": "full"}}):
            s.write(json.dumps(cmd) + "\n")
            s.flush()
            if cmd["execute"] == "qmp_capabilities":
                s.readline()
        return qmp          # closed once the core is written

    return stalled(d, f"mirror-{v}", [
        os.path.join(b, "qemu-system-x86_64"), "-M", "none", "-nodefaults", "-display", "none",
        "-accel", "tcg", "-blockdev", f"driver=file,node-name=f0,filename={d}/disk.raw",
        "-blockdev", f"driver=file,node-name=t0,filename={target}",
        "-qmp", f"unix:{sock},server=on,wait=off"], start)


def convert(d, v, b):
    return stalled(d, f"convert-{v}", [
        os.path.join(b, "qemu-img"), "convert", "-f", "raw", "-O", "raw", "-t", "none",
        f"{d}/disk.raw", os.path.join(d, f"convert-{v}.raw")])


def storage_daemon(d, v, b):
    sock = fresh(os.path.join(d, f"qsd-{v}.nbd"))
    proc = subprocess.Popen([os.path.join(b, "storage-daemon", "qemu-storage-daemon"),
                             "--blockdev", f"driver=file,node-name=f0,filename={d}/disk.raw",
                             "--object", "iothread,id=io0",
                             "--nbd-server", f"addr.type=unix,addr.path={sock}",
                             "--export", "type=nbd,id=e0,node-name=f0,iothread=io0"],
                            stdout=subprocess.DEVNULL)
    client = None
    try:
        wait_for(sock)
        # A client that stays connected (7.2 aborts when an IOThread
        # export's client leaves).
        client = subprocess.Popen(["stdbuf", "-oL", os.path.join(b, "qemu-io"), "-r", "-f", "raw",
                                   "-c", "read 0 1M", "-c", "sleep 600000",
                                   f"nbd+unix:///f0?socket={sock}"],
                                  stdout=subprocess.PIPE, text=True)
        client.stdout.readline()
        return gcore(proc.pid, os.path.join(d, f"qsd-{v}.core"))
    finally:
        kill(proc)
        if client:
            kill(client)


def main():
    d = os.path.abspath(sys.argv[1])
    versions = sys.argv[2:] or ["5.2", "7.2", "10.0"]
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "disk.raw"), "wb") as f:    # data, not holes
        for _ in range(64):
            f.write(os.urandom(1 << 20))
    specs = []
    for v in versions:
        b = build(v)
        say(f"QEMU {v}: {b}")
        specs.append(f"io-lc-{v}={lost_completion(d, v, b)}:{b}/qemu-io:{PROFILE[v]}")
        specs.append(f"convert-{v}={convert(d, v, b)}:{b}/qemu-img")
        if os.path.exists(os.path.join(b, "storage-daemon", "qemu-storage-daemon")):
            specs.append(f"qsd-{v}={storage_daemon(d, v, b)}:{b}/storage-daemon/qemu-storage-daemon")
        if os.path.exists(os.path.join(b, "qemu-system-x86_64")):
            specs.append(f"sys-{v}={system_healthy(d, v, b)}:{b}/qemu-system-x86_64")
            specs.append(f"mirror-{v}={mirror(d, v, b)}:{b}/qemu-system-x86_64")
        say(f"QEMU {v}: cores made")
    print("\n".join(specs))


if __name__ == "__main__":
    main()
