# SPDX-License-Identifier: GPL-2.0-or-later
"""The docs match the tool: every option a verb's --help lists is
documented (README.md or docs/), and every option the docs give to
`aiocore VERB` is in that verb's --help."""
import glob
import os
import re
import unittest

from aiocoretest import aiocore

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LONG = re.compile(r"(?<![\w-])--[a-z][a-z-]*")


def mentions(text, opt):
    return re.search(r"(?<![\w-])" + re.escape(opt) + r"(?![\w-])", text) is not None


def docs():
    paths = [os.path.join(SOURCE, "README.md")]
    paths += sorted(glob.glob(os.path.join(SOURCE, "docs", "**", "*.md"), recursive=True))
    return {p: open(p).read() for p in paths}


class DocsMatchTool(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        res = aiocore("--help")
        assert res.returncode == 0, res.stderr
        cls.main_help = res.stdout
        verbs = re.search(r"\nVerbs:\n(.*?)\n\n", res.stdout, re.S).group(1)
        cls.verbs = [line.split()[0] for line in verbs.splitlines()]
        cls.helps = {}
        for verb in cls.verbs:
            res = aiocore(verb, "--help")
            assert res.returncode == 0, (verb, res.stderr)
            cls.helps[verb] = res.stdout
        res = aiocore("diagnose", "--batch", "--help")
        cls.helps["diagnose --batch"] = res.stdout
        cls.docs = docs()
        cls.all_docs = "\n".join(cls.docs.values())

    def test_verbs_found(self):
        for verb in ("diagnose", "ctx", "bh-list", "thread-pool", "events",
                     "coroutines", "threads", "reproduce"):
            self.assertIn(verb, self.verbs)
        self.assertIn("--version", self.main_help)
        self.assertIn("--batch", self.helps["diagnose"])

    def test_every_help_option_is_documented(self):
        for verb, text in self.helps.items():
            for opt in set(LONG.findall(text)):
                with self.subTest(verb=verb, option=opt):
                    self.assertTrue(mentions(self.all_docs, opt),
                                    f"aiocore {verb} --help lists {opt}; no doc mentions it")

    def test_every_documented_option_exists(self):
        union = "\n".join(self.helps.values()) + self.main_help
        for path, text in self.docs.items():
            for line in text.splitlines():
                for m in re.finditer(r"(?:^|[\s`(])aiocore ([a-z][a-z-]*)\b([^`|;#)]*)", line):
                    verb, rest = m.group(1), m.group(2)
                    if "--batch" in rest and verb == "diagnose":
                        help_text = self.helps["diagnose --batch"]
                    else:
                        help_text = self.helps.get(verb, union)
                    for opt in LONG.findall(rest):
                        with self.subTest(doc=os.path.relpath(path, SOURCE), option=opt):
                            self.assertTrue(mentions(help_text, opt),
                                            f"{line.strip()!r}: aiocore {verb} has no {opt}")

    def test_refused_options(self):
        # Options a view does not honour are refused, not silently ignored.
        for verb, opt in (("diagnose", "--ctx"), ("events", "--ctx"), ("ctx", "--bt")):
            with self.subTest(verb=verb, option=opt):
                res = aiocore(verb, opt, *(["0x1"] if opt == "--ctx" else []), "core")
                self.assertEqual(res.returncode, 64, res.stderr)
                self.assertIn(f"{opt} is not an option of {verb}", res.stderr)
                self.assertNotIn(opt, self.helps[verb])


if __name__ == "__main__":
    unittest.main(verbosity=2)
