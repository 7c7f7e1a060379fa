#!/usr/bin/env python3
"""test_paths.py - scripts/check-paths, the check that keeps the repository
self-contained, catches what it must and lets the rest through.

Each case is a throw-away git repository with one tracked file: a climb out
of the checkout (from the top, from a subfolder, through os.path.join, after
${CMAKE_SOURCE_DIR}) or a path of the team's machines fails the check; a
climb that stays inside, a URL path under test and a plain sentence pass.
The real repository passes too."""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
CHECK = os.path.join(ROOT, "scripts", "check-paths")


def run_on(files):
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["git", "init", "-q", d], check=True)
        for name, text in files.items():
            p = os.path.join(d, name)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w") as f:
                f.write(text)
        subprocess.run(["git", "-C", d, "add", "-A"], check=True)
        return subprocess.run([sys.executable, CHECK, d], capture_output=True, text=True)


class CheckPaths(unittest.TestCase):
    def assert_fails(self, files, needle):
        p = run_on(files)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn(needle, p.stdout)

    def assert_passes(self, files):
        p = run_on(files)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    # The bad paths are put together at run time: spelt out, they would make
    # this very file fail the check it tests.
    def test_climbs_out_are_refused(self):
        up = "." + "."
        self.assert_fails({"CMakeLists.txt": "set(X ${CMAKE_SOURCE_DIR}/" + up + "/fixtures)\n"},
                          "CMakeLists.txt:1:")
        self.assert_fails({"tests/e2e/t.py": 'F = os.path.join(os.path.dirname(__file__), "'
                           + "/".join([up] * 3) + '/fix")\n'}, "tests/e2e/t.py:1: " + "/".join([up] * 3))
        self.assert_fails({"tests/t.py": 'F = os.path.join(HERE, "' + up + '", "' + up + '", "fix")\n'},
                          "tests/t.py:1:")
        self.assert_fails({"tests/unit/a.c": 'snprintf(p, n, "' + up + '/data/v.json");\n'}, "tests/unit/a.c:1:")

    def test_team_machine_paths_are_refused(self):
        name = "sha" + "red"
        self.assert_fails({"x.sh": "cat /" + "work/main/README.md\n"}, "x.sh:1:")
        self.assert_fails({"doc.md": "see " + name + "/fixtures/vectors.json\n"}, "doc.md:1:")

    def test_paths_inside_pass(self):
        self.assert_passes({
            "tests/e2e/hg.py": 'BIN = os.path.join(os.path.dirname(__file__), "../../build/hookgate")\n',
            "scripts/x": 'cd "$(dirname "$0")/.."\n',
            "tests/e2e/t.py": 'url = "/hooks/../../etc/passwd"  # a URL under test\n',
            "README.md": "Counting 1..5 goes on... and on.\n",
        })

    def test_this_repository_passes(self):
        p = subprocess.run([sys.executable, CHECK], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main()
