"""The simulated cassette's track: writes go behind on a thread, reads see them at once."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from capstan.harness.session import SimSession
from capstan.sim import wavfile
from capstan.sim.cassette import Cassette

RATE = 48000


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """The disk holds every write until the event is set (as a stalled SD card does)."""
    gate = threading.Event()
    pwrite = wavfile.os.pwrite

    def slow_pwrite(fd: int, data: bytes, offset: int) -> int:
        gate.wait(10)
        return pwrite(fd, data, offset)

    monkeypatch.setattr(wavfile.os, "pwrite", slow_pwrite)
    return gate


def block(value: int, frames: int = 100) -> np.ndarray:
    return np.full((frames, 2), value, "<i2")


def test_a_read_sees_writes_the_disk_still_holds(tmp_path: Path,
                                                held: threading.Event) -> None:
    path = tmp_path / "side_a.wav"
    wavfile.create_sparse(path, 1000, RATE)
    track = wavfile.TapeTrack(path, RATE)
    track[100:200] = block(7)
    track[150:250] = block(9)  # overlaps the first: the later write counts
    got = track[90:260]
    assert (got[:10] == 0).all() and (got[10:60] == 7).all() and (got[60:160] == 9).all()
    assert (got[160:] == 0).all()
    on_disk = wavfile.TapeTrack(path, RATE)  # another reader of the file: nothing yet
    assert not on_disk[0:1000].any()
    held.set()
    track.flush()
    assert (on_disk[100:150] == 7).all() and (on_disk[150:250] == 9).all()
    track.close()
    on_disk.close()


def test_a_failed_write_is_raised_naming_the_file(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "side_a.wav"
    wavfile.create_sparse(path, 1000, RATE)
    track = wavfile.TapeTrack(path, RATE)

    def full(fd: int, data: bytes, offset: int) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(wavfile.os, "pwrite", full)
    track[0:100] = block(1)
    with pytest.raises(OSError, match=r"side_a\.wav: a write to the tape failed"):
        track.flush()
    track.close()


def test_close_writes_what_is_queued(tmp_path: Path) -> None:
    path = tmp_path / "side_b.wav"
    wavfile.create_sparse(path, 1000, RATE)
    track = wavfile.TapeTrack(path, RATE)
    for i in range(10):
        track[i * 100:(i + 1) * 100] = block(i + 1)
    track.close()
    again = wavfile.TapeTrack(path, RATE)
    assert [int(again[i * 100:i * 100 + 1][0, 0]) for i in range(10)] == list(range(1, 11))
    again.close()


def test_a_cassette_taken_out_while_the_loop_runs_is_saved_on_a_worker_thread(
        session: SimSession, monkeypatch: pytest.MonkeyPatch) -> None:
    saved_on: list[threading.Thread] = []
    save = Cassette.save

    def recorded(self: Cassette) -> None:
        saved_on.append(threading.current_thread())
        save(self)

    monkeypatch.setattr(Cassette, "save", recorded)
    c = session.make_cassette("C60", position=30.0)
    session.run_until(0.5)
    saved_on.clear()
    session.loop.call_soon(session.deck.eject)  # the user takes it out while it all runs
    session.run_for(0.5)
    assert session.deck.cassette is None
    assert len(saved_on) == 1 and saved_on[0] is not threading.main_thread()
    again = Cassette.open(c.directory, session.description.mechanism)
    assert again.position == pytest.approx(30.0, abs=0.01)
