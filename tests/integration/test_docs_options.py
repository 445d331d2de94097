# SPDX-License-Identifier: GPL-2.0-or-later
"""The docs match the tool: every option a verb's --help lists is
documented (README.md, docs/, the man page), and every option the docs give
to `aiocore VERB` is in that verb's --help.  The man page builds without a
warning; bash completion offers the verbs, their options and patterns."""
import glob
import os
import re
import shutil
import subprocess
import unittest

from aiocoretest import aiocore

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAN_PAGE = os.path.join(SOURCE, "analyzer", "cli", "aiocore.1.rst")
COMPLETION = os.path.join(SOURCE, "analyzer", "cli", "aiocore.bash-completion")
LONG = re.compile(r"(?<![\w-])--[a-z][a-z-]*")


def mentions(text, opt):
    return re.search(r"(?<![\w-])" + re.escape(opt) + r"(?![\w-])", text) is not None


def docs():
    paths = [os.path.join(SOURCE, "README.md")]
    paths += sorted(glob.glob(os.path.join(SOURCE, "docs", "**", "*.md"), recursive=True))
    paths.append(MAN_PAGE)
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


    def test_man_page_builds(self):
        rst2man = shutil.which("rst2man") or shutil.which("rst2man.py")
        if not rst2man:
            self.skipTest("no rst2man (python3-docutils)")
        res = subprocess.run([rst2man, "--halt=warning", MAN_PAGE], capture_output=True,
                             text=True, timeout=60)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn('.TH "AIOCORE" 1', res.stdout)
        for verb in self.verbs:
            self.assertIn(verb.replace("-", "\\-"), res.stdout)

    def complete(self, *words):
        """What bash offers after `aiocore WORDS...` (the last word being
        completed), with the real aiocore on PATH."""
        script = (f"source '{COMPLETION}'\n"
                  "COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); _aiocore\n"
                  "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
        env = dict(os.environ, PATH=os.path.dirname(os.path.abspath(os.environ["AIOCORE"]))
                   + os.pathsep + os.environ["PATH"])
        res = subprocess.run(["bash", "-c", script, "bash", "aiocore", *words],
                             capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(res.returncode, 0, res.stderr)
        return res.stdout.split()

    def test_bash_completion(self):
        self.assertEqual(sorted(self.complete("")), sorted(self.verbs + ["--help", "--version"]))
        self.assertEqual(self.complete("thr"), ["thread-pool", "threads"])
        for verb in self.verbs:
            with self.subTest(verb=verb):
                self.assertEqual(sorted(self.complete(verb, "--")),
                                 sorted(set(LONG.findall(self.helps[verb]))))
        self.assertIn("lost-completion", self.complete("reproduce", "lost-"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
