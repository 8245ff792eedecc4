import numpy as np
import pytest
import scipy.signal
import tensorflow as tf

from kerasseizure.errors import SignalError
from kerasseizure.signal import filters, reference

# float32 FFT/direct convolution vs float64 SciPy: errors ~3e-7 of the signal peak.
RELATIVE_TOLERANCE = 1e-5
EDGE = 200


def _eeg_like(shape, seed=0):
    rng = np.random.default_rng(seed)
    drift = np.linspace(-40.0, 60.0, shape[-1])
    return (30.0 * rng.standard_normal(shape) + drift).astype(np.float32)


def _assert_close(actual, expected, tolerance=RELATIVE_TOLERANCE):
    scale = np.abs(expected).max()
    interior = np.abs(actual - expected)[..., EDGE:-EDGE].max() / scale
    edges = max(np.abs(actual - expected)[..., :EDGE].max(), np.abs(actual - expected)[..., -EDGE:].max()) / scale
    assert interior < tolerance and edges < tolerance, (interior, edges)


DESIGNS = {
    "lowpass20_200": (4, None, 20.0, 200.0),
    "bandpass_0.1_20_200": (4, 0.1, 20.0, 200.0),
    "highpass0.5_250": (2, 0.5, None, 250.0),
    "bandpass_1_70_256": (3, 1.0, 70.0, 256.0),
}


@pytest.mark.parametrize("design", sorted(DESIGNS))
@pytest.mark.parametrize("zero_phase, padlen", [(False, None), (True, None), (True, 1500)])
def test_sos_filter_matches_scipy_interior_and_edges(design, zero_phase, padlen):
    order, low, high, fs = DESIGNS[design]
    sos = reference.butter_sos(order, low, high, fs)
    x = _eeg_like((2, 3, 3000))
    actual = filters.sos_filter(x, sos, zero_phase=zero_phase, padlen=padlen).numpy()
    _assert_close(actual, reference.sos_filter_reference(x, sos, zero_phase, padlen))


def test_long_signal_uses_fft_path_and_matches():
    sos = reference.butter_sos(4, 0.1, 20.0, 200.0)
    assert len(filters.impulse_response(sos, 10000)) > filters.DIRECT_CONVOLUTION_MAX_TAPS
    x = _eeg_like((8, 10000), seed=1)
    _assert_close(filters.bandpass(x, 0.1, 20.0, fs=200, padlen=5000).numpy(),
                  scipy.signal.sosfiltfilt(sos, x.astype(np.float64), padlen=5000))


def test_lowpass_matches_starter_lfilter():
    x = _eeg_like((8, 10000), seed=2)
    b, a = scipy.signal.butter(4, 20 / 100.0, btype="low")
    _assert_close(filters.lowpass(x, 20.0, fs=200, zero_phase=False).numpy(),
                  scipy.signal.lfilter(b, a, x.astype(np.float64), axis=-1))


def test_filter_input_errors():
    sos = reference.butter_sos(4, None, 20.0, 200.0)
    with pytest.raises(SignalError, match="padlen"):
        filters.sos_filter(np.zeros((2, 20)), sos, zero_phase=True, padlen=20)
    bad = _eeg_like((2, 500))
    bad[1, 100:120] = np.nan
    with pytest.raises(SignalError, match="NaN"):
        filters.lowpass(bad, 20.0, fs=200)
    with pytest.raises(ValueError, match="must lie"):
        reference.butter_sos(4, None, 120.0, 200.0)

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32)], autograph=False)
    def dynamic(x):
        return filters.lowpass(x, 20.0, fs=200)

    with pytest.raises(SignalError, match="static time length"):
        dynamic.get_concrete_function()


@pytest.mark.parametrize("length, num", [(3000, 2500), (3000, 2999), (3001, 1000), (2999, 6000), (2500, 2501)])
def test_fft_resample_matches_scipy(length, num):
    x = _eeg_like((2, length), seed=3)
    actual = filters.resample(x, num).numpy()
    expected = scipy.signal.resample(x.astype(np.float64), num, axis=-1)
    assert actual.shape == expected.shape
    assert np.abs(actual - expected).max() < RELATIVE_TOLERANCE * np.abs(expected).max()


