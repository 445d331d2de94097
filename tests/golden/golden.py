# SPDX-License-Identifier: GPL-2.0-or-later
"""Golden outputs: run every view of aiocore on cores of the reference
runtime and normalize what legitimately changes from one core to the next.

Each normalization is listed in tests/golden/README.md with the reason it
is needed; nothing else is touched, so any other difference is a change in
aiocore's output (or in the runtime) and fails the test."""
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ.get("SOURCE_ROOT") or os.path.dirname(os.path.dirname(HERE))
EXPECTED_DIR = os.path.join(HERE, "..", "..", "fixtures", "golden")
AIOCORE = os.environ.get("AIOCORE", "aiocore")

sys.path.insert(0, os.path.join(SOURCE_ROOT, "tests", "integration"))
import runtimecores  # noqa: E402

PROFILES = runtimecores.PROFILES
HUNG = runtimecores.PATTERNS
# (variant, profile) the reference runtime cannot show (its --list says so).
UNSUPPORTED = {
    ("lost-coroutine-wake", "g2"): "the runtime models lost-coroutine-wake in g5 and g10 only",
}
# (file name part, arguments): the views of issue 5.
VIEWS = (
    ("diagnose", ["diagnose"]),
    ("ctx", ["ctx"]),
    ("bh-list", ["bh-list"]),
    ("thread-pool", ["thread-pool"]),
    ("events", ["events"]),
    ("coroutines-bt", ["coroutines", "--bt"]),
    ("threads", ["threads"]),
    ("waits", ["waits"]),
)
JSON_VIEW = ("diagnose-json", ["diagnose", "--json"])
# diagnose: 3 = a hang pattern found; every other view: 0 = complete.
EXIT = {"diagnose": 3, "diagnose-json": 3}


def build_root():
    """The meson build directory: the runtime's DWARF names its sources
    relative to it (meson compiles from the build root)."""
    root = os.environ.get("BUILD_ROOT")
    if root:
        return root
    # runtime executables live in BUILD/runtime/
    return os.path.dirname(os.path.dirname(os.path.abspath(runtimecores.runtime("g5"))))


def expected_path(view, variant, profile):
    ext = "json" if view.endswith("-json") else "txt"
    return os.path.join(EXPECTED_DIR, f"{view}-{variant}-{profile}.{ext}")


def aiocore(args, core, timeout=120):
    return subprocess.run([AIOCORE, *args, core], capture_output=True, text=True,
                          timeout=timeout)


def thread_ids(core):
    """The core's thread ids, from `aiocore threads --json`."""
    res = aiocore(["threads", "--json"], core)
    if res.returncode not in (0, 1):
        raise RuntimeError(f"aiocore threads --json {core}: exit {res.returncode}: {res.stderr}")
    return [t["tid"] for t in json.loads(res.stdout)["threads"]]


_ADDR = re.compile(r"0x[0-9a-f]{5,}")
# "at FILE:LINE" in frames (text) and "file": "..." (JSON is not used for
# frames in the goldens, but keep the rule general).
# A decimal number standing alone: not a line number (":127"), a frame
# number ("#2"), an offset, part of a name or path, or of a date
# ("2023-03" in a fix's title).  Only those equal to one of the core's
# thread ids are replaced.
_NUM = re.compile(r"(?<![\w:#+./-])\d+(?!\w|\.\d|-)")
_SRC = re.compile(r"(?<=at )(\S+?)(?=:\d+)")


# The main loop AioContext's `notified` flag is timing-dependent (see
# README.md) in every variant but lost-notify, where it is evidence.
NOTIFIED_VARIES = ("lost-completion", "event-lost-wakeup", "nested-poll", "iohandler-race")
_DELETED_BH = re.compile(r"^  0xADDR  cb=\S+ opaque=\S+ (name=\"[^\"]*\" )?\[deleted\] not runnable  \(first_bh\)$")
_BH_HEADER = re.compile(r"^(AioContext 0xADDR  .*: )(\d+) (BHs?)$")


