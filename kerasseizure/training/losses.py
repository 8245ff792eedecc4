"""Training losses for logit-output models.

Every model of the package ends in a float32 logits layer; probabilities are produced only at
prediction time. The losses here therefore take logits and compute `log_softmax` in float32, which
is stable under mixed precision and for confident predictions.

- `KLDivergenceFromLogits`: Kullback-Leibler divergence KL(y || softmax(z)) between vote
  probabilities `y` (rows sum to 1) and the model's logits `z`. Terms with y == 0 contribute 0,
  as in the HMS scorer. On the same inputs it equals `keras.losses.KLDivergence()(y,
  softmax(z))` up to that loss's epsilon clipping.
- `CrossEntropyFromLogits`: categorical cross-entropy from logits with optional per-class
  weights; labels may be one-hot / soft (default) or integer class ids (`sparse=True`).

Both are registered Keras serialisables, so a model compiled with them saves to and loads from
`.keras` without `custom_objects`.
"""

import keras
import numpy as np
from keras import ops

from kerasseizure.errors import KerasSeizureError

PACKAGE = "kerasseizure"


class LossConfigError(KerasSeizureError, ValueError):
    """A loss was configured with invalid arguments (bad class weights, unknown name...)."""


def _log_softmax_float32(logits):
    """log_softmax over the last axis, computed in float32 whatever the input dtype."""
    return ops.log_softmax(ops.cast(logits, "float32"), axis=-1)


@keras.saving.register_keras_serializable(package=PACKAGE)
class KLDivergenceFromLogits(keras.losses.Loss):
    """KL(y_true || softmax(y_pred)) with `y_pred` given as logits.

    Per sample: sum_c y_c * (log y_c - log_softmax(z)_c), with y_c == 0 terms exactly 0.

    Args:
        reduction: Keras reduction over the batch ("sum_over_batch_size" = the mean over rows,
            which is the Kaggle metric when every row has weight 1).
        name: loss name.
        dtype: dtype of the returned loss (float32 by default, also under mixed precision).
    """

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence_from_logits", dtype="float32"):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "float32")
        log_q = _log_softmax_float32(y_pred)
        positive = ops.greater(y_true, 0.0)
        safe_y = ops.where(positive, y_true, ops.ones_like(y_true))
        terms = ops.where(positive, y_true * (ops.log(safe_y) - log_q), ops.zeros_like(y_true))
        return ops.sum(terms, axis=-1)

    def get_config(self):
        return {"reduction": self.reduction, "name": self.name, "dtype": self.dtype}


def _validated_class_weights(class_weights):
    """Class weights as a float32 list, or None; raises LossConfigError when invalid."""
    if class_weights is None:
        return None
    if isinstance(class_weights, dict):
        n = max(int(k) for k in class_weights) + 1
        weights = [float(class_weights.get(i, class_weights.get(str(i), 1.0))) for i in range(n)]
    else:
        weights = [float(w) for w in np.asarray(class_weights, dtype="float64").ravel()]
    if not weights or any(not np.isfinite(w) or w < 0 for w in weights):
        raise LossConfigError(f"class_weights must be finite and non-negative, got {class_weights!r}")
    return weights


@keras.saving.register_keras_serializable(package=PACKAGE)
class CrossEntropyFromLogits(keras.losses.Loss):
    """Categorical cross-entropy from logits, optionally class-weighted.

    Per sample: -sum_c w_c * y_c * log_softmax(z)_c, i.e. each sample is weighted by the weight
    of its class (soft labels get the probability-weighted mix). Per-sample weights go through
    the usual `sample_weight` argument of `fit` / `__call__` and combine multiplicatively.

    Args:
        class_weights: None, a sequence of one weight per class, or a dict {class_index: weight}
            (missing classes get 1).
        sparse: True when labels are integer class ids instead of one-hot / probability rows.
        label_smoothing: in [0, 1); mixes the (one-hot) target with the uniform distribution.
        reduction: Keras reduction over the batch.
        name: loss name.
        dtype: dtype of the returned loss.
    """

    def __init__(
        self,
        class_weights=None,
        sparse=False,
        label_smoothing=0.0,
        reduction="sum_over_batch_size",
        name="cross_entropy_from_logits",
        dtype="float32",
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if not 0.0 <= float(label_smoothing) < 1.0:
            raise LossConfigError(f"label_smoothing must lie in [0, 1), got {label_smoothing}")
        self.class_weights = _validated_class_weights(class_weights)
        self.sparse = bool(sparse)
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true, y_pred):
        log_q = _log_softmax_float32(y_pred)
        num_classes = ops.shape(log_q)[-1]
        if self.sparse:
            labels = ops.cast(ops.reshape(y_true, (-1,)), "int32")
            target = ops.one_hot(labels, num_classes, dtype="float32")
        else:
            target = ops.cast(y_true, "float32")
        if self.label_smoothing:
            target = target * (1.0 - self.label_smoothing) + self.label_smoothing / ops.cast(num_classes, "float32")
        if self.class_weights is not None:
            target = target * ops.convert_to_tensor(self.class_weights, dtype="float32")
        return -ops.sum(target * log_q, axis=-1)

    def get_config(self):
        return {
            "class_weights": self.class_weights,
            "sparse": self.sparse,
            "label_smoothing": self.label_smoothing,
            "reduction": self.reduction,
            "name": self.name,
            "dtype": self.dtype,
        }


def get_loss(loss, class_weights=None):
    """Resolve a loss given by name or object.

    Args:
        loss: "kl" / "kl_divergence" (KLDivergenceFromLogits), "cross_entropy" / "ce"
            (CrossEntropyFromLogits), "sparse_cross_entropy", a keras Loss instance or a callable.
        class_weights: forwarded to the cross-entropy losses; rejected for other names.

    Returns:
        a loss object usable by `model.compile`.
    """
    if not isinstance(loss, str):
        if class_weights is not None:
            raise LossConfigError("class_weights only apply to a loss given by name")
        return loss
    key = loss.lower()
    if key in ("kl", "kl_divergence", "kld"):
        if class_weights is not None:
            raise LossConfigError("class_weights are not defined for the KL divergence; use sample weights")
        return KLDivergenceFromLogits()
    if key in ("cross_entropy", "ce", "categorical_cross_entropy"):
        return CrossEntropyFromLogits(class_weights=class_weights)
    if key in ("sparse_cross_entropy", "sparse_ce"):
        return CrossEntropyFromLogits(class_weights=class_weights, sparse=True)
    raise LossConfigError(
        f"unknown loss {loss!r}: use 'kl', 'cross_entropy', 'sparse_cross_entropy' or a loss object"
    )
