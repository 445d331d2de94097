# SPDX-License-Identifier: GPL-2.0-or-later
"""aiocore in gdb: the CLI's views as commands, through the CLI's own C code.

library    ctypes binding of libaiocore-gdb.so; what gdb knows -> a target
commands   aio-<view> for every view in the library's table
functions  $aio_ctx(n), $aio_ctx_count(), $aio_bh(ctx, n), $aio_bh_count(ctx)
overview   `aio` / `help aio`: the list of both
"""
import glob
import os

import gdb

_loaded = False


def _find_library(script_dir):
    """The newest libaiocore-gdb.so in a build directory beside the source
    tree that holds script_dir (gdb-scripts/ -> ../build*/analyzer/gdb/)."""
    pattern = os.path.join(os.path.dirname(script_dir), "build*",
                           "analyzer", "gdb", "libaiocore-gdb.so")
    found = sorted(glob.glob(pattern), key=os.path.getmtime)
    return found[-1] if found else None


def load(library_path, script_dir):
    """Load the library and register the commands and functions, once."""
    global _loaded
    if _loaded:
        return
    from . import library, commands, functions, overview
    path = library_path or _find_library(script_dir)
    if not path or not os.path.exists(path):
        raise gdb.GdbError(
            "aiocore: libaiocore-gdb.so not found (%s); build aiocore or set "
            "AIOCORE_GDB_LIB" % (path or "no build directory next to " + script_dir))
    lib = library.Library(path)
    overview.register(commands.register(lib), functions.register(lib))
    _loaded = True
