"""A power cut mid-recording (the process killed) loses no track mark and tears no file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from capstan.cassettes import CassetteMemory
from capstan.sim.wavfile import write_wav
from capstan.state import StateStore
from capstan.state.store import decode
from recording.music import RATE, silence, song


def test_killed_mid_recording_keeps_every_mark_made(tmp_path: Path) -> None:
    parts = []
    for i in range(40):  # 40 songs of 3 s with 2.5 s gaps: a mark every 5.5 s of tape
        parts += [song(3.0, i), silence(2.5)]
    write_wav(tmp_path / "in.wav", np.concatenate(parts), RATE)
    state = tmp_path / "state"
    proc = subprocess.Popen(
        [sys.executable, "-m", "capstan", "record", "--line-in", str(tmp_path / "in.wav"),
         "--sim", str(tmp_path / "out"), "--state", str(state), "--length", "C60"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=dict(os.environ))
    marks = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # the child prints a mark once it is durable
            event = json.loads(line)
            if event["type"] == "track_mark" and event["what"] == "mark":
                marks.append(event["position"])
                if len(marks) == 12:
                    proc.send_signal(signal.SIGKILL)  # the power goes, mid-recording
                    break
    finally:
        proc.kill()
        proc.wait(timeout=60)  # a failure guard only
    assert proc.returncode == -signal.SIGKILL and len(marks) == 12
    for f in state.glob("*.json"):
        decode(f.stem, f.read_bytes())  # whole and checksummed (raises if torn)
    assert not list(state.glob("*.bad-*"))
    # after the restart: the player's memory of the cassette in the deck
    memory = CassetteMemory(StateStore(state))
    kept = [m.position for m in memory.toc.marks["A"]]
    for position in marks:
        assert any(abs(position - k) < 0.01 for k in kept), (position, kept)
    assert memory.toc.starts["A"] is not None
