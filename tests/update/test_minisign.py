"""Our keys and signatures against the real minisign tool, both ways."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from capstan.update import minisign
from capstan.update.errors import BundleRejected, KeyFileError


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["minisign", *args], cwd=cwd, capture_output=True, text=True,
                          check=False)


def test_the_minisign_tool_verifies_our_signature(tmp_path: Path, key: minisign.SecretKey) -> None:
    (tmp_path / "key.pub").write_text(key.public().to_text())
    (tmp_path / "m").write_bytes(b"manifest bytes\n")
    (tmp_path / "m.minisig").write_text(minisign.sign(b"manifest bytes\n", key, "capstan 0.2.0"))
    proc = run("-V", "-H", "-p", "key.pub", "-m", "m", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Trusted comment: capstan 0.2.0" in proc.stdout


@pytest.mark.parametrize("legacy", [False, True], ids=["prehashed", "legacy"])
def test_we_verify_what_the_minisign_tool_signs(tmp_path: Path, legacy: bool) -> None:
    assert run("-G", "-W", "-p", "k.pub", "-s", "k.key", cwd=tmp_path).returncode == 0
    (tmp_path / "m").write_bytes(b"\x00binary\xffmanifest")
    proc = run("-S", *(["-l"] if legacy else []), "-s", "k.key", "-m", "m", "-t", "hello",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    public = minisign.load_public_key((tmp_path / "k.pub").read_text())
    sig = (tmp_path / "m.minisig").read_bytes()
    assert minisign.verify(b"\x00binary\xffmanifest", sig, public) == "hello"
    with pytest.raises(BundleRejected, match="does not match the manifest"):
        minisign.verify(b"\x00binary\xffmanifesT", sig, public)


def test_the_minisign_tool_signs_with_our_key_and_reads_our_public_key(
        tmp_path: Path, key: minisign.SecretKey) -> None:
    (tmp_path / "k.key").write_text(key.to_text())
    (tmp_path / "k.pub").write_text(key.public().to_text())
    (tmp_path / "m").write_bytes(b"abc")
    assert run("-S", "-s", "k.key", "-m", "m", cwd=tmp_path).returncode == 0
    assert run("-V", "-p", "k.pub", "-m", "m", cwd=tmp_path).returncode == 0
    assert minisign.verify(b"abc", (tmp_path / "m.minisig").read_bytes(), key.public())


def test_we_sign_with_a_key_made_by_minisign(tmp_path: Path) -> None:
    assert run("-G", "-W", "-p", "k.pub", "-s", "k.key", cwd=tmp_path).returncode == 0
    secret = minisign.load_secret_key((tmp_path / "k.key").read_text())
    assert secret.public() == minisign.load_public_key((tmp_path / "k.pub").read_text())
    (tmp_path / "m").write_bytes(b"x")
    (tmp_path / "m.minisig").write_text(minisign.sign(b"x", secret, "t"))
    assert run("-V", "-p", "k.pub", "-m", "m", cwd=tmp_path).returncode == 0


def test_a_password_protected_key_says_what_to_do(tmp_path: Path) -> None:
    proc = subprocess.run(["minisign", "-G", "-p", "k.pub", "-s", "k.key"], cwd=tmp_path,
                          input="pw\npw\n", capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    with pytest.raises(KeyFileError, match=r"password-protected.*--minisign"):
        minisign.load_secret_key((tmp_path / "k.key").read_text())


def test_a_wrong_key_names_both_key_ids(key: minisign.SecretKey,
                                        other_key: minisign.SecretKey) -> None:
    sig = minisign.sign(b"m", key, "c").encode()
    with pytest.raises(BundleRejected, match=f"signed by key {key.public().id_hex}.*"
                                             f"trusts key {other_key.public().id_hex}"):
        minisign.verify(b"m", sig, other_key.public())


def test_an_altered_trusted_comment_is_caught(key: minisign.SecretKey) -> None:
    sig = minisign.sign(b"m", key, "capstan 0.2.0").replace("0.2.0", "9.9.9")
    with pytest.raises(BundleRejected, match="trusted comment"):
        minisign.verify(b"m", sig.encode(), key.public())


def test_a_public_key_can_be_the_bare_base64_line(key: minisign.SecretKey) -> None:
    line = key.public().to_text().splitlines()[1]
    assert minisign.load_public_key(line) == key.public()
    with pytest.raises(KeyFileError):
        minisign.load_public_key("untrusted comment: x\nnot base64!\n")
