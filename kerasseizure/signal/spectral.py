"""Spectral features: IBM log-FFT windows, librosa-exact mel spectrograms and the HMS images.

TensorFlow implementations work on the last (time) axis with any leading batch axes; their
NumPy/librosa references (`_reference` suffix) and the shared window-grid helpers live in the
TF-free `kerasseizure.signal.reference`. The per-window log-FFT step (`dft_magnitudes`,
`log10_with_floor`) is keras.ops on TFLite builtins only: `fft_windows` runs it on the frames of a
signal, the export front-end (`kerasseizure.export.frontend`) on one raw window. Tolerances are in
docs/signal.md.
"""

import functools
import math

import keras
import numpy as np
import scipy.signal
import tensorflow as tf

from kerasseizure.errors import SignalError
from kerasseizure.io.channels import HMS_EEG_COLUMNS
from kerasseizure.signal.filters import fill_nan_with_mean, require_finite
from kerasseizure.signal.montage import hms_chains
from kerasseizure.signal.reference_spectral import (  # the TF-free half: grid rules, constants, references
    ALL_ZERO_WINDOW, HMS_EEG_MEL, HMS_PANEL_FRAMES, KAGGLE_CANVAS_TOP, KAGGLE_COLUMNS, KAGGLE_CROP, KAGGLE_REGIONS,
    KAGGLE_ROWS, check_fft_window_args, check_kaggle, dft_basis, fft_bin_count, fft_window_count, mel_filterbank,
    mel_frame_count, window_samples,
    fft_windows_reference, hms_eeg_spectrogram_reference, hms_spectrogram_image_reference,
    kaggle_spectrogram_panels_reference, mel_spectrogram_reference,
)

__all__ = [
    "HMS_EEG_MEL", "HMS_PANEL_FRAMES", "KAGGLE_CANVAS_TOP", "KAGGLE_COLUMNS", "KAGGLE_CROP", "KAGGLE_REGIONS",
    "KAGGLE_ROWS", "dft_magnitudes", "fft_bin_count", "fft_window_count", "fft_window_magnitudes", "fft_windows",
    "hms_eeg_spectrogram", "hms_image_from_panels", "hms_spectrogram_image", "kaggle_spectrogram_panels",
    "log10_windows", "log10_with_floor", "mel_filterbank", "mel_frame_count", "mel_spectrogram", "power_to_db", "window_samples",
    # NumPy/librosa references (defined in reference_spectral.py)
    "fft_windows_reference", "hms_eeg_spectrogram_reference", "hms_spectrogram_image_reference",
    "kaggle_spectrogram_panels_reference", "mel_spectrogram_reference",
]

# Plain Python on static shapes: autograph has nothing to convert, and converting SciPy-calling
# code costs seconds per trace inside tf.data.Dataset.map.
_plain_python = tf.autograph.experimental.do_not_convert

# ----------------------------------------------------------------------------- IBM FFT windows

# Stand-in for +inf in the floor rule's "smallest positive magnitude" search: finite, so that an
# all-zero window (undefined for IBM) gives a finite number on a device instead of inf/NaN;
# `fft_windows` refuses such windows before the floor.
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_LOG10_E = 1.0 / math.log(10.0)


@functools.lru_cache(maxsize=None)
def _dft_basis32(length, bins):
    basis = np.asarray(dft_basis(length, bins), dtype=np.float32)
    basis.setflags(write=False)  # cached and shared between calls
    return basis


@_plain_python
def dft_magnitudes(windows, bins):
    """|DFT| of bins 1..bins of each window on the last axis (keras.ops, TFLite builtins only).

    A matmul with the (length, 2 * bins) cos/sin basis (`reference.dft_basis`) instead of an FFT:
    exact at any window length (TFLite's RFFT needs a power of two; IBM's window is 250 samples),
    and cheaper than a full FFT for the few bins kept.

    Args:
        windows: (..., length) float32 windows with a static length.
        bins: number of bins kept (bin k is k / wl Hz).

    Returns:
        float32 (..., bins).

    >>> dft_magnitudes(np.ones((2, 250), np.float32), 24).shape
    TensorShape([2, 24])
    """
    ops = keras.ops
    windows = ops.convert_to_tensor(windows, "float32")
    parts = ops.matmul(windows, _dft_basis32(int(windows.shape[-1]), bins))
    real, imag = parts[..., :bins], parts[..., bins:]
    return ops.sqrt(real * real + imag * imag)


