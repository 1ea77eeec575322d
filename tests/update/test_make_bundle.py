"""tools/make-bundle end to end: keys, our signer and the minisign tool's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from capstan.update import minisign
from capstan.update.bundle import open_bundle

from .helpers import make_wheel

TOOL = Path(__file__).resolve().parents[2] / "tools" / "make-bundle"


def make_bundle(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(TOOL), *args], cwd=cwd, capture_output=True,
                          text=True, check=False)


def test_generate_key_then_bundle_then_both_verifiers_agree(tmp_path: Path) -> None:
    proc = make_bundle("--generate-key", "keys/capstan", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "keys/capstan.key").stat().st_mode & 0o777 == 0o600
    again = make_bundle("--generate-key", "keys/capstan", cwd=tmp_path)
    assert again.returncode == 1 and "not overwriting" in again.stderr
    name, data = make_wheel("0.3.0", name="capstan")
    (tmp_path / name).write_bytes(data)
    extra_name, extra = make_wheel("1.0.0", name="leader")
    (tmp_path / extra_name).write_bytes(extra)
    proc = make_bundle("--key", "keys/capstan.key", "--wheel", name, "--extra-wheel", extra_name,
                       "--out", "out", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    bundle_path = tmp_path / "out/capstan-0.3.0.capstan"
    public = minisign.load_public_key((tmp_path / "keys/capstan.pub").read_text())
    bundle = open_bundle(bundle_path.read_bytes(), public)
    assert bundle.manifest.compatible == "capstan,reference-v1"  # from hardware/board.toml
    assert [f.path for f in bundle.manifest.payload] == [f"wheels/{name}", f"wheels/{extra_name}"]
    tool = subprocess.run(["minisign", "-V", "-p", "keys/capstan.pub", "-m", str(bundle_path)],
                          cwd=tmp_path, capture_output=True, text=True, check=False)
    assert tool.returncode == 0 and "file:capstan-0.3.0.capstan" in tool.stdout


def test_a_bundle_signed_by_the_minisign_tool_verifies_with_our_code(tmp_path: Path) -> None:
    subprocess.run(["minisign", "-G", "-W", "-p", "k.pub", "-s", "k.key"], cwd=tmp_path,
                   check=True, capture_output=True)
    name, data = make_wheel("0.4.0", name="capstan")
    (tmp_path / name).write_bytes(data)
    proc = make_bundle("--minisign", "k.key", "--wheel", name, "--out", ".", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    public = minisign.load_public_key((tmp_path / "k.pub").read_text())
    bundle = open_bundle((tmp_path / "capstan-0.4.0.capstan").read_bytes(), public)
    assert bundle.manifest.version == "0.4.0"
    assert bundle.trusted_comment == "capstan 0.4.0 for capstan,reference-v1"


def test_only_pure_python_extra_wheels(tmp_path: Path) -> None:
    make_bundle("--generate-key", "k", cwd=tmp_path)
    name, data = make_wheel("0.3.0", name="capstan")
    (tmp_path / name).write_bytes(data)
    (tmp_path / "numpy-2.0.0-cp311-cp311-linux_aarch64.whl").write_bytes(b"x")
    proc = make_bundle("--key", "k.key", "--wheel", name, "--extra-wheel",
                       "numpy-2.0.0-cp311-cp311-linux_aarch64.whl", cwd=tmp_path)
    assert proc.returncode == 1 and "only pure-Python wheels" in proc.stderr
