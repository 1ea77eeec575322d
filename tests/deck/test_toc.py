from pathlib import Path

from capstan.cassettes import CassetteMemory
from capstan.deck.toc import TrackList
from capstan.state.store import StateStore


def test_marks_merge_and_sort_and_recorded_marks_win() -> None:
    toc = TrackList()
    assert toc.add_mark("A", 60.0, "detected")
    assert toc.add_mark("A", 30.0, "detected")
    assert not toc.add_mark("A", 30.4, "detected")
    assert toc.add_mark("A", 60.3, "recorded")
    assert [(m.position, m.source) for m in toc.marks["A"]] == [(30.0, "detected"),
                                                               (60.3, "recorded")]
    toc.set_span("A", start=2.0, end=90.0)
    assert [(t.number, t.start, t.end) for t in toc.tracks("A")] == [
        (1, 2.0, 30.0), (2, 30.0, 60.3), (3, 60.3, 90.0)]
    assert toc.next_boundary("A", 10.0) == 30.0
    assert toc.next_boundary("A", 10.0, skip=2) == 60.3
    assert toc.previous_boundary("A", 45.0) == 30.0
    assert toc.previous_boundary("A", 31.0) == 2.0  # just begun: the previous track
    assert TrackList.from_dict(toc.to_dict()).to_dict() == toc.to_dict()


def test_a_mark_is_durable_at_once_and_a_known_cassette_comes_back(tmp_path: Path) -> None:
    memory = CassetteMemory(StateStore(tmp_path))
    memory.inserted()
    memory.add_mark("A", 40.0, "recorded")
    again = CassetteMemory(StateStore(tmp_path))  # a power cut right after the mark
    assert [m.position for m in again.toc.marks["A"]] == [40.0]
    fingerprint = "AAECAwQFBgcICQoLDA0ODw=="  # one frame of 16 bands, as the analysis writes
    cid = again.remember(fingerprint)
    again.inserted()
    assert again.toc.marks["A"] == []
    again.add_mark("A", 80.0, "detected")
    again.recall(cid)
    assert [m.position for m in again.toc.marks["A"]] == [40.0, 80.0]
    assert again.known_fingerprints() == [(cid, fingerprint)]
