"""SciPy references of the filters (`kerasseizure.signal.filters`): NaN handling, IIR filtering, resampling.

TF-free (numpy and scipy only). Holds the rules both sides share -- the NaN/inf check, the
Butterworth design (`butter_sos`), sosfiltfilt's default padding, the resampling plan -- and the
float64 references of `fill_nan_with_mean` (the counted policy of `kerasseizure.io.missing`, along
any axis), `sos_filter`, `resample` and `wavenet_input`. Re-exported by `kerasseizure.signal.reference`; see docs/signal.md.
"""

from fractions import Fraction

import numpy as np
import scipy.signal

from kerasseizure.errors import SignalError
from kerasseizure.io.missing import fill_nan_with_channel_mean
from kerasseizure.signal.reference_montage import wavenet_differences_reference


def check_finite(values, what):
    """SignalError when a NumPy array holds NaN/inf (the eager rule of `require_finite`)."""
    bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
    if bad:
        raise SignalError(f"{what}: {bad} NaN/inf values in input of shape {np.shape(values)}")


def fill_nan_with_mean_reference(x, axis=-1):
    """NumPy reference of `fill_nan_with_mean`: `io.missing.fill_nan_with_channel_mean` along any axis.

    Args:
        x: float array; each 1-D slice along `axis` is one channel.
        axis: the axis the mean runs over (time).

    Returns:
        (filled float64 array, int64 NaN counts with `axis` removed).
    """
    x = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1)
    filled, counts = fill_nan_with_channel_mean(x.reshape(-1, x.shape[-1]).T)
    return np.moveaxis(filled.T.reshape(x.shape), -1, axis), counts.per_channel.reshape(x.shape[:-1])


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
    # Rates from file headers may be NumPy scalars, which Fraction refuses (float32) or keeps (int64).
    fs_in, fs_out, length = (value.item() if isinstance(value, np.generic) else value
                             for value in (fs_in, fs_out, length))
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
