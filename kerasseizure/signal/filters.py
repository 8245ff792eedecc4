"""Butterworth filtering, resampling and NaN handling in TensorFlow (SciPy references in reference.py).

All functions filter along the last axis (time). How the IIR filters run in TensorFlow:
the causal filter `sosfilt(sos, x)` of a signal of N samples with zero initial state equals the
convolution of x with the first N samples of the filter's impulse response h. h is computed once
in float64 with SciPy (at trace time, so the time length must be static) and applied as a short
direct convolution when it has decayed below float32 resolution (l1 tail < 1e-10 of the total,
e.g. 103 taps for the 20 Hz low-pass at 200 Hz) and as an FFT convolution otherwise (the 0.1 Hz
high-pass rings for >10^4 samples). Zero-phase filtering follows `scipy.signal.sosfiltfilt`
exactly: odd extension of `padlen` samples each side, initial state sosfilt_zi * first sample
(a linear term, added as x0 * g where g is the filter's zero-input response from that state),
forward pass, backward pass, crop. Tolerances are in docs/signal.md.
"""

import numpy as np
import scipy.fft
import scipy.signal
import tensorflow as tf

from kerasseizure.errors import SignalError
from kerasseizure.signal.montage import wavenet_differences
from kerasseizure.signal.reference_filters import (  # the TF-free half: filter design, plans, references
    butter_sos, check_finite, default_padlen, resample_plan,
    fill_nan_with_mean_reference, resample_reference, sos_filter_reference, wavenet_input_reference,
)

__all__ = [
    "DIRECT_CONVOLUTION_MAX_TAPS", "IMPULSE_TAIL_TOLERANCE", "bandpass", "butter_sos", "decimate",
    "default_padlen", "fill_nan_with_mean", "impulse_response", "lowpass", "polyphase_filter",
    "require_finite", "resample", "sos_filter", "static_length", "wavenet_input",
    # NumPy/SciPy references (defined in reference_filters.py)
    "fill_nan_with_mean_reference", "resample_reference", "sos_filter_reference", "wavenet_input_reference",
]

# Plain Python on static shapes: autograph has nothing to convert, and converting SciPy-calling
# code costs seconds per trace inside tf.data.Dataset.map.
_plain_python = tf.autograph.experimental.do_not_convert

# l1 mass of the impulse-response tail below which it is dropped (far below float32 epsilon).
IMPULSE_TAIL_TOLERANCE = 1e-10
# Impulse responses up to this many taps run as direct convolution; longer ones via FFT.
DIRECT_CONVOLUTION_MAX_TAPS = 512


# ----------------------------------------------------------------------------- input checks


def static_length(x, what):
    """The static size of x's last (time) axis, or SignalError when it is unknown or empty."""
    length = x.shape[-1]
    if length is None:
        raise SignalError(f"{what} needs a static time length (last axis); got shape {tuple(x.shape)}")
    if length == 0:
        raise SignalError(f"{what} got an empty signal")
    return int(length)


@_plain_python
def require_finite(x, what):
    """x unchanged, after checking it holds no NaN/inf.

    Eagerly a `SignalError` is raised; inside tf.function / tf.data the check is a graph assert
    whose InvalidArgumentError message starts with "SignalError".

    >>> require_finite(np.ones(3, np.float32), "demo").shape
    TensorShape([3])
    """
    x = tf.convert_to_tensor(x, tf.float32)
    if tf.executing_eagerly():
        check_finite(x.numpy(), what)
        return x
    return tf.debugging.assert_all_finite(x, f"SignalError: {what}: NaN/inf values in input")


@_plain_python
def fill_nan_with_mean(x, axis=-1):
    """Replace NaNs by the mean of the other values along `axis` (all-NaN -> 0), as the HMS starters do.

    Args:
        x: float array/tensor.
        axis: the axis the mean runs over (time).

    Returns:
        (filled float32 tensor, int32 tensor of NaN counts with `axis` removed).

    >>> filled, count = fill_nan_with_mean(np.array([1.0, np.nan, 3.0]))
    >>> filled.numpy().tolist(), int(count)
    ([1.0, 2.0, 3.0], 1)
    """
    x = tf.convert_to_tensor(x, tf.float32)
    missing = tf.math.is_nan(x)
    present = tf.cast(tf.logical_not(missing), tf.float32)
    zeroed = tf.where(missing, tf.zeros_like(x), x)
    mean = tf.math.divide_no_nan(
        tf.reduce_sum(zeroed, axis=axis, keepdims=True), tf.reduce_sum(present, axis=axis, keepdims=True)
    )
    filled = tf.where(missing, tf.broadcast_to(mean, tf.shape(x)), x)
    return filled, tf.reduce_sum(tf.cast(missing, tf.int32), axis=axis)


