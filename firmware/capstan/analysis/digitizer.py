"""Digitizing: what plays, written one file per track, safe against a power cut.

While a track plays, its audio is appended as raw float32 frames to
`NN.pcm.part` (beside it `NN.part.json`, written atomically first, says the rate
and channels) and fsynced every `sync_every_s`. An append-only file of fixed-size
frames is always recoverable: after a cut, what was synced is there, and a torn
last frame is cut off.

When the track ends it is encoded to `NN.flac.tmp`, fsynced, renamed to `NN.flac`,
the directory fsynced, and only then are the part files removed. A finished file is
never opened for writing again, so a cut can never corrupt it: either the rename
happened (the file is whole) or it did not (the part is still there).
`recover(directory)` at start-up finishes what a cut interrupted.

FLAC comes from `soundfile` (libsndfile; its wheels include FLAC), imported only
when a FLAC file is written; `WavEncoder` (24-bit WAV, numpy only) needs nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from capstan.analysis import AnalysisError
from capstan.analysis.tracks import Track

FRAME_DTYPE = np.dtype("<f4")
CHUNK_FRAMES = 1 << 16


class Sink(Protocol):
    def write(self, frames: np.ndarray) -> None: ...
    def close(self) -> None: ...


class Encoder(Protocol):
    suffix: str

    def open(self, path: Path, sample_rate: int, channels: int) -> Sink: ...


class FlacEncoder:
    """24-bit FLAC through soundfile."""

    suffix = ".flac"

    def open(self, path: Path, sample_rate: int, channels: int) -> Sink:
        try:
            import soundfile
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise AnalysisError("writing FLAC needs the soundfile package: "
                                "pip install soundfile (or digitize to WAV)") from exc
        return soundfile.SoundFile(str(path), "w", samplerate=sample_rate, channels=channels,
                                   format="FLAC", subtype="PCM_24")


class _WavSink:
    """24-bit PCM; the header is written again, right, on close. A track that would pass
    WAV's 4 GiB (4.1 hours of 48 kHz 24-bit stereo, longer than any side) is refused
    rather than given a wrong header."""

    def __init__(self, path: Path, sample_rate: int, channels: int) -> None:
        from capstan.wavfile import header

        self._header = header
        self._rate, self._channels, self._frames = sample_rate, channels, 0
        self._f = open(path, "wb")  # closed in close()
        self._f.write(header(0, sample_rate, channels, 24))

    def write(self, frames: np.ndarray) -> None:
        frames = np.asarray(frames).reshape(-1, self._channels)
        self._header(self._frames + len(frames), self._rate, self._channels, 24)  # fits?
        ints = np.clip(np.round(frames * 8388608.0), -8388608, 8388607).astype("<i4")
        self._f.write(ints.view(np.uint8).reshape(-1, 4)[:, :3].tobytes())
        self._frames += len(frames)

    def close(self) -> None:
        try:
            self._f.seek(0)
            self._f.write(self._header(self._frames, self._rate, self._channels, 24))
        finally:
            self._f.close()


class WavEncoder:
    """24-bit PCM WAV, its header from capstan.wavfile."""

    suffix = ".wav"

    def open(self, path: Path, sample_rate: int, channels: int) -> Sink:
        return _WavSink(path, sample_rate, channels)


def _fsync_path(path: Path) -> None:
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_path(path.parent)


class TrackWriter:
    """Writes the tracks of one cassette side into `directory`."""

    def __init__(self, directory: str | Path, sample_rate: int = 48000, channels: int = 2,
                 encoder: Encoder | None = None, sync_every_s: float = 1.0) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.sample_rate, self.channels = sample_rate, channels
        self.encoder = encoder or FlacEncoder()
        self._sync_frames = max(1, int(sync_every_s * sample_rate))
        self._file = None
        self._unsynced = 0
        self.number = 0

    def start_track(self, number: int, tape_time: float | None = None) -> None:
        if self._file is not None:
            self.end_track()
        self.number = number
        meta = {"number": number, "sample_rate": self.sample_rate, "channels": self.channels,
                "tape_time": tape_time}
        _write_atomically(self.directory / f"{number:02d}.part.json", json.dumps(meta).encode())
        part = self.directory / f"{number:02d}.pcm.part"
        self._file = open(part, "ab")  # kept open across blocks
        _fsync_path(self.directory)
        self._unsynced = 0

    def write(self, block: np.ndarray) -> None:
        if self._file is None:
            raise AnalysisError("no track started: call start_track() before writing audio")
        frames = np.asarray(block, dtype=FRAME_DTYPE).reshape(-1, self.channels)
        self._file.write(frames.tobytes())
        self._unsynced += len(frames)
        if self._unsynced >= self._sync_frames:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._unsynced = 0

    def end_track(self) -> Path:
        """Finish the current track; returns its finished file."""
        if self._file is None:
            raise AnalysisError("no track to end")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        return _finish(self.directory, self.number, self.encoder)

    def write_cue(self, tracks: Sequence[Track], title: str = "") -> Path:
        """The side's TOC as a cue sheet over the finished files, written atomically."""
        return write_cue(self.directory, tracks, self.encoder.suffix, title)


