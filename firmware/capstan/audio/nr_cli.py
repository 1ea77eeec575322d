"""`capstan nr decode|encode IN.wav OUT.wav [--reference-dbfs L]`: B-type over a file.

The same decoder and encoder the player runs, block by block (1024 frames) from the
file's start. L is the digital level (dBFS, sine peak) of a 400 Hz tone at the
reference flux; by default the board's (hardware/board.toml [nr]). Imports nothing
heavy at module level.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from capstan.errors import CapstanError, ConfigError

BLOCK = 1024


def register(subparsers: argparse._SubParsersAction) -> None:
    nr = subparsers.add_parser("nr", help="B-type noise reduction over a WAV file")
    sub = nr.add_subparsers(dest="direction", metavar="DIRECTION", required=True)
    for name, what in (("decode", "play a B-type encoded recording back flat"),
                       ("encode", "encode a recording for a deck with B-type NR")):
        p = sub.add_parser(name, help=what)
        p.add_argument("input", metavar="IN.wav")
        p.add_argument("output", metavar="OUT.wav")
        p.add_argument("--reference-dbfs", type=float, default=None, metavar="L",
                       help="dBFS (sine peak) of a 400 Hz tone at the reference flux "
                            "(default: the board's)")
        p.set_defaults(func=run_nr)


def default_reference_dbfs() -> float:
    """The board's reference level, or the firmware's default without a board."""
    from capstan.audio.noise_reduction import DEFAULT_REFERENCE_DBFS
    from capstan.hardware.description import load_board

    try:
        nr = load_board().nr
    except CapstanError:
        return DEFAULT_REFERENCE_DBFS
    return nr.reference_dbfs if nr is not None else DEFAULT_REFERENCE_DBFS


def run_nr(args: argparse.Namespace) -> int:
    import numpy as np

    from capstan.audio.noise_reduction import Decoder, Encoder
    from capstan.wavfile import read_wav, write_wav

    level = args.reference_dbfs
    if level is None:
        level = default_reference_dbfs()
    if not math.isfinite(level) or not -60.0 <= level <= 0.0:
        raise ConfigError(f"--reference-dbfs must be -60..0 dBFS, got {level:g}")
    src, dst = Path(args.input), Path(args.output)
    if src.resolve() == dst.resolve():
        raise ConfigError(f"{dst}: the output would overwrite the input; name another file")
    samples, rate = read_wav(src)
    if rate < 32000:
        raise CapstanError(f"{src}: {rate} Hz is too low for B-type (it works up to 20 kHz); "
                           "use 44.1 or 48 kHz")
    kind = Decoder if args.direction == "decode" else Encoder
    process = kind(rate, samples.shape[1], level)
    out = np.concatenate([process(samples[i:i + BLOCK]) for i in range(0, len(samples), BLOCK)]) \
        if len(samples) else samples
    peak = float(np.abs(out).max()) if len(out) else 0.0
    if not dst.parent.is_dir():
        raise CapstanError(f"{dst.parent}: no such directory for the output")
    write_wav(dst, out, rate)
    note = f"; its peak {20 * math.log10(peak):.1f} dBFS" if peak > 0 else ""
    print(f"{args.direction}d {src} → {dst}: {len(samples) / rate:.1f} s at {rate} Hz, "
          f"reference {level:.2f} dBFS{note}")
    if peak >= 1.0:
        print(f"warning: {dst} clips (the encoder adds up to 10 dB of treble at low levels and "
              "little at high ones); lower the input's level")
    return 0
