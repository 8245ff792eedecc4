"""Small layers and helpers shared by the HMS models (WaveNet, SpectrogramNet, fused, 3D CNN).

Every HMS builder returns a model whose output is float32 LOGITS (its last layer is a
`Dense(num_classes, dtype="float32")` named `"logits"`). Where probabilities are needed
(Kaggle KL-divergence loss, submissions, ensembles) wrap the model with `with_probabilities`,
which appends a float32 softmax and shares every weight with the logits model. Distillation and
mixed precision therefore both work on the same model.
"""

import os

import keras


@keras.saving.register_keras_serializable(package="kerasseizure")
class ChannelSlice(keras.layers.Layer):
    """Channels `start` to `stop` (exclusive) of the last axis, keeping the axis.

    Used to feed one EEG difference of a `(batch, time, channels)` tensor to a shared
    per-signal network: `ChannelSlice(3, 4)` turns `(batch, 2000, 8)` into `(batch, 2000, 1)`.

    Args:
        start: first channel kept (0-based, >= 0).
        stop: one past the last channel kept (> start).
        **kwargs: standard `keras.layers.Layer` arguments (name, dtype, ...).

    Example:
    >>> x = keras.ops.reshape(keras.ops.arange(8.0), (1, 1, 8))
    >>> tuple(ChannelSlice(2, 4)(x).shape)
    (1, 1, 2)
    """

    def __init__(self, start, stop, **kwargs):
        super().__init__(**kwargs)
        if int(start) != start or int(stop) != stop:
            raise ValueError(f"start and stop must be integers, got {start!r} and {stop!r}")
        if start < 0 or stop <= start:
            raise ValueError(f"need 0 <= start < stop, got start={start}, stop={stop}")
        self.start = int(start)
        self.stop = int(stop)

    def call(self, inputs):
        return inputs[..., self.start:self.stop]

    def compute_output_shape(self, input_shape):
        channels = input_shape[-1]
        if channels is not None and self.stop > channels:
            raise ValueError(
                f"ChannelSlice({self.start}, {self.stop}) needs at least {self.stop} channels, "
                f"the input has {channels}"
            )
        return tuple(input_shape[:-1]) + (self.stop - self.start,)

    def get_config(self):
        config = super().get_config()
        config.update({"start": self.start, "stop": self.stop})
        return config


def with_probabilities(model, name=None):
    """A model with the same inputs and weights as `model` whose output is a float32 softmax.

    The returned model shares every layer (and so every weight) with `model`: train either one
    and both change. Use it for inference, submissions and probability-space losses; keep the
    logits model for distillation.

    Args:
        model: a single-output `keras.Model` returning logits (every HMS builder does).
        name: name of the returned model; default `"<model name>_probabilities"`.

    Example:
    >>> import numpy as np
    >>> from kerasseizure.models import WaveNet
    >>> logits_model = WaveNet(blocks=[(4, 3, 2)])
    >>> probs = with_probabilities(logits_model)(np.zeros((2, 2000, 8)))
    >>> np.asarray(probs).sum(axis=1).round(5)  # rows sum to 1
    array([1., 1.], dtype=float32)
    """
    if not isinstance(model, keras.Model):
        raise ValueError(f"with_probabilities needs a keras.Model, got {type(model).__name__}")
    if isinstance(model.outputs, (list, tuple)) and len(model.outputs) != 1:
        raise ValueError(f"with_probabilities needs a single-output model, {model.name} has "
                         f"{len(model.outputs)} outputs")
    outputs = keras.layers.Softmax(dtype="float32", name="probabilities")(model.outputs[0])
    # `model.input` keeps the structure the model was built with (a dict for the fused model).
    return keras.Model(model.input, outputs, name=name or f"{model.name}_probabilities")


def check_local_weights(weights, what="weights"):
    """Validate a `weights=` argument: `None` or an existing local file; nothing is downloaded.

    Args:
        weights: `None`, or a path (str or os.PathLike) of a local weights file.
        what: the argument's name, used in the error messages.

    Returns the path as a string (or `None`). Raises `ValueError` for `"imagenet"` (which
    keras.applications would download) or a non-path, `FileNotFoundError` for a missing file.

    Example:
    >>> check_local_weights(None) is None
    True
    """
    if weights is None:
        return None
    if isinstance(weights, str) and weights.lower() == "imagenet":
        raise ValueError(
            f"{what}='imagenet' would download weights, which this package never does: pass the "
            "path of a local weights file instead (for example an attached Kaggle dataset)."
        )
    try:
        path = os.fspath(weights)
    except TypeError:
        raise ValueError(f"{what} must be None or a local file path, got {weights!r}") from None
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: {what} file not found (weights come only from a "
                                "local file; nothing is downloaded)")
    return path


def check_head(num_classes, dropout=0.0, hidden_units=None):
    """ValueError for head settings `logits_model` would refuse (builders call it before their trunk)."""
    if not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    if int(num_classes) != num_classes or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    if hidden_units is not None and (int(hidden_units) != hidden_units or hidden_units < 0):
        raise ValueError(f"hidden_units must be None or a non-negative integer, got {hidden_units!r}")


def logits_model(inputs, features, *, num_classes, weights, name, dropout=0.0, hidden_units=None):
    """The common tail of the HMS models: features -> float32 logits -> `keras.Model`.

    Adds an optional `Dropout` named `"dropout"`, an optional ReLU `Dense` named `"hidden"` and
    the `Dense(num_classes, dtype="float32")` named `"logits"`, builds the model and loads `weights`.

    Args:
        inputs: the model's input tensor(s).
        features: the pooled feature tensor.
        num_classes: number of logits.
        weights: None or a local weights path already checked by `check_local_weights`.
        name: model name.
        dropout: dropout rate before the head (0 = no layer).
        hidden_units: width of the ReLU layer of the head; None or 0 for a linear head.
    """
    check_head(num_classes, dropout, hidden_units)
    if dropout:
        features = keras.layers.Dropout(float(dropout), name="dropout")(features)
    if hidden_units:
        features = keras.layers.Dense(int(hidden_units), activation="relu", name="hidden")(features)
    logits = keras.layers.Dense(int(num_classes), dtype="float32", name="logits")(features)
    model = keras.Model(inputs, logits, name=name)
    if weights is not None:
        model.load_weights(weights)
    return model
