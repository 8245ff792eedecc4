"""Losses, metrics, cross-validation protocols, the fit loop, distillation and strategies.

Names load on first use, so `kerasseizure.training.metrics` and `.folds` (pure NumPy and
scikit-learn) never import TensorFlow.
"""

import importlib

_EXPORTS = {
    "kaggle_kl_divergence": "metrics", "weighted_f1": "metrics", "window_and_seizure_f1": "metrics",
    "seizure_level_scores": "metrics", "classification_report_frame": "metrics",
    "seizure_wise_folds": "folds", "patient_wise_folds": "folds",
    "group_kfold_by_patient": "folds", "leakage_report": "folds",
    "make_baseline": "baselines", "BASELINES": "baselines",
    "fit": "fit", "fit_stages": "fit", "Stage": "fit", "EpochData": "fit", "FitResult": "fit",
    "distill": "distillation", "make_distiller": "distillation",
    "run_folds": "runs", "FoldResult": "runs",
    "set_precision": "precision", "precision_scope": "precision",
    "make_strategy": "strategies",
    "KLDivergenceFromLogits": "losses", "CrossEntropyFromLogits": "losses",
    "PerEpochLearningRate": "schedules", "WarmupCosine": "schedules",
    "WAVENET_LR": "schedules", "EFFICIENTNET_LR": "schedules",
}

__all__ = sorted(_EXPORTS) + ["folds"]


def __getattr__(name):
    if name == "folds":
        return importlib.import_module("kerasseizure.training.folds")
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"kerasseizure.training.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'kerasseizure.training' has no attribute {name!r}")
