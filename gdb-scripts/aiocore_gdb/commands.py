# SPDX-License-Identifier: GPL-2.0-or-later
"""aio-<view>: one gdb command per view in the library's table.  Each one
prints what `aiocore VIEW` prints on stdout (the library renders it), its
messages on gdb's stderr, and sets $aio_exit to the CLI's exit code:
0 complete, 1 partial (notes or warnings), 3 a hang pattern was found.
Usage errors (64) and fatal ones (2) are gdb errors."""
import gdb

from . import functions

EXIT_PARTIAL = 1
EXIT_FOUND = 3
OPTIONS = ("--json", "--ctx", "--bt", "--help")


def _complete_ctx(word):
    """Known AioContext addresses (cached by functions) starting with word."""
    try:
        addresses = functions.context_addresses()
    except gdb.GdbError:
        return []
    return [a for a in ("0x%x" % addr for addr in addresses) if a.startswith(word)]


def _address(text):
    """--ctx takes a gdb expression too ($aio_ctx(1), iohandler_ctx):
    evaluated here, to the number the CLI would be given."""
    try:
        int(text, 0)
        return text
    except ValueError:
        pass
    try:
        return "0x%x" % (int(gdb.parse_and_eval(text)) & 0xffffffffffffffff)
    except (gdb.error, ValueError):
        return text   # the library reports it as the CLI does


def _ctx_values(args):
    args = list(args)
    for i, arg in enumerate(args):
        if arg.startswith("--ctx="):
            args[i] = "--ctx=" + _address(arg[6:])
        elif i > 0 and args[i - 1] == "--ctx":
            args[i] = _address(arg)
    return args


class ViewCommand(gdb.Command):
    """Base of the aio-<view> commands; the subclasses carry the help."""

    def __init__(self, lib, view):
        super().__init__("aio-" + view, gdb.COMMAND_DATA)
        self.name = "aio-" + view
        self._lib = lib
        self._view = view

    def invoke(self, argument, from_tty):
        out, err, code = self._lib.run(self._view, _ctx_values(gdb.string_to_argv(argument)))
        gdb.set_convenience_variable("aio_exit", code)
        gdb.write(out)
        if code not in (0, EXIT_PARTIAL, EXIT_FOUND):
            raise gdb.GdbError(err.rstrip("\n") or
                               "aiocore %s: failed (exit code %d)" % (self._view, code))
        if err:
            gdb.write(err, gdb.STDERR)
        gdb.flush()

    def complete(self, text, word):
        # gdb breaks words at '-' too: complete the whole blank-separated
        # argument, then return only the part after gdb's `word`.
        current = "" if not text or text[-1].isspace() else text.split()[-1]
        before = text[:len(text) - len(current)].split()
        if before and before[-1] == "--ctx":
            candidates = _complete_ctx(current)
        else:
            candidates = [o for o in OPTIONS if o.startswith(current) and o not in before]
        cut = len(current) - len(word or "")
        return [c[cut:] for c in candidates]


def _doc(view, summary, help_text, options_help):
    return ("%s.\n\nUsage: aio-%s [--json] [--ctx ADDR] [--bt]\n\n%s\n"
            "Options:\n"
            "  --json            machine-readable output\n"
            "%s"
            "  -h, --help        this text\n\n"
            "The same view as `aiocore %s CORE`, from the same C code; works on a\n"
            "core and on a live process (read-only).  Sets $aio_exit to the CLI's\n"
            "exit code (0 ok, 1 partial, 3 pattern found)."
            % (summary[0].upper() + summary[1:], view, help_text, options_help, view))


def register(lib):
    """Make the commands; returns them (for `help aio`)."""
    options_help = lib.options_help()
    made = []
    for view, summary, help_text in lib.views():
        cls = type("Aio" + view.title().replace("-", "") + "Command", (ViewCommand,),
                   {"__doc__": _doc(view, summary, help_text, options_help)})
        made.append(cls(lib, view))
    return made
