"""The shelf: the demo mixtape, new blanks, and the cassettes already made."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from capstan.errors import ConfigError
from capstan.hardware.description import BoardDescription
from capstan.panel.shelf import Shelf, default_data_dir
from capstan.sim.wavfile import write_wav


def test_without_the_demo_wav_the_shelf_says_how_to_make_it(tmp_path: Path,
                                                           board: BoardDescription) -> None:
    shelf = Shelf(tmp_path, board.mechanism, demo_wav=tmp_path / "missing.wav")
    demo, *blanks = shelf.choices()
    assert not demo.available and "tools/make-demo-cassette" in demo.why_not
    assert [b.length for b in blanks] == ["C46", "C60", "C90"]
    with pytest.raises(ConfigError, match="make-demo-cassette"):
        shelf.take(demo)


def test_the_demo_is_made_once_with_its_songs_on_side_a(tmp_path: Path,
                                                        board: BoardDescription) -> None:
    wav = tmp_path / "demo.wav"
    song = np.full((48000, 2), 0.25, np.float32)
    write_wav(wav, song, 48000)
    shelf = Shelf(tmp_path / "data", board.mechanism, demo_wav=wav)
    demo = shelf.choices()[0]
    c = shelf.take(demo)
    assert (c.length, c.tape_type) == ("C46", "II")
    lead = int(board.mechanism.leader * 48000)
    assert np.asarray(c.track("A")[lead + 100:lead + 101])[0, 0] == pytest.approx(8192, abs=2)
    c.position = 100.0
    c.save()
    again = shelf.take(shelf.choices()[0])  # the same tape, where it was left
    assert again.position == pytest.approx(100.0)


def test_each_new_blank_is_a_new_cassette_listed_afterwards(tmp_path: Path,
                                                          board: BoardDescription) -> None:
    shelf = Shelf(tmp_path, board.mechanism, demo_wav=tmp_path / "missing.wav")
    c60 = next(c for c in shelf.choices() if c.length == "C60")
    first, second = shelf.take(c60), shelf.take(c60)
    assert first.directory != second.directory and first.length == "C60"
    tapes = [c for c in shelf.choices() if c.kind == "tape"]
    assert {t.directory for t in tapes} == {first.directory, second.directory}
    assert all("C60" in t.label for t in tapes)


def test_the_data_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_data_dir() == tmp_path / "capstan" / "sim"
