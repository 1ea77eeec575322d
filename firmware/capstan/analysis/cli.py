"""`capstan analyze`: wow & flutter and track detection on a WAV file, the test tone, and
the B-type curves.

Imports nothing heavy at module level; numpy comes in when a command runs.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable


def register(subparsers: argparse._SubParsersAction) -> None:
    analyze = subparsers.add_parser("analyze", help="analyse a recording of the playhead")
    sub = analyze.add_subparsers(dest="analysis", metavar="ANALYSIS", required=True)

    wf = sub.add_parser("wow-flutter", help="speed and wow & flutter of a 3150/3000 Hz test tone")
    wf.add_argument("file", metavar="FILE.wav")
    wf.add_argument("--json", action="store_true", help="print JSON")
    wf.add_argument("--tone-hz", type=_in(100, 20000, "Hz"), default=None,
                    help="nominal test tone (default: 3150 or 3000, whichever is nearer)")
    wf.add_argument("--channel", choices=("left", "right"), default="left")
    wf.set_defaults(func=run_wow_flutter)

    tr = sub.add_parser("tracks", help="the tracks on a recording, split at gaps of hiss")
    tr.add_argument("file", metavar="FILE.wav")
    tr.add_argument("--json", action="store_true", help="print JSON")
    tr.add_argument("--min-gap", type=_in(0.1, 60, "seconds"), default=1.8, metavar="SECONDS",
                    help="shortest silence that separates tracks (default 1.8; 0.1 to 60)")
    tr.set_defaults(func=run_tracks)

    tt = sub.add_parser("test-tone", help="write a 3150 Hz test-tone WAV to record on a cassette",
                        description="A pure sine (16-bit stereo PCM) for wow & flutter: "
                        "record it onto a blank cassette, play it back, and read it with "
                        "`capstan analyze wow-flutter` (docs/analysis.md).")
    tt.add_argument("file", metavar="FILE.wav")
    tt.add_argument("--hz", type=_in(100, 20000, "Hz"), default=3150.0,
                    help="the tone (default 3150; 3000 is the other standard)")
    tt.add_argument("--seconds", type=_in(10, 3600, "seconds"), default=60.0,
                    help="how long (default 60; 10 to 3600)")
    tt.add_argument("--level", type=_in(-40, 0, "dBFS"), default=-10.0,
                    help="peak level in dBFS (default -10)")
    tt.add_argument("--rate", type=int, choices=(44100, 48000), default=48000)
    tt.add_argument("--force", action="store_true", help="replace an existing file")
    tt.set_defaults(func=run_test_tone)

    nr = sub.add_parser("nr", help="the B-type encoder's static response at the standard's "
                                   "levels and frequencies")
    nr.add_argument("--json", action="store_true", help="print JSON")
    nr.add_argument("--reference-dbfs", type=_in(-60, 0, "dBFS"), default=None, metavar="L",
                    help="dBFS (sine peak) of a 400 Hz tone at the reference flux "
                         "(default: the board's)")
    nr.set_defaults(func=run_nr_curves)


def _in(lo: float, hi: float, unit: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
        if not (v == v and lo <= v <= hi):  # NaN fails the first test
            raise argparse.ArgumentTypeError(f"must be {lo:g} to {hi:g} {unit}, got {text}")
        return v
    return parse


def run_test_tone(args: argparse.Namespace) -> int:
    from pathlib import Path

    from capstan.analysis.testtone import describe, write_test_tone

    path = write_test_tone(Path(args.file), args.hz, args.seconds, args.rate, args.level,
                           force=args.force)
    print(f"{path}: {describe(args.hz, args.seconds, args.rate, args.level)}")
    return 0


def run_wow_flutter(args: argparse.Namespace) -> int:
    from capstan.analysis.flutter import find_test_tone, measure_wow_flutter
    from capstan.wavfile import read_wav

    samples, rate = read_wav(args.file)
    channel = 1 if args.channel == "right" and samples.shape[1] > 1 else 0
    start, end, nominal = find_test_tone(samples, rate, tone_hz=args.tone_hz, channel=channel)
    stretch = samples[round(start * rate):round(end * rate)]
    r = measure_wow_flutter(stretch, rate, tone_hz=args.tone_hz or nominal, channel=channel,
                            find_tone=False)
    if args.json:
        print(json.dumps({**{k: round(v, 6) for k, v in r.to_dict().items()},
                          "tone_start_s": round(start, 3), "tone_end_s": round(end, 3)}))
        return 0
    print(f"test tone from {start:8.2f} s to {end:.2f} s of the recording")
    print(f"tone            {r.frequency_hz:10.3f} Hz (nominal {r.nominal_hz:.0f} Hz)")
    print(f"speed error     {r.speed_error_percent:+10.3f} %")
    print(f"weighted peak   {r.weighted_peak_percent:10.4f} % (2σ, AES6 / IEC 60386)")
    print(f"weighted rms    {r.wrms_percent:10.4f} % (WRMS)")
    print(f"unweighted peak {r.unweighted_peak_percent:10.4f} % (2σ, 0.5–200 Hz)")
    print(f"unweighted rms  {r.unweighted_rms_percent:10.4f} %")
    print(f"measured over   {r.duration_s:10.1f} s")
    return 0


def run_tracks(args: argparse.Namespace) -> int:
    from capstan.analysis.tracks import detect_tracks
    from capstan.wavfile import read_wav

    samples, rate = read_wav(args.file)
    tracks, marks = detect_tracks(samples, rate, min_gap_s=args.min_gap)
    if args.json:
        print(json.dumps({"tracks": [t.to_dict() for t in tracks],
                          "gaps": [m.to_dict() for m in marks]}))
        return 0
    if not tracks:
        print("no sound above the hiss")
    for t in tracks:
        print(f"track {t.number:2d}  {t.start:9.3f} s – {t.end:9.3f} s  ({t.end - t.start:7.2f} s)")
    return 0


def run_nr_curves(args: argparse.Namespace) -> int:
    import math

    from capstan.audio.nr_cli import default_reference_dbfs
    from capstan.audio.nr_measure import STANDARD_FREQS_HZ, STANDARD_LEVELS_DB, static_response
    from capstan.errors import ConfigError

    level = default_reference_dbfs() if args.reference_dbfs is None else args.reference_dbfs
    if not math.isfinite(level) or not -60.0 <= level <= 0.0:
        raise ConfigError(f"--reference-dbfs must be -60..0 dBFS, got {level:g}")
    table = static_response(STANDARD_LEVELS_DB, STANDARD_FREQS_HZ, 48000, level)
    if args.json:
        print(json.dumps({"reference_dbfs": round(level, 2), "rate": 48000,
                          "levels_db": list(STANDARD_LEVELS_DB),
                          "freqs_hz": list(STANDARD_FREQS_HZ),
                          "boost_db": [[round(float(v), 2) for v in row] for row in table]}))
        return 0
    print(f"B-type encoder, static response (dB of boost); levels re the reference level "
          f"({level:.2f} dBFS at 400 Hz), steady tones, 48 kHz")
    print("level dB " + "".join(f"{f / 1000:>8.1f}k" if f >= 1000 else f"{f:>8.0f} "
                                for f in STANDARD_FREQS_HZ))
    for lv, row in zip(STANDARD_LEVELS_DB, table, strict=True):
        print(f"{lv:>8.0f} " + "".join(f"{v:>9.2f}" for v in row))
    return 0
