"""Music search on the simulated deck: a long FF lands at the start of the next track."""

from __future__ import annotations

from pathlib import Path

from capstan.deck.toc import TrackList

from .deckside import GAPS, MIXTAPE, of, session


def _truth_at_landing(s, what="landed"):
    landed: list[float] = []
    s.player.bus.subscribe(lambda t, e: landed.append(s.deck.position)
                           if getattr(e, "what", "") == what else None, "track")
    return landed


def test_a_long_ff_finds_the_next_track_by_listening(tmp_path: Path) -> None:
    s = session(tmp_path)
    s.make_cassette("C46", "II", side_a=MIXTAPE, speed_error=0.004)
    landed = _truth_at_landing(s)
    try:
        s.run_until(0.5)
        s.press("play")
        s.run_for(55.0)  # in the second song; the counter has named the C46 by now
        assert s.player.tape_counter.position is not None
        s.press("ff", hold=1.2)  # the long press comes at 0.8 s
        s.run_for(25.0)
        search = of(s, "track", what="search")
        assert [e["by"] for e in search] == ["listening"]  # nothing known ahead yet
        assert len(landed) == 1
        gap_start, gap_end = GAPS[1]
        # the head stops in the gap (or in the first 0.1 s of the song) and plays from there
        assert gap_start <= landed[0] <= gap_end + 0.1
        event = of(s, "track", what="landed")[0]
        assert event["number"] == 3
        assert s.player.deck.state.value == "playing"
        assert abs(s.deck.position - (gap_end + 25.0 - (event["t"] - search[0]["t"]))) < 15
        marks = s.player.intelligence.memory.toc.marks["A"]
        assert any(abs(m.position - gap_end) < 0.5 for m in marks)  # it joined the TOC
    finally:
        s.close()


def test_with_the_toc_it_winds_and_ff_again_adds_a_track(tmp_path: Path) -> None:
    s = session(tmp_path)
    s.make_cassette("C46", "II", side_a=MIXTAPE)
    landed = _truth_at_landing(s)
    try:
        s.run_until(0.5)
        toc = TrackList()
        for _, start in GAPS:
            toc.add_mark("A", start, "recorded")
        s.player.intelligence.memory.toc = toc  # as restored for a known cassette
        s.press("play")
        s.run_for(55.0)  # in the second song; the counter knows the position by now
        assert s.player.tape_counter.position is not None
        s.press("ff", hold=1.2)
        s.run_for(1.5)
        s.press("ff")  # within a second of the long press: one more track
        s.run_for(10.0)
        searches = of(s, "track", what="search")
        assert [e["by"] for e in searches] == ["toc", "toc"]
        assert [e["skip"] for e in searches] == [1, 2]
        gap_start, gap_end = GAPS[1]  # it may land before track 3 before the second press
        assert all(gap_start <= p <= gap_end for p in landed[:-1]), landed
        gap_start, gap_end = GAPS[2]
        assert gap_start <= landed[-1] <= gap_end
        assert of(s, "track", what="landed")[-1]["number"] == 4
        assert s.player.deck.state.value == "playing"
    finally:
        s.close()


def test_a_long_rew_goes_back_to_the_start_of_the_track(tmp_path: Path) -> None:
    s = session(tmp_path)
    s.make_cassette("C46", "II", side_a=MIXTAPE)
    landed = _truth_at_landing(s)
    try:
        s.run_until(0.5)
        s.press("play")
        s.run_for(50.0)  # through the first gap: its boundary is detected
        assert of(s, "track", what="boundary")
        s.press("rew", hold=1.2)
        s.run_for(10.0)
        assert [e["by"] for e in of(s, "track", what="search")] == ["toc"]
        gap_start, gap_end = GAPS[0]
        assert gap_start <= landed[0] <= gap_end
        assert of(s, "track", what="landed")[0]["number"] == 2
    finally:
        s.close()


def test_stop_during_a_search_cancels_it(tmp_path: Path) -> None:
    s = session(tmp_path)
    s.make_cassette("C46", "II", side_a=MIXTAPE)
    try:
        s.run_until(0.5)
        s.press("play")
        s.run_for(10.0)
        s.press("ff", hold=1.2)
        s.run_for(2.0)
        s.press("stop")
        s.run_for(3.0)
        assert of(s, "track", what="cancelled")
        assert s.player.deck.state.value == "stopped"
        assert s.player.intelligence.search.status() is None
    finally:
        s.close()


def test_the_example_scenario(tmp_path: Path) -> None:
    from capstan.harness.runner import run_scenario
    from capstan.harness.scenario import load_scenario

    examples = Path(__file__).resolve().parents[2] / "examples"
    report = run_scenario(load_scenario(examples / "search-next-track.toml"), tmp_path / "out")
    landed = [e for e in report["events"] if e["type"] == "track" and e["what"] == "landed"]
    assert [(e["by"], e["number"]) for e in landed] == [("listening", 2), ("toc", 2)]
