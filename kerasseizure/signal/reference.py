"""NumPy/SciPy references of the `kerasseizure.signal` transforms, and the helpers they share.

This module never imports TensorFlow or Keras (only numpy, scipy, and librosa lazily inside the
mel functions), so TensorFlow-free code -- `kerasseizure.export.litert_runtime` on a device --
uses these functions as its preprocessing. Convention (docs/signal.md): the TensorFlow
implementation `name` lives in montage.py / filters.py / spectral.py / saliency.py; its reference
`name_reference` lives here (re-exported by those modules and by `kerasseizure.signal`).

References work in float64 and are what the TensorFlow implementations are tested against. Most
are vectorised over leading axes; the tests also check them against one-window-at-a-time
definitional loops (tests/signal/test_reference.py). Also here: the trace-time constants and
argument checks both sides use (window grid, DFT basis, Butterworth design, filter matrices,
resampling plan, electrode lookup), so each rule is written once.
"""

import math
import warnings
from fractions import Fraction

import numpy as np
import scipy.ndimage
import scipy.signal

from kerasseizure.errors import SignalError
from kerasseizure.io.channels import (
    HMS_CHAINS,
    HMS_EEG_COLUMNS,
    WAVENET_PAIRS,
    canonical_electrode,
    mirror_electrode,
    montage_pairs,
)

# ============================================================================= montages

HMS_CHAIN_ORDER = ("LL", "LP", "RL", "RP")
# The 16 differences of the spectrogram starter, chain by chain in the EEG-image order.
HMS_CHAIN_PAIRS = tuple(pair for chain in HMS_CHAIN_ORDER for pair in HMS_CHAINS[chain])


def _name_key(label):
    """Canonical scalp-electrode name of a label; other channels keep their upper-cased label."""
    return canonical_electrode(label) or label.strip().upper()


def electrode_indices(channel_names, electrodes):
    """Positions of `electrodes` among `channel_names`, matched by canonical 10-20 name.

    Args:
        channel_names: the names of the array's channels, in order ("EEG FP1-REF", "Fp1", ...).
        electrodes: the electrode names wanted.

    Returns:
        A list of int positions, one per wanted electrode.

    Raises:
        SignalError: an electrode is missing or present twice.

    >>> electrode_indices(["EEG FP1-REF", "EEG F7-REF", "EKG"], ["F7", "Fp1"])
    [1, 0]
    """
    keys = [_name_key(name) for name in channel_names]
    positions = []
    missing = []
    for electrode in electrodes:
        key = _name_key(electrode)
        found = [i for i, k in enumerate(keys) if k == key]
        if len(found) > 1:
            raise SignalError(f"electrode {electrode} appears {len(found)} times in {list(channel_names)}")
        if not found:
            missing.append(electrode)
        else:
            positions.append(found[0])
    if missing:
        raise SignalError(f"missing electrodes {missing}; channels present: {list(channel_names)}")
    return positions


def check_channel_count(x, channel_axis, expected, what):
    """SignalError unless x (array or tensor) has `expected` channels on `channel_axis` (unknown passes)."""
    rank = getattr(x.shape, "rank", None) if not isinstance(x.shape, tuple) else len(x.shape)
    if rank is None:
        return
    if not -rank <= channel_axis < rank:
        raise SignalError(f"{what} needs a channel axis {channel_axis}, got shape {tuple(x.shape)}")
    count = x.shape[channel_axis]
    if count is not None and count != expected:
        raise SignalError(f"{what} needs {expected} channels on axis {channel_axis}, got shape {tuple(x.shape)}")


def pair_indices(channel_names, pairs):
    """(anode positions, cathode positions) of bipolar `pairs` among `channel_names`."""
    anodes = electrode_indices(channel_names, [a for a, _ in pairs])
    cathodes = electrode_indices(channel_names, [b for _, b in pairs])
    return anodes, cathodes


def bipolar_reference(x, channel_names, pairs, channel_axis=-2):
    """NumPy reference of `bipolar` (same arguments), float64.

    >>> bipolar_reference(np.ones((3, 10)), ["FP1", "F7", "T3"], [("FP1", "F7")]).shape
    (1, 10)
    """
    x = np.asarray(x, dtype=np.float64)
    check_channel_count(x, channel_axis, len(channel_names), "bipolar")
    anodes, cathodes = pair_indices(channel_names, pairs)
    return np.take(x, anodes, axis=channel_axis) - np.take(x, cathodes, axis=channel_axis)


