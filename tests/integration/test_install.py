# SPDX-License-Identifier: GPL-2.0-or-later
"""An installed aiocore (meson install into a temporary DESTDIR): docs/ is
installed under DATADIR/doc/aiocore, and the verdict's Docs: line and the
JSON "doc" name the installed page, which exists; moved elsewhere it names
its new place; without the page, and from the build tree, the source
tree's docs/patterns/ID.md as before."""
import filecmp
import json
import os
import re

import installed
import runtimecores
from aiocoretest import TempDirTestCase, run

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DOCS = os.path.normpath(os.path.join(HERE, "..", "..", "docs"))
DOCS_LINE = re.compile(r"^  Docs:         (.*)$", re.MULTILINE)


class Installed(TempDirTestCase):
    def diagnose(self, exe, core):
        res = run([exe, "diagnose", core])
        self.assertEqual(res.returncode, 3, res.stderr)
        text_doc = DOCS_LINE.search(res.stdout).group(1)
        res = run([exe, "diagnose", "--json", core])
        self.assertEqual(res.returncode, 3, res.stderr)
        self.assertEqual(json.loads(res.stdout)["findings"][0]["doc"], text_doc)
        return text_doc

    def test_docs_line_names_the_installed_page(self):
        files = installed.install(self.tmp)
        exe = installed.find(files, "/bin/aiocore")
        page = os.path.join(installed.find(files, "/share/doc/aiocore"),
                            "patterns", "lost-completion.md")
        self.assertTrue(filecmp.cmp(page, os.path.join(SOURCE_DOCS, "patterns",
                                                       "lost-completion.md"), shallow=False))
        for name in ("json.md", "gdb.md", "triage.md", "patterns/README.md"):
            self.assertTrue(os.path.exists(os.path.join(os.path.dirname(page), "..", name)),
                            name)
        core = runtimecores.core("lost-completion", "g5")

        self.assertEqual(self.diagnose(exe, core), page)
        # the build tree's aiocore ignores any installed copy
        self.assertEqual(self.diagnose(os.environ["AIOCORE"], core),
                         "docs/patterns/lost-completion.md")

        # a moved prefix names its own copy
        prefix = exe[:-len("/bin/aiocore")]
        moved = os.path.join(self.tmp, "moved")
        os.rename(prefix, moved)
        moved_exe = os.path.join(moved, "bin", "aiocore")
        moved_page = moved + page[len(prefix):]
        self.assertEqual(self.diagnose(moved_exe, core), moved_page)
        self.assertTrue(os.path.exists(moved_page))

        # no page installed: the source-tree path, as uninstalled
        os.unlink(moved_page)
        self.assertEqual(self.diagnose(moved_exe, core), "docs/patterns/lost-completion.md")


if __name__ == "__main__":
    import unittest
    unittest.main(verbosity=2)
