"""The code floor: Debian 12's /usr/bin/python3, 3.11.2, and its standard library.

Two checks, each with a proof that it can fail:
- vermin (a PyPI linter) finds nothing that needs more than Python 3.11 in any Python
  file of the repository (also the scripts in tools/ without a .py name);
- our own scan finds no use of what came in a 3.11 bug-fix release after 3.11.2, which
  vermin does not tell from 3.11.0 (tarfile's extraction filters came in 3.11.4).
"""

from __future__ import annotations

import ast
import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FLOOR = (3, 11, 2)
TREES = ("firmware", "tests", "tools", "bench")

# Keyword arguments and names of the standard library that came after 3.11.2, in 3.11
# bug-fix releases (and so also in 3.12): (where, what) -> the first 3.11 with it.
LATE_KEYWORDS = {
    ("extractall", "filter"): "3.11.4",  # tarfile extraction filters
    ("extract", "filter"): "3.11.4",
    ("unpack_archive", "filter"): "3.11.4",
    ("getaddresses", "strict"): "3.11.10",  # email.utils
    ("parseaddr", "strict"): "3.11.10",
}
LATE_NAMES = {
    "data_filter": "3.11.4", "tar_filter": "3.11.4", "fully_trusted_filter": "3.11.4",
    "extraction_filter": "3.11.4", "FilterError": "3.11.4", "AbsolutePathError": "3.11.4",
    "OutsideDestinationError": "3.11.4", "SpecialFileError": "3.11.4",
    "AbsoluteLinkError": "3.11.4", "LinkOutsideDestinationError": "3.11.4",
}


def python_files() -> list[Path]:
    files = []
    for tree in TREES:
        for path in sorted((REPO / tree).rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            if path.suffix == ".py":
                files.append(path)
            elif not path.suffix:
                with path.open("rb") as f:
                    if re.match(rb"#!.*python", f.readline()):
                        files.append(path)
    return files


def late_uses(source: str, name: str = "<source>") -> list[str]:
    """Each use of a standard-library feature newer than the floor, as 'file:line: why'."""
    found = []
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.Call):
            func = node.func
            called = (func.attr if isinstance(func, ast.Attribute)
                      else func.id if isinstance(func, ast.Name) else None)
            for kw in node.keywords:
                since = LATE_KEYWORDS.get((str(called), str(kw.arg)))
                if since:
                    found.append(f"{name}:{node.lineno}: {called}({kw.arg}=...) needs {since}")
        elif isinstance(node, ast.Attribute | ast.Name | ast.alias):
            ident = (node.attr if isinstance(node, ast.Attribute)
                     else node.id if isinstance(node, ast.Name) else node.name)
            if ident in LATE_NAMES:
                found.append(f"{name}:{getattr(node, 'lineno', 0)}: {ident} needs "
                             f"{LATE_NAMES[ident]}")
    return found


def test_setup_cfg_names_the_floor() -> None:
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    assert cfg["options"]["python_requires"].strip() == ">=" + ".".join(map(str, FLOOR))


def test_the_suite_runs_on_the_floor_or_newer() -> None:
    assert sys.version_info[:3] >= FLOOR


def test_no_standard_library_use_newer_than_the_floor() -> None:
    files = python_files()
    assert len(files) > 100 and REPO / "tools" / "make-bundle" in files
    found = [use for path in files
             for use in late_uses(path.read_text(), str(path.relative_to(REPO)))]
    assert found == []


@pytest.mark.parametrize(("source", "why"), [
    ("import tarfile\ntarfile.open('b').extractall('x', filter='data')\n", "extractall(filter"),
    ("def f(tf):\n    tf.extract('m', 'x', filter=tarfile.tar_filter)\n", "extract(filter"),
    ("import shutil\nshutil.unpack_archive('a.tar', 'x', filter='data')\n", "unpack_archive"),
    ("from tarfile import data_filter\n", "data_filter needs 3.11.4"),
    ("import tarfile\nclass T(tarfile.TarFile):\n    extraction_filter = None\n",
     "extraction_filter"),
    ("from email.utils import getaddresses\ngetaddresses(['a'], strict=False)\n",
     "getaddresses(strict"),
])
def test_the_own_scan_fails_on_a_late_use(source: str, why: str) -> None:
    found = late_uses(source)
    assert found and why in found[0]


def test_the_own_scan_passes_what_the_floor_has() -> None:
    assert late_uses("import tarfile, tomllib, hashlib\n"
                     "tarfile.open('b').extractall('x', members=[])\n"
                     "hashlib.file_digest(open('f', 'rb'), 'sha256')\n"
                     "filter(None, [])\n") == []


def _vermin() -> str:
    exe = shutil.which("vermin", path=str(Path(sys.executable).parent))
    assert exe, "vermin is not installed in this venv (setup.cfg's dev extra has it)"
    return exe


def _run_vermin(paths: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_vermin(), "-t=3.11-", "--violations", "--no-tips",
                           "--eval-annotations", "-p=1", *paths],
                          capture_output=True, text=True, check=False)


def test_vermin_finds_nothing_newer_than_3_11() -> None:
    proc = _run_vermin([str(p) for p in python_files()])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_vermin_fails_on_a_3_12_feature(tmp_path: Path) -> None:
    late = tmp_path / "late.py"
    late.write_text("import itertools\nfrom typing import override\n"
                    "print(list(itertools.batched([1, 2, 3], 2)))\n")
    proc = _run_vermin([str(late)])
    assert proc.returncode != 0 and "itertools.batched" in proc.stdout
