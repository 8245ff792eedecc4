"""scipy.ndimage references of the saliency-encoded spectrograms (`kerasseizure.signal.saliency`).

TF-free (numpy and scipy only). Holds the box / Gaussian filter matrices shared with the TF and
TFLite SES, and the float64 references of `spectral_residual_saliency`,
`center_surround_saliency` and `saliency_encoded_spectrogram`. Re-exported by
`kerasseizure.signal.reference`; see docs/signal.md.
"""

import numpy as np
import scipy.ndimage

from kerasseizure.signal.reference_spectral import fft_windows_reference

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
