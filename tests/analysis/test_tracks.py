"""Track detection on a synthetic tape with hiss."""

import numpy as np
import pytest

from capstan.analysis.tracks import TrackDetector, detect_tracks

from .synth import RATE, mixtape

LAYOUT = [(12.0, 2.0), (10.0, 2.5), (8.0, 4.0), (15.0, 2.0), (9.0, 0.0)]


@pytest.mark.parametrize(("hiss", "block"), [(-60.0, 1024), (-60.0, 4800), (-48.0, 48000),
                                             (-72.0, 2048)])
def test_every_gap_of_2_s_found_within_20_ms(hiss: float, block: int) -> None:
    audio, truth = mixtape(LAYOUT, hiss_dbfs=hiss)
    tracks, marks = detect_tracks(audio, RATE, block_s=block / RATE)
    assert len(marks) == len(LAYOUT) - 1
    assert len(tracks) == len(truth)
    for track, (start, end) in zip(tracks, truth, strict=True):
        assert track.start == pytest.approx(start, abs=0.02)
        assert track.end == pytest.approx(end, abs=0.02)
    for mark in marks:
        assert mark.hiss_dbfs == pytest.approx(hiss, abs=1.5)


def test_no_false_mark_on_a_quiet_passage() -> None:
    """1.5 s at -42 dBFS over -60 dBFS hiss, in the middle of songs, is no gap."""
    for index, offset in [(0, 5.0), (1, 1.0), (3, 9.0)]:
        audio, truth = mixtape(LAYOUT, quiet=(index, offset, -42.0), seed=index + 5)
        tracks, _ = detect_tracks(audio, RATE)
        assert [round(t.start, 1) for t in tracks] == [round(s, 1) for s, _ in truth]
        # Not only too short: the passage is not silence at all, even for a 1 s minimum gap.
        tracks, _ = detect_tracks(audio, RATE, min_gap_s=1.0)
        assert len(tracks) == len(truth)


def test_a_gap_shorter_than_the_minimum_is_no_mark() -> None:
    audio, _ = mixtape([(8.0, 1.2), (8.0, 0.0)])
    tracks, marks = detect_tracks(audio, RATE)
    assert marks == []
    assert len(tracks) == 1


def test_stream_time_comes_from_the_caller() -> None:
    """Blocks stamped with the tape's stream time give boundaries in that time."""
    audio, truth = mixtape([(6.0, 3.0), (6.0, 0.0)])
    detector = TrackDetector(RATE)
    marks = []
    for i in range(0, len(audio), 2048):
        marks += detector.feed(audio[i:i + 2048], 100.0 + i / RATE)
    assert len(marks) == 1
    assert marks[0].gap_start == pytest.approx(100.0 + truth[0][1], abs=0.02)
    assert marks[0].gap_end == pytest.approx(100.0 + truth[1][0], abs=0.02)


def test_a_jump_in_time_drops_the_gap_in_progress() -> None:
    """Hiss before a wind and hiss after it do not add up to a gap."""
    audio, _ = mixtape([(4.0, 1.5), (4.0, 0.0)], lead_s=0.5, tail_s=0.0)
    detector = TrackDetector(RATE)
    split = int(5.0 * RATE)  # 0.5 s into the 1.5 s gap
    marks = detector.feed(audio[:split], 0.0)
    marks += detector.feed(audio[split:], 60.0)  # wound on: next block is a minute later
    assert marks == []


def test_a_click_inside_a_gap_does_not_split_it() -> None:
    audio, truth = mixtape([(6.0, 3.0), (6.0, 0.0)])
    at = int((truth[0][1] + 1.5) * RATE)
    audio[at:at + 240] = np.float32(0.5)  # 5 ms click
    tracks, marks = detect_tracks(audio, RATE)
    assert len(marks) == 1 and len(tracks) == 2
    assert marks[0].gap_end == pytest.approx(truth[1][0], abs=0.02)
