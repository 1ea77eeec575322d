"""Speed and wow & flutter of a test tone, per AES6-2008 / IEC 60386.

The chain, a block at a time:

1. The tone (3150 Hz or 3000 Hz) is brought to baseband and decimated to about
   4 kHz by one polyphase FIR (a Blackman-windowed sinc moved to the tone's
   frequency), so only the band around the tone is demodulated.
2. FM demodulation: the phase step between consecutive baseband samples is the
   instantaneous frequency; its mean over the reading is the tone's frequency,
   and its ratio to the nominal tone is the speed error.
3. The frequency deviation goes through the weighting (`weighting`) and through
   the flat 0.5–200 Hz band for the unweighted value.
4. Statistics over the reading window, relative to the mean frequency:
   the 2-sigma peak is the level |deviation| exceeds 5 % of the time (the
   standard's statistical "two-sigma" voltmeter; 0.997 × the peak of a sine),
   and WRMS is the RMS of the weighted deviation.

The first `settle_s` seconds feed the filters but not the statistics.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np

from capstan.analysis import AnalysisError
from capstan.analysis.weighting import flutter_filters

TEST_TONES_HZ = (3150.0, 3000.0)
MAX_SPEED_ERROR = 0.06  # a tone further than this from both test tones is not a test tone
DEMOD_RATE_HZ = 4000.0
TAPS_PER_PHASE = 8
BATCH_S = 0.1


@dataclass(frozen=True)
class FlutterReading:
    frequency_hz: float
    nominal_hz: float
    speed_error_percent: float
    weighted_peak_percent: float
    wrms_percent: float
    unweighted_peak_percent: float
    unweighted_rms_percent: float
    duration_s: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def nearest_test_tone(freq_hz: float) -> float:
    return min(TEST_TONES_HZ, key=lambda t: abs(math.log(freq_hz / t)))


class ToneDemodulator:
    """Block-fed FM demodulator: mono samples in, instantaneous frequency (Hz) out."""

    def __init__(self, sample_rate: float, tone_hz: float) -> None:
        self.decimation = max(1, round(sample_rate / DEMOD_RATE_HZ))
        self.rate = sample_rate / self.decimation
        d, k = self.decimation, TAPS_PER_PHASE
        n = np.arange(d * k)
        centre = (d * k - 1) / 2
        cutoff = 0.5 / d  # cycles per input sample: half the output rate
        h = 2 * cutoff * np.sinc(2 * cutoff * (n - centre)) * np.blackman(d * k)
        h /= h.sum()
        w0 = 2 * np.pi * tone_hz / sample_rate
        hc = h * np.exp(1j * w0 * n)
        # One window of k rows of d samples ends at each output; tap order reversed to match.
        taps = hc[::-1]
        self._taps = np.stack([taps.real, taps.imag], axis=1)  # (k·d, 2)
        self._rotate = np.exp(-1j * w0 * d)
        self.tone_hz = tone_hz
        self._rows = np.zeros((0, d))
        self._tail = np.zeros(0)
        self._last: complex | None = None

    def process(self, samples: np.ndarray) -> np.ndarray:
        d, k = self.decimation, TAPS_PER_PHASE
        x = np.concatenate([self._tail, np.asarray(samples, dtype=float)])
        whole = len(x) // d * d
        self._tail = x[whole:]
        rows = np.ascontiguousarray(np.concatenate([self._rows, x[:whole].reshape(-1, d)]))
        count = len(rows) - (k - 1)
        if count <= 0:
            self._rows = rows
            return np.zeros(0)
        windows = np.lib.stride_tricks.as_strided(
            rows, shape=(count, k * d), strides=(rows.strides[0], rows.strides[1]), writeable=False)
        acc = windows @ self._taps
        self._rows = rows[count:]
        v = acc[:, 0] + 1j * acc[:, 1]
        if self._last is not None:
            v = np.concatenate([[self._last], v])
        self._last = complex(v[-1])
        step = np.angle(v[1:] * np.conj(v[:-1]) * self._rotate)
        return self.tone_hz + step * (self.rate / (2 * np.pi))


class _Window:
    """The most recent `size` values of a signal, in no particular order (enough for statistics)."""

    def __init__(self, size: int) -> None:
        self._data = np.zeros(size)
        self._at = 0
        self.count = 0

    def push(self, values: np.ndarray) -> None:
        size = len(self._data)
        values = values[-size:]
        first = min(len(values), size - self._at)
        self._data[self._at:self._at + first] = values[:first]
        self._data[:len(values) - first] = values[first:]
        self._at = (self._at + len(values)) % size
        self.count = min(size, self.count + len(values))

    def values(self) -> np.ndarray:
        return self._data[:self.count]


class WowFlutterMeter:
    """The live meter: feed blocks of audio, read the last `window_s` seconds at any time.

    `block` may be mono (frames,) or (frames, channels); `channel` picks the channel.
    """

    def __init__(self, sample_rate: float = 48000.0, tone_hz: float = 3150.0,
                 window_s: float = 5.0, settle_s: float = 3.0, channel: int = 0) -> None:
        self._demod = ToneDemodulator(sample_rate, tone_hz)
        rate = self._demod.rate
        self._filters = flutter_filters(rate)
        size = max(1, round(window_s * rate))
        self._freq, self._wtd, self._unw = _Window(size), _Window(size), _Window(size)
        self._settle = round(settle_s * rate)
        self._seen = 0
        self._reference: float | None = None
        self.channel = channel
        self._queue: list[np.ndarray] = []
        self._queued = 0
        self._batch = round(BATCH_S * sample_rate)
        self.rate = rate
        self.nominal_hz = tone_hz

    def feed(self, block: np.ndarray) -> None:
        """Take a block; the work is done 100 ms at a time, whatever the block size."""
        block = np.asarray(block)
        self._queue.append(block[:, self.channel] if block.ndim == 2 else block)
        self._queued += len(block)
        if self._queued >= self._batch:
            self.flush()

    def flush(self) -> None:
        """Process what is queued (before a final reading)."""
        if self._queue:
            self._run(np.concatenate(self._queue))
            self._queue, self._queued = [], 0

    def _run(self, mono: np.ndarray) -> None:
        freq = self._demod.process(mono)
        if not len(freq):
            return
        if self._reference is None:
            self._reference = float(np.mean(freq))  # keeps the filters' start-up step small
        dev = freq - self._reference
        weighted, unweighted = self._filters.process(dev)
        skip = max(0, min(len(freq), self._settle - self._seen))
        self._seen += len(freq)
        if skip < len(freq):
            self._freq.push(freq[skip:])
            self._wtd.push(weighted[skip:])
            self._unw.push(unweighted[skip:])

    @property
    def ready(self) -> bool:
        return self._freq.count > 0

    def reading(self) -> FlutterReading | None:
        """The reading over the window so far, or None while the filters settle."""
        self.flush()
        if not self.ready:
            return None
        freq = self._freq.values()
        mean = float(np.mean(freq))
        wtd = np.abs(self._wtd.values()) / mean * 100
        unw = np.abs(self._unw.values()) / mean * 100
        return FlutterReading(
            frequency_hz=mean,
            nominal_hz=self.nominal_hz,
            speed_error_percent=(mean / self.nominal_hz - 1) * 100,
            weighted_peak_percent=float(np.percentile(wtd, 95)),
            wrms_percent=float(np.sqrt(np.mean(wtd * wtd))),
            unweighted_peak_percent=float(np.percentile(unw, 95)),
            unweighted_rms_percent=float(np.sqrt(np.mean(unw * unw))),
            duration_s=len(freq) / self.rate,
        )


def estimate_tone_hz(samples: np.ndarray, sample_rate: float) -> float:
    """The frequency of the strongest tone in `samples` (Hann window, parabolic peak)."""
    n = min(len(samples), 1 << 16)
    spectrum = np.abs(np.fft.rfft(samples[:n] * np.hanning(n)))
    spectrum[0] = 0.0
    i = int(np.argmax(spectrum[1:-1])) + 1
    a, b, c = np.log(spectrum[i - 1:i + 2] + 1e-30)
    shift = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) != 0 else 0.0
    return (i + shift) * sample_rate / n


def find_test_tone(samples: np.ndarray, sample_rate: float, tone_hz: float | None = None,
                   channel: int = 0) -> tuple[float, float, float]:
    """(start s, end s, nominal Hz) of the test tone's longest stretch in a recording."""
    from capstan.analysis.tone import tone_stretch

    samples = np.asarray(samples)
    mono = samples[:, channel] if samples.ndim == 2 else samples
    stretch = tone_stretch(mono, sample_rate, tone_hz)
    if stretch is None:
        named = f"{tone_hz:g} Hz" if tone_hz else "3150 Hz or 3000 Hz"
        found = estimate_tone_hz(mono, sample_rate) if len(mono) > 4 else 0.0
        raise AnalysisError(
            f"no {named} test tone in the recording (louder than -50 dBFS, alone, for at "
            f"least 0.3 s; the strongest sound is at {found:.0f} Hz): play a test tape, "
            "or name the tone with --tone-hz")
    start, end, nominal = stretch
    return start / sample_rate, end / sample_rate, nominal


