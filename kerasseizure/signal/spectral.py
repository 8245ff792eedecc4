"""Spectral features: IBM log-FFT windows, librosa-exact mel spectrograms and the HMS images.

TensorFlow implementations work on the last (time) axis with any leading batch axes; the
NumPy/librosa references carry the `_reference` suffix. Tolerances are in docs/signal.md.
"""

import math
import warnings

import numpy as np
import scipy.signal
import tensorflow as tf

from kerasseizure.errors import SignalError
from kerasseizure.io.channels import HMS_EEG_COLUMNS
from kerasseizure.signal.filters import fill_nan_with_mean, fill_nan_with_mean_reference, require_finite
from kerasseizure.signal.montage import hms_chains, hms_chains_reference

# Plain Python on static shapes: autograph has nothing to convert, and converting SciPy-calling
# code costs seconds per trace inside tf.data.Dataset.map.
_plain_python = tf.autograph.experimental.do_not_convert

# ----------------------------------------------------------------------------- IBM FFT windows


def window_samples(fs, wl, ws):
    """(window length, step) in samples as IBM computes them: floor(wl * fs), floor(ws * fs).

    >>> window_samples(250, 1.0, 0.25)
    (250, 62)
    """
    length, step = int(math.floor(wl * fs)), int(math.floor(ws * fs))
    if length <= 0 or step <= 0:
        raise ValueError(f"window length {wl} s and step {ws} s give no samples at fs={fs}")
    return length, step


def fft_window_count(n_samples, fs=250, wl=1.0, ws=0.25):
    """Windows IBM's loop yields: starts k * step with start + length < n_samples (strictly).

    A last window that ends exactly at the signal end is therefore dropped.

    >>> fft_window_count(1000, 250, 1.0, 0.25), fft_window_count(250 + 62, 250, 1.0, 0.25)
    (13, 1)
    """
    length, step = window_samples(fs, wl, ws)
    return 0 if n_samples <= length else (n_samples - length - 1) // step + 1


def fft_bin_count(fmax, wl):
    """Bins kept per window: IBM slices rfft bins 1..floor(fmax * wl) (bin k is k / wl Hz)."""
    return int(math.floor(fmax * wl))


def _check_fft_window_args(n_samples, fs, wl, ws, fmax):
    length, step = window_samples(fs, wl, ws)
    bins = fft_bin_count(fmax, wl)
    if not 1 <= bins <= length // 2:
        raise ValueError(f"fmax={fmax} Hz with wl={wl} s keeps {bins} bins; need 1..{length // 2} (Nyquist) at fs={fs}")
    if n_samples is not None and n_samples <= length:
        raise SignalError(
            f"signal of {n_samples} samples is too short for one {wl} s window at {fs} Hz "
            f"(needs more than {length} samples: a window ending exactly at the end is dropped)"
        )
    return length, step, bins


@_plain_python
def fft_windows(x, fs=250, wl=1.0, ws=0.25, fmax=24.0):
    """IBM's log10 |rfft| window features of seizure-type-classification-tuh.

    Windows of floor(wl * fs) samples every floor(ws * fs) samples, kept while they end strictly
    before the signal end; per window and channel log10 |rfft| of bins 1..floor(fmax * wl);
    magnitudes that are exactly 0 are floored at 0.1 x the smallest positive magnitude of that
    window (all channels and bins together), as IBM's Log10 step does per window.

    Args:
        x: (..., channels, time) signals at fs (IBM: 20 TCP channels at 250 Hz). The time
            length may be dynamic (variable-length seizures in tf.data).
        fs: sampling rate in Hz.
        wl: window length in seconds.
        ws: window step in seconds.
        fmax: highest frequency kept, Hz.

    Returns:
        float32 (..., n_windows, channels, floor(fmax * wl)).

    Raises:
        SignalError: fewer than one window, NaN/inf input, or a window that is all zeros
            (IBM would emit -inf there).

    >>> fft_windows(np.random.randn(20, 1000)).shape
    TensorShape([13, 20, 24])
    """
    x = tf.convert_to_tensor(x, tf.float32)
    length, step, bins = _check_fft_window_args(x.shape[-1], fs, wl, ws, fmax)
    x = require_finite(x, "fft_windows")
    if x.shape[-1] is None:
        check = tf.debugging.assert_greater(
            tf.shape(x)[-1], length, message=f"SignalError: fft_windows: signal shorter than one {wl} s window"
        )
        with tf.control_dependencies([check]):
            x = tf.identity(x)
    # Frames of x[..., :-1] are exactly the windows that end before the last sample. A matmul with
    # the DFT basis of the kept bins replaces the rfft. (A strided conv1d did the same without
    # frames, but oneDNN asks for hundreds of GiB when it yields a single long window.)
    frames = tf.signal.frame(x[..., :-1], length, step, pad_end=False)  # (..., C, W, length)
    parts = tf.matmul(frames, tf.constant(_dft_basis(length, bins), tf.float32))
    magnitude = tf.sqrt(tf.square(parts[..., :bins]) + tf.square(parts[..., bins:]))  # (..., C, W, K)
    rank = magnitude.shape.rank
    magnitude = tf.transpose(magnitude, list(range(rank - 3)) + [rank - 2, rank - 3, rank - 1])
    return _log10_with_floor(magnitude)