# ----------------------------------------------------------------------------- impulse responses


def impulse_response(sos, length, tail_tolerance=IMPULSE_TAIL_TOLERANCE):
    """First `length` samples of the filter's impulse response, cut where its l1 tail is negligible.

    >>> len(impulse_response(butter_sos(4, None, 20.0, 200.0), 10000))
    103
    """
    impulse = np.zeros(length)
    impulse[0] = 1.0
    response = scipy.signal.sosfilt(sos, impulse)
    tail = np.cumsum(np.abs(response)[::-1])[::-1]
    negligible = np.nonzero(tail <= tail_tolerance * tail[0])[0]
    return response[: negligible[0]] if negligible.size else response


# ----------------------------------------------------------------------------- TF filtering core


def _flatten_time(x):
    """(..., N) -> (rows, N) plus the leading shape to restore."""
    lead = tf.shape(x)[:-1]
    return tf.reshape(x, [-1, x.shape[-1]]), lead


def _restore(rows, lead):
    return tf.reshape(rows, tf.concat([lead, tf.shape(rows)[-1:]], axis=0))


def _direct_convolution(rows, taps, stride):
    """Causal convolution y[n] = sum_k taps[k] x[n-k], keeping every `stride`-th output."""
    kernel = tf.constant(taps[::-1].reshape(-1, 1, 1), tf.float32)
    padded = tf.pad(rows, [[0, 0], [len(taps) - 1, 0]])[..., None]
    return tf.nn.conv1d(padded, kernel, stride=stride, padding="VALID")[..., 0]


def _fft_convolution(rows, taps, length):
    """Causal convolution truncated to `length` samples, through real FFTs (float32)."""
    fft_length = scipy.fft.next_fast_len(length + len(taps) - 1, real=True)
    spectrum = tf.constant(np.fft.rfft(taps, fft_length).astype(np.complex64))
    product = tf.signal.rfft(rows, [fft_length]) * spectrum
    return tf.signal.irfft(product, [fft_length])[:, :length]


def _causal_rows(rows, sos, length, stride=1):
    taps = impulse_response(sos, length)
    if len(taps) <= DIRECT_CONVOLUTION_MAX_TAPS:
        return _direct_convolution(rows, taps, stride)
    return _fft_convolution(rows, taps, length)[:, ::stride]


def _odd_extension(rows, padlen):
    first, last = rows[:, :1], rows[:, -1:]
    head = 2.0 * first - tf.reverse(rows[:, 1 : padlen + 1], axis=[1])
    tail = 2.0 * last - tf.reverse(rows[:, -padlen - 1 : -1], axis=[1])
    return tf.concat([head, rows, tail], axis=1)


def _zero_phase_rows(rows, sos, length, padlen):
    extended = _odd_extension(rows, padlen) if padlen > 0 else rows
    extended_length = length + 2 * padlen
    state = scipy.signal.sosfilt_zi(sos)
    # Zero-input response from the unit-step steady state: the x0-proportional part of sosfilt(zi=zi*x0).
    ringing = tf.constant(scipy.signal.sosfilt(sos, np.zeros(extended_length), zi=state)[0], tf.float32)
    forward = _causal_rows(extended, sos, extended_length) + extended[:, :1] * ringing
    backward_input = tf.reverse(forward, axis=[1])
    backward = _causal_rows(backward_input, sos, extended_length) + backward_input[:, :1] * ringing
    return tf.reverse(backward, axis=[1])[:, padlen : padlen + length]


@_plain_python
def sos_filter(x, sos, zero_phase=True, padlen=None, check_finite=True):
    """Apply second-order sections along the last axis, causally or forward-backward.

    Args:
        x: (..., time) signals with a static time length.
        sos: float64 (sections, 6) array, e.g. from `butter_sos`.
        zero_phase: True for `scipy.signal.sosfiltfilt` semantics, False for `sosfilt`
            (zero initial state, as `lfilter(b, a, x)`).
        padlen: zero-phase only: odd-extension length each side (None = SciPy's default, which is
            27 samples for an order-4 band-pass: far shorter than a 0.1 Hz high-pass rings; pass
            e.g. min(N - 1, 5 * fs) for clean edges). Must be < N.
        check_finite: raise on NaN/inf input (see `require_finite`).

    Returns:
        float32 tensor of x's shape.

    >>> y = sos_filter(np.random.randn(2, 1000), butter_sos(4, None, 20.0, 200.0), zero_phase=False)
    >>> y.shape
    TensorShape([2, 1000])
    """
    x = tf.convert_to_tensor(x, tf.float32)
    length = static_length(x, "sos_filter")
    if check_finite:
        x = require_finite(x, "sos_filter")
    sos = np.asarray(sos, dtype=np.float64)
    rows, lead = _flatten_time(x)
    if not zero_phase:
        return _restore(_causal_rows(rows, sos, length), lead)
    padlen = default_padlen(sos) if padlen is None else int(padlen)
    if not 0 <= padlen < length:
        raise SignalError(f"zero-phase filtering needs padlen={padlen} < signal length {length} and >= 0")
    return _restore(_zero_phase_rows(rows, sos, length, padlen), lead)


