"""Virtual cassettes: two sides of tape stored as a directory that outlives the run.

    <dir>/cassette.toml   length, type, protected sides, which side faces up, position
    <dir>/side_a.wav      what is magnetized on side A (16-bit stereo 48 kHz, sparse)
    <dir>/side_b.wav      likewise for side B

Positions are in seconds of tape at nominal speed from the physical start of
the side facing up (leader included). `position_a` is the truth for side A;
side B's position is the same point of tape seen from the other end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from capstan.errors import ConfigError
from capstan.hardware.description import Mechanism
from capstan.sim import wavfile

TAPE_TYPES = ("I", "II", "IV")
SIDES = ("A", "B")
# Tape hiss at the playhead, RMS dBFS (0 dBFS ≈ 10 dB over Dolby level; a Type I tape's
# SNR of ~56 dB puts its hiss near -62 dBFS; chrome and metal are quieter).
HISS_DBFS = {"I": -62.0, "II": -65.0, "IV": -66.0}


@dataclass
class Cassette:
    directory: Path
    length: str
    tape_type: str
    mechanism: Mechanism
    rate: int = 48000
    protected: set[str] = field(default_factory=set)
    side: str = "A"
    position_a: float = 0.0
    name: str = ""
    _maps: dict[str, wavfile.TapeTrack] = field(default_factory=dict, repr=False)

    # geometry -----------------------------------------------------------
    @property
    def spec(self):
        return self.mechanism.cassettes[self.length]

    @property
    def duration(self) -> float:
        """Seconds of tape per side at nominal speed, leaders included."""
        return self.spec.minutes * 60.0 + 2 * self.mechanism.leader

    @property
    def tape_length(self) -> float:
        """Metres of tape."""
        return self.duration * self.mechanism.nominal_speed

    def pack_radius(self, seconds_on_reel: float) -> float:
        """Radius in metres of a hub holding `seconds_on_reel` of tape."""
        s = min(max(seconds_on_reel, 0.0), self.duration) * self.mechanism.nominal_speed
        return math.sqrt(self.mechanism.hub_radius ** 2 + s * self.spec.thickness / math.pi)

    @property
    def position(self) -> float:
        """Seconds of tape on the take-up reel of the side facing up."""
        return self.position_a if self.side == "A" else self.duration - self.position_a

    @position.setter
    def position(self, value: float) -> None:
        value = min(max(value, 0.0), self.duration)
        self.position_a = value if self.side == "A" else self.duration - value

    def flip(self) -> None:
        self.side = "B" if self.side == "A" else "A"

    def tab_present(self, side: str | None = None) -> bool:
        return (side or self.side) not in self.protected

    # audio on tape -------------------------------------------------------
    def track(self, side: str | None = None) -> wavfile.TapeTrack:
        """The side's magnetization, int16 (frames, 2), indexed by seconds × rate."""
        side = side or self.side
        if side not in self._maps:
            path = self.directory / f"side_{side.lower()}.wav"
            frames = math.ceil(self.duration * self.rate)
            if not path.exists():
                wavfile.create_sparse(path, frames, self.rate)
            self._maps[side] = wavfile.TapeTrack(path, self.rate)
        return self._maps[side]

    def import_audio(self, side: str, wav: Path) -> float:
        """Put a WAV on a side from the end of the leader; returns its length in seconds."""
        audio = wavfile.read_wav(wav, self.rate)
        track = self.track(side)
        start = int(self.mechanism.leader * self.rate)
        end = min(len(track) - int(self.mechanism.leader * self.rate), start + len(audio))
        track[start:end] = wavfile.to_int16(audio[: end - start])
        track.flush()
        return (end - start) / self.rate

    @property
    def hiss_rms(self) -> float:
        return 10 ** (HISS_DBFS[self.tape_type] / 20)

    # persistence ---------------------------------------------------------
    def save(self) -> None:
        for m in self._maps.values():
            m.flush()
        meta = {"length": self.length, "type": self.tape_type, "side": self.side,
                "position_a": round(self.position_a, 4), "protected": sorted(self.protected),
                "name": self.name}
        tmp = self.directory / "cassette.toml.tmp"
        tmp.write_bytes(tomli_w.dumps(meta).encode())
        tmp.replace(self.directory / "cassette.toml")

    def close(self) -> None:
        self.save()
        for m in self._maps.values():
            m.close()
        self._maps.clear()

    @classmethod
    def create(cls, directory: Path, mechanism: Mechanism, length: str = "C60",
               tape_type: str = "I", protected: set[str] | None = None, side: str = "A",
               position: float = 0.0, name: str = "") -> Cassette:
        if length not in mechanism.cassettes:
            raise ConfigError(f"cassette length must be one of {', '.join(mechanism.cassettes)}")
        if tape_type not in TAPE_TYPES:
            raise ConfigError(f"cassette type must be one of {', '.join(TAPE_TYPES)}")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        c = cls(directory, length, tape_type, mechanism, protected=set(protected or ()),
                side=side, name=name or directory.name)
        c.position = position
        c.save()
        return c

    @classmethod
    def open(cls, directory: Path, mechanism: Mechanism) -> Cassette:
        """A cassette directory as saved; a ConfigError naming the file and key if it is not
        one (the same checks as every file a person may edit: capstan.schema)."""
        from capstan import schema as sc

        directory = Path(directory)
        path = directory / "cassette.toml"
        if not directory.is_dir():
            raise ConfigError(f"{directory}: not a cassette directory (no such directory)")
        try:
            meta = sc.table(_meta_schema(mechanism), "", sc.read_toml(path, "cassette file"),
                            required=("length", "type"))
        except ConfigError as exc:
            msg = str(exc)
            raise ConfigError(msg if msg.startswith(str(path)) else f"{path}: {msg}") from None
        spec = mechanism.cassettes[meta["length"]]
        duration = spec.minutes * 60.0 + 2 * mechanism.leader
        position_a = meta.get("position_a", 0.0)
        if position_a > duration:
            raise ConfigError(f"{path}: position_a = {position_a:g}: a {meta['length']} side "
                              f"is {duration:g} s long")
        return cls(directory, meta["length"], meta["type"], mechanism,
                   protected=set(meta.get("protected", ())), side=meta.get("side", "A"),
                   position_a=position_a, name=meta.get("name", ""))


def _meta_schema(mechanism: Mechanism) -> dict[str, Any]:
    from capstan import schema as sc

    return {"length": sc.choice(*mechanism.cassettes), "type": sc.choice(*TAPE_TYPES),
            "side": sc.choice(*SIDES), "position_a": sc.number(0, 7300, unit="s"),
            "protected": sc.list_of(sc.choice(*SIDES), max_items=2),
            "name": sc.text_or_empty}