def tcp_bipolar_reference(x, channel_names, montage="tcp20", channel_axis=-2):
    """NumPy reference of `tcp_bipolar` (same arguments), float64: (..., 20 or 22, time)."""
    return bipolar_reference(x, channel_names, montage_pairs(montage), channel_axis)


def hms_chains_reference(eeg, channel_axis=-1):
    """NumPy reference of `hms_chains`, float64."""
    return bipolar_reference(eeg, HMS_EEG_COLUMNS, HMS_CHAIN_PAIRS, channel_axis)


def wavenet_differences_reference(eeg, channel_axis=-1):
    """NumPy reference of `wavenet_differences`, float64."""
    return bipolar_reference(eeg, HMS_EEG_COLUMNS, WAVENET_PAIRS, channel_axis)


def mirror_permutation(channel_names):
    """Channel order that swaps left and right electrodes (midline channels and EKG stay).

    >>> mirror_permutation(["Fp1", "Fz", "Fp2"])
    [2, 1, 0]
    """
    mirrored = [mirror_electrode(_name_key(name)) for name in channel_names]
    return electrode_indices(channel_names, mirrored)


def mirror_bipolar_map(pairs):
    """Signed permutation that mirrors a bipolar montage: (index, sign) for each output channel.

    T3-C3 mirrors to T4-C4, which the TCP montage holds as C4-T4, hence sign -1.

    Raises:
        SignalError: the mirror of some pair is not in the montage.

    >>> mirror_bipolar_map([("FP1", "F7"), ("FP2", "F8")])
    ([1, 0], [1.0, 1.0])
    """
    keyed = [(_name_key(a), _name_key(b)) for a, b in pairs]
    index, sign = [], []
    for a, b in keyed:
        ma, mb = _name_key(mirror_electrode(a)), _name_key(mirror_electrode(b))
        if (ma, mb) in keyed:
            index.append(keyed.index((ma, mb)))
            sign.append(1.0)
        elif (mb, ma) in keyed:
            index.append(keyed.index((mb, ma)))
            sign.append(-1.0)
        else:
            raise SignalError(f"mirror of {a}-{b} ({ma}-{mb}) is not in the montage")
    return index, sign


def mirror_bipolar_reference(x, pairs, channel_axis=-2):
    """NumPy reference of `mirror_bipolar`, built from electrode names one channel at a time."""
    x = np.asarray(x, dtype=np.float64)
    keyed = [(_name_key(a), _name_key(b)) for a, b in pairs]
    out = np.empty_like(x)
    for i, (a, b) in enumerate(keyed):
        target = (_name_key(mirror_electrode(a)), _name_key(mirror_electrode(b)))
        if target in keyed:
            source = np.take(x, keyed.index(target), axis=channel_axis)
        else:
            source = -np.take(x, keyed.index(target[::-1]), axis=channel_axis)
        index = [slice(None)] * x.ndim
        index[channel_axis] = i
        out[tuple(index)] = source
    return out


# ============================================================================= checks, NaN, filters


def check_finite(values, what):
    """SignalError when a NumPy array holds NaN/inf (the eager rule of `require_finite`)."""
    bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
    if bad:
        raise SignalError(f"{what}: {bad} NaN/inf values in input of shape {np.shape(values)}")


def fill_nan_with_mean_reference(x, axis=-1):
    """NumPy reference of `fill_nan_with_mean` (the starters' nanmean / nan_to_num rule)."""
    x = np.moveaxis(np.array(x, dtype=np.float64), axis, -1)
    counts = np.isnan(x).sum(axis=-1)
    flat = x.reshape(-1, x.shape[-1])
    for row in flat:
        if np.isnan(row).mean() < 1:
            row[np.isnan(row)] = np.nanmean(row)
        else:
            row[:] = 0.0
    return np.moveaxis(flat.reshape(x.shape), -1, axis), counts


