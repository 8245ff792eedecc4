"""NumPy/librosa references of the spectral transforms (`kerasseizure.signal.spectral`).

TF-free (numpy; librosa only inside the mel functions). Holds IBM's window grid (window
length/step, window and bin counts, argument checks, the DFT basis of the TF and TFLite
front-ends, the strided window view), the HMS mel and Kaggle-spectrogram constants, and the
float64 references of `fft_windows`, `mel_spectrogram`, `hms_eeg_spectrogram`,
`kaggle_spectrogram_panels` and `hms_spectrogram_image`. Re-exported by
`kerasseizure.signal.reference`; see docs/signal.md.
"""

import math
import warnings

import numpy as np

from kerasseizure.errors import SignalError
from kerasseizure.signal.reference_filters import check_finite, fill_nan_with_mean_reference
from kerasseizure.signal.reference_montage import hms_chains_reference

# ----------------------------------------------------------------------------- IBM FFT windows

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


# ----------------------------------------------------------------------------- mel spectrogram, HMS images

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


def hms_spectrogram_image_reference(eeg, kaggle_spectrogram=None, fs=200, standardize_over="panel"):
    """The starter's NumPy path for one window: panels, then the model's concatenations, 3 channels.

    (512, 256, 3) from the EEG alone, (512, 512, 3) with the (300, 400) Kaggle window on the left
    (its panels standardised over each "panel" or the whole "stack").
    """
    eeg_panels = hms_eeg_spectrogram_reference(eeg, fs)
    eeg_half = np.concatenate([eeg_panels[:, :, k] for k in range(4)], axis=0)
    if kaggle_spectrogram is None:
        image = eeg_half
    else:
        kaggle = kaggle_spectrogram_panels_reference(kaggle_spectrogram, standardize_over)
        image = np.concatenate([np.concatenate([kaggle[:, :, k] for k in range(4)], axis=0), eeg_half], axis=1)
    return np.repeat(image[..., None], 3, axis=-1)
