# SPDX-License-Identifier: GPL-2.0-or-later
"""`aio` and `help aio`: every aio-* command with its one-line summary and
the $aio_* functions, the way `help qemu` lists QEMU's own gdb commands.
The list is built from the commands actually registered (their first doc
line), so a new view shows up here without touching this file."""
import gdb

_HEAD = ("aiocore: why a QEMU process hangs, from its core or while it runs.\n\n"
         "Usage: aio       (prints this list; `help aio-COMMAND` for one command)\n")


def _first_sentence(doc):
    """Up to the first ".  " (docstrings end sentences with two spaces)."""
    first = (doc or "").strip().split("\n\n")[0].split(".  ")[0]
    return " ".join(first.split()).rstrip(".")


def _text(commands, functions):
    """commands: [(name, doc)]; functions: [(name, doc)]."""
    width = max(len(name) for name, _ in commands + functions)
    # commands first, then functions, each "NAME -- summary" as gdb's help
    lines = [_HEAD, "List of aio-* commands:", ""]
    lines += ["%-*s -- %s" % (width, name, _first_sentence(doc)) for name, doc in commands]
    lines += ["", "Convenience functions:", ""]
    lines += ["%-*s -- %s" % (width, name, summary) for name, summary in functions]
    lines += ["", "docs/gdb.md (installed: share/doc/aiocore/gdb.md) has the details."]
    return "\n".join(lines)


class AioCommand(gdb.Command):
    """Base of `aio`; register() gives it the list as its doc."""

    def __init__(self, text):
        super().__init__("aio", gdb.COMMAND_DATA)
        self._text = text

    def invoke(self, argument, from_tty):
        if argument.strip():
            raise gdb.GdbError("aio takes no argument; the commands are aio-*: "
                               "help aio")
        gdb.write(self._text + "\n")


def register(commands, functions):
    """commands, functions: the gdb.Command / gdb.Function objects made."""
    # A function's doc starts "$aio_ctx(N): what it is": both halves shown.
    signatures = [_first_sentence(type(f).__doc__).split(": ", 1) for f in functions]
    text = _text(sorted((c.name, type(c).__doc__) for c in commands),
                 sorted((s[0], s[-1]) for s in signatures))
    type("AioOverviewCommand", (AioCommand,), {"__doc__": text})(text)