def butter_sos(order, low_hz, high_hz, fs):
    """Butterworth design as second-order sections (`scipy.signal.butter(..., output="sos")`).

    Args:
        order: the order passed to butter (a band-pass of order n has 2n poles, as in SciPy).
        low_hz: lower cut-off in Hz, or None for a low-pass.
        high_hz: upper cut-off in Hz, or None for a high-pass.
        fs: sampling rate in Hz.

    Returns:
        float64 array (sections, 6).

    >>> butter_sos(4, None, 20.0, 200.0).shape
    (2, 6)
    """
    nyquist = fs / 2.0
    for name, value in (("low_hz", low_hz), ("high_hz", high_hz)):
        if value is not None and not 0.0 < value < nyquist:
            raise ValueError(f"{name}={value} must lie in (0, {nyquist}) for fs={fs}")
    if low_hz is None and high_hz is None:
        raise ValueError("give low_hz, high_hz or both")
    if low_hz is None:
        return scipy.signal.butter(order, high_hz, btype="lowpass", fs=fs, output="sos")
    if high_hz is None:
        return scipy.signal.butter(order, low_hz, btype="highpass", fs=fs, output="sos")
    if low_hz >= high_hz:
        raise ValueError(f"low_hz={low_hz} must be below high_hz={high_hz}")
    return scipy.signal.butter(order, [low_hz, high_hz], btype="bandpass", fs=fs, output="sos")


def default_padlen(sos):
    """sosfiltfilt's default odd-extension length for these sections (3 * (2 * sections + 1 - ...))."""
    sos = np.asarray(sos)
    trailing_zeros = min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
    return 3 * (2 * len(sos) + 1 - trailing_zeros)


def sos_filter_reference(x, sos, zero_phase=True, padlen=None):
    """SciPy reference of `sos_filter`: sosfiltfilt (odd padding) or sosfilt, float64."""
    x = np.asarray(x, dtype=np.float64)
    if zero_phase:
        padlen = default_padlen(sos) if padlen is None else padlen
        return scipy.signal.sosfiltfilt(sos, x, axis=-1, padtype="odd", padlen=padlen)
    return scipy.signal.sosfilt(sos, x, axis=-1)


