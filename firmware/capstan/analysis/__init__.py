"""Tape intelligence: what the playhead signal says about the tape and the deck.

Pure, block-fed signal analysis (numpy only, no I/O except `wavfile`):

- `flutter`: speed and wow & flutter per AES6-2008 / IEC 60386 (`WowFlutterMeter`,
  `measure_wow_flutter`), with `tone.ToneDetector` to start the meter by itself;
- `tracks`: silence between tracks with an adaptive hiss floor (`TrackDetector`);
- `azimuth`: left/right phase and correlation (`AzimuthMeter`);
- `fingerprint`: recognising a cassette from its first seconds of audio.

Nothing here imports numpy at package level, so `capstan` starts fast.
"""

from capstan.errors import CapstanError


class AnalysisError(CapstanError):
    """A signal could not be analysed (too short, no test tone, unreadable file...)."""
