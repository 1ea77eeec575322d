"""B-type noise reduction: static curves against published points, complementarity, dynamics.

Published points used (levels re the reference level, i.e. Dolby level):
[T] Tandy/Radio Shack faxback doc. 18023, "Dolby B and C described"
    (tandy1997.mirror.kb1max.com/support_audio/doc18/18023.txt): B-type "does the same
    from 500 Hz, and rises 10 dB at 4 kHz and above" (low levels).
[F] Audio Professional FAQ, 4.3 (stason.org/TULARC/entertainment/audio/pro/4-3-...):
    "For a tone at -40dB at 3 kHz, the boost applied to signals with frequencies above
    this would probably be the full 10dB ... If the same tone were at -20dB, then the
    boost would be less, maybe about 5dB."
[D] R. Dolby, "A 20 dB audio noise reduction system for consumer applications",
    JAES 31(3), 1983: the B-type system's 10 dB of high-frequency noise reduction.
[G] Dilettante's Dictionary, "Dolby noise reduction": strong signals, and signals below
    500 Hz, are not affected.
[C] The B-type control circuit's components, as reproduced in libdolbyb's Param.h
    (M. Guy 2025, after R. Evans' dolbybcsoftwaredecode, 2018): the rectified side-chain
    signal charges 0.1 µF through 2.7 kΩ (GCR1, GCC1), which discharges through 270 kΩ
    (GCR1d), followed by a second smoothing stage of 270 kΩ and 0.33 µF (GCR2, GCC2).
"""

from __future__ import annotations

import numpy as np
import pytest

from capstan.audio.noise_reduction import GAIN, SUB, Decoder, Encoder
from capstan.audio.nr_measure import probe_response, run_blocks, static_response, tone

RATE = 48000
REF = -12.0


@pytest.fixture(scope="module")
def curves() -> tuple[tuple[float, ...], tuple[float, ...], np.ndarray]:
    levels = (-60.0, -40.0, -20.0, 0.0)
    freqs = (200.0, 500.0, 4000.0, 5000.0, 10000.0)
    return levels, freqs, static_response(levels, freqs, RATE, REF)


def _at(curves: tuple, level: float, freq: float) -> float:
    levels, freqs, table = curves
    return float(table[levels.index(level), freqs.index(freq)])


@pytest.mark.parametrize(("freq", "published", "source"), [
    (4000.0, 10.0, "T"), (5000.0, 10.0, "T, D"), (10000.0, 10.0, "T, D")])
def test_low_level_boost_is_the_full_10_db_from_4_khz_up(curves: tuple, freq: float,
                                                        published: float, source: str) -> None:
    assert abs(_at(curves, -60.0, freq) - published) <= 1.0, source


def test_low_level_boost_begins_around_500_hz(curves: tuple) -> None:
    # [T]: the boost starts from 500 Hz; [G]: below 500 Hz nothing is affected
    assert abs(_at(curves, -60.0, 200.0) - 0.0) <= 1.0
    assert _at(curves, -60.0, 500.0) < _at(curves, -60.0, 4000.0) - 5.0


@pytest.mark.parametrize("freq", [200.0, 500.0, 4000.0, 5000.0, 10000.0])
def test_boost_falls_away_to_near_0_db_at_reference_level(curves: tuple, freq: float) -> None:
    # [G]: strong signals are not affected
    assert abs(_at(curves, 0.0, freq)) <= 1.0


def test_boost_falls_monotonically_with_level(curves: tuple) -> None:
    table = curves[2]
    assert np.all(np.diff(table, axis=0) <= 0.05)


@pytest.mark.parametrize(("level", "published"), [(-40.0, 10.0), (-20.0, 5.0), (0.0, 0.0)])
def test_the_band_slides_above_a_dominant_3_khz_tone(level: float, published: float) -> None:
    # [F]: the boost of what lies above a dominant 3 kHz tone (probed at 6 kHz)
    assert abs(probe_response(level, 3000.0, 6000.0, RATE, REF) - published) <= 1.0


# complementarity -----------------------------------------------------------------------
ROUND_TRIP_FREQS = (20.0, 50.0, 100.0, 300.0, 1000.0, 2000.0, 4000.0, 7000.0, 10000.0, 15000.0,
                    20000.0)


