"""`capstan record --playlist`: the plan (fit, gaps, overflow, levels) and the play-out."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from capstan.cli import main
from capstan.recording.level import TARGET_PEAK_DBFS
from capstan.recording.plan import LEAD_IN, plan_mixtape
from capstan.sim.wavfile import write_wav
from recording.music import RATE, song


def files(tmp_path: Path, seconds: list[float], peak: float = 0.25) -> list[Path]:
    out = []
    for i, s in enumerate(seconds):
        out.append(tmp_path / f"song{i}.wav")
        write_wav(out[-1], song(s, i, peak), RATE)
    return out


def test_the_plan_fills_side_a_then_b_and_reports_what_does_not_fit(tmp_path: Path) -> None:
    paths = files(tmp_path, [20.0, 20.0, 15.0, 40.0])
    plan = plan_mixtape(paths, side_seconds=50.0, length="C46", tape_type="II", gap=3.0)
    assert [(t.path.name, t.side, t.start) for t in plan.tracks] == [
        ("song0.wav", "A", LEAD_IN), ("song1.wav", "A", LEAD_IN + 23.0),
        ("song2.wav", "B", LEAD_IN)]
    assert [t.path.name for t in plan.overflow] == ["song3.wav"]
    assert "does not fit" in plan.describe()
    for t in plan.tracks:  # the pre-scan: every peak on the Type II target
        assert abs(t.peak_dbfs + t.gain_db - TARGET_PEAK_DBFS["II"]) < 0.05


def test_overflow_is_refused_before_the_tape_moves(tmp_path: Path, capsys) -> None:
    paths = files(tmp_path, [60.0])
    assert main(["record", "--playlist", *map(str, paths), "--length", "C46", "--dry-run"]) == 0
    assert "side A: 1 tracks" in capsys.readouterr().out
    plan = plan_mixtape(paths * 50, side_seconds=23 * 60.0)
    assert plan.overflow
    code = main(["record", "--playlist", *map(str, paths * 50), "--length", "C46",
                 "--sim", str(tmp_path / "never")])
    assert code == 1
    assert "does not fit" in capsys.readouterr().out
    assert not (tmp_path / "never").exists()  # nothing ran


def test_a_playlist_is_played_onto_the_simulated_tape_with_marks(tmp_path: Path,
                                                                 capsys) -> None:
    paths = files(tmp_path, [6.0, 5.0, 7.0], peak=0.1)
    assert main(["record", "--playlist", *map(str, paths), "--length", "C46",
                 "--sim", str(tmp_path / "out")]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    toc = report["toc"]["A"]
    starts = [toc["start"]] + [m[0] for m in toc["marks"]]
    assert len(starts) == 3 and toc["end"] is not None
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert [round(g, 1) for g in gaps] == [9.0, 8.0]  # each song plus its 3 s gap
    told = [json.loads(line) for line in capsys.readouterr().out.splitlines()
            if line.startswith("{")]
    assert [e["what"] for e in told if e["type"] == "record"][-1] == "playlist_done"
