"""Digitizing what plays: one file per track, a cue sheet, safe against a power cut."""

from __future__ import annotations

import shutil
from pathlib import Path

import soundfile

from .deckside import GAPS, MIXTAPE, of, session


def test_a_power_cut_while_digitizing_leaves_every_finished_track(tmp_path: Path) -> None:
    tapes = tmp_path / "tapes"
    s = session(tmp_path / "one", digitize=True, digitize_dir=str(tapes))
    s.make_cassette("C46", "II", side_a=MIXTAPE)
    cut = tmp_path / "after-the-cut"
    try:
        s.run_until(0.5)
        s.press("play")
        s.run_for(80.0)  # past two boundaries, in the middle of track 3
        s.player.intelligence.digitizer.drain()
        shutil.copytree(tapes, cut)  # the card as it is at the cut
    finally:
        s.close()
    take = cut / "take-001"
    assert {p.name for p in take.iterdir()} >= {"01.flac", "02.flac", "03.pcm.part",
                                               "03.part.json"}
    part = take / "03.pcm.part"
    with open(part, "r+b") as f:  # the last write torn in the middle of a frame
        f.truncate(part.stat().st_size - 3)
    before = {n: (take / n).read_bytes() for n in ("01.flac", "02.flac")}
    again = session(tmp_path / "two", digitize=True, digitize_dir=str(cut))
    try:
        again.run_until(0.5)  # start-up recovers
        assert [e["what"] for e in of(again, "digitize")] == ["recovered"]
    finally:
        again.close()
    for name, data in before.items():
        assert (take / name).read_bytes() == data  # finished files are never touched
    lengths = {n: soundfile.info(str(take / n)).duration for n in ("01.flac", "02.flac",
                                                                    "03.flac")}
    first_start = lengths["01.flac"]
    assert 35.0 < first_start < 36.5  # from the leader's end to track 2's start
    assert abs(lengths["02.flac"] - (GAPS[1][1] - GAPS[0][1])) < 0.3
    assert 8.0 < lengths["03.flac"] < 12.5
    assert not list(take.glob("*.part*"))


def test_a_take_has_a_cue_sheet_with_the_tape_positions(tmp_path: Path) -> None:
    tapes = tmp_path / "tapes"
    s = session(tmp_path / "one", digitize=True, digitize_dir=str(tapes), digitize_format="wav")
    s.make_cassette("C46", "II", side_a=MIXTAPE)
    try:
        s.run_until(0.5)
        s.press("play")
        s.run_for(45.0)
        s.press("stop")
        s.run_for(1.0)
        s.player.intelligence.digitizer.drain()
        cue = (tapes / "take-001" / "side.cue").read_text()
        assert 'FILE "01.wav" WAVE' in cue and 'FILE "02.wav" WAVE' in cue
        starts = [float(line.split()[-1]) for line in cue.splitlines() if "TAPE_START" in line]
        assert abs(starts[1] - GAPS[0][1]) < 0.5
        assert [e["what"] for e in of(s, "digitize")] == ["track", "track", "take"]
    finally:
        s.close()