def _finish(directory: Path, number: int, encoder: Encoder) -> Path:
    meta_path = directory / f"{number:02d}.part.json"
    part = directory / f"{number:02d}.pcm.part"
    final = directory / f"{number:02d}{encoder.suffix}"
    if not final.exists():
        meta = json.loads(meta_path.read_text())
        channels = int(meta["channels"])
        frame_bytes = FRAME_DTYPE.itemsize * channels
        whole = part.stat().st_size // frame_bytes
        tmp = final.with_name(final.name + ".tmp")
        sink = encoder.open(tmp, int(meta["sample_rate"]), channels)
        try:
            with open(part, "rb") as f:
                for start in range(0, whole, CHUNK_FRAMES):
                    count = min(CHUNK_FRAMES, whole - start)
                    data = np.fromfile(f, FRAME_DTYPE, count * channels)
                    sink.write(data.reshape(-1, channels))
        finally:
            sink.close()
        _fsync_path(tmp)
        os.replace(tmp, final)
        _fsync_path(directory)
    part.unlink(missing_ok=True)
    meta_path.unlink(missing_ok=True)
    _fsync_path(directory)
    return final


def recover(directory: str | Path, encoder: Encoder | None = None) -> list[Path]:
    """Finish every track a power cut interrupted; returns the files it finished."""
    directory = Path(directory)
    encoder = encoder or FlacEncoder()
    for stale in directory.glob("*.tmp"):
        stale.unlink()  # an encode or a sidecar cut short; its source is still there
    done = []
    for meta_path in sorted(directory.glob("*.part.json")):
        number = int(meta_path.name.split(".")[0])
        if (directory / f"{number:02d}.pcm.part").exists():
            done.append(_finish(directory, number, encoder))
        else:
            meta_path.unlink()
    for part in directory.glob("*.pcm.part"):
        if not part.with_name(part.name.replace(".pcm.part", ".part.json")).exists():
            part.unlink()  # no sidecar: the cut came before the track really began
    return done


def _cue_time(seconds: float) -> str:
    frames = round(seconds * 75)
    return f"{frames // 4500:02d}:{frames // 75 % 60:02d}:{frames % 75:02d}"


def write_cue(directory: str | Path, tracks: Sequence[Track], suffix: str = ".flac",
              title: str = "") -> Path:
    """A cue sheet with one FILE per track; tape positions are kept as REM lines."""
    directory = Path(directory)
    lines = ['REM COMMENT "Capstan"']
    if title:
        lines.append(f'TITLE "{title}"')
    for t in tracks:
        lines += [f'FILE "{t.number:02d}{suffix}" WAVE',
                  f"  TRACK {t.number:02d} AUDIO",
                  f"    REM TAPE_START {t.start:.3f}",
                  f"    REM TAPE_END {t.end:.3f}",
                  f"    INDEX 01 {_cue_time(0.0)}"]
    path = directory / "side.cue"
    _write_atomically(path, ("\n".join(lines) + "\n").encode())
    return path
