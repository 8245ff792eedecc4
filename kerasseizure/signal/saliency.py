"""Saliency-encoded spectrograms (SES) for SeizureNet: our reconstruction (DESIGN section 5).

The paper names SES but not its equations. What we build, per IBM window (one image per window,
the unit a 2-D CNN classifies; a seizure's score is the mean over its windows):
- channel 0, F: the log10 |rfft| map (EEG channels x frequency bins), exactly `fft_windows`;
- channel 1, spectral-residual saliency of F (Hou & Zhang 2007) over the 2-D map:
  A = log|FFT2(F)|, P = angle(FFT2(F)), R = A - box_q(A) (circular q x q mean, as the amplitude
  spectrum is periodic), S = gauss_sigma(|IFFT2(exp(R + iP))|^2) (reflect boundary);
- channel 2, centre-surround saliency: sum over radii r of |F - box_{2r+1}(F)| (reflect boundary);
- channels 1 and 2 are divided by their per-window maximum (0 stays 0) when normalize=True.
Multi-spectral: one SES per ensemble member, each with its own fmax on the same window grid.
Every parameter is explicit; the NumPy/SciPy references (`_reference` suffix) and the filter
matrices shared with the TFLite front-end live in the TF-free `kerasseizure.signal.reference`.
"""

import numpy as np
import tensorflow as tf

from kerasseizure.signal.reference import (
    box_filter_matrix,
    center_surround_saliency_reference,
    gaussian_filter_matrix,
    saliency_encoded_spectrogram_reference,
    spectral_residual_saliency_reference,
)
from kerasseizure.signal.spectral import fft_windows

__all__ = [
    "box_mean", "center_surround_saliency", "gaussian_smooth", "multi_spectral_ses",
    "saliency_encoded_spectrogram", "spectral_residual_saliency",
    # NumPy/scipy.ndimage references (defined in reference.py)
    "center_surround_saliency_reference", "saliency_encoded_spectrogram_reference",
    "spectral_residual_saliency_reference",
]

# Plain Python on static shapes: autograph has nothing to convert, and converting SciPy-calling
# code costs seconds per trace inside tf.data.Dataset.map.
_plain_python = tf.autograph.experimental.do_not_convert


def _map_size(maps, what):
    height, width = maps.shape[-2], maps.shape[-1]
    if height is None or width is None:
        raise ValueError(f"{what} needs static map sizes, got shape {tuple(maps.shape)}")
    return int(height), int(width)


def _constant(matrix):
    return tf.constant(np.asarray(matrix, np.float32))


def _separable(maps, rows_operator, columns_operator):
    """Apply a separable linear filter to (..., H, W) maps: rows_operator @ map @ columns_operator.T."""
    maps = tf.einsum("gh,...hw->...gw", rows_operator, maps)
    return tf.einsum("...hw,vw->...hv", maps, columns_operator)


@_plain_python
def box_mean(maps, size, mode="reflect"):
    """Mean over a size x size neighbourhood of each point of (..., H, W) maps (odd size).

    The filter is applied as two small matrices (`reference.box_filter_matrix`: uniform_filter1d on
    an identity), so boundaries follow SciPy exactly (also for boxes larger than the map).

    Args:
        maps: (..., H, W) float maps with static H, W.
        size: odd box side.
        mode: "reflect" (scipy.ndimage 'reflect', i.e. d c b a | a b c d) or "wrap" (circular).

    Returns:
        float32 tensor of maps' shape, equal to scipy.ndimage.uniform_filter(size, mode).

    >>> float(box_mean(np.ones((4, 5)), 3).numpy().max().round(6))
    1.0
    """
    maps = tf.convert_to_tensor(maps, tf.float32)
    if size % 2 != 1:
        raise ValueError(f"box size must be odd, got {size}")
    if mode not in ("reflect", "wrap"):
        raise ValueError(f"mode must be 'reflect' or 'wrap', got {mode!r}")
    height, width = _map_size(maps, "box_mean")
    rows, columns = box_filter_matrix(height, size, mode), box_filter_matrix(width, size, mode)
    return _separable(maps, _constant(rows), _constant(columns))


@_plain_python
def gaussian_smooth(maps, sigma=1.0, truncate=4.0):
    """scipy.ndimage.gaussian_filter(maps, sigma, mode='reflect', truncate) over the last two axes.

    >>> float(gaussian_smooth(np.ones((10, 12)), 1.0).numpy().round(6).max())
    1.0
    """
    maps = tf.convert_to_tensor(maps, tf.float32)
    height, width = _map_size(maps, "gaussian_smooth")
    rows, columns = gaussian_filter_matrix(height, sigma, truncate), gaussian_filter_matrix(width, sigma, truncate)
    return _separable(maps, _constant(rows), _constant(columns))


def _normalize_by_max(maps):
    peak = tf.reduce_max(maps, axis=[-2, -1], keepdims=True)
    return tf.math.divide_no_nan(maps, peak)


