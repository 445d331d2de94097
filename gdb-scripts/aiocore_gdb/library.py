# SPDX-License-Identifier: GPL-2.0-or-later
"""libaiocore-gdb.so through ctypes (analyzer/gdb/gdb-api.h), and the target
gdb is looking at, described for it.

On a core the library gets the core's path, the executable, the sysroot and
the debug directory and reads the core itself: what it prints is what
`aiocore VIEW CORE` prints.  On a live process gdb already holds under
ptrace, it gets the pid and callbacks that read registers and memory
through gdb.  Nothing here writes memory, calls a function in the inferior
or resumes a thread.
"""
import ctypes
import os
import re

import gdb

ABI_VERSION = 1
MAX_GREGS = 34


class Thread(ctypes.Structure):
    """struct ac_thread (analyzer/target/target.h)."""
    _fields_ = [("tid", ctypes.c_int32),
                ("name", ctypes.c_char * 32),
                ("gregs", ctypes.c_uint64 * MAX_GREGS),
                ("n_gregs", ctypes.c_uint),
                ("tls_base", ctypes.c_uint64)]


READ_MEMORY = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_uint64,
                               ctypes.c_void_p, ctypes.c_size_t)
THREAD_COUNT = ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.c_void_p)
THREAD = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t,
                          ctypes.POINTER(Thread))


class Callbacks(ctypes.Structure):
    """struct ac_target_callbacks."""
    _fields_ = [("read_memory", READ_MEMORY),
                ("thread_count", THREAD_COUNT),
                ("thread", THREAD),
                ("arg", ctypes.c_void_p)]


class Target(ctypes.Structure):
    """struct aiocore_target (analyzer/gdb/gdb-api.h)."""
    _fields_ = [("core_path", ctypes.c_char_p),
                ("exe_path", ctypes.c_char_p),
                ("sysroot", ctypes.c_char_p),
                ("debug_dir", ctypes.c_char_p),
                ("pid", ctypes.c_int),
                ("callbacks", ctypes.POINTER(Callbacks))]


# Registers in prstatus (user_regs_struct) order, as gdb names them.
_X86_64_GREGS = ("r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10",
                 "r9", "r8", "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax",
                 "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base",
                 "ds", "es", "fs", "gs")
_AARCH64_GREGS = tuple("x%d" % i for i in range(31)) + ("sp", "pc", "cpsr")
_GREGS = {"i386:x86-64": (_X86_64_GREGS, "fs_base"),
          "aarch64": (_AARCH64_GREGS, "tpidr")}

_CORE_FILE = re.compile(r"^Local core dump file:\s*\n\s*`(.*)', file type",
                        re.MULTILINE)


def _bytes(text):
    return text.encode() if text is not None else None


class Library:
    """The loaded libaiocore-gdb.so."""

    def __init__(self, path):
        lib = ctypes.CDLL(path)
        self.path = path
        for name, restype, argtypes in (
                ("aiocore_abi_version", ctypes.c_int, []),
                ("aiocore_abi_thread_size", ctypes.c_size_t, []),
                ("aiocore_abi_max_gregs", ctypes.c_int, []),
                ("aiocore_run", ctypes.c_void_p,
                 [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_char_p),
                  ctypes.POINTER(Target), ctypes.POINTER(ctypes.c_void_p),
                  ctypes.POINTER(ctypes.c_int)]),
                ("aiocore_free", None, [ctypes.c_void_p]),
                ("aiocore_view_count", ctypes.c_int, []),
                ("aiocore_view_name", ctypes.c_char_p, [ctypes.c_int]),
                ("aiocore_view_summary", ctypes.c_char_p, [ctypes.c_int]),
                ("aiocore_view_help", ctypes.c_char_p, [ctypes.c_int]),
                ("aiocore_view_options_help", ctypes.c_char_p, []),
                ("aiocore_context_addresses", ctypes.c_int,
                 [ctypes.POINTER(Target), ctypes.POINTER(ctypes.POINTER(ctypes.c_uint64)),
                  ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_void_p)]),
                ("aiocore_bh_addresses", ctypes.c_int,
                 [ctypes.POINTER(Target), ctypes.c_uint64,
                  ctypes.POINTER(ctypes.POINTER(ctypes.c_uint64)),
                  ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_void_p)])):
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = argtypes
        if (lib.aiocore_abi_version() != ABI_VERSION
                or lib.aiocore_abi_thread_size() != ctypes.sizeof(Thread)
                or lib.aiocore_abi_max_gregs() != MAX_GREGS):
            raise gdb.GdbError("aiocore: %s does not match these scripts "
                               "(ABI %d)" % (path, lib.aiocore_abi_version()))
        self._lib = lib

    def views(self):
        """[(name, summary, help)] in the table's order."""
        lib = self._lib
        return [(lib.aiocore_view_name(i).decode(),
                 lib.aiocore_view_summary(i).decode(),
                 lib.aiocore_view_help(i).decode())
                for i in range(lib.aiocore_view_count())]

    def options_help(self):
        return self._lib.aiocore_view_options_help().decode()

    def _take(self, pointer):
        """Text of a malloc'd C string, freed."""
        if not pointer:
            return ""
        try:
            return ctypes.string_at(pointer).decode("utf-8", "replace")
        finally:
            self._lib.aiocore_free(pointer)

    def run(self, view, args):
        """`aiocore VIEW ARGS... TARGET`: (stdout text, stderr text, exit code)."""
        with TargetDescription() as target:
            argv = (ctypes.c_char_p * (len(args) + 1))(*[_bytes(a) for a in args], None)
            err = ctypes.c_void_p()
            code = ctypes.c_int()
            out = self._lib.aiocore_run(_bytes(view), len(args), argv,
                                        ctypes.byref(target.struct),
                                        ctypes.byref(err), ctypes.byref(code))
            return self._take(out), self._take(err), code.value

    def _addresses(self, fn, *args):
        with TargetDescription() as target:
            array = ctypes.POINTER(ctypes.c_uint64)()
            n = ctypes.c_size_t()
            err = ctypes.c_void_p()
            code = fn(ctypes.byref(target.struct), *args, ctypes.byref(array),
                      ctypes.byref(n), ctypes.byref(err))
            message = self._take(err)
            if code:
                raise gdb.GdbError(message or "aiocore: failed (%d)" % code)
            try:
                return [array[i] for i in range(n.value)]
            finally:
                self._lib.aiocore_free(ctypes.cast(array, ctypes.c_void_p))

    def context_addresses(self):
        """The AioContexts, in the order aio-ctx lists them."""
        return self._addresses(self._lib.aiocore_context_addresses)

    def bh_addresses(self, ctx):
        """The BHs of the AioContext at ctx, in aio-bh-list's order."""
        return self._addresses(self._lib.aiocore_bh_addresses, ctypes.c_uint64(ctx))


