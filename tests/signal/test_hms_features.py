"""The hand-made HMS pattern features: each one responds to the property it is named after."""

import numpy as np
import pytest

from kerasseizure.signal.hms_features import pattern_feature_names, pattern_features

FS = 40.0
T = np.arange(2000) / FS


def _features(x):
    return dict(zip(pattern_feature_names(), pattern_features(x[None])[0]))


def _noise(seed=0, scale=1.0):
    return scale * np.random.default_rng(seed).standard_normal((len(T), 8))


def test_names_match_the_columns_and_bad_shapes_raise():
    x = _noise()[None]
    assert pattern_features(x).shape == (1, len(pattern_feature_names())) == (1, 106)
    with pytest.raises(ValueError, match="must be"):
        pattern_features(x[:, :, :4])
    with pytest.raises(ValueError, match="sampled above"):
        pattern_features(x, fs=20.0)


def test_periodic_discharges_give_periodicity_and_a_delta_peak_on_their_side():
    x = _noise(scale=0.3)
    spikes = np.zeros(len(T))
    spikes[(np.arange(0, 50, 1 / 1.5) * FS).astype(int)] = 1.0
    discharges = np.convolve(spikes, np.hanning(9) * 20, mode="same")
    x[:, :4] += discharges[:, None]  # left hemisphere only: lateralised periodic discharges at 1.5 Hz
    features, background = _features(x), _features(_noise(scale=0.3))
    assert features["periodicity Fp1-T3"] > 0.5 > background["periodicity Fp1-T3"]
    assert features["periodicity Fp2-C4"] < 0.5
    assert features["delta_peak_hz Fp1-T3"] == pytest.approx(1.5, abs=0.2)
    assert features["left_minus_right 0.5-2Hz"] > 2 and features["abs_left_minus_right 0.5-2Hz"] > 2
    assert abs(background["left_minus_right 0.5-2Hz"]) < 0.5


def test_a_rhythm_raises_its_band_and_not_the_others():
    x = _noise(scale=0.3)
    x += 5 * np.sin(2 * np.pi * 10.0 * T)[:, None]  # generalised 10 Hz rhythm
    features, background = _features(x), _features(_noise(scale=0.3))
    for pair in ("Fp1-T3", "T4-O2"):
        assert features[f"log_power 8-13Hz {pair}"] > background[f"log_power 8-13Hz {pair}"] + 3
        assert features[f"log_power 0.5-2Hz {pair}"] == pytest.approx(background[f"log_power 0.5-2Hz {pair}"],
                                                                        abs=0.5)
        assert features[f"relative_log_power 8-13Hz {pair}"] > 2