@_plain_python
def spectral_residual_saliency(maps, box_size=3, sigma=1.0, truncate=4.0, amin=1e-12):
    """Hou & Zhang's spectral-residual saliency of each 2-D map of (..., H, W).

    Args:
        maps: (..., H, W) float maps (e.g. channels x frequency log spectra).
        box_size: odd side of the circular mean filter on the log amplitude spectrum.
        sigma: Gaussian smoothing of the saliency map, in map pixels.
        truncate: Gaussian radius in sigmas (scipy's default 4).
        amin: floor of |FFT2| before the log (an exactly zero coefficient would give -inf).

    Returns:
        float32 (..., H, W), non-negative, not normalised.

    >>> spectral_residual_saliency(np.random.rand(20, 24)).shape
    TensorShape([20, 24])
    """
    maps = tf.convert_to_tensor(maps, tf.float32)
    spectrum = tf.signal.fft2d(tf.complex(maps, tf.zeros_like(maps)))
    log_amplitude = tf.math.log(tf.maximum(tf.abs(spectrum), amin))
    residual = log_amplitude - box_mean(log_amplitude, box_size, mode="wrap")
    # exp(R + i*phase) = exp(R) * spectrum / |spectrum|; an exactly zero coefficient has phase 0.
    magnitude = tf.abs(spectrum)
    unit_phase = tf.where(
        magnitude > 0, spectrum / tf.complex(tf.where(magnitude > 0, magnitude, 1.0), 0.0), tf.ones_like(spectrum)
    )
    rebuilt = tf.signal.ifft2d(tf.complex(tf.exp(residual), 0.0) * unit_phase)
    return gaussian_smooth(tf.square(tf.abs(rebuilt)), sigma, truncate)


@_plain_python
def center_surround_saliency(maps, radii=(1, 2, 4)):
    """Centre-surround contrast: sum over radii r of |map - mean of its (2r+1)^2 neighbourhood|.

    Args:
        maps: (..., H, W) float maps.
        radii: neighbourhood radii in map pixels (boxes larger than the map reflect, as SciPy).

    Returns:
        float32 (..., H, W), non-negative, not normalised.

    >>> center_surround_saliency(np.random.rand(20, 24)).shape
    TensorShape([20, 24])
    """
    maps = tf.convert_to_tensor(maps, tf.float32)
    if not radii:
        raise ValueError("center_surround_saliency needs at least one radius")
    return tf.add_n([tf.abs(maps - box_mean(maps, 2 * r + 1, mode="reflect")) for r in radii])


@_plain_python
def saliency_encoded_spectrogram(x, fs=250, wl=1.0, ws=0.25, fmax=24.0, box_size=3, sigma=1.0,
                                 truncate=4.0, radii=(1, 2, 4), normalize=True):
    """SES images of one or more seizures: per IBM window, (channels, bins, 3) = [F, spectral residual, centre-surround].

    Args:
        x: (..., channels, time) signals at fs (20 TCP channels at 250 Hz for TUSZ).
        fs, wl, ws, fmax: the IBM window grid and band, see `fft_windows`.
        box_size, sigma, truncate: spectral-residual parameters, see `spectral_residual_saliency`.
        radii: centre-surround radii, see `center_surround_saliency`.
        normalize: divide the two saliency maps by their per-window maximum.

    Returns:
        float32 (..., n_windows, channels, floor(fmax * wl), 3): each window is one
        channels x frequency image with 3 feature channels (NHWC for a 2-D CNN).

    >>> saliency_encoded_spectrogram(np.random.randn(20, 1000)).shape
    TensorShape([13, 20, 24, 3])
    """
    spectra = fft_windows(x, fs=fs, wl=wl, ws=ws, fmax=fmax)
    residual = spectral_residual_saliency(spectra, box_size, sigma, truncate)
    contrast = center_surround_saliency(spectra, radii)
    if normalize:
        residual, contrast = _normalize_by_max(residual), _normalize_by_max(contrast)
    return tf.stack([spectra, residual, contrast], axis=-1)


@_plain_python
def multi_spectral_ses(x, fs=250, fmax=(24.0, 48.0, 96.0), wl=1.0, ws=0.25, **ses_options):
    """The multi-spectral SES set: one SES per ensemble member, each over its own band, same windows.

    Args:
        x: (..., channels, time) signals at fs.
        fs: sampling rate in Hz.
        fmax: one upper frequency per member (N_e = len(fmax)); each must be below fs / 2.
        wl, ws: the shared window grid, so member i's window k covers the same seconds.
        **ses_options: box_size, sigma, truncate, radii, normalize for every member.

    Returns:
        tuple of float32 (..., n_windows, channels, floor(fmax_i * wl), 3), one per member.

    >>> [s.shape[-2] for s in multi_spectral_ses(np.random.randn(20, 1000))]
    [24, 48, 96]
    """
    return tuple(
        saliency_encoded_spectrogram(x, fs=fs, wl=wl, ws=ws, fmax=band, **ses_options) for band in fmax
    )
