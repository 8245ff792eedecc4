import librosa
import numpy as np
import pytest
import tensorflow as tf

from kerasseizure.errors import SignalError
from kerasseizure.signal import spectral, reference


def _noise(shape, seed=0, scale=30.0):
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(np.float32)


# ----------------------------------------------------------------------------- IBM windows


def _ibm_loop_count(n, length, step):
    count, stop = 0, length
    while stop < n:
        count, stop = count + 1, stop + step
    return count


@pytest.mark.parametrize("fs, wl, ws", [(250, 1, 0.25), (250, 1, 0.5), (250, 2, 0.5), (250, 4, 2), (256, 1, 0.25)])
def test_window_count_formula_and_last_window_rule(fs, wl, ws):
    length, step = reference.window_samples(fs, wl, ws)
    for n in range(length - 2, length + 4 * step + 3):
        assert reference.fft_window_count(n, fs, wl, ws) == _ibm_loop_count(n, length, step)
    # A window ending exactly at the end is dropped: length + k * step samples give k windows.
    assert reference.fft_window_count(length + 3 * step, fs, wl, ws) == 3
    assert reference.window_samples(250, 1, 0.25) == (250, 62)


@pytest.mark.parametrize("n", [251, 312, 313, 1000, 2500])
def test_fft_windows_counts_and_values_match_ibm_loop(n):
    x = _noise((20, n), seed=n)
    actual = spectral.fft_windows(x).numpy()
    expected = reference.fft_windows_reference(x)
    assert actual.shape == expected.shape == (reference.fft_window_count(n), 20, 24)
    np.testing.assert_allclose(actual, expected, atol=2e-5)


@pytest.mark.parametrize("wl, frequency", [(1, 10), (2, 7), (1, 24)])
def test_integer_sine_lands_in_its_bin(wl, frequency):
    fs = 250
    t = np.arange(6 * fs) / fs
    x = np.stack([np.sin(2 * np.pi * frequency * t), 0.5 * np.sin(2 * np.pi * 3 * t)]).astype(np.float32)
    features = spectral.fft_windows(x, fs=fs, wl=wl, ws=wl / 4, fmax=24).numpy()
    assert features.shape[-1] == 24 * wl
    # Bin k (1-based) is k / wl Hz; the kept slice starts at bin 1, so index k - 1.
    assert np.all(features[:, 0].argmax(axis=-1) == frequency * wl - 1)
    assert np.all(features[:, 1].argmax(axis=-1) == 3 * wl - 1)


def test_zero_magnitudes_floored_per_window():
    x = _noise((4, 600), seed=3)
    x[2] = 0.0  # a flat channel: all its magnitudes are exactly zero
    actual = spectral.fft_windows(x).numpy()
    expected = reference.fft_windows_reference(x)
    np.testing.assert_allclose(actual, expected, atol=2e-5)
    for window, window_expected in zip(actual, expected):
        floor = np.log10(0.1 * (10 ** window_expected[[0, 1, 3]]).min())
        np.testing.assert_allclose(window[2], floor, atol=2e-5)