@pytest.mark.parametrize("decoder_block", [1024, 1000])
def test_encode_then_decode_is_flat_at_every_level(decoder_block: int) -> None:
    """±0.5 dB from 20 Hz to 20 kHz at −60 … 0 dB re reference; the decoder's blocks need
    not line up with the encoder's (a tape never does)."""
    levels = (-60.0, -50.0, -40.0, -30.0, -20.0, -10.0, 0.0)
    x = np.stack([tone(lv, f, 0.6, RATE, REF) for lv in levels for f in ROUND_TRIP_FREQS],
                 axis=1).astype(np.float32)
    y = run_blocks(Encoder(RATE, x.shape[1], REF), x)
    z = run_blocks(Decoder(RATE, x.shape[1], REF), y, decoder_block)
    tail = slice(len(x) - 9600, len(x))
    t = np.arange(9600) / RATE
    for ch in range(x.shape[1]):
        f = ROUND_TRIP_FREQS[ch % len(ROUND_TRIP_FREQS)]
        ref = np.exp(-2j * np.pi * f * t)
        gain = abs(np.mean(z[tail, ch] * ref)) / abs(np.mean(x[tail, ch] * ref))
        assert abs(20 * np.log10(gain)) <= 0.5, (levels[ch // len(ROUND_TRIP_FREQS)], f)


def test_decoder_inverts_the_encoder_sample_by_sample_on_music_like_signal() -> None:
    rng = np.random.default_rng(3)
    n = RATE * 2
    env = np.repeat(10 ** (rng.uniform(-60, 0, n // 2400) / 20), 2400)  # 50 ms steps of level
    x = (rng.standard_normal((n, 2)) * env[:, None] * 0.25).astype(np.float32)
    enc, dec = Encoder(RATE, 2, REF), Decoder(RATE, 2, REF)
    sizes = [1024, 7, 3000, 31, 1024]
    out, pos, i = [], 0, 0
    while pos < n:
        m = sizes[i % len(sizes)]
        out.append(dec(enc(x[pos:pos + m])))
        pos, i = pos + m, i + 1
    assert np.abs(np.concatenate(out) - x).max() < 1e-5


def test_encoder_equals_a_sample_by_sample_reference() -> None:
    """The vectorized recursion (and the encoder's iteration) equal the plain per-sample
    form of the same section with the corners the detector gives, sub-block by sub-block."""
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((4 * SUB * 8, 1)) * 0.05).astype(np.float32)
    y = Encoder(RATE, 1, REF)(x)
    probe = Encoder(RATE, 1, REF)
    k0, c = probe._k0, probe._c
    xs, ys = 0.0, 0.0
    want = np.empty(len(x))
    hold = np.zeros(1)
    history = np.zeros((1, SUB))
    for k in range(len(x) // SUB):
        r = float(probe._ratio(hold[:, None])[0, 0])
        g, q, a1 = (r + c) / (r + k0), (c - r) / (r + k0), (k0 - r) / (k0 + r)
        for i, v in enumerate(x[k * SUB:(k + 1) * SUB, 0].astype(float)):
            ys = g * v - q * xs + a1 * ys
            xs = v
            want[k * SUB + i] = ys
        encoded = want[None, k * SUB:(k + 1) * SUB].astype(np.float32).astype(float)
        _, hold = probe._detect(np.concatenate([history, encoded], axis=1), 1, SUB, hold)
        history = encoded
    assert np.abs(y[:, 0] - want).max() < 1e-5
    assert abs(GAIN - (10 ** 0.5 - 1)) < 1e-12


# dynamics ------------------------------------------------------------------------------
@pytest.mark.parametrize(("freq", "level"), [(100.0, -10.0), (1000.0, -20.0), (10000.0, -30.0),
                                             (5000.0, 0.0)])
def test_no_pumping_on_steady_tones(freq: float, level: float) -> None:
    x = np.stack([tone(level, freq, 1.5, RATE, REF)] * 2, axis=1).astype(np.float32)
    y = run_blocks(Encoder(RATE, 2, REF), x)[RATE // 2:, 0]
    win = RATE // 50 * max(1, round(100 / freq)) if freq < 100 else RATE // 50  # 20 ms windows
    rms = np.sqrt(np.mean(y[: len(y) // win * win].reshape(-1, win) ** 2, axis=1))
    assert 20 * np.log10(rms.max() / rms.min()) < 0.1


@pytest.mark.parametrize("freq", [2000.0, 5000.0, 10000.0])
def test_tone_burst_overshoot_is_short_and_never_above_the_full_boost(freq: float) -> None:
    """From −60 dB to reference level at once: the encoder's first sub-blocks still carry the
    low-level boost (at most the full 10 dB), and within 1.5 ms it is within 2 dB of settled."""
    quiet = tone(-60.0, freq, 0.5, RATE, REF)
    loud = tone(0.0, freq, 0.3, RATE, REF)
    x = np.concatenate([quiet, loud])
    x = np.stack([x, x], axis=1).astype(np.float32)
    y = run_blocks(Encoder(RATE, 2, REF), x)[:, 0]
    onset = len(quiet)
    settled = np.abs(y[onset + RATE // 10: onset + RATE // 5]).max()
    peak_in = np.abs(x[onset:, 0]).max()
    burst = np.abs(y[onset:])
    assert burst.max() <= peak_in * 10 ** (10.2 / 20)
    late = onset + round(0.0015 * RATE)
    assert np.abs(y[late:late + RATE // 20]).max() <= settled * 10 ** (2 / 20)


def test_decoded_bursts_have_no_overshoot() -> None:
    """Decoded with the encoder's block grid (as the chain plays back its own recordings
    from the start), the decoder cancels the encoder's onset exactly."""
    quiet = tone(-40.0, 5000.0, 0.4, RATE, REF)
    loud = tone(-5.0, 5000.0, 0.2, RATE, REF)
    x = np.concatenate([quiet, loud, quiet, loud])
    x = np.stack([x, x], axis=1).astype(np.float32)
    z = run_blocks(Decoder(RATE, 2, REF), run_blocks(Encoder(RATE, 2, REF), x))
    assert np.abs(z[:, 0]).max() <= np.abs(x[:, 0]).max() * 10 ** (0.5 / 20)


# the control's attack and decay against the circuit's time constants [C]
CIRCUIT_ATTACK_S = 2.7e3 * 0.1e-6  # 0.27 ms
CIRCUIT_STAGES_S = (270e3 * 0.1e-6, 270e3 * 0.33e-6)  # 27 ms, 89 ms


def _circuit_fall(t: float) -> float:
    """The two stages' step-down response (the second following the first) at t seconds."""
    t1, t2 = CIRCUIT_STAGES_S
    return (t2 * np.exp(-t / t2) - t1 * np.exp(-t / t1)) / (t2 - t1)


def _circuit_time_to(fraction: float) -> float:
    lo, hi = 0.0, 2.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _circuit_fall(mid) > fraction else (lo, mid)
    return lo


@pytest.fixture(scope="module")
def control_trace() -> tuple[np.ndarray, int, int]:
    """The detector's held RMS after every sub-block (as the decoder derives it from the
    encoded tape) for a 5 kHz tone burst from −60 dB to the reference level and back to
    silence; with the burst's first and last sub-blocks."""
    quiet = tone(-60.0, 5000.0, 0.5, RATE, REF)
    loud = tone(0.0, 5000.0, 0.3, RATE, REF)
    x = np.concatenate([quiet, loud, np.zeros(RATE // 2)])
    x = np.stack([x, x], axis=1).astype(np.float32)
    y = run_blocks(Encoder(RATE, 2, REF), x)
    dec = Decoder(RATE, 2, REF)
    trace = []
    for i in range(0, len(y), SUB):
        dec(y[i:i + SUB])
        trace.append(float(np.sqrt(dec.hold[0])))
    return np.array(trace), len(quiet) // SUB, (len(quiet) + len(loud)) // SUB


def test_attack_is_as_quick_as_the_circuits(control_trace: tuple) -> None:
    """[C]: a large step charges the first stage with a 0.27 ms time constant; the held
    level is within 5 % of the burst's by 1.5 ms (the circuit: within 0.4 %)."""
    trace, onset, end = control_trace
    steady = trace[end - 1]
    late = onset + int(np.ceil(0.0015 * RATE / SUB)) - 1  # the sub-block ending by 1.5 ms
    assert 1.0 - np.exp(-0.0015 / CIRCUIT_ATTACK_S) > 0.99
    assert trace[late] >= 0.95 * steady
    assert trace[onset - 1] < 0.01 * steady  # before the burst: the quiet tone's level


def test_decay_follows_the_circuits_two_stages(control_trace: tuple) -> None:
    """[C]: after the burst the held level falls as the two stages in cascade do: to 1/e
    and to −20 dB within 15 % of the times the circuit takes (120 ms and 237 ms)."""
    trace, _, end = control_trace
    t = (np.arange(len(trace) - end) + 1) * SUB / RATE
    fall = trace[end:] / trace[end - 1]
    for fraction in (np.exp(-1.0), 0.1):
        measured = t[np.argmax(fall < fraction)]
        circuit = _circuit_time_to(fraction)
        assert abs(measured - circuit) <= 0.15 * circuit, (fraction, measured, circuit)


def test_reference_level_moves_the_threshold() -> None:
    # a tone at −20 dB re a reference of −12 dBFS is at −32 dBFS; against a reference of
    # −22 dBFS the same −32 dBFS tone is at −10 dB and gets less boost
    low = static_response((-20.0,), (5000.0,), RATE, -12.0)[0, 0]
    high = static_response((-10.0,), (5000.0,), RATE, -22.0)[0, 0]
    same = static_response((-10.0,), (5000.0,), RATE, -12.0)[0, 0]
    assert high < low - 1.0
    assert abs(high - same) < 0.05