def _dft_basis(length, bins):
    """(length, 2 * bins) real DFT basis of bins 1..bins: cos parts then -sin parts."""
    angle = 2.0 * np.pi * np.outer(np.arange(length), np.arange(1, bins + 1)) / length
    return np.concatenate([np.cos(angle), -np.sin(angle)], axis=1)


def _log10_with_floor(magnitude):
    positive = magnitude > 0
    smallest = tf.reduce_min(tf.where(positive, magnitude, np.inf), axis=[-2, -1], keepdims=True)
    message = "fft_windows: a window is all zeros (log10 undefined; IBM's code would give -inf)"
    if tf.executing_eagerly() and not np.all(np.isfinite(smallest.numpy())):
        raise SignalError(message)
    check = tf.debugging.assert_less(
        smallest, np.float32(np.inf), message=f"SignalError: {message}"
    )
    with tf.control_dependencies([check]):
        floored = tf.where(positive, magnitude, 0.1 * smallest)
    return tf.math.log(floored) / np.float32(np.log(10.0))


def fft_windows_reference(x, fs=250, wl=1.0, ws=0.25, fmax=24.0):
    """NumPy reference of `fft_windows` for one (channels, time) array: IBM's while-loop, float64."""
    x = np.asarray(x, dtype=np.float64)
    length, step, bins = _check_fft_window_args(x.shape[-1], fs, wl, ws, fmax)
    windows = []
    start = 0
    while start + length < x.shape[-1]:
        magnitude = np.abs(np.fft.rfft(x[:, start : start + length], axis=-1))[:, 1 : bins + 1]
        zero = magnitude <= 0
        if zero.all():
            raise SignalError("fft_windows_reference: a window is all zeros")
        magnitude[zero] = 0.1 * magnitude[~zero].min()
        windows.append(np.log10(magnitude))
        start += step
    return np.stack(windows)


# ----------------------------------------------------------------------------- mel spectrogram


def mel_filterbank(sr, n_fft, n_mels=128, fmin=0.0, fmax=None):
    """librosa's Slaney-normalised mel filterbank (n_mels, 1 + n_fft // 2), float64."""
    import librosa

    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, dtype=np.float64)


def _stft_power_basis(n_fft, win_length, n_bins):
    """Windowed DFT matrix (win_length, 2 * n_bins): cos then -sin parts, window folded in.

    librosa zero-pads the periodic Hann window of win_length to n_fft centred, so only
    win_length samples of each frame matter; the window's offset in the frame is a per-bin phase
    that cancels in |.|^2, so the DFT runs over the window's own samples.
    """
    window = scipy.signal.get_window("hann", win_length, fftbins=True)
    offset = (n_fft - win_length) // 2
    angle = 2.0 * np.pi * np.outer(np.arange(win_length) + offset, np.arange(n_bins)) / n_fft
    return np.concatenate([window[:, None] * np.cos(angle), -window[:, None] * np.sin(angle)], axis=1)


def mel_frame_count(n_samples, hop_length):
    """Frames of a centred STFT: 1 + n_samples // hop_length."""
    return 1 + n_samples // hop_length