@_plain_python
def bandpass(x, low_hz, high_hz, fs, order=4, zero_phase=True, padlen=None):
    """Butterworth band-pass along the last axis (the paper's 0.1-20 Hz for HMS).

    Args:
        x: (..., time) signals, static time length.
        low_hz, high_hz: pass band edges in Hz.
        fs: sampling rate in Hz.
        order: butter order (the band-pass has 2 * order poles, as in SciPy).
        zero_phase: sosfiltfilt (True) or causal sosfilt (False).
        padlen: zero-phase edge padding, see `sos_filter`.

    Returns:
        float32 tensor of x's shape.

    >>> bandpass(np.random.randn(8, 10000), 0.1, 20.0, fs=200, padlen=2000).shape
    TensorShape([8, 10000])
    """
    return sos_filter(x, butter_sos(order, low_hz, high_hz, fs), zero_phase, padlen)


@_plain_python
def lowpass(x, cutoff_hz, fs, order=4, zero_phase=True, padlen=None):
    """Butterworth low-pass along the last axis (the WaveNet starter: order 4, 20 Hz, causal).

    Args:
        x: (..., time) signals, static time length.
        cutoff_hz: cut-off in Hz.
        fs: sampling rate in Hz.
        order: butter order.
        zero_phase: sosfiltfilt (True) or causal sosfilt / lfilter (False).
        padlen: zero-phase edge padding, see `sos_filter`.

    Returns:
        float32 tensor of x's shape.

    >>> lowpass(np.random.randn(8, 10000), 20.0, fs=200, zero_phase=False).shape
    TensorShape([8, 10000])
    """
    return sos_filter(x, butter_sos(order, None, cutoff_hz, fs), zero_phase, padlen)


# ----------------------------------------------------------------------------- resampling