def resample_plan(length, num=None, fs_in=None, fs_out=None, method="fft"):
    """What `resample` does to `length` samples: ("identity",), ("fft", num) or ("polyphase", up, down).

    "fft" produces `num` samples (None: floor(length * fs_out / fs_in)); "polyphase" uses the
    reduced ratio up / down = fs_out / fs_in and produces ceil(length * up / down) samples.

    Raises:
        ValueError: missing or non-positive rates, an unknown method, a `num` that disagrees
            with the polyphase rates. SignalError: the output would hold no samples.

    >>> resample_plan(512, fs_in=256, fs_out=250), resample_plan(512, fs_in=256, fs_out=250, method="polyphase")
    (('fft', 500), ('polyphase', 125, 128))
    """
    for name, rate in (("fs_in", fs_in), ("fs_out", fs_out)):
        if rate is not None and not rate > 0:
            raise ValueError(f"rates must be positive, got {name}={rate}")
    if method == "fft":
        if num is None:
            if fs_in is None or fs_out is None:
                raise ValueError("give num or both fs_in and fs_out")
            num = int(Fraction(length) * Fraction(fs_out) / Fraction(fs_in))
        if num <= 0:
            raise SignalError(f"resample to {num} samples from {length}")
        return ("identity",) if num == length else ("fft", int(num))
    if method == "polyphase":
        if fs_in is None or fs_out is None:
            raise ValueError("method='polyphase' needs fs_in and fs_out")
        ratio = Fraction(fs_out) / Fraction(fs_in)
        if num is not None and num != -(-length * ratio.numerator // ratio.denominator):
            raise ValueError(f"polyphase output length is fixed by the rates; num={num} disagrees")
        return ("identity",) if ratio == 1 else ("polyphase", ratio.numerator, ratio.denominator)
    raise ValueError(f"method must be 'fft' or 'polyphase', got {method!r}")


def resample_reference(x, num=None, fs_in=None, fs_out=None, method="fft", window=("kaiser", 5.0)):
    """SciPy reference of `resample` (same arguments), float64, along the last axis.

    "fft" is `scipy.signal.resample(x, num)` (IBM's method), "polyphase" is
    `scipy.signal.resample_poly(x, up, down, window=window)`; equal rates / lengths return x.
    NaN/inf input raises SignalError, as `resample` does.

    >>> resample_reference(np.zeros((20, 512)), fs_in=256, fs_out=250).shape
    (20, 500)
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0 or x.shape[-1] == 0:
        raise SignalError(f"resample got an empty signal of shape {x.shape}")
    plan = resample_plan(x.shape[-1], num, fs_in, fs_out, method)
    check_finite(x, "resample")
    if plan[0] == "identity":
        return x
    if plan[0] == "fft":
        return scipy.signal.resample(x, plan[1], axis=-1)
    return scipy.signal.resample_poly(x, plan[1], plan[2], axis=-1, window=window)


def wavenet_input_reference(eeg, fs=200, low_hz=None, high_hz=20.0, order=4, zero_phase=False,
                            clip=1024.0, scale=32.0, keep_every=5, padlen=None):
    """The starter's NumPy/SciPy path for one (time, 20) window: per-column loop, butter(b, a) + lfilter."""
    eeg = np.array(eeg, dtype=np.float32)
    filled, _ = fill_nan_with_mean_reference(eeg, axis=0)
    diffs = np.clip(wavenet_differences_reference(filled), -clip, clip) / scale
    if low_hz is None:
        b, a = scipy.signal.butter(order, high_hz / (fs / 2.0), btype="low")
    else:
        b, a = scipy.signal.butter(order, [low_hz / (fs / 2.0), high_hz / (fs / 2.0)], btype="band")
    if zero_phase:
        sos = butter_sos(order, low_hz, high_hz, fs)
        filtered = sos_filter_reference(diffs.T, sos, True, padlen).T
    else:
        filtered = scipy.signal.lfilter(b, a, diffs, axis=0)
    return filtered[::keep_every]


# ============================================================================= IBM FFT windows

ALL_ZERO_WINDOW = "fft_windows: a window is all zeros (log10 undefined; IBM's code would give -inf)"
# Float64 values per rfft chunk of the vectorised reference (bounds memory on long recordings).
_FFT_CHUNK_VALUES = 1 << 22


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


def check_window_count(n_samples, fs, wl, ws):
    """(window length, step) of IBM's grid; SignalError when `n_samples` (None = unknown) gives no window."""
    length, step = window_samples(fs, wl, ws)
    if n_samples is not None and n_samples <= length:
        raise SignalError(
            f"signal of {n_samples} samples is too short for one {wl} s window at {fs} Hz "
            f"(needs more than {length} samples: a window ending exactly at the end is dropped)"
        )
    return length, step


def check_fft_window_args(n_samples, fs, wl, ws, fmax):
    """(window length, step, bins) of IBM's grid, after checking the band and the signal length.

    Raises:
        ValueError: fmax above Nyquist or no bin kept. SignalError: `n_samples` (None = unknown,
            not checked) is too short for one window.
    """
    length, step = window_samples(fs, wl, ws)
    bins = fft_bin_count(fmax, wl)
    if not 1 <= bins <= length // 2:
        raise ValueError(f"fmax={fmax} Hz with wl={wl} s keeps {bins} bins; need 1..{length // 2} (Nyquist) at fs={fs}")
    check_window_count(n_samples, fs, wl, ws)
    return length, step, bins


def dft_basis(length, bins):
    """(length, 2 * bins) real DFT basis of bins 1..bins: cos parts then -sin parts, float64.

    `frame @ dft_basis(L, K)` gives [Re, Im] of rfft(frame)[1 : K + 1] (TF and TFLite front-ends).
    """
    angle = 2.0 * np.pi * np.outer(np.arange(length), np.arange(1, bins + 1)) / length
    return np.concatenate([np.cos(angle), -np.sin(angle)], axis=1)


def window_frames(x, fs=250, wl=1.0, ws=0.25):
    """IBM's sliding windows of raw samples: (..., channels, time) -> (..., n_windows, channels, length).

    A read-only strided view (no copy). Raises SignalError when no window fits.

    >>> window_frames(np.zeros((20, 1000))).shape
    (13, 20, 250)
    """
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"expected (..., channels, time) signals, got shape {x.shape}")
    length, step = check_window_count(x.shape[-1], fs, wl, ws)
    count = fft_window_count(x.shape[-1], fs, wl, ws)
    frames = np.lib.stride_tricks.sliding_window_view(x, length, axis=-1)[..., : (count - 1) * step + 1 : step, :]
    return np.moveaxis(frames, -2, -3)


