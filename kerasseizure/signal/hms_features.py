"""Hand-made features of an HMS 50 s window for the feature baseline of table 2 (NumPy/SciPy only).

They follow the ACNS terms the six classes come from: lateralised or generalised periodic
discharges repeat at ~0.5-3 Hz (periodicity of the rectified signal, the low-frequency peak),
rhythmic delta sits at ~1-4 Hz (delta band powers, the peak), seizures are evolving rhythms with
power above delta (theta, alpha, beta), and L- patterns differ between the hemispheres
(lateralisation: left minus right log power per band).

The input is the WaveNet view of `pipelines.build_hms_features` (the starters' 8 differences,
band-limited to 20 Hz and resampled to 40 Hz), so no file is read again.
"""

import numpy as np
import scipy.signal

from kerasseizure.io.channels import WAVENET_PAIRS

# Frequency bands (Hz) of the band powers: slow and fast delta, theta, alpha, beta up to the view's 20 Hz.
PATTERN_BANDS = ((0.5, 2.0), (2.0, 4.0), (4.0, 8.0), (8.0, 13.0), (13.0, 20.0))
# Lags (s) searched for the periodicity: discharges at 0.5-3 Hz repeat every 0.33-2 s.
PERIOD_LAGS = (0.3, 2.0)
# WAVENET_PAIRS holds the left chains' differences (LL, LP) first, then the right's (RP, RL).
_LEFT, _RIGHT = slice(0, 4), slice(4, 8)


def pattern_feature_names():
    """Names of the columns of `pattern_features`, in order."""
    pairs = ["-".join(p) for p in WAVENET_PAIRS]
    bands = [f"{lo:g}-{hi:g}Hz" for lo, hi in PATTERN_BANDS]
    return ([f"log_power {b} {p}" for b in bands for p in pairs]
            + [f"relative_log_power {b} {p}" for b in bands for p in pairs]
            + [f"delta_peak_hz {p}" for p in pairs] + [f"periodicity {p}" for p in pairs]
            + [f"left_minus_right {b}" for b in bands] + [f"abs_left_minus_right {b}" for b in bands])


def pattern_features(windows, fs=40.0):
    """Features of each window: (n, samples, 8) WaveNet views -> float64 (n, 106).

    Per difference: the log power of each band (Welch, 6.4 s segments), the same relative to the
    difference's mean log power, the frequency of the largest power in 0.3-4 Hz, and the largest
    autocorrelation of the rectified signal at lags of 0.3-2 s; per band: the left minus right
    mean log power and its absolute value. Columns named by `pattern_feature_names()`.

    Args:
        windows: (n, samples, 8) array, the differences of `WAVENET_PAIRS` in order.
        fs: their sampling rate (the WaveNet view: 40 Hz).

    Example:
        >>> x = np.random.default_rng(0).standard_normal((2, 2000, 8))
        >>> pattern_features(x).shape
        (2, 106)
    """
    x = np.asarray(windows, dtype=np.float64)
    if x.ndim != 3 or x.shape[2] != len(WAVENET_PAIRS):
        raise ValueError(f"windows must be (n, samples, {len(WAVENET_PAIRS)}), got shape {x.shape}")
    if fs <= 2 * PATTERN_BANDS[-1][1] - 1e-9 or x.shape[1] < 2 * PERIOD_LAGS[1] * fs:
        raise ValueError(f"windows must be sampled above {2 * PATTERN_BANDS[-1][1]:g} Hz and last at least "
                         f"{2 * PERIOD_LAGS[1]:g} s; got fs={fs}, {x.shape[1]} samples")
    frequencies, power = scipy.signal.welch(x, fs=fs, nperseg=min(256, x.shape[1]), axis=1)
    log_power = np.stack([np.log(power[:, (frequencies >= lo) & (frequencies < hi)].mean(axis=1) + 1e-12)
                          for lo, hi in PATTERN_BANDS], axis=1)                       # (n, bands, 8)
    relative = log_power - log_power.mean(axis=1, keepdims=True)
    low = (frequencies >= 0.3) & (frequencies < 4.0)
    peak = frequencies[low][power[:, low].argmax(axis=1)]                            # (n, 8)
    rectified = np.abs(x - x.mean(axis=1, keepdims=True))
    rectified -= rectified.mean(axis=1, keepdims=True)
    n_fft = int(2 ** np.ceil(np.log2(2 * x.shape[1])))
    spectrum = np.fft.rfft(rectified, n=n_fft, axis=1)
    autocorrelation = np.fft.irfft(np.abs(spectrum) ** 2, n=n_fft, axis=1)
    autocorrelation /= autocorrelation[:, :1] + 1e-12
    first, last = int(round(PERIOD_LAGS[0] * fs)), int(round(PERIOD_LAGS[1] * fs))
    periodicity = autocorrelation[:, first:last + 1].max(axis=1)                    # (n, 8)
    asymmetry = log_power[:, :, _LEFT].mean(axis=2) - log_power[:, :, _RIGHT].mean(axis=2)
    n = len(x)
    return np.concatenate([log_power.reshape(n, -1), relative.reshape(n, -1), peak, periodicity,
                           asymmetry, np.abs(asymmetry)], axis=1)
