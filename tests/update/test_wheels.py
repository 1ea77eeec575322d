"""Signed bundles whose wheels would not install are refused before the slot is touched,
by `capstan update install` and `capstan update boot` alike, and `capstan update verify`
says the same; the private copy in update/incoming/ is removed each time."""

from __future__ import annotations

import base64
import hashlib
import io
import warnings
import zipfile
from pathlib import Path

import pytest

from capstan.cli import main
from capstan.update import ledger, minisign
from capstan.update.errors import BundleRejected
from capstan.update.install import install
from capstan.update.venv import UnpackBuilder

from .helpers import COMPATIBLE, make_bundle, make_wheel, put_on_card, seeded_root, tree_digest
from .test_install import _boot


def _zip(files: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate names asked for
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for path, data in files:
                zf.writestr(zipfile.ZipInfo(path, (2024, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


def _hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(
        b"=").decode()


def wheel(name: str = "capstan", version: str = "0.2.0", *, drop: tuple[str, ...] = (),
          add: dict[str, bytes] | None = None, unlisted: dict[str, bytes] | None = None,
          wrong_hash: str | None = None, ghost: str | None = None,
          meta: str | None = None, wheel_version: str = "1.0", package: bool = True,
          twice: str | None = None) -> bytes:
    """A wheel, spoiled as asked: files dropped, added outside RECORD, a wrong hash..."""
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{dist}/METADATA": (meta or f"Metadata-Version: 2.1\nName: {name}\n"
                                     f"Version: {version}\n").encode(),
        f"{dist}/WHEEL": f"Wheel-Version: {wheel_version}\nRoot-Is-Purelib: true\n"
                         "Tag: py3-none-any\n".encode(),
        **(add or {}),
    }
    if package:
        files[f"{name}/__init__.py"] = f'__version__ = "{version}"\n'.encode()
    rows = [f"{p},{_hash(b'other' if p == wrong_hash else d)},{len(d)}"
            for p, d in files.items()]
    if ghost:
        rows.append(f"{ghost},{_hash(b'x')},1")
    rows.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = ("\n".join(rows) + "\n").encode()
    files.update(unlisted or {})
    members = [(p, d) for p, d in files.items() if p not in drop]
    if twice:
        members.append((twice, files[twice]))
    return _zip(members)


W = "wheels/capstan-0.2.0-py3-none-any.whl"
GOOD = wheel()
LEADER = "wheels/leader-1.0.0-py3-none-any.whl"

CASES: dict[str, tuple[dict[str, bytes], str]] = {
    "not a zip": ({W: b"PK but not a zip, " * 40}, "is not a valid zip"),
    "empty file": ({W: b""}, "is not a valid zip"),
    "truncated zip": ({W: GOOD[: len(GOOD) // 2]}, "is not a valid zip"),
    "cut central directory": ({W: GOOD[:-30]}, "is not a valid zip"),
    "damaged data": ({W: GOOD[:40] + bytes([GOOD[40] ^ 0xFF]) + GOOD[41:]},
                     "is not a valid zip|does not match its RECORD hash"),
    "no RECORD": ({W: wheel(drop=("capstan-0.2.0.dist-info/RECORD",))}, "has no .*RECORD"),
    "no WHEEL": ({W: wheel(drop=("capstan-0.2.0.dist-info/WHEEL",))}, "has no .*/WHEEL"),
    "no METADATA": ({W: wheel(drop=("capstan-0.2.0.dist-info/METADATA",))},
                    "has no .*/METADATA"),
    "file outside RECORD": ({W: wheel(unlisted={"capstan/evil.py": b"x = 1\n"})},
                            "'capstan/evil.py', which its RECORD does not list"),
    "wrong RECORD hash": ({W: wheel(wrong_hash="capstan/__init__.py")},
                          "does not match its RECORD hash"),
    "RECORD lists a missing file": ({W: wheel(ghost="capstan/gone.py")},
                                    "lists 'capstan/gone.py' in RECORD but does not carry it"),
    "dot-dot member": ({W: wheel(unlisted={"../../etc/cron.d/evil": b"x"})},
                       "has an unsafe path '../../etc/cron.d/evil'"),
    "absolute member": ({W: wheel(unlisted={"/etc/evil": b"x"})}, "has an unsafe path"),
    "backslash member": ({W: wheel(unlisted={"capstan\\..\\evil": b"x"})},
                         "has an unsafe path"),
    "member twice": ({W: wheel(twice="capstan/__init__.py")}, "has 'capstan/__init__.py' twice"),
    "not a wheel name": ({"wheels/capstan.whl": GOOD}, "is not a wheel file name"),
    "no tags": ({"wheels/capstan-0.2.0.whl": GOOD}, "is not a wheel file name"),
    "platform wheel": ({"wheels/capstan-0.2.0-cp311-cp311-linux_aarch64.whl": GOOD},
                       "is not a pure-Python wheel"),
    "METADATA of another project": (
        {W: wheel(meta="Metadata-Version: 2.1\nName: other\nVersion: 0.2.0\n")},
        "has METADATA for other 0.2.0, not capstan 0.2.0"),
    "METADATA of another version": (
        {W: wheel(meta="Metadata-Version: 2.1\nName: capstan\nVersion: 9.9.9\n")},
        "has METADATA for capstan 9.9.9"),
    "Wheel-Version 2": ({W: wheel(wheel_version="2.0")}, "is not of Wheel-Version 1.x"),
    "two wheels of one file name": (
        {W: GOOD, "wheels/again/capstan-0.2.0-py3-none-any.whl": GOOD},
        "is in the bundle twice"),
    "two wheels of one project": (
        {W: GOOD, LEADER: wheel("leader", "1.0.0"),
         "wheels/Leader-1.1.0-py3-none-any.whl": wheel("Leader", "1.1.0")},
        "is a second wheel of 'leader'"),
    "no firmware wheel": ({LEADER: wheel("leader", "1.0.0")},
                          "carries no wheel of the capstan firmware"),
    "firmware without its package": ({W: wheel(package=False, add={"other/x.py": b""})},
                                     "has no capstan package"),
    "firmware of another version": (
        {"wheels/capstan-0.2.1-py3-none-any.whl": wheel(version="0.2.1")},
        "is capstan 0.2.1, the manifest says 0.2.0"),
}


def test_the_good_wheel_of_the_table_installs(tmp_path: Path, key: minisign.SecretKey) -> None:
    layout = seeded_root(tmp_path, key)
    card = put_on_card(layout, make_bundle(key, "0.2.0", files={
        W: GOOD, LEADER: wheel("leader", "1.0.0")}), "0.2.0")
    assert install(card, layout, key=key.public(), compatible=COMPATIBLE,
                   builder=UnpackBuilder()).version == "0.2.0"


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_wheel_is_refused_before_the_slot_is_touched(
        tmp_path: Path, key: minisign.SecretKey, case: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    files, message = CASES[case]
    layout = seeded_root(tmp_path, key)
    layout.slot("b").mkdir(parents=True)
    (layout.slot("b") / "leftover").write_text("old")
    before = {name: tree_digest(layout.slot(name)) for name in "ab"}
    card = put_on_card(layout, make_bundle(key, "0.2.0", files=files), "0.2.0")
    (tmp_path / "key.pub").write_text(key.public().to_text())

    # verify says what install would say, and exits 1
    assert main(["update", "verify", str(card), "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    with pytest.raises(BundleRejected, match=message) as refused:
        install(card, layout, key=key.public(), compatible=COMPATIBLE, builder=UnpackBuilder())
    assert str(refused.value) in err
    assert {name: tree_digest(layout.slot(name)) for name in "ab"} == before
    assert list(layout.incoming.iterdir()) == []
    # at boot: refused once, in UPDATE-RESULT.txt, and not tried again
    report = _boot(layout, "boot-1")
    assert report.installed is None and str(refused.value) in report.rejected[0]
    assert "Result: REFUSED" in layout.result.read_text()
    assert _boot(layout, "boot-2").rejected == []
    assert {name: tree_digest(layout.slot(name)) for name in "ab"} == before
    assert layout.active() == "a" and ledger.read_trial(layout) is None


def test_verify_refuses_what_install_refuses_for_this_player(
        tmp_path: Path, key: minisign.SecretKey, capsys: pytest.CaptureFixture[str]) -> None:
    layout = seeded_root(tmp_path, key)  # 0.1.0 runs
    for version, word in (("0.1.0", "not newer than the installed 0.1.0"),
                          ("0.0.9", "downgrades are refused")):
        card = put_on_card(layout, make_bundle(key, version), version)
        assert main(["update", "verify", str(card), "--root", str(tmp_path)]) == 1
        assert word in capsys.readouterr().err
    card = put_on_card(layout, make_bundle(key, "0.2.0"), "0.2.0")
    assert main(["update", "verify", str(card), "--root", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("ok: capstan 0.2.0")
    # once 0.2.0 is on trial, nothing else may be installed: verify says so too
    install(card, layout, key=key.public(), compatible=COMPATIBLE, builder=UnpackBuilder())
    newer = put_on_card(layout, make_bundle(key, "0.3.0"), "0.3.0")
    assert main(["update", "verify", str(newer), "--root", str(tmp_path)]) == 1
    assert "0.2.0 is still on trial" in capsys.readouterr().err
    # a bundle that failed its trial is refused by verify as by install
    newer.unlink()
    _boot(layout, "boot-1")
    _boot(layout, "boot-2")  # never confirmed: rolled back, 0.2.0 remembered as failed
    assert main(["update", "verify", str(card), "--root", str(tmp_path)]) == 1
    assert "failed its trial start before" in capsys.readouterr().err


def test_a_wheel_name_of_the_helper_is_what_the_table_uses() -> None:
    name, _data = make_wheel("0.2.0")
    assert f"wheels/{name}" == W