def core_path():
    """The core gdb has open, or None for a live process."""
    inferior = gdb.selected_inferior()
    connection = getattr(inferior, "connection", None)
    if connection is not None and connection.type != "core":
        return None
    files = gdb.execute("info files", to_string=True)
    match = _CORE_FILE.search(files)
    if not match:
        return None
    return os.path.abspath(match.group(1))


def _sysroot():
    """gdb's sysroot as a directory, or None ("target:" is the local root)."""
    value = gdb.parameter("sysroot") or ""
    for prefix in ("target:", "remote:"):
        if value.startswith(prefix):
            value = value[len(prefix):]
    return value if value not in ("", "/") else None


def _debug_dir():
    """debug-file-directory when it is not gdb's default (one directory)."""
    value = gdb.parameter("debug-file-directory") or ""
    if value in ("", "/usr/lib/debug") or ":" in value:
        return None
    return value


def target_key():
    """What the cached lookups belong to: the core's path or the pid."""
    core = core_path()
    return ("core", core) if core else ("pid", gdb.selected_inferior().pid)


class _LiveThreads:
    """The inferior's threads with their registers, read through gdb once
    (switching threads only selects them; the selection is restored)."""

    def __init__(self, inferior):
        self.threads = []
        arch = inferior.architecture().name()
        if arch not in _GREGS:
            raise gdb.GdbError("aiocore: live targets of architecture %s are not "
                               "supported" % arch)
        names, tls_name = _GREGS[arch]
        selected = gdb.selected_thread()
        try:
            frame = gdb.selected_frame()
        except gdb.error:
            frame = None
        try:
            for thread in sorted(inferior.threads(), key=lambda t: t.ptid[1]):
                if not thread.is_valid() or thread.is_exited():
                    continue
                thread.switch()
                newest = gdb.newest_frame()
                regs = [int(newest.read_register(n)) & 0xffffffffffffffff
                        for n in names]
                try:
                    tls = int(newest.read_register(tls_name)) & 0xffffffffffffffff
                except (gdb.error, ValueError):
                    tls = 0
                self.threads.append((thread.ptid[1], thread.name or "", regs, tls))
        finally:
            if selected is not None and selected.is_valid():
                selected.switch()
                if frame is not None and frame.is_valid():
                    frame.select()


class TargetDescription:
    """struct aiocore_target for what gdb has open; a context manager that
    keeps the callbacks alive while the library runs."""

    def __init__(self):
        inferior = gdb.selected_inferior()
        if inferior.pid == 0 and core_path() is None:
            raise gdb.GdbError("aiocore: no process and no core; use `core FILE` "
                               "or `attach PID` first")
        self._inferior = inferior
        self.struct = Target()
        self._keep = []
        self.struct.sysroot = _bytes(_sysroot())
        self.struct.debug_dir = _bytes(_debug_dir())
        core = core_path()
        if core:
            self.struct.core_path = _bytes(core)
            self.struct.exe_path = _bytes(gdb.current_progspace().filename)
            return
        # Live: the library finds the executable in /proc/PID/maps, as
        # `aiocore VIEW --pid PID` does.
        self.struct.pid = inferior.pid
        self._threads = _LiveThreads(inferior).threads
        callbacks = Callbacks(READ_MEMORY(self._read_memory),
                              THREAD_COUNT(self._thread_count),
                              THREAD(self._thread), None)
        self._keep.append(callbacks)
        self.struct.callbacks = ctypes.pointer(callbacks)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._keep = []
        return False

    # The callbacks must not raise into C: any failure is -1 / 0.
    def _read_memory(self, _arg, address, buf, size):
        try:
            data = self._inferior.read_memory(address, size)
            ctypes.memmove(buf, bytes(data), size)
            return 0
        except Exception:  # gdb.MemoryError, OverflowError, ...
            return -1

    def _thread_count(self, _arg):
        return len(self._threads)

    def _thread(self, _arg, index, ret):
        try:
            tid, name, regs, tls = self._threads[index]
            thread = ret.contents
            thread.tid = tid
            thread.name = name.encode()[:31]
            for i, value in enumerate(regs):
                thread.gregs[i] = value
            thread.n_gregs = len(regs)
            thread.tls_base = tls
            return 0
        except Exception:
            return -1
