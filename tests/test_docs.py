"""The documentation points only at things that exist and speaks only of the product.

Every Markdown page of README.md, docs/ and hardware/: each link's target exists (and
its #anchor is a heading of the page), each repository path it names (firmware/…,
docs/…, tools/…, `capstan/…` for firmware/capstan/…, a bare NAME.md) exists, and no
page speaks of how the firmware was developed. And what the pages claim of the product
where the product can say it: every `capstan COMMAND [ACTION] --option` they show
exists in the CLI, the README lists every benchmark and every button chord, and the
guide counts the blinks the LEDs make.
"""

from __future__ import annotations

import argparse
import math
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


# What the user's pages claim about the product, kept true by the product itself --------

CODE_SPAN = re.compile(r"`([^`\n]+)`")
CALL = re.compile(r"(?<![\w./-])capstan (?!capstan\b)([a-z][\w-]*(?: [^`;&]*)?)")
NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven"}
TIMES = {1: "once", 2: "twice"}


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _snippets(text: str) -> list[str]:
    """The code of a page: its `code spans` and its indented command lines."""
    return [m.group(1) for m in CODE_SPAN.finditer(text)] + \
        [line for line in text.splitlines() if line.startswith("    ")]


def unknown_commands(text: str) -> list[str]:
    """Every `capstan COMMAND [ACTION] --option` in the code of `text` that the CLI lacks."""
    from capstan.cli import build_parser

    top = _subcommands(build_parser())
    bad = []
    for snippet in _snippets(text):
        for m in CALL.finditer(snippet):
            words = re.split(r"\s[|>]\s", m.group(1))[0].split()
            name, rest = words[0], words[1:]
            if name not in top:
                bad.append(f"capstan {name}")
                continue
            parser, nested = top[name], _subcommands(top[name])
            if nested and rest and re.fullmatch(r"[a-z][\w-]*(\|[a-z][\w-]*)*", rest[0]):
                actions = rest[0].split("|")  # `capstan nr decode|encode`
                bad += [f"capstan {name} {a}" for a in actions if a not in nested]
                if actions[0] in nested:
                    parser, name, rest = nested[actions[0]], f"{name} {actions[0]}", rest[1:]
            for word in rest:
                if word == "capstan":
                    break
                option = word.split("=")[0].rstrip(",.)")
                if option.startswith("--") and option not in parser._option_string_actions:
                    bad.append(f"capstan {name} {option}")
    return bad


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_command_and_option_a_page_names_exists(page: Path) -> None:
    assert not unknown_commands(page.read_text()), \
        f"{page.relative_to(ROOT)} names what `capstan` does not have"


def test_the_command_check_catches_what_it_is_for() -> None:
    text = ("`capstan bogus`, `capstan status --jsn`, `capstan nr decode|encod IN OUT`\n\n"
            "    sudo -u capstan capstan selftest --board pi --motr\n"
            "`capstan status --json | head`, `capstan config check FILE`")
    assert unknown_commands(text) == ["capstan bogus", "capstan status --jsn",
                                      "capstan nr encod", "capstan selftest --motr"]


def test_the_readme_lists_every_benchmark() -> None:
    text = (ROOT / "README.md").read_text()
    listed = re.search(r"bench/<name>\.py` \(([^)]*)\)", text)
    assert listed, "README.md: the benchmarks' list is gone"
    names = {n.strip() for n in listed.group(1).replace("\n", " ").split(",")}
    scripts = {p.stem for p in (ROOT / "bench").glob("*.py")
               if "__main__" in p.read_text()}  # the others are shared stand-ins
    assert names == scripts


def test_the_readme_button_table_names_every_chord() -> None:
    from capstan.devices.buttons import CHORDS

    text = (ROOT / "README.md").read_text()
    named = {m.group(1).lower() for m in re.finditer(r"^\| ([A-Z]+\+[A-Z]+) \|", text, re.M)}
    assert named == set(CHORDS.values())


def _blinks(flash: tuple[object, float]) -> int:
    pattern, seconds = flash
    return math.ceil(round(seconds / pattern.period, 6))  # type: ignore[attr-defined]


def test_the_blinks_the_guide_counts_are_the_ones_the_leds_make() -> None:
    from capstan.audio.nr_switch import OFF_FLASH, ON_FLASH
    from capstan.devices.leds import REFUSED_FLASH

    guide = (ROOT / "docs" / "guide.md").read_text()
    refused = NUMBER_WORDS[_blinks(REFUSED_FLASH)]
    counts = set(re.findall(r"\b(\w+) quick blinks\b", guide))
    assert counts == {refused}, f"a refusal makes {refused} quick blinks; the guide says {counts}"
    on, off = _blinks(ON_FLASH), _blinks(OFF_FLASH)
    assert f"{NUMBER_WORDS[on]} slow blinks / {NUMBER_WORDS[off]} slow blink" in guide
    assert f"blinks {TIMES[on]} slowly for on, {TIMES[off]} for off" in guide