def fft_windows_reference(x, fs=250, wl=1.0, ws=0.25, fmax=24.0):
    """NumPy reference of `fft_windows`: IBM's log10 |rfft| windows, vectorised, float64.

    Windows of floor(wl * fs) samples every floor(ws * fs) samples, kept while they end strictly
    before the signal end; per window and channel log10 |rfft| of bins 1..floor(fmax * wl);
    magnitudes that are exactly 0 are floored at 0.1 x the smallest positive magnitude of that
    window (all channels and bins together). Checked against IBM's while-loop in the tests.

    Args:
        x: (..., channels, time) signals at fs.
        fs, wl, ws, fmax: as in `fft_windows`.

    Returns:
        float64 (..., n_windows, channels, floor(fmax * wl)).

    Raises:
        SignalError: fewer than one window, NaN/inf input, or a window that is all zeros.

    >>> fft_windows_reference(np.random.randn(20, 1000)).shape
    (13, 20, 24)
    """
    x = np.asarray(x, dtype=np.float64)
    _, _, bins = check_fft_window_args(x.shape[-1] if x.ndim else 0, fs, wl, ws, fmax)
    check_finite(x, "fft_windows")
    frames = window_frames(x, fs, wl, ws)  # (..., W, C, L), a view
    # rfft in chunks of windows: the framed copy of a long recording would not fit small devices.
    chunk = max(1, _FFT_CHUNK_VALUES // max(1, math.prod(frames.shape) // max(1, frames.shape[-3])))
    magnitude = np.concatenate([
        np.abs(np.fft.rfft(frames[..., start : start + chunk, :, :], axis=-1))[..., 1 : bins + 1]
        for start in range(0, frames.shape[-3], chunk)
    ], axis=-3)
    positive = magnitude > 0
    if not positive.any(axis=(-2, -1)).all():
        raise SignalError(ALL_ZERO_WINDOW)
    smallest = np.where(positive, magnitude, np.inf).min(axis=(-2, -1), keepdims=True)
    return np.log10(np.where(positive, magnitude, 0.1 * smallest))


# ============================================================================= mel spectrogram, HMS images

HMS_EEG_MEL = dict(n_fft=1024, win_length=128, n_mels=128, fmin=0.0, fmax=20.0)
HMS_PANEL_FRAMES = 256

KAGGLE_ROWS = 300
KAGGLE_COLUMNS = 400
KAGGLE_REGIONS = ("LL", "RL", "LP", "RP")  # parquet column order
KAGGLE_CROP = 22
KAGGLE_CANVAS_TOP = 14


def mel_filterbank(sr, n_fft, n_mels=128, fmin=0.0, fmax=None):
    """librosa's Slaney-normalised mel filterbank (n_mels, 1 + n_fft // 2), float64."""
    import librosa

    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, dtype=np.float64)


def mel_frame_count(n_samples, hop_length):
    """Frames of a centred STFT: 1 + n_samples // hop_length."""
    return 1 + n_samples // hop_length


def mel_spectrogram_reference(y, sr=200, n_fft=1024, hop_length=39, win_length=None, n_mels=128,
                              fmin=0.0, fmax=None, power=2.0):
    """librosa.feature.melspectrogram with the same arguments (center=True, default pad mode)."""
    import librosa

    return librosa.feature.melspectrogram(
        y=np.asarray(y), sr=sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
        n_mels=n_mels, fmin=fmin, fmax=fmax, power=power,
    )


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


def check_kaggle(values):
    """SignalError unless values is (..., 300 rows, 400 columns) (the parquet window, no time column)."""
    if tuple(values.shape[-2:]) != (KAGGLE_ROWS, KAGGLE_COLUMNS):
        raise SignalError(
            f"Kaggle spectrogram window must be (..., {KAGGLE_ROWS} rows, {KAGGLE_COLUMNS} columns) "
            f"without the time column, got shape {tuple(values.shape)}"
        )


def kaggle_spectrogram_panels_reference(values, standardize_over="panel", eps=1e-6):
    """The starter's NumPy loop for one (300, 400) window (standardize_over as in the TF version)."""
    values = np.asarray(values, dtype=np.float64)
    check_kaggle(values)
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


