"""Numeric transforms on arrays: TensorFlow implementations plus NumPy/SciPy references.

Convention: every public transform `name` is a TensorFlow implementation (float32, batched over
leading axes, usable inside tf.function and tf.data.Dataset.map) in montage.py, filters.py,
spectral.py or saliency.py; its NumPy/SciPy/librosa reference `name_reference` lives in
`kerasseizure.signal.reference`, which never imports TensorFlow (the TF-free LiteRT runtime uses
it as its preprocessing). Time is the last axis of 1-D transforms; montage functions take
`channel_axis`. The per-window steps of the log-FFT maps and the SES (`dft_magnitudes`,
`log10_with_floor`, `ses_from_spectra`) are keras.ops on TFLite builtins only: the TFLite
front-end (`kerasseizure.export.frontend`) runs the same functions on a device. See docs/signal.md.

Names load on first use, so `import kerasseizure.signal.reference` (or `from kerasseizure.signal
import fft_windows_reference`) never imports TensorFlow.
"""

from kerasseizure.lazy import lazy_attributes

_MODULES = ("montage", "filters", "spectral", "saliency", "reference")

_EXPORTS = {
    # TensorFlow implementations
    "bandpass": "filters", "decimate": "filters", "fill_nan_with_mean": "filters", "lowpass": "filters",
    "require_finite": "filters", "resample": "filters", "sos_filter": "filters", "wavenet_input": "filters",
    "bipolar": "montage", "hms_chains": "montage", "mirror_bipolar": "montage", "mirror_electrodes": "montage",
    "mirror_hms": "montage", "tcp_bipolar": "montage", "wavenet_differences": "montage",
    "center_surround_saliency": "saliency", "multi_spectral_ses": "saliency",
    "saliency_encoded_spectrogram": "saliency", "ses_from_spectra": "saliency",
    "spectral_residual_saliency": "saliency",
    "dft_magnitudes": "spectral", "fft_window_magnitudes": "spectral", "fft_windows": "spectral",
    "hms_eeg_spectrogram": "spectral", "hms_image_from_panels": "spectral", "hms_spectrogram_image": "spectral",
    "kaggle_spectrogram_panels": "spectral", "log10_windows": "spectral", "log10_with_floor": "spectral",
    "mel_spectrogram": "spectral", "power_to_db": "spectral",
    # constants and TF-free helpers
    "HMS_CHAIN_ORDER": "reference", "HMS_CHAIN_PAIRS": "reference", "KAGGLE_REGIONS": "reference",
    "butter_sos": "reference", "electrode_indices": "reference", "fft_window_count": "reference",
    "window_frames": "reference", "window_samples": "reference",
    # NumPy/SciPy/librosa references
    "bipolar_reference": "reference", "center_surround_saliency_reference": "reference",
    "fft_windows_reference": "reference", "fill_nan_with_mean_reference": "reference",
    "hms_chains_reference": "reference", "hms_eeg_spectrogram_reference": "reference",
    "hms_spectrogram_image_reference": "reference", "kaggle_spectrogram_panels_reference": "reference",
    "mel_spectrogram_reference": "reference", "mirror_bipolar_reference": "reference",
    "resample_reference": "reference", "saliency_encoded_spectrogram_reference": "reference",
    "sos_filter_reference": "reference", "spectral_residual_saliency_reference": "reference",
    "tcp_bipolar_reference": "reference", "wavenet_differences_reference": "reference",
    "wavenet_input_reference": "reference",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_attributes(
    __name__, {name: f".{module}" for name, module in _EXPORTS.items()}, {module: f".{module}" for module in _MODULES}
)
