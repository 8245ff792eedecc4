"""tf.data pipelines: corpus manifests -> windows -> cached features -> batches.

- `build_tusz_features` / `tusz_dataset`: TUSZ benchmark seizures -> IBM FFT windows or
  (multi-spectral) SES -> batches of (features, label[, weight][, info]).
- `build_hms_features` / `hms_dataset`: HMS eeg_ids -> WaveNet input and spectrogram image ->
  batches of (inputs, vote probabilities[, weight][, info]), with left/right swap and time shift.
- `cache`: the crash-safe on-disk feature cache they share (`FeatureCache`, `list_caches`).

Importing this package does not import TensorFlow; building a dataset does. See docs/pipelines.md.
"""

from kerasseizure.pipelines.cache import FeatureCache, default_cache_dir, list_caches
from kerasseizure.pipelines.hms import HMSFeatures, build_hms_features, hms_dataset
from kerasseizure.pipelines.tusz import (
    TUSZFeatures,
    build_tusz_features,
    element_order,
    subsample_background,
    tusz_dataset,
)

__all__ = [
    "FeatureCache", "HMSFeatures", "TUSZFeatures", "build_hms_features", "build_tusz_features",
    "default_cache_dir", "element_order", "hms_dataset", "list_caches", "subsample_background", "tusz_dataset",
]
