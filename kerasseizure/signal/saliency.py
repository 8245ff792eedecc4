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
Every parameter is explicit; the NumPy/SciPy references carry the `_reference` suffix.
"""

import numpy as np
import scipy.ndimage
import tensorflow as tf

from kerasseizure.signal.spectral import fft_windows, fft_windows_reference

# Plain Python on static shapes: autograph has nothing to convert, and converting SciPy-calling
# code costs seconds per trace inside tf.data.Dataset.map.
_plain_python = tf.autograph.experimental.do_not_convert


def _map_size(maps, what):
    height, width = maps.shape[-2], maps.shape[-1]
    if height is None or width is None:
        raise ValueError(f"{what} needs static map sizes, got shape {tuple(maps.shape)}")
    return int(height), int(width)


def _axis_operator(size, filter1d):
    """(size, size) matrix M with M @ v == filter1d(v) for every vector v (the filter is linear)."""
    return tf.constant(filter1d(np.eye(size), axis=0), tf.float32)


def _separable(maps, rows_operator, columns_operator):
    """Apply a separable linear filter to (..., H, W) maps: rows_operator @ map @ columns_operator.T."""
    maps = tf.einsum("gh,...hw->...gw", rows_operator, maps)
    return tf.einsum("...hw,vw->...hv", maps, columns_operator)


@_plain_python
def box_mean(maps, size, mode="reflect"):
    """Mean over a size x size neighbourhood of each point of (..., H, W) maps (odd size).

    The filter is applied as two small matrices built from scipy.ndimage.uniform_filter1d on an
    identity, so boundaries follow SciPy exactly (also for boxes larger than the map).

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

    def filter1d(eye, axis):
        return scipy.ndimage.uniform_filter1d(eye, size, axis=axis, mode=mode)

    return _separable(maps, _axis_operator(height, filter1d), _axis_operator(width, filter1d))


@_plain_python
def gaussian_smooth(maps, sigma=1.0, truncate=4.0):
    """scipy.ndimage.gaussian_filter(maps, sigma, mode='reflect', truncate) over the last two axes.

    >>> float(gaussian_smooth(np.ones((10, 12)), 1.0).numpy().round(6).max())
    1.0
    """
    maps = tf.convert_to_tensor(maps, tf.float32)
    height, width = _map_size(maps, "gaussian_smooth")

    def filter1d(eye, axis):
        return scipy.ndimage.gaussian_filter1d(eye, sigma, axis=axis, mode="reflect", truncate=truncate)

    return _separable(maps, _axis_operator(height, filter1d), _axis_operator(width, filter1d))


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


def spectral_residual_saliency_reference(map2d, box_size=3, sigma=1.0, truncate=4.0, amin=1e-12):
    """NumPy/scipy.ndimage reference of `spectral_residual_saliency` for one (H, W) map, float64."""
    spectrum = np.fft.fft2(np.asarray(map2d, dtype=np.float64))
    log_amplitude = np.log(np.maximum(np.abs(spectrum), amin))
    residual = log_amplitude - scipy.ndimage.uniform_filter(log_amplitude, size=box_size, mode="wrap")
    rebuilt = np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))
    return scipy.ndimage.gaussian_filter(np.abs(rebuilt) ** 2, sigma, mode="reflect", truncate=truncate)


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


def center_surround_saliency_reference(map2d, radii=(1, 2, 4)):
    """scipy.ndimage reference of `center_surround_saliency` for one (H, W) map, float64."""
    map2d = np.asarray(map2d, dtype=np.float64)
    return sum(np.abs(map2d - scipy.ndimage.uniform_filter(map2d, size=2 * r + 1, mode="reflect")) for r in radii)


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


def saliency_encoded_spectrogram_reference(x, fs=250, wl=1.0, ws=0.25, fmax=24.0, box_size=3, sigma=1.0,
                                           truncate=4.0, radii=(1, 2, 4), normalize=True):
    """NumPy reference of `saliency_encoded_spectrogram` for one (channels, time) array, window by window."""
    spectra = fft_windows_reference(x, fs=fs, wl=wl, ws=ws, fmax=fmax)
    images = []
    for window in spectra:
        residual = spectral_residual_saliency_reference(window, box_size, sigma, truncate)
        contrast = center_surround_saliency_reference(window, radii)
        if normalize:
            residual = residual / residual.max() if residual.max() > 0 else residual
            contrast = contrast / contrast.max() if contrast.max() > 0 else contrast
        images.append(np.stack([window, residual, contrast], axis=-1))
    return np.stack(images)


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
