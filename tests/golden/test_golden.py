# SPDX-License-Identifier: GPL-2.0-or-later
"""Golden outputs (issue 5): every view of aiocore on the inject-mode core
of every hang variant of the reference runtime, in every profile (g2, g5,
g10), compared after normalization (golden.py, README.md) with
fixtures/golden/<view>-<variant>-<profile>.txt, and `diagnose --json`
with fixtures/golden/diagnose-json-<variant>-<profile>.json.  The `fixed` core is
taken mid-flight and differs from run to run: it is only checked to have
no finding.

    test_golden.py            compare (a unified diff on failure)
    test_golden.py --update   rewrite fixtures/golden/ (tests/golden/update.sh)
"""
import concurrent.futures
import difflib
import json
import os
import platform
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden  # noqa: E402
from golden import runtimecores  # noqa: E402

UPDATE = "--update" in sys.argv
if UPDATE:
    sys.argv.remove("--update")

# Cores are cheap (~0.5 s) but the machine may be shared: two at a time.
JOBS = 2
# A hung core whose verdict is not its variant is made again, at most this
# many more times (README.md, "Cores that miss their pattern").
RETRIES = 2
TOOLCHAIN_FILE = os.path.join(golden.EXPECTED_DIR, "TOOLCHAIN")


def toolchain():
    """What the expected frames depend on besides the sources: the compiler
    that built the runtime and the C library (its frames, lines, offsets)."""
    libc = os.confstr("CS_GNU_LIBC_VERSION") if hasattr(os, "confstr") else "?"
    return (f"compiler: {os.environ.get('GOLDEN_CC', '?')}\n"
            f"libc: {libc}\nmachine: {platform.machine()}\n")


def verdict(core):
    res = golden.aiocore(["diagnose", "--json"], core)
    try:
        return json.loads(res.stdout)["verdict"]
    except (ValueError, KeyError):
        return f"(exit {res.returncode}: {res.stderr.strip()})"


def hung_core(variant, profile, notes):
    """The inject core of a hung variant, remade if it does not show its
    pattern (a rare interleaving of the runtime, not aiocore's output)."""
    key = (variant, profile)
    for attempt in range(RETRIES + 1):
        core = runtimecores.core(variant, profile)
        got = verdict(core)
        if got == variant:
            return core
        notes.append(f"NOTE: {variant} {profile}: core #{attempt + 1} has verdict "
                     f"{got!r}, not {variant!r}; making it again")
        # runtimecores caches the core by (variant, profile): drop it.
        runtimecores._cores.pop(key, None)
        os.unlink(core)
    raise AssertionError(f"{variant} {profile}: {RETRIES + 1} cores in a row without "
                         f"verdict {variant!r} (last: {got!r})")


def check_one(variant, profile):
    """Run every view on the core of (variant, profile); returns
    (failures, notes): failures are messages with a unified diff."""
    notes, failures = [], []
    core = hung_core(variant, profile, notes)
    norm = golden.Normalizer(core, golden.thread_ids(core), golden.deleted_bhs(core),
                             variant)
    for view, args in golden.VIEWS + (golden.JSON_VIEW,):
        out, rc, err = golden.run_view(view, args, core, norm)
        want_rc = golden.EXIT.get(view, 0)
        name = f"{view} {variant} {profile}"
        if rc != want_rc or err:
            failures.append(f"{name}: `aiocore {' '.join(args)}` exit {rc} "
                            f"(expected {want_rc}), stderr: {err.strip()!r}")
            continue
        path = golden.expected_path(view, variant, profile)
        if UPDATE:
            with open(path, "w") as f:
                f.write(out)
            continue
        try:
            with open(path) as f:
                want = f.read()
        except FileNotFoundError:
            failures.append(f"{name}: {path} is missing (tests/golden/update.sh)")
            continue
        if out != want:
            rel = os.path.relpath(path, golden.SOURCE_ROOT)
            diff = "".join(difflib.unified_diff(
                want.splitlines(True), out.splitlines(True),
                fromfile=rel, tofile=f"aiocore {' '.join(args)} (normalized)"))
            failures.append(f"{name}: output differs from {rel}\n{diff}")
    os.unlink(core)
    runtimecores._cores.pop((variant, profile), None)
    return failures, notes


def guarded(variant, profile):
    try:
        return check_one(variant, profile)
    except Exception as e:  # reported by the test of that variant
        return [f"{variant} {profile}: {type(e).__name__}: {e}"], []


class Golden(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if UPDATE:
            os.makedirs(golden.EXPECTED_DIR, exist_ok=True)
            with open(TOOLCHAIN_FILE, "w") as f:
                f.write(toolchain())
        try:
            with open(TOOLCHAIN_FILE) as f:
                cls.hint = "" if f.read() == toolchain() else (
                    "\nThe expected files were made with another toolchain "
                    f"({TOOLCHAIN_FILE}):\n{open(TOOLCHAIN_FILE).read()}this one is:\n"
                    f"{toolchain()}frames and offsets may differ for that reason alone.")
        except FileNotFoundError:
            cls.hint = ""
        jobs = [(v, p) for v in golden.HUNG for p in golden.PROFILES
                if (v, p) not in golden.UNSUPPORTED]
        with concurrent.futures.ThreadPoolExecutor(JOBS) as ex:
            cls.results = dict(zip(jobs, ex.map(lambda j: guarded(*j), jobs)))

    def check_variant(self, variant):
        for profile in golden.PROFILES:
            with self.subTest(profile=profile):
                if (variant, profile) in golden.UNSUPPORTED:
                    self.skipTest(golden.UNSUPPORTED[(variant, profile)])
                failures, notes = self.results[(variant, profile)]
                for n in notes:
                    print(n, file=sys.stderr)
                if failures:
                    self.fail("\n\n".join(failures) + self.hint)

    def test_fixed_no_finding(self):
        """The healthy core, taken mid-flight: no finding, exit 0."""
        for profile in golden.PROFILES:
            with self.subTest(profile=profile):
                core = runtimecores.core("fixed", profile)
                res = golden.aiocore(["diagnose", "--json"], core)
                self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
                doc = json.loads(res.stdout)
                self.assertEqual(doc["verdict"], "none")
                self.assertEqual(doc["findings"], [])
                res = golden.aiocore(["diagnose"], core)
                self.assertEqual(res.returncode, 0, res.stderr)
                self.assertIn("VERDICT: no known hang pattern", res.stdout)


# One test per hang variant of runtimecores.PATTERNS: test_lost_completion, ...
for _variant in golden.HUNG:
    setattr(Golden, "test_" + _variant.replace("-", "_"),
            lambda self, v=_variant: self.check_variant(v))


if __name__ == "__main__":
    unittest.main(verbosity=2)
