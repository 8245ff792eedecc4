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

The maps are computed with keras.ops on TFLite builtins only (MatMul / BatchMatMul, Mul, Add,
Sqrt, Log, Exp, Abs, Max/Min reductions, Select, slicing and concatenation), so the export
front-end (`kerasseizure.export.frontend`) runs these same functions on a device: the 2-D FFT is
a product with small DFT matrices, real and imaginary parts carried separately (TFLite has no
complex builtins), and the box / Gaussian filters are the matrices that scipy.ndimage applies to
an identity, so boundaries match SciPy exactly. Every parameter is explicit; the NumPy/SciPy
references (`_reference` suffix) and the filter matrices live in the TF-free
`kerasseizure.signal.reference_saliency`.
"""

import functools

import keras
import numpy as np
import tensorflow as tf

from kerasseizure.signal.reference_saliency import (  # the TF-free half: filter matrices, references
    box_filter_matrix, gaussian_filter_matrix,
    center_surround_saliency_reference, saliency_encoded_spectrogram_reference, spectral_residual_saliency_reference,
)
from kerasseizure.signal.reference_spectral import check_fft_window_args
from kerasseizure.signal.spectral import fft_window_magnitudes, log10_windows

__all__ = [
    "box_mean", "center_surround_saliency", "gaussian_smooth", "multi_spectral_ses",
    "saliency_encoded_spectrogram", "ses_from_spectra", "spectral_residual_saliency",
    # NumPy/scipy.ndimage references (defined in reference_saliency.py)
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


def _frozen(matrix):
    matrix = np.asarray(matrix, dtype=np.float32)
    matrix.setflags(write=False)  # cached and shared between calls
    return matrix


# Constant operators, built once per map size with SciPy (trace time) and cached.
@functools.lru_cache(maxsize=None)
def _box_operators(height, width, size, mode):
    return _frozen(box_filter_matrix(height, size, mode)), _frozen(box_filter_matrix(width, size, mode).T)


@functools.lru_cache(maxsize=None)
def _gaussian_operators(height, width, sigma, truncate):
    rows = gaussian_filter_matrix(height, sigma, truncate)
    return _frozen(rows), _frozen(gaussian_filter_matrix(width, sigma, truncate).T)


@functools.lru_cache(maxsize=None)
def _dft_operators(height, width):
    """[cos; sin] (2H, H) of the height-point DFT and [cos | sin] (W, 2W) of the width-point DFT."""
    def parts(size):
        angle = 2.0 * np.pi * np.outer(np.arange(size), np.arange(size)) / size
        return np.cos(angle), np.sin(angle)

    return _frozen(np.concatenate(parts(height), axis=0)), _frozen(np.concatenate(parts(width), axis=1))


def _separable(maps, rows, columns_t):
    """rows @ map @ columns_t for every (H, W) map of (..., H, W): a separable linear filter."""
    ops = keras.ops
    return ops.matmul(ops.convert_to_tensor(rows), ops.matmul(maps, columns_t))


def _quadrants(blocks, height, width):
    """The four (H, W) blocks of (..., 2H, 2W) products: top-left, top-right, bottom-left, bottom-right."""
    return (blocks[..., :height, :width], blocks[..., :height, width:],
            blocks[..., height:, :width], blocks[..., height:, width:])


@_plain_python
def box_mean(maps, size, mode="reflect"):
    """Mean over a size x size neighbourhood of each point of (..., H, W) maps (odd size).

    The filter is applied as two small matrices (`reference_saliency.box_filter_matrix`:
    uniform_filter1d on an identity), so boundaries follow SciPy exactly (also for boxes larger
    than the map).

    Args:
        maps: (..., H, W) float maps with static H, W.
        size: odd box side.
        mode: "reflect" (scipy.ndimage 'reflect', i.e. d c b a | a b c d) or "wrap" (circular).

    Returns:
        float32 tensor of maps' shape, equal to scipy.ndimage.uniform_filter(size, mode).

    >>> float(box_mean(np.ones((4, 5)), 3).numpy().max().round(6))
    1.0
    """
    maps = keras.ops.convert_to_tensor(maps, "float32")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1 or size % 2 != 1:
        raise ValueError(f"box size must be odd, got {size!r}")
    if mode not in ("reflect", "wrap"):
        raise ValueError(f"mode must be 'reflect' or 'wrap', got {mode!r}")
    height, width = _map_size(maps, "box_mean")
    return _separable(maps, *_box_operators(height, width, size, mode))


@_plain_python
def gaussian_smooth(maps, sigma=1.0, truncate=4.0):
    """scipy.ndimage.gaussian_filter(maps, sigma, mode='reflect', truncate) over the last two axes.

    >>> float(gaussian_smooth(np.ones((10, 12)), 1.0).numpy().round(6).max())
    1.0
    """
    maps = keras.ops.convert_to_tensor(maps, "float32")
    height, width = _map_size(maps, "gaussian_smooth")
    return _separable(maps, *_gaussian_operators(height, width, float(sigma), float(truncate)))


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
    ops = keras.ops
    maps = ops.convert_to_tensor(maps, "float32")
    height, width = _map_size(maps, "spectral_residual_saliency")
    rows, columns = _dft_operators(height, width)
    # Forward 2-D DFT X = (Ch - i Sh) F (Cw - i Sw) in real arithmetic; one product gives the
    # blocks [[Ch F Cw, Ch F Sw], [Sh F Cw, Sh F Sw]].
    cc, cs, sc, ss = _quadrants(_separable(maps, rows, columns), height, width)
    real, imag = cc - ss, -(cs + sc)
    magnitude = ops.sqrt(real * real + imag * imag)
    log_amplitude = ops.log(ops.maximum(magnitude, amin))
    residual = log_amplitude - box_mean(log_amplitude, box_size, mode="wrap")
    # exp(R + i*phase) = exp(R) * X / |X|; an exactly zero coefficient has phase 0.
    nonzero = magnitude > 0
    safe = ops.where(nonzero, magnitude, 1.0)
    gain = ops.exp(residual)
    y_real = gain * ops.where(nonzero, real / safe, 1.0)
    y_imag = gain * ops.where(nonzero, imag / safe, 0.0)
    # Inverse DFT (Ch + i Sh) Y (Cw + i Sw) / (H W), of which only |.|^2 is needed: right factor
    # first ([Yr; Yi] [Cw | Sw]), then the left one ([Ch; Sh] [U | V]).
    rc, rs, ic, is_ = _quadrants(ops.matmul(ops.concatenate([y_real, y_imag], axis=-2), columns), height, width)
    u, v = rc - is_, rs + ic
    cu, cv, su, sv = _quadrants(ops.matmul(ops.convert_to_tensor(rows), ops.concatenate([u, v], axis=-1)),
                                height, width)
    back_real, back_imag = cu - sv, cv + su
    power = (back_real * back_real + back_imag * back_imag) * (1.0 / float(height * width) ** 2)
    return gaussian_smooth(power, sigma, truncate)


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
    ops = keras.ops
    maps = ops.convert_to_tensor(maps, "float32")
    if not radii:
        raise ValueError("center_surround_saliency needs at least one radius")
    terms = [ops.abs(maps - box_mean(maps, 2 * r + 1, mode="reflect")) for r in radii]
    return sum(terms[1:], terms[0])


def _divide_by_peak(maps):
    peak = keras.ops.max(maps, axis=(-2, -1), keepdims=True)
    # Saliency maps are non-negative: a zero peak means an all-zero map, which stays zero.
    return maps / keras.ops.maximum(peak, 1e-30)


@_plain_python
def ses_from_spectra(spectra, box_size=3, sigma=1.0, truncate=4.0, radii=(1, 2, 4), normalize=True, amin=1e-12):
    """The SES image [F, spectral residual, centre-surround] of (..., channels, bins) log spectra.

    Args:
        spectra: (..., channels, bins) log10 |rfft| maps F (from `fft_windows` or the front-end).
        box_size, sigma, truncate, amin: spectral-residual parameters, see `spectral_residual_saliency`.
        radii: centre-surround radii, see `center_surround_saliency`.
        normalize: divide the two saliency maps by their per-map maximum.

    Returns:
        float32 (..., channels, bins, 3).

    >>> ses_from_spectra(np.random.rand(20, 24)).shape
    TensorShape([20, 24, 3])
    """
    spectra = keras.ops.convert_to_tensor(spectra, "float32")
    residual = spectral_residual_saliency(spectra, box_size, sigma, truncate, amin)
    contrast = center_surround_saliency(spectra, radii)
    if normalize:
        residual, contrast = _divide_by_peak(residual), _divide_by_peak(contrast)
    return keras.ops.stack([spectra, residual, contrast], axis=-1)


@functools.lru_cache(maxsize=None)
def _ses_graph(rank, height, width, *options):
    """`ses_from_spectra` as one graph for (..., height, width) spectra, any number of windows.

    Eager callers (the feature cache builds seizure by seizure) would otherwise pay the eager
    dispatch of ~50 small ops per image, more than their arithmetic.
    """
    spec = tf.TensorSpec((None,) * (rank - 2) + (height, width), tf.float32)
    return tf.function(lambda spectra: ses_from_spectra(spectra, *options), input_signature=[spec], autograph=False)


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
    return multi_spectral_ses(x, fs=fs, fmax=(fmax,), wl=wl, ws=ws, box_size=box_size, sigma=sigma,
                              truncate=truncate, radii=radii, normalize=normalize)[0]


@_plain_python
def multi_spectral_ses(x, fs=250, fmax=(24.0, 48.0, 96.0), wl=1.0, ws=0.25, box_size=3, sigma=1.0, truncate=4.0,
                       radii=(1, 2, 4), normalize=True):
    """The multi-spectral SES set: one SES per ensemble member, each over its own band, same windows.

    Args:
        x: (..., channels, time) signals at fs.
        fs: sampling rate in Hz.
        fmax: one upper frequency per member (N_e = len(fmax)); each must be below fs / 2.
        wl, ws: the shared window grid, so member i's window k covers the same seconds.
        box_size, sigma, truncate, radii, normalize: the SES parameters of every member, see
            `saliency_encoded_spectrogram`.

    Returns:
        tuple of float32 (..., n_windows, channels, floor(fmax_i * wl), 3), one per member.

    >>> [s.shape[-2] for s in multi_spectral_ses(np.random.randn(20, 1000))]
    [24, 48, 96]
    """
    fmax = tuple(fmax)
    if not fmax:
        raise ValueError("multi_spectral_ses needs at least one fmax")
    bins = [check_fft_window_args(None, fs, wl, ws, band)[2] for band in fmax]
    # The widest band's DFT serves every member: bin k is k / wl Hz in each. The floor rule and
    # the all-zero check then run on each member's own bins.
    magnitudes = fft_window_magnitudes(x, fs=fs, wl=wl, ws=ws, fmax=fmax[bins.index(max(bins))])
    rank, channels = magnitudes.shape.rank, magnitudes.shape[-2]
    return tuple(
        _ses_graph(rank, channels, k, box_size, sigma, truncate, tuple(radii), normalize)(
            log10_windows(magnitudes[..., :k])
        )
        for k in bins
    )