def _fft_resample(x, num):
    length = x.shape[-1]
    kept = min(num, length)
    kept_bins = kept // 2 + 1
    scale = np.full(kept_bins, num / length)
    # scipy.signal.resample: an unpaired Nyquist bin is doubled when down- and halved when up-sampling.
    if kept % 2 == 0 and num != length:
        scale[kept // 2] *= 2.0 if num < length else 0.5
    spectrum = tf.signal.rfft(x, [length])[..., :kept_bins] * tf.constant(scale.astype(np.complex64))
    pad = num // 2 + 1 - kept_bins
    if pad:
        spectrum = tf.pad(spectrum, [[0, 0]] * (x.shape.rank - 1) + [[0, pad]])
    return tf.signal.irfft(spectrum, [num])


def polyphase_filter(up, down, window=("kaiser", 5.0)):
    """The FIR of `scipy.signal.resample_poly` for (up, down), with its pre-pad and pre-removal."""
    max_rate = max(up, down)
    half_len = 10 * max_rate
    taps = scipy.signal.firwin(2 * half_len + 1, 1.0 / max_rate, window=window) * up
    pre_pad = down - half_len % down
    pre_remove = (half_len + pre_pad) // down
    return np.concatenate([np.zeros(pre_pad), taps]), pre_remove


def _polyphase_resample(x, up, down, window):
    length = x.shape[-1]
    taps, pre_remove = polyphase_filter(up, down, window)
    num = -(-length * up // down)
    rows, lead = _flatten_time(x)
    # Zero-stuffed input of upfirdn: x[i] at position i * up.
    stuffed = tf.reshape(tf.pad(rows[..., None], [[0, 0], [0, 0], [0, up - 1]]), [-1, length * up])
    padded = tf.pad(stuffed, [[0, 0], [len(taps) - 1, len(taps) - 1]])
    start = pre_remove * down
    span = (num - 1) * down + len(taps)
    padded = tf.pad(padded, [[0, 0], [0, max(0, start + span - padded.shape[-1])]])
    window_rows = padded[:, start : start + span, None]
    kernel = tf.constant(taps[::-1].reshape(-1, 1, 1), tf.float32)
    out = tf.nn.conv1d(window_rows, kernel, stride=down, padding="VALID")[..., 0]
    return _restore(out, lead)


@_plain_python
def resample(x, num=None, fs_in=None, fs_out=None, method="fft", window=("kaiser", 5.0)):
    """Resample along the last axis: FFT (`scipy.signal.resample`) or polyphase (`resample_poly`).

    Args:
        x: (..., time) signals, static time length.
        num: output length (fft). IBM's pipeline uses floor(duration * 250). When None it is
            floor(N * fs_out / fs_in).
        fs_in, fs_out: rates in Hz; required for "polyphase" (up/down = reduced fs_out / fs_in,
            output length ceil(N * up / down)).
        method: "fft" or "polyphase".
        window: polyphase FIR window (SciPy's default Kaiser beta 5).

    Returns:
        float32 tensor (..., num).

    >>> resample(np.random.randn(20, 256), fs_in=256, fs_out=250).shape
    TensorShape([20, 250])
    """
    x = tf.convert_to_tensor(x, tf.float32)
    length = static_length(x, "resample")
    plan = resample_plan(length, num, fs_in, fs_out, method)
    x = require_finite(x, "resample")
    if plan[0] == "identity":
        return x
    if plan[0] == "fft":
        return _fft_resample(x, plan[1])
    return _polyphase_resample(x, plan[1], plan[2], window)


@_plain_python
def decimate(x, factor):
    """Keep every `factor`-th sample along the last axis, without anti-aliasing (the WaveNet starter's x[::5]).

    >>> decimate(np.arange(10.0), 5).numpy().tolist()
    [0.0, 5.0]
    """
    return tf.convert_to_tensor(x, tf.float32)[..., ::factor]


# ----------------------------------------------------------------------------- HMS WaveNet view


@_plain_python
def wavenet_input(eeg, fs=200, low_hz=None, high_hz=20.0, order=4, zero_phase=False,
                  clip=1024.0, scale=32.0, keep_every=5, padlen=None, return_nan_count=False):
    """The WaveNet starter's input: 8 differences, clipped, scaled, Butterworth-filtered, decimated.

    Steps: NaN -> electrode mean (all-NaN -> 0) over the window; the 8 `WAVENET_PAIRS`
    differences; clip to +-clip; / scale; Butterworth (starter: causal 20 Hz low-pass, order 4;
    paper: low_hz=0.1 band-pass); keep every `keep_every`-th sample.

    Args:
        eeg: (..., time, 20) HMS layout at `fs` (normally the middle 50 s: 10,000 samples).
        fs: sampling rate; must be 200 Hz (the starter's constants assume it).
        low_hz, high_hz: band edges (low_hz None -> low-pass).
        order, zero_phase, padlen: filter settings, see `sos_filter`.
        clip, scale: amplitude clip and divisor.
        keep_every: decimation factor (no anti-aliasing beyond the filter).
        return_nan_count: also return the (..., 20) NaN counts per column.

    Returns:
        float32 (..., ceil(time / keep_every), 8), optionally with the NaN counts.

    >>> wavenet_input(np.random.randn(10000, 20) * 100).shape
    TensorShape([2000, 8])
    """
    if fs != 200:
        raise SignalError(f"the HMS WaveNet input is defined at 200 Hz, got fs={fs}; resample first")
    eeg = tf.convert_to_tensor(eeg, tf.float32)
    if eeg.shape[-1] != 20:
        raise SignalError(f"HMS EEG needs 20 columns on the last axis, got shape {tuple(eeg.shape)}")
    filled, nan_count = fill_nan_with_mean(eeg, axis=-2)
    diffs = tf.clip_by_value(wavenet_differences(filled), -clip, clip) / scale
    signals = tf.linalg.matrix_transpose(diffs)  # (..., 8, time)
    length = static_length(signals, "wavenet_input")
    sos = butter_sos(order, low_hz, high_hz, fs)
    rows, lead = _flatten_time(signals)
    if zero_phase:
        padlen = default_padlen(sos) if padlen is None else int(padlen)
        if not 0 <= padlen < length:
            raise SignalError(f"padlen={padlen} must be < signal length {length}")
        filtered = _zero_phase_rows(rows, sos, length, padlen)[:, ::keep_every]
    else:
        filtered = _causal_rows(rows, sos, length, stride=keep_every)
    out = tf.linalg.matrix_transpose(_restore(filtered, lead))
    return (out, nan_count) if return_nan_count else out