def measure_wow_flutter(samples: np.ndarray, sample_rate: float, tone_hz: float | None = None,
                        settle_s: float = 3.0, channel: int = 0,
                        find_tone: bool = True) -> FlutterReading:
    """Wow & flutter of a recorded test tone, over all of it after `settle_s`.

    With `find_tone` (the default) only the tone's own stretch is read
    (`find_test_tone`): a recording need not be trimmed to the tone."""
    samples = np.asarray(samples)
    mono = samples[:, channel] if samples.ndim == 2 else samples
    if find_tone:
        start, end, nominal = find_test_tone(mono, sample_rate, tone_hz)
        mono = mono[round(start * sample_rate):round(end * sample_rate)]
        tone_hz = tone_hz or nominal
    duration = len(mono) / sample_rate
    if duration < settle_s + 1.0:
        raise AnalysisError(
            f"the test tone lasts {duration:.1f} s; wow & flutter needs at least "
            f"{settle_s + 1.0:.0f} s of it (AES6 reads over 5 s or more)")
    if tone_hz is None:
        found = estimate_tone_hz(mono, sample_rate)
        tone_hz = nearest_test_tone(found)
        if abs(found / tone_hz - 1) > MAX_SPEED_ERROR:
            raise AnalysisError(
                f"no 3150 Hz or 3000 Hz test tone: the strongest tone is at {found:.0f} Hz; "
                "play a test tape, or name the tone with --tone-hz")
    meter = WowFlutterMeter(sample_rate, tone_hz, window_s=duration, settle_s=settle_s)
    for block in _blocks(mono, int(sample_rate)):
        meter.feed(block)
    reading = meter.reading()
    assert reading is not None
    return reading


def _blocks(samples: np.ndarray, size: int) -> Iterable[np.ndarray]:
    for start in range(0, len(samples), size):
        yield samples[start:start + size]
