"""An in-graph front-end: raw EEG windows -> IBM log-FFT maps or SES, with TFLite builtin ops only.

Why a DFT matrix and not an FFT: TFLite's RFFT needs a power-of-two length, and IBM's 1 s window
at 250 Hz is 250 samples. Zero-padding to 256 moves the bins off the 1 Hz grid (bin k would be
k * 250/256 Hz), and resampling to 256 Hz changes every sample. The features only need bins
1..fmax*wl (24-96 of them), so we multiply the window by a constant (samples x 2*bins) cos/sin
matrix: the exact DFT of those bins, FULLY_CONNECTED in TFLite, about 250 x 48 multiply-adds
per channel for fmax 24 -- cheaper than a 256-point FFT that computes 129 bins.

The layer computes nothing of its own: it runs the keras.ops steps that the TensorFlow feature
pipeline runs on every window (`kerasseizure.signal.spectral.dft_magnitudes` and
`log10_with_floor`, then `kerasseizure.signal.saliency.ses_from_spectra`), which use TFLite
builtins only (MatMul / BatchMatMul, Mul, Add, Sqrt, Log, Exp, Abs, Max/Min reductions, Select,
slicing, concatenation): the SES 2-D FFT is a product with small DFT matrices, real and
imaginary parts carried separately, and the box / Gaussian filters are the matrices that
`scipy.ndimage` applies to an identity.
"""

import keras

from kerasseizure.signal.reference import check_fft_window_args
from kerasseizure.signal.saliency import ses_from_spectra
from kerasseizure.signal.spectral import dft_magnitudes, log10_with_floor


@keras.saving.register_keras_serializable(package="kerasseizure")
class IBMWindowFeatures(keras.layers.Layer):
    """Raw EEG windows (batch, channels, samples) -> IBM log10|DFT| maps or SES images.

    One window of floor(wl * fs) samples per example (the device slides the window); per channel
    log10 |DFT| of bins 1..floor(fmax * wl), magnitudes that are exactly 0 floored at 0.1 x the
    window's smallest positive magnitude (IBM's rule). With `maps="ses"` the output is the SES
    image [F, spectral residual, centre-surround] of `kerasseizure.signal.saliency_encoded_spectrogram`.

    Args:
        fs: sampling rate of the raw window in Hz. Defaults to 250 (IBM's rate).
        wl: window length in seconds; the layer reads floor(wl * fs) samples. Defaults to 1.0.
        fmax: highest frequency kept in Hz (bins 1..floor(fmax * wl)). Defaults to 24.0.
        maps: "ses" -> (batch, channels, bins, 3); "fft" -> (batch, channels, bins, 1).
            Defaults to "ses".
        box_size: odd box of the spectral-residual mean filter (circular). Defaults to 3.
        sigma: Gaussian smoothing of the spectral-residual map, in pixels. Defaults to 1.0.
        truncate: Gaussian radius in sigmas. Defaults to 4.0.
        radii: centre-surround radii. Defaults to (1, 2, 4).
        normalize: divide the two saliency maps by their per-window maximum. Defaults to True.
        amin: floor of |FFT2| before the log. Defaults to 1e-12.

    Example:
    >>> layer = IBMWindowFeatures(fs=250, wl=1.0, fmax=24, maps="ses")
    >>> layer(keras.random.normal((2, 20, 250))).shape
    TensorShape([2, 20, 24, 3])
    """

    def __init__(self, fs=250, wl=1.0, fmax=24.0, maps="ses", box_size=3, sigma=1.0, truncate=4.0,
                 radii=(1, 2, 4), normalize=True, amin=1e-12, **kwargs):
        super().__init__(**kwargs)
        if maps not in ("ses", "fft"):
            raise ValueError(f"`maps` must be 'ses' or 'fft', got {maps!r}.")
        for value, what in ((fs, "fs"), (wl, "wl"), (fmax, "fmax"), (sigma, "sigma")):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"`{what}` must be a positive number, got {value!r}.")
        # IBM's window grid and band rule (ValueError above Nyquist), as `fft_windows` checks them.
        self.length, _, self.bins = check_fft_window_args(None, fs, wl, wl, fmax)
        if isinstance(box_size, bool) or not isinstance(box_size, int) or box_size < 1 or box_size % 2 == 0:
            raise ValueError(f"`box_size` must be an odd positive integer, got {box_size!r}.")
        radii = tuple(radii)
        if not radii or any(isinstance(r, bool) or not isinstance(r, int) or r < 1 for r in radii):
            raise ValueError(f"`radii` must be positive integers, got {radii!r}.")
        self.fs, self.wl, self.fmax, self.maps = fs, wl, fmax, maps
        self.box_size, self.sigma, self.truncate = box_size, sigma, truncate
        self.radii, self.normalize, self.amin = radii, bool(normalize), amin

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] != self.length or input_shape[-2] is None:
            raise ValueError(
                f"IBMWindowFeatures reads (batch, channels, {self.length}) windows "
                f"(wl={self.wl} s at {self.fs} Hz), got {tuple(input_shape)}."
            )
        super().build(input_shape)

    def call(self, inputs):
        spectra = log10_with_floor(dft_magnitudes(keras.ops.cast(inputs, "float32"), self.bins))
        if self.maps == "fft":
            return keras.ops.expand_dims(spectra, -1)
        return ses_from_spectra(spectra, box_size=self.box_size, sigma=self.sigma, truncate=self.truncate,
                                radii=self.radii, normalize=self.normalize, amin=self.amin)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1], self.bins, 3 if self.maps == "ses" else 1)

    def get_config(self):
        config = super().get_config()
        config.update({
            "fs": self.fs, "wl": self.wl, "fmax": self.fmax, "maps": self.maps,
            "box_size": self.box_size, "sigma": self.sigma, "truncate": self.truncate,
            "radii": list(self.radii), "normalize": self.normalize, "amin": self.amin,
        })
        return config

    def preprocessing(self):
        """The raw-window contract of a model with this front-end (stored in export reports)."""
        return {"kind": "raw", "fs": self.fs, "wl": self.wl, "samples": self.length}