def test_fft_windows_bad_input():
    with pytest.raises(SignalError, match="too short"):
        spectral.fft_windows(_noise((20, 250)))
    with pytest.raises(SignalError, match="NaN"):
        bad = _noise((20, 1000))
        bad[3, 10:20] = np.nan
        spectral.fft_windows(bad)
    with pytest.raises(SignalError, match="all zeros"):
        spectral.fft_windows(np.zeros((20, 1000), np.float32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="SignalError: fft_windows: a window is all zeros"):
        tf.function(spectral.fft_windows)(tf.zeros((20, 1000)))
    with pytest.raises(ValueError, match="Nyquist"):
        spectral.fft_windows(_noise((20, 1000)), fs=40, fmax=24)


def test_fft_windows_variable_length_in_tf_data():
    lengths = [400, 1000, 777]
    signals = [_noise((20, n), seed=n) for n in lengths]
    dataset = tf.data.Dataset.from_generator(
        lambda: iter(signals), output_signature=tf.TensorSpec((20, None), tf.float32)
    ).map(lambda x: spectral.fft_windows(x))
    for features, signal in zip(dataset, signals):
        np.testing.assert_allclose(features.numpy(), reference.fft_windows_reference(signal), atol=2e-5)
    short = tf.data.Dataset.from_generator(
        lambda: iter([_noise((20, 250))]), output_signature=tf.TensorSpec((20, None), tf.float32)
    ).map(lambda x: spectral.fft_windows(x))
    with pytest.raises(tf.errors.InvalidArgumentError, match="shorter than one"):
        list(short)


# ----------------------------------------------------------------------------- mel


MEL_SETTINGS = [
    dict(sr=200, n_fft=1024, hop_length=39, win_length=128, n_mels=128, fmin=0, fmax=20),  # the starter
    dict(sr=250, n_fft=512, hop_length=64, n_mels=64),
    dict(sr=200, n_fft=256, hop_length=50, win_length=200, n_mels=40, fmin=1.0, fmax=50.0, power=1.0),
    dict(sr=100, n_fft=128, hop_length=25, win_length=127, n_mels=20, fmin=0.5, fmax=40.0),
]


@pytest.mark.parametrize("settings", MEL_SETTINGS)
def test_mel_spectrogram_matches_librosa(settings):
    y = _noise((2, 3000), seed=5) + 5.0
    actual = spectral.mel_spectrogram(y, **settings).numpy()
    expected = reference.mel_spectrogram_reference(y.astype(np.float64), **settings)
    assert actual.shape == expected.shape
    peak = expected.max(axis=(-2, -1), keepdims=True)
    # Relative to the spectrogram's peak everywhere, and elementwise on every non-negligible cell.
    assert np.abs(actual - expected).max() <= 1e-5 * peak.max()
    meaningful = expected > 1e-6 * peak
    assert np.max(np.abs(actual - expected)[meaningful] / expected[meaningful]) < 1e-4


def test_power_to_db_is_per_spectrogram():
    s = np.abs(_noise((2, 16, 30), seed=6)) ** 2
    s[1] *= 1e6  # a batch-wide reference would shift the first spectrogram
    s[0, 3, 4] = 0.0
    actual = spectral.power_to_db(s).numpy()
    for k in range(2):
        np.testing.assert_allclose(actual[k], librosa.power_to_db(s[k], ref=np.max), atol=1e-4)


def test_hms_eeg_spectrogram_matches_starter_loop():
    eeg = _noise((2, 10000, 20), seed=7, scale=300.0)
    eeg[0, 1000:1500, 4] = np.nan  # F7 gap: LL differences fill with their own means
    eeg[1, :, 16] = np.nan  # T4 missing: its differences become 0 (flat panels)
    actual, counts = spectral.hms_eeg_spectrogram(eeg, return_nan_count=True)
    assert actual.shape == (2, 128, 256, 4)
    for k in range(2):
        np.testing.assert_allclose(actual[k].numpy(), reference.hms_eeg_spectrogram_reference(eeg[k]), atol=1e-4)
    np.testing.assert_array_equal(counts.numpy()[0, :3], [500, 500, 0])  # Fp1-F7, F7-T3, T3-T5


def test_hms_eeg_spectrogram_rejects_bad_input():
    with pytest.raises(SignalError, match="200 Hz"):
        spectral.hms_eeg_spectrogram(_noise((10000, 20)), fs=250)
    with pytest.raises(SignalError, match="20 columns"):
        spectral.hms_eeg_spectrogram(_noise((10000, 19)))
    with pytest.raises(SignalError, match="too short"):
        spectral.hms_eeg_spectrogram(_noise((200, 20)))


# ----------------------------------------------------------------------------- Kaggle + image


def _kaggle(seed=8):
    values = np.exp(2.0 * np.random.default_rng(seed).standard_normal((300, 400))).astype(np.float32)
    values[40:60, 120:130] = np.nan
    values[:, 300:400] = np.nan  # RP region entirely missing
    return values


@pytest.mark.parametrize("standardize_over", ["panel", "stack"])
def test_kaggle_panels_match_starter(standardize_over):
    values = _kaggle()
    actual = spectral.kaggle_spectrogram_panels(values, standardize_over=standardize_over).numpy()
    expected = reference.kaggle_spectrogram_panels_reference(values, standardize_over=standardize_over)
    np.testing.assert_allclose(actual, expected, atol=1e-5)
    assert np.all(actual[:14] == 0) and np.all(actual[114:] == 0)
    if standardize_over == "panel":
        assert np.all(actual[..., 3] == 0)
    with pytest.raises(SignalError, match="300 rows"):
        spectral.kaggle_spectrogram_panels(values[:299])


def test_hms_spectrogram_image_layout_and_modes():
    eeg = _noise((10000, 20), seed=9, scale=300.0)
    kaggle = _kaggle()
    image = spectral.hms_spectrogram_image(eeg, kaggle).numpy()
    np.testing.assert_allclose(image, reference.hms_spectrogram_image_reference(eeg, kaggle), atol=1e-4)
    assert image.shape == (512, 512, 3)
    panels = spectral.hms_eeg_spectrogram(eeg).numpy()
    np.testing.assert_array_equal(image[128:256, 256:, 0], panels[..., 1])  # EEG LP, second from the top
    eeg_only = spectral.hms_spectrogram_image(eeg[None], None, image_size=(128, 64)).numpy()
    assert eeg_only.shape == (1, 128, 64, 3)
    assert spectral.hms_spectrogram_image(eeg, kaggle, image_size=(256, 256), channels=1).shape == (256, 256, 1)


def test_hms_image_inside_tf_data():
    eeg = _noise((2, 10000, 20), seed=10, scale=300.0)
    kaggle = np.stack([_kaggle(11), _kaggle(12)])
    dataset = tf.data.Dataset.from_tensor_slices((eeg, kaggle)).batch(2).map(
        lambda e, k: spectral.hms_spectrogram_image(e, k, image_size=(256, 256))
    )
    batch = next(iter(dataset)).numpy()
    for k in range(2):
        single = spectral.hms_spectrogram_image(eeg[k], kaggle[k], image_size=(256, 256)).numpy()
        np.testing.assert_allclose(batch[k], single, atol=1e-5)


@pytest.mark.parametrize("n, wl, ws", [(4200, 16, 4), (2200, 8, 2)])
def test_fft_windows_single_long_window_matches_reference(n, wl, ws):
    # IBM's wl in {8, 16} s often leaves one window per seizure; this once crashed the process.
    x = np.random.default_rng(1).standard_normal((20, n)).astype(np.float32)
    got = spectral.fft_windows(x, wl=wl, ws=ws, fmax=12).numpy()
    assert got.shape == (1, 20, 12 * wl)
    np.testing.assert_allclose(got, reference.fft_windows_reference(x, wl=wl, ws=ws, fmax=12), atol=1e-4)
