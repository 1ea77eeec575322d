"""The documentation points only at things that exist and speaks only of the product.

Every Markdown page of README.md, docs/ and hardware/: each link's target exists (and
its #anchor is a heading of the page), each repository path it names (firmware/…,
docs/…, tools/…, `capstan/…` for firmware/capstan/…, a bare NAME.md) exists, and no
page speaks of how the firmware was developed.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOP = ("firmware", "docs", "hardware", "tools", "tests", "bench", "examples", "system", ".ci",
       "guide")
GENERATED = ("examples/media",)  # made by tools/make-demo-cassette, not committed
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
TOPS = "|".join(re.escape(t) for t in TOP)
PATH = re.compile(r"(?<![\w./~-])((?:" + TOPS + r")/[\w./-]*[\w/])")
MODULE_PATH = re.compile(r"(?<![\w./-])(capstan/[\w/]+\.py)")
BARE_MD = re.compile(r"(?<![\w./-])([\w-]+\.md)\b")
PROCESS = re.compile(r"\bissues?\b|\bhelpers?\b|\bthe lead\b|READ-ME-FIRST|REFERENCE\.md|"
                     r"STYLE\.md|\bbuilt for\b|\bitem \d", re.IGNORECASE)


def pages() -> list[Path]:
    found = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")),
             *sorted((ROOT / "hardware").rglob("*.md"))]
    return [p for p in found if p.is_file()]


def tracked() -> set[str]:
    """The repository's files and their directories (what a clean clone has)."""
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    names = {n for n in out if (ROOT / n).exists()}
    for n in list(names):
        parts = n.split("/")
        names.update("/".join(parts[:i]) for i in range(1, len(parts)))
    return names


FILES = tracked()


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", page.read_text(), re.M)}


def exists(rel: str) -> bool:
    rel = rel.rstrip("/")
    return rel in FILES or any(rel == g or rel.startswith(g + "/") for g in GENERATED)


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_and_path_exists(page: Path) -> None:
    text = page.read_text()  # code blocks too: a path in a command must exist as well
    here = page.parent.relative_to(ROOT)
    missing = []
    for m in LINK.finditer(text):
        target = m.group(1)
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        path, _, anchor = target.partition("#")
        dest = (page if not path else (ROOT / here / path)).resolve()
        rel = str(dest.relative_to(ROOT)) if dest.is_relative_to(ROOT) else str(dest)
        if path and not exists(rel):
            missing.append(f"link {target}")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            missing.append(f"anchor {target}")
    for m in PATH.finditer(text):
        rel = m.group(1)
        if not exists(rel):
            missing.append(f"path {rel}")
    for m in MODULE_PATH.finditer(text):
        if not exists(f"firmware/{m.group(1)}"):
            missing.append(f"module {m.group(1)}")
    for m in BARE_MD.finditer(text):
        name = m.group(1)
        if not any(exists(str(d / name)) for d in (here, Path("."), Path("docs"))):
            missing.append(f"page {name}")
    assert not missing, f"{page.relative_to(ROOT)} names what does not exist: {missing}"


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_speaks_of_how_it_was_developed(page: Path) -> None:
    hits = [f"{n}: {line.strip()}" for n, line in enumerate(page.read_text().splitlines(), 1)
            if PROCESS.search(line)]
    assert not hits, f"{page.relative_to(ROOT)}: {hits}"


def test_the_check_catches_what_it_is_for(tmp_path: Path) -> None:
    assert not exists("docs/no-such-page.md") and exists("docs/architecture.md")
    assert exists("examples/media/demo-mixtape.wav")  # generated, named on purpose
    assert PROCESS.search("Built for issue 6") and PROCESS.search("see REFERENCE.md §3")
    assert not PROCESS.search("a lead-in of 1 s; the scripted session")
    assert slug("3. Bring-up") == "3-bring-up" and slug("The audio clocks") == "the-audio-clocks"
    assert [m.group(1) for m in PATH.finditer("see `tools/install`, docs/x.md.")] == \
        ["tools/install", "docs/x.md"]
