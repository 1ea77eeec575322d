"""Measuring the noise reduction the way its published curves are drawn: steady tones.

Every tone runs through the real encoder (all tones at once, one per channel)
for SETTLE seconds; the response is the tone's amplitude at the output over
the input's, from a lock-in over the last 0.2 s.
"""

from __future__ import annotations

import numpy as np

from capstan.audio.noise_reduction import DEFAULT_REFERENCE_DBFS, Encoder

STANDARD_LEVELS_DB = (-60.0, -50.0, -40.0, -30.0, -20.0, -10.0, 0.0)  # re reference level
STANDARD_FREQS_HZ = (100.0, 200.0, 500.0, 1000.0, 2000.0, 3000.0, 5000.0, 10000.0, 15000.0)
SETTLE = 0.5  # s of tone before the measurement (the detector's decay is 0.116 s)
WINDOW = 0.2  # s measured
BLOCK = 1024


def _amplitude(x: np.ndarray, freq: float, rate: int) -> float:
    t = np.arange(len(x)) / rate
    return float(2 * abs(np.mean(x * np.exp(-2j * np.pi * freq * t))))


def tone(level_db: float, freq: float, seconds: float, rate: int,
         reference_dbfs: float = DEFAULT_REFERENCE_DBFS) -> np.ndarray:
    """A sine at `level_db` re the reference level (its peak at reference_dbfs + level_db)."""
    t = np.arange(round(seconds * rate)) / rate
    return 10 ** ((reference_dbfs + level_db) / 20) * np.sin(2 * np.pi * freq * t)


def run_blocks(process: object, x: np.ndarray, block: int = BLOCK) -> np.ndarray:
    """`process` (a callable on (frames, channels) blocks) over `x`, block by block."""
    assert callable(process)
    return np.concatenate([process(x[i:i + block]) for i in range(0, len(x), block)])


def static_response(levels_db: tuple[float, ...] = STANDARD_LEVELS_DB,
                    freqs_hz: tuple[float, ...] = STANDARD_FREQS_HZ, rate: int = 48000,
                    reference_dbfs: float = DEFAULT_REFERENCE_DBFS) -> np.ndarray:
    """The encoder's gain (dB) for a steady tone at each (level, frequency): (levels, freqs)."""
    seconds = SETTLE + WINDOW
    x = np.stack([tone(lv, f, seconds, rate, reference_dbfs)
                  for lv in levels_db for f in freqs_hz], axis=1).astype(np.float32)
    y = run_blocks(Encoder(rate, x.shape[1], reference_dbfs), x)
    tail = slice(len(x) - round(WINDOW * rate), len(x))
    out = np.empty((len(levels_db), len(freqs_hz)))
    for i in range(len(levels_db)):
        for j, f in enumerate(freqs_hz):
            ch = i * len(freqs_hz) + j
            out[i, j] = 20 * np.log10(_amplitude(y[tail, ch], f, rate)
                                      / _amplitude(x[tail, ch], f, rate))
    return out


def probe_response(level_db: float, tone_hz: float, probe_hz: float, rate: int = 48000,
                   reference_dbfs: float = DEFAULT_REFERENCE_DBFS,
                   probe_db: float = -70.0) -> float:
    """The gain (dB) at `probe_hz` of a faint probe while a tone at `level_db` dominates:
    how far the band has slid above the dominant tone."""
    seconds = SETTLE + WINDOW
    dominant = tone(level_db, tone_hz, seconds, rate, reference_dbfs)
    probe = tone(probe_db, probe_hz, seconds, rate, reference_dbfs)
    x = np.stack([dominant + probe, dominant], axis=1).astype(np.float32)
    y = run_blocks(Encoder(rate, 2, reference_dbfs), x)
    tail = slice(len(x) - round(WINDOW * rate), len(x))
    # the probe alone: what the pair's difference holds at the probe's frequency
    gain = _amplitude(y[tail, 0] - y[tail, 1], probe_hz, rate) / _amplitude(probe[tail], probe_hz,
                                                                             rate)
    return float(20 * np.log10(gain))
