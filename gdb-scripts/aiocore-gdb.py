# SPDX-License-Identifier: GPL-2.0-or-later
"""aiocore's gdb commands: aio-ctx, aio-bh-list, aio-thread-pool, aio-events,
aio-coroutines, aio-diagnose (one per view of the `aiocore` CLI, printing the
same bytes) and the convenience functions $aio_ctx(), $aio_bh(), ...

    (gdb) source BUILD/gdb-scripts/aiocore-gdb.py     a build tree
    gdb -x PREFIX/share/aiocore/gdb/aiocore-gdb.py    installed
    gdb /usr/bin/qemu-img core                         auto-loaded (docs/gdb.md)

The library is found from $AIOCORE_GDB_LIB, else from aiocore_gdb_paths.py
next to this file (written by meson), else in ../build*/gdb-scripts/.
"""
import importlib.util
import os
import sys


def _paths():
    """(library or None, package dir) for this copy of the script."""
    here = os.path.dirname(os.path.realpath(__file__))
    spec = importlib.util.spec_from_file_location(
        "aiocore_gdb_paths", os.path.join(here, "aiocore_gdb_paths.py"))
    try:
        paths = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(paths)
        relative = getattr(paths, "RELATIVE_LIBRARY", "")
        if relative and os.path.exists(os.path.join(here, relative)):
            return os.path.normpath(os.path.join(here, relative)), paths.PACKAGE_DIR or here
        return paths.LIBRARY, paths.PACKAGE_DIR or here
    except (OSError, AttributeError):
        return None, here


def _load():
    library, package_dir = _paths()
    if package_dir not in sys.path:
        sys.path.insert(0, package_dir)
    import aiocore_gdb
    aiocore_gdb.load(os.environ.get("AIOCORE_GDB_LIB") or library,
                     os.path.dirname(os.path.realpath(__file__)))


_load()
