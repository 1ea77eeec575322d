"""Bundles: good ones verify (ours and minisign's), every kind of bad one is refused
with its own message, and the inactive slot is never touched by a refused one."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

import pytest

from capstan.cli import main
from capstan.update import archive, minisign, pack
from capstan.update.bundle import MANIFEST, SIGNATURE, check_fits_player, open_bundle
from capstan.update.errors import BundleRejected
from capstan.update.install import install
from capstan.update.manifest import Manifest, PayloadFile, dump_manifest
from capstan.update.venv import UnpackBuilder

from .helpers import (
    COMPATIBLE,
    make_bundle,
    make_wheel,
    put_on_card,
    seeded_root,
    tree_digest,
)


def test_a_good_bundle_verifies_and_plain_tar_and_minisign_agree(
        tmp_path: Path, key: minisign.SecretKey) -> None:
    blob = make_bundle(key, "0.2.0")
    bundle = open_bundle(blob, key.public())
    assert bundle.manifest.version == "0.2.0"
    assert bundle.trusted_comment == f"capstan 0.2.0 for {COMPATIBLE}"
    (tmp_path / "b.capstan").write_bytes(blob)
    with tarfile.open(tmp_path / "b.capstan") as tf:  # any tar reads it
        members = tf.getmembers()  # extractall's filter= needs 3.11.4; the floor is 3.11.2
        assert all((m.isfile() or m.isdir()) and not m.name.startswith("/")
                   and ".." not in m.name.split("/") for m in members)
        tf.extractall(tmp_path / "x", members=members)
    (tmp_path / "key.pub").write_text(key.public().to_text())
    proc = subprocess.run(["minisign", "-V", "-p", "key.pub", "-m", "x/manifest.toml"],
                          cwd=tmp_path, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_every_flipped_byte_is_refused(key: minisign.SecretKey) -> None:
    blob = make_bundle(key, "0.2.0")
    messages = set()
    for i in range(len(blob)):
        bad = bytearray(blob)
        bad[i] ^= 0x01 if i % 2 else 0x80
        with pytest.raises(BundleRejected) as exc:
            open_bundle(bytes(bad), key.public())
        messages.add(str(exc.value).split(":")[0])
    assert len(blob) >= 4096 and len(messages) >= 4  # header, padding, signature, payload ...


def test_every_truncation_is_refused(key: minisign.SecretKey) -> None:
    blob = make_bundle(key, "0.2.0")
    for n in range(0, len(blob), 7):
        with pytest.raises(BundleRejected):
            open_bundle(blob[:n], key.public())


def _case(name: str, key: minisign.SecretKey, other: minisign.SecretKey) -> bytes:
    blob = make_bundle(key, "0.2.0")
    wheel_name, wheel = make_wheel("0.2.0")
    spec = PayloadFile(f"wheels/{wheel_name}", len(wheel), pack.build_manifest(
        COMPATIBLE, "0.2.0", {"w": wheel}).payload[0].sha256)
    if name == "payload byte":
        at = blob.index(make_wheel("0.2.0")[1]) + 100
        return blob[:at] + bytes([blob[at] ^ 1]) + blob[at + 1:]
    if name == "manifest byte":
        return blob.replace(b'version = "0.2.0"', b'version = "0.2.1"', 1)
    if name == "truncated":
        return blob[: len(blob) // 2 // 512 * 512]
    if name == "wrong key":
        return make_bundle(other, "0.2.0")
    if name == "wrong compatible":
        return make_bundle(key, "0.2.0", compatible="capstan,other-board")
    if name == "downgrade":
        return make_bundle(key, "0.0.9")
    if name == "same version":
        return make_bundle(key, "0.1.0")
    if name in ("dot-dot", "absolute"):
        path = "../../etc/evil.whl" if name == "dot-dot" else "/etc/evil.whl"
        bad = PayloadFile(path, spec.size, spec.sha256)
        manifest = dump_manifest(Manifest(COMPATIBLE, "0.2.0", (bad,)))
        entries = [archive.Entry(MANIFEST, manifest),
                   archive.Entry(SIGNATURE, minisign.sign(manifest, key, "t").encode()),
                   archive.Entry(path if name == "absolute" else f"payload/{path}", wheel)]
        return archive.pack(entries, check=False)
    if name == "zero length":
        return b""
    raise AssertionError(name)


CASES = {
    "payload byte": "does not match its sha256 in the manifest",
    "manifest byte": "signature does not match the manifest",
    "truncated": "truncated",
    "wrong key": "signed by key .* but this player trusts key",
    "wrong compatible": "is for 'capstan,other-board', this player is 'capstan,reference-v1'",
    "downgrade": "version 0.0.9 is not newer than the installed 0.1.0; downgrades are refused",
    "same version": "version 0.1.0 is not newer than the installed 0.1.0",
    "dot-dot": "unsafe path in the bundle: 'payload/../../etc/evil.whl'",
    "absolute": "unsafe path in the bundle: '/etc/evil.whl'",
    "zero length": "the bundle is empty",
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_bad_bundle_has_its_own_message_and_leaves_the_slot_alone(
        tmp_path: Path, key: minisign.SecretKey, other_key: minisign.SecretKey,
        case: str) -> None:
    layout = seeded_root(tmp_path, key)
    # A previous update's leftovers in the inactive slot must survive a refusal too.
    (layout.slot("b")).mkdir(parents=True)
    (layout.slot("b") / "leftover").write_text("old")
    before = {name: tree_digest(layout.slot(name)) for name in "ab"}
    card = put_on_card(layout, _case(case, key, other_key), "0.2.0")
    with pytest.raises(BundleRejected, match=CASES[case]):
        install(card, layout, key=key.public(), compatible=COMPATIBLE,
                builder=UnpackBuilder())
    assert {name: tree_digest(layout.slot(name)) for name in "ab"} == before
    assert layout.active() == "a"


def test_the_messages_are_all_different(key: minisign.SecretKey,
                                        other_key: minisign.SecretKey) -> None:
    seen = {}
    for case in CASES:
        try:
            bundle = open_bundle(_case(case, key, other_key), key.public())
            check_fits_player(bundle, COMPATIBLE, "0.1.0")
        except BundleRejected as exc:
            seen[case] = str(exc)
        else:
            raise AssertionError(f"{case} was accepted")
        assert "\n" not in seen[case]
    assert len(set(seen.values())) == len(CASES)


def test_capstan_update_verify(tmp_path: Path, key: minisign.SecretKey,
                               other_key: minisign.SecretKey,
                               capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "key.pub").write_text(key.public().to_text())
    good = tmp_path / "good.capstan"
    good.write_bytes(make_bundle(key, "0.2.0"))
    assert main(["update", "verify", str(good), "--key", str(tmp_path / "key.pub")]) == 0
    assert capsys.readouterr().out.startswith("ok: capstan 0.2.0 for capstan,reference-v1")
    bad = tmp_path / "bad.capstan"
    bad.write_bytes(make_bundle(other_key, "0.2.0"))
    assert main(["update", "verify", str(bad), "--key", str(tmp_path / "key.pub")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "this player trusts key" in err
    empty = tmp_path / "empty.capstan"
    empty.write_bytes(b"")
    proc = subprocess.run(["capstan", "update", "verify", str(empty), "--key",
                           str(tmp_path / "key.pub")], capture_output=True, text=True,
                          check=False, env={"PATH": str(Path(__import__("sys").executable)
                                                         .parent)})
    assert proc.returncode == 1
    assert proc.stderr == "capstan: the bundle is empty (0 bytes): copy it onto the card again\n"
