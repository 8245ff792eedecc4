"""The training engine: fit (one stage or several), checkpoints, losses, schedules, precision,
distribution strategies and distillation.

Names load on first use, except the losses: importing this package registers them with Keras, so
that the training configuration saved in a run's `.keras` files loads (`keras.saving.load_model(path,
safe_mode=True)` after `import kerasseizure.training`). The metrics and fold protocols live in `kerasseizure.evaluation`; the
public names `kaggle_kl_divergence`, `weighted_f1` and `folds` are re-exported here for users of
the documented surface.
"""

from kerasseizure.lazy import lazy_attributes
from kerasseizure.training import losses  # noqa: F401  (registers the losses, see above)

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


__getattr__, __dir__ = lazy_attributes(__name__, _EXPORTS, {"folds": "kerasseizure.evaluation.folds"})
