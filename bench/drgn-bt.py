# SPDX-License-Identifier: GPL-2.0-or-later
"""drgn's counterpart of `thread apply all bt` (bench/peers.sh):
/usr/bin/python3 bench/drgn-bt.py CORE [EXE]."""
import sys

import drgn

prog = drgn.Program()
prog.set_core_dump(sys.argv[1])
try:
    # What works in Debian's 0.0.22: the default search plus the executable.
    prog.load_debug_info(sys.argv[2:], default=True)
except drgn.MissingDebugInfoError:
    pass
n = 0
for thread in prog.threads():
    print(f"thread {thread.tid}")
    print(thread.stack_trace())
    n += 1
print(f"{n} threads")
