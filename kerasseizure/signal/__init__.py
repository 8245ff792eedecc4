"""Numeric transforms on arrays: TensorFlow implementations plus small NumPy/SciPy references.

Convention: every public transform `name` is a TensorFlow implementation (float32, batched over
leading axes, usable inside tf.function and tf.data.Dataset.map); `name_reference` in the same
module is its NumPy/SciPy/librosa reference, used by the tests. Time is the last axis of 1-D
transforms; montage functions take `channel_axis`. See docs/signal.md.
"""

from kerasseizure.signal.filters import (
    bandpass,
    butter_sos,
    decimate,
    fill_nan_with_mean,
    lowpass,
    require_finite,
    resample,
    sos_filter,
    wavenet_input,
)
from kerasseizure.signal.montage import (
    HMS_CHAIN_ORDER,
    HMS_CHAIN_PAIRS,
    bipolar,
    electrode_indices,
    hms_chains,
    mirror_bipolar,
    mirror_electrodes,
    mirror_hms,
    tcp_bipolar,
    wavenet_differences,
)
from kerasseizure.signal.saliency import (
    center_surround_saliency,
    multi_spectral_ses,
    saliency_encoded_spectrogram,
    spectral_residual_saliency,
)
from kerasseizure.signal.spectral import (
    KAGGLE_REGIONS,
    fft_window_count,
    fft_windows,
    hms_eeg_spectrogram,
    hms_image_from_panels,
    hms_spectrogram_image,
    kaggle_spectrogram_panels,
    mel_spectrogram,
    power_to_db,
)

__all__ = [
    "HMS_CHAIN_ORDER", "HMS_CHAIN_PAIRS", "KAGGLE_REGIONS",
    "bandpass", "bipolar", "butter_sos", "center_surround_saliency", "decimate", "electrode_indices",
    "fft_window_count", "fft_windows", "fill_nan_with_mean", "hms_chains", "hms_eeg_spectrogram",
    "hms_image_from_panels", "hms_spectrogram_image", "kaggle_spectrogram_panels", "lowpass",
    "mel_spectrogram", "mirror_bipolar", "mirror_electrodes", "mirror_hms", "multi_spectral_ses",
    "power_to_db", "require_finite", "resample", "saliency_encoded_spectrogram", "sos_filter",
    "spectral_residual_saliency", "tcp_bipolar", "wavenet_differences", "wavenet_input",
]
