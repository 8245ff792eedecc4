"""NumPy/SciPy references of the `kerasseizure.signal` transforms, and the helpers they share.

The references never import TensorFlow or Keras (only numpy, scipy, and librosa lazily inside the
mel functions), so TensorFlow-free code -- `kerasseizure.export.litert_runtime` on a device --
uses these functions as its preprocessing. Convention (docs/signal.md): the TensorFlow
implementation `name` lives in montage.py / filters.py / spectral.py / saliency.py; its reference
`name_reference` lives in the TF-free module of the same concern, re-exported here (and by those
modules and by `kerasseizure.signal`):

- `reference_montage`: electrode lookup, bipolar montages, left/right mirroring;
- `reference_filters`: NaN/inf check and NaN filling, Butterworth design, IIR filtering,
  resampling, the WaveNet input;
- `reference_spectral`: IBM's FFT window grid and log-FFT windows, the HMS mel panels, Kaggle
  spectrogram panels and images;
- `reference_saliency`: the saliency-encoded spectrogram (SES) and its filter matrices.

References work in float64 and are what the TensorFlow implementations are tested against. Most
are vectorised over leading axes; the tests also check them against one-window-at-a-time
definitional loops (tests/signal/test_reference.py). Those modules also hold the trace-time
constants and argument checks both sides use (window grid, DFT basis, Butterworth design, filter
matrices, resampling plan, electrode lookup), so each rule is written once.
"""

from kerasseizure.io import missing
from kerasseizure.signal import reference_filters, reference_montage, reference_saliency, reference_spectral
from kerasseizure.signal.reference_filters import (
    butter_sos,
    check_finite,
    default_padlen,
    fill_nan_with_mean_reference,
    resample_plan,
    resample_reference,
    sos_filter_reference,
    wavenet_input_reference,
)
from kerasseizure.signal.reference_montage import (
    HMS_CHAIN_ORDER,
    HMS_CHAIN_PAIRS,
    bipolar_reference,
    check_channel_count,
    electrode_indices,
    hms_chains_reference,
    mirror_bipolar_map,
    mirror_bipolar_reference,
    mirror_permutation,
    pair_indices,
    tcp_bipolar_reference,
    wavenet_differences_reference,
)
from kerasseizure.signal.reference_saliency import (
    box_filter_matrix,
    center_surround_saliency_reference,
    gaussian_filter_matrix,
    saliency_encoded_spectrogram_reference,
    spectral_residual_saliency_reference,
)
from kerasseizure.signal.reference_spectral import (
    ALL_ZERO_WINDOW,
    HMS_EEG_MEL,
    HMS_PANEL_FRAMES,
    KAGGLE_CANVAS_TOP,
    KAGGLE_COLUMNS,
    KAGGLE_CROP,
    KAGGLE_REGIONS,
    KAGGLE_ROWS,
    check_fft_window_args,
    check_kaggle,
    check_window_count,
    dft_basis,
    fft_bin_count,
    fft_window_count,
    fft_windows_reference,
    hms_eeg_spectrogram_reference,
    hms_spectrogram_image_reference,
    kaggle_spectrogram_panels_reference,
    mel_filterbank,
    mel_frame_count,
    mel_spectrogram_reference,
    window_frames,
    window_samples,
)

#: The modules defining the references (io.missing holds the NaN-fill policy): the feature pipelines
#: hash their source (with this one's) into the cache key, so editing any reference invalidates the
#: caches built with it.
MODULES = (reference_montage, reference_filters, reference_spectral, reference_saliency, missing)

__all__ = [
    # reference_montage
    "HMS_CHAIN_ORDER", "HMS_CHAIN_PAIRS", "bipolar_reference", "check_channel_count", "electrode_indices",
    "hms_chains_reference", "mirror_bipolar_map", "mirror_bipolar_reference", "mirror_permutation",
    "pair_indices", "tcp_bipolar_reference", "wavenet_differences_reference",
    # reference_filters
    "butter_sos", "check_finite", "default_padlen", "fill_nan_with_mean_reference", "resample_plan",
    "resample_reference", "sos_filter_reference", "wavenet_input_reference",
    # reference_spectral
    "ALL_ZERO_WINDOW", "HMS_EEG_MEL", "HMS_PANEL_FRAMES", "KAGGLE_CANVAS_TOP", "KAGGLE_COLUMNS", "KAGGLE_CROP",
    "KAGGLE_REGIONS", "KAGGLE_ROWS", "check_fft_window_args", "check_kaggle", "check_window_count", "dft_basis",
    "fft_bin_count", "fft_window_count", "fft_windows_reference", "hms_eeg_spectrogram_reference",
    "hms_spectrogram_image_reference", "kaggle_spectrogram_panels_reference", "mel_filterbank", "mel_frame_count",
    "mel_spectrogram_reference", "window_frames", "window_samples",
    # reference_saliency
    "box_filter_matrix", "center_surround_saliency_reference", "gaussian_filter_matrix",
    "saliency_encoded_spectrogram_reference", "spectral_residual_saliency_reference",
]
