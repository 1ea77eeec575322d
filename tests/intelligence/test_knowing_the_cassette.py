"""A cassette played before is recognized (two sessions sharing a state directory)."""

from __future__ import annotations

from pathlib import Path

from .deckside import GAPS, MIXTAPE, of, session


def _play_from_the_start(out: Path, state_dir: Path, seconds: float, speed_error: float):
    s = session(out, state=state_dir)
    s.make_cassette("C46", "II", side_a=MIXTAPE, speed_error=speed_error, insert=False)
    s.run_until(0.5)
    s.deck.insert(s.cassette)  # the user puts it in
    s.run_for(0.5)
    s.press("play")
    s.run_for(seconds)
    return s


def test_a_cassette_played_before_gets_its_toc_back(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = _play_from_the_start(tmp_path / "one", state, 45.0, 0.0)
    try:
        assert [e["what"] for e in of(first, "cassette_known")] == ["new"]
        marks = [m.position for m in first.player.intelligence.memory.toc.marks["A"]]
        assert len(marks) == 1 and abs(marks[0] - GAPS[0][1]) < 0.5
    finally:
        first.close()
    # another day, a deck running 1 % fast: the same cassette
    second = _play_from_the_start(tmp_path / "two", state, 20.0, 0.01)
    try:
        known = of(second, "cassette_known")
        assert [e["what"] for e in known] == ["candidate", "recognized"]
        assert known[1]["id"] == "c1" and known[1]["marks"] == 1
        assert known[1]["score"] >= 0.6
        memory = second.player.intelligence.memory
        assert memory.id == "c1"
        assert abs(memory.toc.marks["A"][0].position - GAPS[0][1]) < 0.5
        assert second.player.status()["tape"]["cassette"] == "c1"
    finally:
        second.close()


def test_different_music_is_a_new_cassette(tmp_path: Path) -> None:
    import numpy as np

    from capstan.wavfile import write_wav

    state = tmp_path / "state"
    first = _play_from_the_start(tmp_path / "one", state, 20.0, 0.0)
    first.close()
    rng = np.random.default_rng(7)
    other = tmp_path / "other.wav"  # noise bursts: nothing like the mixtape
    burst = rng.standard_normal((48000 * 25, 2)) * 0.1
    burst *= (np.sin(np.arange(len(burst)) / 48000 * 2 * np.pi * 0.7) > 0)[:, None]
    write_wav(other, burst.astype(np.float32), 48000)
    s = session(tmp_path / "two", state=state)
    s.make_cassette("C46", "I", side_a=other, insert=False)
    try:
        s.run_until(0.5)
        s.deck.insert(s.cassette)
        s.run_for(0.5)
        s.press("play")
        s.run_for(20.0)
        assert [e["what"] for e in of(s, "cassette_known")] == ["new"]
        assert of(s, "cassette_known")[0]["id"] == "c2"
    finally:
        s.close()


def test_the_fingerprints_are_taken_on_a_worker_thread_not_in_the_loop(
        tmp_path: Path, monkeypatch) -> None:
    import threading

    from capstan.intelligence import recognition

    taken_on: list[threading.Thread] = []
    take = recognition.take_fingerprint

    def recorded(audio, rate):
        taken_on.append(threading.current_thread())
        return take(audio, rate)

    monkeypatch.setattr(recognition, "take_fingerprint", recorded)
    s = _play_from_the_start(tmp_path / "one", tmp_path / "state", 20.0, 0.0)
    try:
        assert [e["what"] for e in of(s, "cassette_known")] == ["new"]
        assert len(taken_on) == 2
        assert threading.main_thread() not in taken_on  # the loop runs on the main thread
    finally:
        s.close()