@pytest.mark.parametrize("fs_in, fs_out", [(256, 250), (400, 250), (512, 250), (200, 250)])
def test_polyphase_resample_matches_resample_poly(fs_in, fs_out):
    x = _eeg_like((3, 1000), seed=4)
    actual = filters.resample(x, fs_in=fs_in, fs_out=fs_out, method="polyphase").numpy()
    expected = reference.resample_reference(x, fs_in=fs_in, fs_out=fs_out, method="polyphase")
    assert actual.shape == expected.shape
    assert np.abs(actual - expected).max() < RELATIVE_TOLERANCE * np.abs(expected).max()


def test_resample_rates_and_decimate():
    x = _eeg_like((20, 512), seed=5)
    assert filters.resample(x, fs_in=256, fs_out=250).shape == (20, 500)
    np.testing.assert_array_equal(filters.decimate(x, 5).numpy(), x[:, ::5])
    with pytest.raises(ValueError):
        filters.resample(x, method="linear", num=10)


def test_fill_nan_with_mean_matches_starter_rule():
    x = _eeg_like((3, 200), seed=6)
    x[0, 10:40] = np.nan
    x[2, :] = np.nan
    filled, counts = filters.fill_nan_with_mean(x)
    expected, expected_counts = reference.fill_nan_with_mean_reference(x)
    np.testing.assert_allclose(filled.numpy(), expected, rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(counts.numpy(), [30, 0, 200])
    np.testing.assert_array_equal(counts.numpy(), expected_counts)


def test_fill_nan_with_mean_is_the_io_missing_policy():
    from kerasseizure.io.missing import fill_nan_with_channel_mean

    eeg = _eeg_like((400, 5), seed=8)  # [samples, channels], the io layout
    eeg[100:150, 1] = np.nan
    eeg[:, 4] = np.nan
    filled, counts = filters.fill_nan_with_mean(eeg, axis=0)
    expected, expected_counts = fill_nan_with_channel_mean(eeg)
    np.testing.assert_allclose(filled.numpy(), expected, rtol=1e-6, atol=1e-4)
    np.testing.assert_array_equal(counts.numpy(), expected_counts.per_channel)
    assert expected_counts.all_nan_channels == (4,)
    reference_filled, reference_counts = reference.fill_nan_with_mean_reference(eeg, axis=0)
    np.testing.assert_allclose(reference_filled, expected, rtol=1e-6)
    np.testing.assert_array_equal(reference_counts, expected_counts.per_channel)


@pytest.mark.parametrize("options", [{}, {"low_hz": 0.1, "zero_phase": True, "padlen": 4000}])
def test_wavenet_input_matches_starter(options):
    eeg = (300.0 * np.random.default_rng(7).standard_normal((10000, 20))).astype(np.float32)
    eeg[2000:2300, 0] = np.nan  # Fp1 run
    eeg[:, 13] = np.nan  # C4 entirely missing -> 0
    actual, counts = filters.wavenet_input(eeg, return_nan_count=True, **options)
    expected = reference.wavenet_input_reference(eeg, **options)
    assert actual.shape == (2000, 8)
    assert np.abs(actual.numpy() - expected).max() < RELATIVE_TOLERANCE * np.abs(expected).max()
    assert counts.numpy()[0] == 300 and counts.numpy()[13] == 10000
    with pytest.raises(SignalError, match="200 Hz"):
        filters.wavenet_input(eeg, fs=250)


def test_filters_inside_tf_data_map():
    x = _eeg_like((6, 8, 2000), seed=8)
    dataset = tf.data.Dataset.from_tensor_slices(x).map(
        lambda s: filters.resample(filters.lowpass(s, 20.0, fs=200), 1000)
    ).batch(6)
    sos = reference.butter_sos(4, None, 20.0, 200.0)
    expected = scipy.signal.resample(scipy.signal.sosfiltfilt(sos, x.astype(np.float64)), 1000, axis=-1)
    actual = next(iter(dataset)).numpy()
    assert np.abs(actual - expected).max() < RELATIVE_TOLERANCE * np.abs(expected).max()


def test_nan_inside_tf_data_is_reported():
    x = _eeg_like((2, 8, 500))
    x[1, 3, 7] = np.nan
    dataset = tf.data.Dataset.from_tensor_slices(x).map(lambda s: filters.lowpass(s, 20.0, fs=200))
    with pytest.raises(tf.errors.InvalidArgumentError, match="SignalError"):
        list(dataset)