@_plain_python
def log10_with_floor(magnitudes):
    """IBM's Log10 step per (channels, bins) map of the last two axes (keras.ops, TFLite builtins only).

    Magnitudes that are exactly 0 are floored at 0.1 x the map's smallest positive magnitude. An
    all-zero map (undefined for IBM) gives log10(0.1 x float32 max) instead of inf.

    Args:
        magnitudes: (..., channels, bins) non-negative float32 magnitudes.

    Returns:
        float32 log10 of the floored magnitudes, same shape.

    >>> log10_with_floor(np.array([[10.0, 0.0, 1.0]], np.float32)).numpy().tolist()
    [[1.0, -1.0, 0.0]]
    """
    ops = keras.ops
    magnitudes = ops.convert_to_tensor(magnitudes, "float32")
    positive = magnitudes > 0
    smallest = ops.min(ops.where(positive, magnitudes, _FLOAT32_MAX), axis=(-2, -1), keepdims=True)
    return ops.log(ops.where(positive, magnitudes, 0.1 * smallest)) * _LOG10_E


@_plain_python
def fft_window_magnitudes(x, fs=250, wl=1.0, ws=0.25, fmax=24.0):
    """|rfft| of IBM's windows, bins 1..floor(fmax * wl), before the log step of `fft_windows`.

    Bin k is k / wl Hz whatever fmax is, so a narrower band's magnitudes are the first bins of a
    wider one's (`multi_spectral_ses` computes the widest band once).

    Args:
        x: (..., channels, time) signals at fs; the time length may be dynamic.
        fs, wl, ws, fmax: the window grid and band, as in `fft_windows`.

    Returns:
        float32 (..., n_windows, channels, floor(fmax * wl)).

    Raises:
        SignalError: fewer than one window, or NaN/inf input.

    >>> fft_window_magnitudes(np.random.randn(20, 1000), fmax=48.0).shape
    TensorShape([13, 20, 48])
    """
    x = tf.convert_to_tensor(x, tf.float32)
    length, step, bins = check_fft_window_args(x.shape[-1], fs, wl, ws, fmax)
    x = require_finite(x, "fft_windows")
    if x.shape[-1] is None:
        check = tf.debugging.assert_greater(
            tf.shape(x)[-1], length, message=f"SignalError: fft_windows: signal shorter than one {wl} s window"
        )
        with tf.control_dependencies([check]):
            x = tf.identity(x)
    # Frames of x[..., :-1] are exactly the windows that end before the last sample. (A strided
    # conv1d did the same without frames, but oneDNN asks for hundreds of GiB when it yields a
    # single long window.)
    frames = tf.signal.frame(x[..., :-1], length, step, pad_end=False)  # (..., C, W, length)
    magnitudes = dft_magnitudes(frames, bins)  # (..., C, W, K)
    rank = magnitudes.shape.rank
    return tf.transpose(magnitudes, list(range(rank - 3)) + [rank - 2, rank - 3, rank - 1])


@_plain_python
def log10_windows(magnitudes):
    """`log10_with_floor` of (..., n_windows, channels, bins) magnitudes, refusing all-zero windows.

    Raises:
        SignalError: a window is all zeros (IBM would emit -inf there); inside a graph, an assert
            whose message starts with "SignalError".

    >>> log10_windows(np.array([[[100.0, 0.0]]], np.float32)).numpy().tolist()
    [[[2.0, 1.0]]]
    """
    magnitudes = tf.convert_to_tensor(magnitudes, tf.float32)
    peak = tf.reduce_max(magnitudes, axis=[-2, -1])
    if tf.executing_eagerly():
        if not np.all(peak.numpy() > 0):
            raise SignalError(ALL_ZERO_WINDOW)
    else:
        check = tf.debugging.assert_positive(peak, message=f"SignalError: {ALL_ZERO_WINDOW}")
        with tf.control_dependencies([check]):
            magnitudes = tf.identity(magnitudes)
    return log10_with_floor(magnitudes)


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
    return log10_windows(fft_window_magnitudes(x, fs=fs, wl=wl, ws=ws, fmax=fmax))


# ----------------------------------------------------------------------------- mel spectrogram


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


# ----------------------------------------------------------------------------- Kaggle spectrogram


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
    check_kaggle(values)
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