@_plain_python
def mel_spectrogram(y, sr=200, n_fft=1024, hop_length=39, win_length=None, n_mels=128, fmin=0.0,
                    fmax=None, power=2.0):
    """librosa.feature.melspectrogram(center=True, pad_mode="constant", window="hann") in TensorFlow.

    librosa 0.11 pads n_fft // 2 zeros each side (pad_mode="constant"); the Hann window of
    win_length is zero-padded centred to n_fft; the Slaney mel filterbank comes from
    librosa.filters.mel as a constant. Only the STFT bins that some mel filter uses are computed.

    Args:
        y: (..., time) signals, static time length.
        sr: sampling rate in Hz.
        n_fft, hop_length, win_length (None = n_fft), n_mels, fmin, fmax: as in librosa.
        power: 2 for power, 1 for magnitude.

    Returns:
        float32 (..., n_mels, 1 + time // hop_length), librosa's layout.

    >>> mel_spectrogram(np.random.randn(10000), fmax=20.0, win_length=128).shape
    TensorShape([128, 257])
    """
    y = tf.convert_to_tensor(y, tf.float32)
    n_samples = y.shape[-1]
    if n_samples is None:
        raise SignalError("mel_spectrogram needs a static time length")
    win_length = n_fft if win_length is None else int(win_length)
    if not 0 < win_length <= n_fft:
        raise ValueError(f"win_length={win_length} must lie in 1..n_fft={n_fft}")
    filterbank = mel_filterbank(sr, n_fft, n_mels, fmin, fmax)
    used = np.nonzero(filterbank.any(axis=0))[0]
    n_bins = int(used.max()) + 1 if used.size else 1
    basis = tf.constant(_stft_power_basis(n_fft, win_length, n_bins)[:, None, :], tf.float32)
    mel_weights = tf.constant(filterbank[:, :n_bins].T, tf.float32)  # (bins, mels)
    n_frames = mel_frame_count(n_samples, hop_length)
    offset = (n_fft - win_length) // 2
    lead = tf.shape(y)[:-1]
    rows = tf.reshape(y, [-1, n_samples])
    # Frame t starts at t * hop + offset of the centre-padded signal; the strided convolution with
    # the windowed DFT basis computes every frame's bins without materialising the frames.
    padded = tf.pad(rows, [[0, 0], [n_fft // 2 - offset, n_fft // 2]])
    parts = tf.nn.conv1d(padded[..., None], basis, stride=hop_length, padding="VALID")[:, :n_frames]
    parts = tf.reshape(parts, tf.concat([lead, [n_frames, 2 * n_bins]], axis=0))
    magnitude_squared = tf.square(parts[..., :n_bins]) + tf.square(parts[..., n_bins:])
    spectrum = magnitude_squared if power == 2.0 else tf.pow(magnitude_squared, power / 2.0)
    return tf.linalg.matrix_transpose(tf.matmul(spectrum, mel_weights))


def mel_spectrogram_reference(y, sr=200, n_fft=1024, hop_length=39, win_length=None, n_mels=128,
                              fmin=0.0, fmax=None, power=2.0):
    """librosa.feature.melspectrogram with the same arguments (center=True, default pad mode)."""
    import librosa

    return librosa.feature.melspectrogram(
        y=np.asarray(y), sr=sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
        n_mels=n_mels, fmin=fmin, fmax=fmax, power=power,
    )


@_plain_python
def power_to_db(spectrogram, amin=1e-10, top_db=80.0):
    """librosa.power_to_db(S, ref=np.max, amin, top_db) applied per spectrogram (last two axes).

    The reference maximum and the top_db floor are taken per (..., mels, frames) spectrogram,
    never across a batch.

    >>> power_to_db(np.array([[1.0, 0.1, 0.0]])).numpy().tolist()
    [[0.0, -10.0, -80.0]]
    """
    s = tf.convert_to_tensor(spectrogram, tf.float32)
    to_db = np.float32(10.0 / np.log(10.0))
    log_spec = to_db * tf.math.log(tf.maximum(s, amin))
    reference = to_db * tf.math.log(tf.maximum(tf.reduce_max(s, axis=[-2, -1], keepdims=True), amin))
    log_spec = log_spec - reference
    if top_db is not None:
        log_spec = tf.maximum(log_spec, tf.reduce_max(log_spec, axis=[-2, -1], keepdims=True) - top_db)
    return log_spec


# ----------------------------------------------------------------------------- HMS EEG spectrogram

HMS_EEG_MEL = dict(n_fft=1024, win_length=128, n_mels=128, fmin=0.0, fmax=20.0)
HMS_PANEL_FRAMES = 256


def _check_hms_eeg(eeg, fs):
    if fs != 200:
        raise SignalError(f"HMS EEG spectrograms are defined at 200 Hz, got fs={fs}; resample first")
    if eeg.shape[-1] != len(HMS_EEG_COLUMNS):
        raise SignalError(f"HMS EEG needs {len(HMS_EEG_COLUMNS)} columns on the last axis, got shape {tuple(eeg.shape)}")
    n_samples = eeg.shape[-2]
    if n_samples is None:
        raise SignalError("HMS EEG spectrograms need a static time length")
    hop = n_samples // HMS_PANEL_FRAMES
    if hop == 0 or mel_frame_count(n_samples, hop) < HMS_PANEL_FRAMES:
        raise SignalError(f"HMS EEG of {n_samples} samples is too short for {HMS_PANEL_FRAMES} frames")
    return hop


@_plain_python
def hms_eeg_spectrogram(eeg, fs=200, return_nan_count=False):
    """The EfficientNet starter's EEG panels: 4 chain spectrograms (128 mels, 256 frames, 4).

    Per chain difference: NaN -> its mean (all-NaN -> 0); mel power spectrogram with
    n_fft=1024, hop=time // 256, win_length=128, 128 mels, 0-20 Hz; power_to_db(ref=max,
    top_db=80) per difference; first 256 frames; (db + 40) / 40; mean of the chain's 4 differences.

    Args:
        eeg: (..., time, 20) HMS layout at 200 Hz (the starter: the middle 10,000 samples).
        fs: sampling rate, must be 200.
        return_nan_count: also return the (..., 16) NaN counts of the differences.

    Returns:
        float32 (..., 128, 256, 4), chains in order LL, LP, RL, RP; row 0 is the lowest mel band.

    >>> hms_eeg_spectrogram(np.random.randn(10000, 20)).shape
    TensorShape([128, 256, 4])
    """
    eeg = tf.convert_to_tensor(eeg, tf.float32)
    hop = _check_hms_eeg(eeg, fs)
    diffs = tf.linalg.matrix_transpose(hms_chains(eeg))  # (..., 16, time)
    diffs, nan_count = fill_nan_with_mean(diffs, axis=-1)
    db = power_to_db(mel_spectrogram(diffs, sr=fs, hop_length=hop, **HMS_EEG_MEL))
    panels = (db[..., :HMS_PANEL_FRAMES] + 40.0) / 40.0  # (..., 16, 128, 256)
    lead = tf.shape(panels)[:-3]
    chains = tf.reshape(panels, tf.concat([lead, [4, 4, 128, HMS_PANEL_FRAMES]], axis=0))
    image = tf.reduce_mean(chains, axis=-3)  # (..., 4, 128, 256)
    rank = image.shape.rank
    image = tf.transpose(image, list(range(rank - 3)) + [rank - 2, rank - 1, rank - 3])
    return (image, nan_count) if return_nan_count else image


def hms_eeg_spectrogram_reference(eeg, fs=200):
    """The starter's path for one (time, 20) window: per-difference librosa calls in a Python loop."""
    import librosa

    eeg = np.asarray(eeg, dtype=np.float32)
    diffs = hms_chains_reference(eeg).astype(np.float32).T  # (16, time)
    hop = eeg.shape[0] // HMS_PANEL_FRAMES
    image = np.zeros((128, HMS_PANEL_FRAMES, 4), dtype=np.float32)
    for k in range(16):
        x, _ = fill_nan_with_mean_reference(diffs[k])
        mel = librosa.feature.melspectrogram(y=x.astype(np.float32), sr=fs, hop_length=hop, **HMS_EEG_MEL)
        db = librosa.power_to_db(mel, ref=np.max).astype(np.float32)[:, :HMS_PANEL_FRAMES]
        image[:, :, k // 4] += (db + 40.0) / 40.0
    return image / 4.0


# ----------------------------------------------------------------------------- Kaggle spectrogram

KAGGLE_ROWS = 300
KAGGLE_COLUMNS = 400
KAGGLE_REGIONS = ("LL", "RL", "LP", "RP")  # parquet column order
KAGGLE_CROP = 22
KAGGLE_CANVAS_TOP = 14


def _check_kaggle(values):
    if tuple(values.shape[-2:]) != (KAGGLE_ROWS, KAGGLE_COLUMNS):
        raise SignalError(
            f"Kaggle spectrogram window must be (..., {KAGGLE_ROWS} rows, {KAGGLE_COLUMNS} columns) "
            f"without the time column, got shape {tuple(values.shape)}"
        )


@_plain_python
def kaggle_spectrogram_panels(values, standardize_over="panel", eps=1e-6):
    """The EfficientNet starter's Kaggle-spectrogram panels (128, 256, 4), regions LL, RL, LP, RP.

    Per region: the 100 frequency columns transposed to (100 freq, 300 time), clipped to
    [exp(-4), exp(8)], natural log, standardised ((v - mean) / (std + eps), NaN-ignoring,
    population std) over the full 300 rows, NaN -> 0, time cropped 22:-22 (256), / 2, placed
    in rows 14..113 of a zero 128 x 256 canvas (row 14 = 0.59 Hz).

    Args:
        values: (..., 300, 400) parquet values without the `time` column (10 minutes).
        standardize_over: "panel" (the starter: each region its own statistics) or "stack"
            (one mean/std over all four regions).
        eps: added to the std.

    Returns:
        float32 (..., 128, 256, 4).

    >>> kaggle_spectrogram_panels(np.ones((300, 400))).shape
    TensorShape([128, 256, 4])
    """
    values = tf.convert_to_tensor(values, tf.float32)
    _check_kaggle(values)
    if standardize_over not in ("panel", "stack"):
        raise ValueError(f"standardize_over must be 'panel' or 'stack', got {standardize_over!r}")
    rank = values.shape.rank
    lead = tf.shape(values)[:-2]
    regions = tf.reshape(values, tf.concat([lead, [KAGGLE_ROWS, 4, 100]], axis=0))
    regions = tf.transpose(regions, list(range(rank - 2)) + [rank - 1, rank, rank - 2])  # (..., 4, 100, 300)
    missing = tf.math.is_nan(regions)
    logs = tf.math.log(tf.clip_by_value(tf.where(missing, tf.ones_like(regions), regions), np.exp(-4.0), np.exp(8.0)))
    present = tf.cast(tf.logical_not(missing), tf.float32)
    axes = [-2, -1] if standardize_over == "panel" else [-3, -2, -1]
    count = tf.reduce_sum(present, axis=axes, keepdims=True)
    mean = tf.math.divide_no_nan(tf.reduce_sum(logs * present, axis=axes, keepdims=True), count)
    variance = tf.math.divide_no_nan(tf.reduce_sum(tf.square(logs - mean) * present, axis=axes, keepdims=True), count)
    standardized = tf.where(missing, tf.zeros_like(logs), (logs - mean) / (tf.sqrt(variance) + eps))
    cropped = standardized[..., KAGGLE_CROP:-KAGGLE_CROP] / 2.0  # (..., 4, 100, 256)
    bottom = 128 - KAGGLE_CANVAS_TOP - 100
    canvas = tf.pad(cropped, [[0, 0]] * (rank - 2) + [[0, 0], [KAGGLE_CANVAS_TOP, bottom], [0, 0]])
    return tf.transpose(canvas, list(range(rank - 2)) + [rank - 1, rank, rank - 2])


def kaggle_spectrogram_panels_reference(values, standardize_over="panel", eps=1e-6):
    """The starter's NumPy loop for one (300, 400) window (standardize_over as in the TF version)."""
    values = np.asarray(values, dtype=np.float64)
    _check_kaggle(values)
    logs = [np.log(np.clip(values[:, k * 100 : (k + 1) * 100].T, np.exp(-4), np.exp(8))) for k in range(4)]
    out = np.zeros((128, 256, 4), dtype=np.float64)
    stack = np.stack(logs)
    for k, img in enumerate(logs):
        source = img if standardize_over == "panel" else stack
        with warnings.catch_warnings():  # an all-NaN region: NaN statistics -> zeros, as in the starter
            warnings.simplefilter("ignore", RuntimeWarning)
            m, s = np.nanmean(source), np.nanstd(source)
        img = np.nan_to_num((img - m) / (s + eps), nan=0.0)
        out[KAGGLE_CANVAS_TOP : KAGGLE_CANVAS_TOP + 100, :, k] = img[:, KAGGLE_CROP:-KAGGLE_CROP] / 2.0
    return out


# ----------------------------------------------------------------------------- HMS image


def _stack_panels(panels):
    """(..., 128, 256, 4) -> (..., 512, 256): the 4 panels stacked top to bottom."""
    return tf.concat([panels[..., k] for k in range(4)], axis=-2)


@_plain_python
def hms_image_from_panels(eeg_panels, kaggle_panels=None, image_size=None, channels=3):
    """Assemble the starter's image: Kaggle panels (512 x 256) | EEG panels (512 x 256), repeated to 3 channels.

    Args:
        eeg_panels: (..., 128, 256, 4) from `hms_eeg_spectrogram` (LL, LP, RL, RP).
        kaggle_panels: (..., 128, 256, 4) from `kaggle_spectrogram_panels` (LL, RL, LP, RP), or
            None for the EEG-only image (512 x 256).
        image_size: (height, width) to resize to (bilinear), or None to keep the native size.
        channels: how many times the monochrome image is repeated on the last axis.

    Returns:
        float32 (..., 512, 512, channels), (..., 512, 256, channels) EEG-only, or image_size.

    >>> hms_image_from_panels(np.zeros((128, 256, 4)), np.zeros((128, 256, 4))).shape
    TensorShape([512, 512, 3])
    """
    eeg_half = _stack_panels(tf.convert_to_tensor(eeg_panels, tf.float32))
    if kaggle_panels is None:
        image = eeg_half
    else:
        image = tf.concat([_stack_panels(tf.convert_to_tensor(kaggle_panels, tf.float32)), eeg_half], axis=-1)
    image = image[..., None]
    if image_size is not None:
        image = tf.image.resize(image, image_size, method="bilinear")
    return tf.repeat(image, channels, axis=-1) if channels != 1 else image


@_plain_python
def hms_spectrogram_image(eeg, kaggle_spectrogram=None, fs=200, image_size=None, channels=3,
                          standardize_over="panel"):
    """The EfficientNet starter's input image from a 50 s EEG window and its 10 min Kaggle spectrogram.

    Args:
        eeg: (..., 10000, 20) HMS layout at 200 Hz; NaNs filled per difference (starter rule).
        kaggle_spectrogram: (..., 300, 400) parquet values (rows from offset / 2, no time column),
            or None for the EEG-only image (when no Kaggle spectrogram exists). NaNs -> 0 after
            standardisation, as the starter does.
        fs: must be 200.
        image_size: (height, width) to resize to, e.g. (256, 256) for CPU runs; None = native.
        channels: repetitions of the monochrome image (3 for ImageNet backbones).
        standardize_over: Kaggle panel statistics, see `kaggle_spectrogram_panels`.

    Returns:
        float32 (..., 512, 512, channels) (EEG-only: (..., 512, 256, channels)) or image_size.
        Values are roughly in [-3, 1.5]; map them to the backbone's expected range in the model.

    >>> hms_spectrogram_image(np.random.randn(10000, 20), np.ones((300, 400))).shape
    TensorShape([512, 512, 3])
    """
    eeg_panels = hms_eeg_spectrogram(eeg, fs=fs)
    kaggle_panels = None
    if kaggle_spectrogram is not None:
        kaggle_panels = kaggle_spectrogram_panels(kaggle_spectrogram, standardize_over=standardize_over)
    return hms_image_from_panels(eeg_panels, kaggle_panels, image_size=image_size, channels=channels)


def hms_spectrogram_image_reference(eeg, kaggle_spectrogram=None, fs=200):
    """The starter's NumPy path for one window: panels, then the model's concatenations, 3 channels."""
    eeg_panels = hms_eeg_spectrogram_reference(eeg, fs)
    eeg_half = np.concatenate([eeg_panels[:, :, k] for k in range(4)], axis=0)
    if kaggle_spectrogram is None:
        image = eeg_half
    else:
        kaggle = kaggle_spectrogram_panels_reference(kaggle_spectrogram)
        image = np.concatenate([np.concatenate([kaggle[:, :, k] for k in range(4)], axis=0), eeg_half], axis=1)
    return np.repeat(image[..., None], 3, axis=-1)
