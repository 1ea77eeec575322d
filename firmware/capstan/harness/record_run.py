"""`capstan record --sim`: line-in or a planned mixtape recorded on the simulated deck."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from capstan.recording.cli import print_event

TOLD = ("record", "track_mark", "refused", "record_level", "safety")


def run_in_simulator(args: argparse.Namespace, plan: Any) -> int:
    from capstan.harness.cli import replaceable, writable
    from capstan.harness.runner import write_report
    from capstan.harness.session import SimSession
    from capstan.wavfile import probe_wav

    out = Path(args.sim)
    if args.line_in:
        probe_wav(args.line_in)  # a WavError (exit 2) before anything is written
    writable(out, "--sim", "directory")
    replaceable(out, "--sim")
    s = SimSession(out, record_pins=False, state_dir=Path(args.state) if args.state else None)
    s.player.bus.subscribe(lambda t, e: print_event({"t": round(t, 3), **e.to_dict()}), *TOLD)
    refused = False
    try:
        s.make_cassette(args.length, args.type)
        s.run_until(0.5)
        if args.line_in:
            s.set_line_in(Path(args.line_in), at=2.0)
            seconds = len(s.deck.line_in) / s.deck.rate
            s.press("rec")
            s.run_until(1.0)
            s.press("play")
            s.run_until(2.0 + seconds + 1.0)
            s.press("stop")
            s.run_for(1.0)
        else:
            refused = not _playlist(s, plan)
    finally:
        s.close()
    recorder = s.player.recording
    write_report({"version": 1, "events": s.events, "final": s.final(),
                  "toc": recorder.memory.toc.to_dict(), "outputs": {"jack": str(out / "jack.wav")},
                  "cassette": str(out / "cassette")}, out / "report.json")
    return 1 if refused else 0


def _playlist(s: Any, plan: Any) -> bool:
    recorder = s.player.recording
    for side in ("A", "B"):
        tracks = plan.side(side)
        if not tracks:
            continue
        if side == "B":
            s.deck.flip()
            s.run_for(0.5)
            s.press("rew")
            s.run_for(1.0)
            _run_while(s, lambda: s.player.deck.state.value == "rewind", 3600)
        recorder.side = side
        if recorder.record_playlist(tracks, plan.gap) is not None:
            return False
        limit = tracks[-1].start + tracks[-1].seconds + 30
        _run_while(s, lambda: s.player.deck.state.value in ("recording", "record_paused"), limit)
        s.run_for(1.0)
    return True


def _run_while(s: Any, condition: Any, limit: float) -> None:
    end = s.now + limit
    while condition() and s.now < end:
        s.run_for(0.5)