def frontend_for(model, fs=250, wl=1.0, **options):
    """The `IBMWindowFeatures` matching a single-input model's (channels, bins, maps) input.

    Args:
        model: a single-input keras.Model reading (channels, bins, 1 or 3) maps.
        fs: raw sampling rate in Hz. Defaults to 250.
        wl: window length in seconds; fmax is bins / wl. Defaults to 1.0.
        **options: other `IBMWindowFeatures` arguments (box_size, sigma, radii...).

    Returns:
        An `IBMWindowFeatures` layer named "frontend".

    Example:
    >>> frontend_for(student((20, 24, 3), size="tiny")).fmax  # doctest: +SKIP
    24.0
    """
    if len(model.inputs) != 1:
        raise ValueError(f"a front-end needs a single-input model; {model.name} has {len(model.inputs)} inputs.")
    shape = tuple(model.inputs[0].shape[1:])
    if len(shape) != 3 or shape[-1] not in (1, 3) or shape[1] is None:
        raise ValueError(
            f"a front-end feeds (channels, bins, 1 or 3) maps; {model.name} reads {shape}."
        )
    maps = "ses" if shape[-1] == 3 else "fft"
    return IBMWindowFeatures(fs=fs, wl=wl, fmax=shape[1] / wl, maps=maps, name="frontend", **options)


def with_frontend(model, frontend):
    """`model` fed by `frontend`: a keras.Model reading raw (channels, samples) windows.

    Args:
        model: a single-input keras.Model reading the front-end's maps.
        frontend: an `IBMWindowFeatures` (or any layer mapping raw windows to the model's input).

    Returns:
        A functional keras.Model sharing `model`'s layers, input "raw_eeg".

    Example:
    >>> raw_model = with_frontend(model, frontend_for(model))  # doctest: +SKIP
    """
    if len(model.inputs) != 1:
        raise ValueError(f"a front-end needs a single-input model; {model.name} has {len(model.inputs)} inputs.")
    channels = model.inputs[0].shape[1]
    samples = getattr(frontend, "length", None)
    if samples is None:
        raise ValueError("the front-end must expose `length` (samples per raw window).")
    raw = keras.Input((channels, samples), name="raw_eeg")
    return keras.Model(raw, model(frontend(raw)), name=f"{model.name}_raw")