# ============================================================================= saliency (SES)


def box_filter_matrix(size, box, mode):
    """(size, size) matrix M with M @ v == scipy.ndimage.uniform_filter1d(v, box, mode=mode), float64.

    The filter is linear, so applying it to an identity gives its matrix (boundary rules included,
    also for boxes larger than `size`); the TF and TFLite SES run it as a matmul.
    """
    return scipy.ndimage.uniform_filter1d(np.eye(size), box, axis=0, mode=mode)


def gaussian_filter_matrix(size, sigma, truncate=4.0):
    """(size, size) matrix of scipy.ndimage.gaussian_filter1d(v, sigma, mode="reflect", truncate)."""
    return scipy.ndimage.gaussian_filter1d(np.eye(size), sigma, axis=0, mode="reflect", truncate=truncate)


def _last_two(ndim, value, rest):
    """A per-axis scipy.ndimage argument acting on the last two axes only."""
    return (rest,) * (ndim - 2) + (value, value)


def spectral_residual_saliency_reference(maps, box_size=3, sigma=1.0, truncate=4.0, amin=1e-12):
    """NumPy/scipy.ndimage reference of `spectral_residual_saliency` for (..., H, W) maps, float64.

    A = log max(|FFT2 F|, amin), R = A - circular box_size mean of A, S = Gaussian(sigma, reflect)
    of |IFFT2(exp(R + i angle(FFT2 F)))|^2, each 2-D map on its own.
    """
    maps = np.asarray(maps, dtype=np.float64)
    if maps.ndim < 2:
        raise ValueError(f"expected (..., H, W) maps, got shape {maps.shape}")
    spectrum = np.fft.fft2(maps)
    log_amplitude = np.log(np.maximum(np.abs(spectrum), amin))
    box = _last_two(maps.ndim, box_size, 1)
    residual = log_amplitude - scipy.ndimage.uniform_filter(log_amplitude, size=box, mode="wrap")
    rebuilt = np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))
    return scipy.ndimage.gaussian_filter(np.abs(rebuilt) ** 2, _last_two(maps.ndim, sigma, 0.0), mode="reflect",
                                         truncate=truncate)


def center_surround_saliency_reference(maps, radii=(1, 2, 4)):
    """scipy.ndimage reference of `center_surround_saliency` for (..., H, W) maps, float64."""
    maps = np.asarray(maps, dtype=np.float64)
    if maps.ndim < 2:
        raise ValueError(f"expected (..., H, W) maps, got shape {maps.shape}")
    if not radii:
        raise ValueError("center_surround_saliency needs at least one radius")
    return sum(
        np.abs(maps - scipy.ndimage.uniform_filter(maps, size=_last_two(maps.ndim, 2 * r + 1, 1), mode="reflect"))
        for r in radii
    )


def _divide_by_peak(maps):
    """Each (H, W) map divided by its maximum; an all-zero map stays zero."""
    peak = maps.max(axis=(-2, -1), keepdims=True)
    return np.divide(maps, peak, out=np.zeros_like(maps), where=peak > 0)


def saliency_encoded_spectrogram_reference(x, fs=250, wl=1.0, ws=0.25, fmax=24.0, box_size=3, sigma=1.0,
                                           truncate=4.0, radii=(1, 2, 4), normalize=True):
    """NumPy reference of `saliency_encoded_spectrogram`, vectorised over windows, float64.

    Args:
        x: (..., channels, time) signals at fs.
        fs, wl, ws, fmax, box_size, sigma, truncate, radii, normalize: as in the TF version.

    Returns:
        float64 (..., n_windows, channels, floor(fmax * wl), 3): [F, spectral residual,
        centre-surround] per window, the saliency maps divided by their per-window maximum.

    >>> saliency_encoded_spectrogram_reference(np.random.randn(20, 1000)).shape
    (13, 20, 24, 3)
    """
    spectra = fft_windows_reference(x, fs=fs, wl=wl, ws=ws, fmax=fmax)
    residual = spectral_residual_saliency_reference(spectra, box_size, sigma, truncate)
    contrast = center_surround_saliency_reference(spectra, radii)
    if normalize:
        residual, contrast = _divide_by_peak(residual), _divide_by_peak(contrast)
    return np.stack([spectra, residual, contrast], axis=-1)
