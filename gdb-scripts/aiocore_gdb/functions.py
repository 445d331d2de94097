# SPDX-License-Identifier: GPL-2.0-or-later
"""Convenience functions for scripts, in the style of Linux's lx-* helpers:

  $aio_ctx_count()       number of AioContexts (aio-ctx's list)
  $aio_ctx(n)            the n-th AioContext, as AioContext * (from 0)
  $aio_bh_count(ctx)     number of BHs of that AioContext (aio-bh-list's list)
  $aio_bh(ctx, n)        its n-th BH, as QEMUBH *

The addresses come from the library, the same lookups as the views.  They
are cached per target and dropped whenever the inferior may have changed
(resumed, exited, new objfiles, memory written); types are looked up lazily
and dropped on new objfiles.
"""
import gdb

from . import library

_lib = None
_cache = {}
_types = {}


def _invalidate(*_):
    _cache.clear()


def _invalidate_types(*_):
    _cache.clear()
    _types.clear()


def _cached(key, compute):
    key = (library.target_key(),) + key
    if key not in _cache:
        _cache[key] = compute()
    return _cache[key]


def context_addresses():
    return _cached(("ctx",), _lib.context_addresses)


def bh_addresses(ctx):
    return _cached(("bh", ctx), lambda: _lib.bh_addresses(ctx))


def _pointer(address, type_name):
    """address as TYPE *, or as an unsigned long when gdb lacks the type."""
    if type_name not in _types:
        try:
            _types[type_name] = gdb.lookup_type(type_name).pointer()
        except gdb.error:
            _types[type_name] = None
    ptr_type = _types[type_name]
    value = gdb.Value(address)
    return value.cast(ptr_type) if ptr_type is not None else value


def _index(value, count, what):
    n = int(value)
    if not 0 <= n < count:
        raise gdb.GdbError("%s: index %d out of range (there are %d)" % (what, n, count))
    return n


class AioCtxCount(gdb.Function):
    """$aio_ctx_count(): the number of AioContexts aio-ctx lists."""

    def __init__(self):
        super().__init__("aio_ctx_count")
        self.name = "aio_ctx_count"

    def invoke(self):
        return len(context_addresses())


class AioCtx(gdb.Function):
    """$aio_ctx(N): the N-th AioContext that aio-ctx lists (from 0), as an
    AioContext *.  Example: p *$aio_ctx(0)"""

    def __init__(self):
        super().__init__("aio_ctx")
        self.name = "aio_ctx"

    def invoke(self, n):
        addresses = context_addresses()
        return _pointer(addresses[_index(n, len(addresses), "$aio_ctx")], "AioContext")


class AioBhCount(gdb.Function):
    """$aio_bh_count(CTX): the number of BHs aio-bh-list shows for the
    AioContext CTX (an address or AioContext *, e.g. $aio_ctx(0))."""

    def __init__(self):
        super().__init__("aio_bh_count")
        self.name = "aio_bh_count"

    def invoke(self, ctx):
        return len(bh_addresses(int(ctx)))


class AioBh(gdb.Function):
    """$aio_bh(CTX, N): the N-th BH that aio-bh-list shows for the AioContext
    CTX, as a QEMUBH *.  Example: p $aio_bh($aio_ctx(0), 0)->cb"""

    def __init__(self):
        super().__init__("aio_bh")
        self.name = "aio_bh"

    def invoke(self, ctx, n):
        addresses = bh_addresses(int(ctx))
        return _pointer(addresses[_index(n, len(addresses), "$aio_bh")], "QEMUBH")


def register(lib):
    """Make the functions; returns them (for `help aio`)."""
    global _lib
    _lib = lib
    for event in (gdb.events.cont, gdb.events.exited, gdb.events.memory_changed,
                  gdb.events.inferior_call, gdb.events.stop):
        event.connect(_invalidate)
    gdb.events.new_objfile.connect(_invalidate_types)
    gdb.events.clear_objfiles.connect(_invalidate_types)
    return [AioCtxCount(), AioCtx(), AioBhCount(), AioBh()]