def deleted_bhs(core):
    """How many BHs of the core are deleted but not freed yet (QEMU up to
    4.2 keeps them on first_bh until an outermost aio_bh_poll() ends), or
    None for a layout without first_bh (5.0 on frees them at once)."""
    res = aiocore(["bh-list", "--json"], core)
    if res.returncode not in (0, 1):
        raise RuntimeError(f"aiocore bh-list --json {core}: exit {res.returncode}: {res.stderr}")
    bhs = [b for c in json.loads(res.stdout)["contexts"] for b in c["bhs"]]
    if not any("first_bh" in (b["where"] or "") for b in bhs):
        return None
    return sum(1 for b in bhs if b["deleted"])


class Normalizer:
    """Normalizes the output of one view on one core.  core: its path as
    given to aiocore; tids: its thread ids; deleted: its number of deleted
    BHs (deleted_bhs(), None for 5.0+ layouts); variant: the runtime
    variant that made it."""

    def __init__(self, core, tids, deleted=None, variant=None, build=None, source=SOURCE_ROOT):
        self.core = core
        self.tids = [str(t) for t in tids]
        self.deleted = deleted
        self.variant = variant
        self.build = os.path.realpath(build or build_root())
        self.source = os.path.realpath(source)

    def source_path(self, m):
        """A runtime source file named relative to the build tree (e.g.
        ../../work/main/runtime/main.c) or absolutely: its path relative to
        the repository root.  Paths that do not resolve to a file of this
        tree (glibc's ../sysdeps/...) stay as they are."""
        name = m.group(1)
        full = os.path.realpath(name if os.path.isabs(name) else os.path.join(self.build, name))
        if full.startswith(self.source + os.sep) and os.path.exists(full):
            return os.path.relpath(full, self.source)
        return name

    def collapse_deleted(self, text):
        """bh-list: the deleted BHs of each AioContext are dropped, and its
        count says LIVE+DELETED (there may be none)."""
        out, block, ndel = [], [], 0

        def flush():
            nonlocal block, ndel
            if block:
                m = _BH_HEADER.match(block[0])
                if m:
                    block[0] = f"{m.group(1)}{int(m.group(2)) - ndel}+DELETED BHs"
            out.extend(block)
            block, ndel = [], 0

        for line in text.split("\n"):
            if line.startswith("AioContext "):
                flush()
            if _DELETED_BH.match(line):
                ndel += 1
                continue
            block.append(line)
        flush()
        return "\n".join(out)

    def __call__(self, text, view=None):
        # 1. The core's path, as given on the command line: a temporary file.
        text = text.replace(self.core, "CORE")
        # 2. Source file names: relative to the repository root.
        text = _SRC.sub(self.source_path, text)
        # 3. Thread ids: TID1, TID2, ... in order of first appearance.
        order = {}
        for m in _NUM.finditer(text):
            if m.group(0) in self.tids and m.group(0) not in order:
                order[m.group(0)] = f"TID{len(order) + 1}"
        if order:
            text = _NUM.sub(lambda m: order.get(m.group(0), m.group(0)), text)
        # 4. Addresses (ASLR): 5 or more hex digits. 0x0, small offsets
        #    (+0x129) and small values are kept.
        text = _ADDR.sub("0xADDR", text)
        # 5. Deleted BHs waiting to be freed (QEMU <= 4.2 layouts): freed
        #    when an outermost aio_bh_poll() ends, so 0 or more remain.
        if self.deleted is not None:
            if view == "bh-list":
                text = self.collapse_deleted(text)
            text = re.sub(r"(?<=AioContexts, )(\d+)(?= BHs)",
                          lambda m: f"{int(m.group(1)) - self.deleted}+DELETED", text)
            text = re.sub(r'(?<="bhs": )(\d+)',
                          lambda m: f'"{int(m.group(1)) - self.deleted}+DELETED"', text)
        # 6. ctx: the main loop's `notified` where it is timing-dependent.
        if view == "ctx" and self.variant in NOTIFIED_VARIES:
            text = re.sub(r"(?m)^(  notified:     )(true|false)$", r"\1TRUE-OR-FALSE", text, count=1)
        return text


def run_view(view, args, core, norm):
    """(normalized stdout, exit code, stderr) of one view on one core."""
    res = aiocore(args, core)
    return norm(res.stdout, view), res.returncode, res.stderr
