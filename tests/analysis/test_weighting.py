"""The weighting filter against the standard's table."""

import numpy as np
import pytest

from capstan.analysis import filters
from capstan.analysis.weighting import flutter_filters, weighting_db, weighting_response

# AES6-2008 (r2012), "Method for measurement of weighted peak flutter of analogue
# sound recording and reproducing equipment", table of the frequency-response
# weighting (identical to IEC 60386:1972 + A1:1988 and DIN 45507): frequency in Hz,
# relative response in dB re 4 Hz.
AES6_WEIGHTING_TABLE = [
    (0.1, -48.0), (0.2, -30.6), (0.315, -19.7), (0.4, -15.0), (0.63, -8.4),
    (0.8, -6.0), (1.0, -4.2), (1.6, -1.8), (2.0, -0.9), (4.0, 0.0), (6.3, -0.9),
    (10.0, -2.1), (20.0, -5.9), (40.0, -10.4), (63.0, -14.2), (100.0, -17.3),
    (200.0, -23.0),
]


@pytest.mark.parametrize("rate", [4000.0, 44100 / 11])  # the demodulator's rate at 48 and 44.1 kHz
@pytest.mark.parametrize(("freq", "table_db"), AES6_WEIGHTING_TABLE)
def test_weighting_within_half_a_db_of_the_standard(rate: float, freq: float,
                                                    table_db: float) -> None:
    assert weighting_db(np.array([freq]), rate)[0] == pytest.approx(table_db, abs=0.5)


def test_weighting_peaks_at_4_hz() -> None:
    freqs = np.geomspace(0.1, 200, 2000)
    assert freqs[np.argmax(weighting_db(freqs, 4000.0))] == pytest.approx(4.0, rel=0.15)


def test_block_filter_matches_its_transfer_function() -> None:
    """A sine through the block-run filter comes out with the designed gain and phase."""
    rate = 4000.0
    bank = flutter_filters(rate)
    t = np.arange(int(40 * rate)) / rate
    u = np.sin(2 * np.pi * 10 * t)
    y = np.concatenate([bank.process(u[i:i + 333]) for i in range(0, len(u), 333)], axis=1)
    h = weighting_response(np.array([10.0]), rate)[0]
    want = abs(h) * np.sin(2 * np.pi * 10 * t + np.angle(h))
    assert np.max(np.abs(y[0, -8000:] - want[-8000:])) < 1e-6


def test_bilinear_first_order_low_pass_is_minus_3_db_at_its_corner() -> None:
    rate = 4000.0
    section = filters.bilinear(filters.low_pass_1(100.0, rate), rate)
    h = filters.digital_response([section], np.array([0.0, 100.0]), rate)
    assert abs(h[0]) == pytest.approx(1.0)
    assert 20 * np.log10(abs(h[1])) == pytest.approx(-3.0103, abs=1e-3)
