#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Regenerate fixtures/golden/ from fresh runtime cores, then check
# twice more on fresh cores that the normalized outputs are stable.
#
#   tests/golden/update.sh [BUILDDIR]      (default: build/)
#
# Run it after a change of aiocore's output, of the runtime's sources (the
# frames carry their line numbers) or of the toolchain (fixtures/golden/TOOLCHAIN),
# then review `git diff fixtures/golden/` before committing.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
# Builds what the test needs (and reconfigures if meson.build changed).
ninja -C "$build" >/dev/null
# Same environment as `meson test golden`: taken from meson's introspection.
exec python3 - "$build" <<'PY'
import json, os, subprocess, sys
build = sys.argv[1]
tests = json.load(open(os.path.join(build, "meson-info", "intro-tests.json")))
golden = [t for t in tests if t["name"] == "golden"]
if not golden:
    sys.exit(f"update.sh: no 'golden' test in {build} (tests disabled?)")
t = golden[0]
env = dict(os.environ, **t["env"])
subprocess.run(t["cmd"] + ["--update"], env=env, check=True)
for i in (1, 2):
    print(f"update.sh: stability check {i}/2 on fresh cores", file=sys.stderr)
    subprocess.run(t["cmd"], env=env, check=True)
print("update.sh: fixtures/golden/ regenerated and stable; review: git diff fixtures/golden/",
      file=sys.stderr)
PY
