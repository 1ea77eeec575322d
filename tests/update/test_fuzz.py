"""No input crashes the bundle reader: it parses, or it says why in one line."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capstan.update import archive, minisign
from capstan.update.bundle import open_bundle
from capstan.update.errors import BundleRejected
from capstan.update.manifest import parse_manifest

from .helpers import make_bundle

KEY = minisign.generate()
GOOD = make_bundle(KEY, "0.2.0")
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _refused_or_ok(call, *args) -> None:  # type: ignore[no-untyped-def]
    try:
        call(*args)
    except BundleRejected as exc:
        assert "\n" not in str(exc) and str(exc)


@FUZZ
@given(st.binary(max_size=4096))
def test_arbitrary_bytes(blob: bytes) -> None:
    _refused_or_ok(open_bundle, blob, KEY.public())
    _refused_or_ok(parse_manifest, blob)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)), max_size=8),
       st.integers(0, len(GOOD)))
def test_mutated_good_bundles(edits: list[tuple[int, int]], cut: int) -> None:
    bad = bytearray(GOOD)
    for at, value in edits:
        bad[at] = value
    _refused_or_ok(open_bundle, bytes(bad[:cut] if cut % 3 == 0 else bad), KEY.public())


TOML_VALUES = st.recursive(
    st.none().map(lambda _: '""') | st.integers().map(str)
    | st.booleans().map(lambda b: str(b).lower())
    | st.sampled_from(['1', '"0.2.0"', '"capstan,reference-v1"', '"wheels/a-1-py3-none-any.whl"',
                       '"../x.whl"', '"' + 'a' * 64 + '"', '-1', '"1.2"'])
    | st.text(max_size=20).map(lambda s: '"' + s.replace("\\", "").replace('"', "") + '"')
    | st.floats(allow_nan=False).map(repr),
    lambda inner: st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
    max_leaves=10)


@FUZZ
@given(st.dictionaries(st.sampled_from(["format", "compatible", "version", "payload", "x"]),
                       TOML_VALUES, max_size=5),
       st.lists(st.dictionaries(st.sampled_from(["path", "size", "sha256", "y"]), TOML_VALUES,
                                max_size=4), max_size=3))
def test_structured_manifests(top: dict[str, str], payload: list[dict[str, str]]) -> None:
    text = "".join(f"{k} = {v}\n" for k, v in top.items() if k != "payload")
    for entry in payload:
        text += "[[payload]]\n" + "".join(f"{k} = {v}\n" for k, v in entry.items())
    _refused_or_ok(parse_manifest, text.encode())


@FUZZ
@given(st.lists(st.tuples(st.text(max_size=30), st.binary(max_size=600)), max_size=4))
def test_archives_of_odd_entries(entries: list[tuple[str, bytes]]) -> None:
    try:
        blob = archive.pack([archive.Entry(n, d) for n, d in entries], check=False)
    except (BundleRejected, UnicodeEncodeError):
        return
    _refused_or_ok(archive.unpack, blob)
    _refused_or_ok(open_bundle, blob, KEY.public())


def test_deep_nesting_is_refused_not_a_crash() -> None:
    _refused_or_ok(parse_manifest, b"x = " + b"[" * 100_000)
