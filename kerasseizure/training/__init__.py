"""The training engine: fit (one stage or several), checkpoints, losses, schedules, precision,
distribution strategies and distillation.

Names load on first use. The metrics and fold protocols live in `kerasseizure.evaluation`; the
public names `kaggle_kl_divergence`, `weighted_f1` and `folds` are re-exported here for users of
the documented surface.
"""

import importlib

_EXPORTS = {
    "kaggle_kl_divergence": "kerasseizure.evaluation.metrics", "weighted_f1": "kerasseizure.evaluation.metrics",
    "fit": "kerasseizure.training.fit", "fit_stages": "kerasseizure.training.fit",
    "Stage": "kerasseizure.training.fit", "EpochData": "kerasseizure.training.fit",
    "FitResult": "kerasseizure.training.fit", "make_optimizer": "kerasseizure.training.fit",
    "distill": "kerasseizure.training.distillation", "make_distiller": "kerasseizure.training.distillation",
    "set_precision": "kerasseizure.training.precision", "precision_scope": "kerasseizure.training.precision",
    "make_strategy": "kerasseizure.training.strategies",
    "KLDivergenceFromLogits": "kerasseizure.training.losses", "CrossEntropyFromLogits": "kerasseizure.training.losses",
    "PerEpochLearningRate": "kerasseizure.training.schedules",
    "WAVENET_LR": "kerasseizure.training.schedules", "EFFICIENTNET_LR": "kerasseizure.training.schedules",
}

__all__ = sorted(_EXPORTS) + ["folds"]


def __getattr__(name):
    if name == "folds":
        return importlib.import_module("kerasseizure.evaluation.folds")
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'kerasseizure.training' has no attribute {name!r}")
