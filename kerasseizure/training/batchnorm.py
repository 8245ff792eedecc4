"""BatchNorm moving statistics: set the momentum, or recompute them from data ("precise BN").

Inference normalises with moving averages that Keras updates at momentum 0.99 by default: they
remember ~100 steps. After a short training (a few hundred steps, as in the quick presets) they
trail the weights, and a network that fits its training data can score below chance at inference
(measured on the table-3 distillation: 0.18 window accuracy with the moving statistics, 0.65 with
recomputed ones). `recompute_batchnorm_statistics` replaces them with the average of the batch
statistics of the final weights over some training batches (Wu & Johnson 2021, "Rethinking 'Batch'
in BatchNorm", section 3: precise BN), the statistics the network was trained to expect.
"""

import keras
import numpy as np


def batchnorm_layers(model):
    """Every `keras.layers.BatchNormalization` of `model`, nested models included, in order."""
    return [layer for layer in model._flatten_layers(include_self=False, recursive=True)
            if isinstance(layer, keras.layers.BatchNormalization)]


def set_batchnorm_momentum(model, momentum):
    """Set the momentum of every BatchNormalization layer (before the model is traced).

    Args:
        model: a keras.Model.
        momentum: the new momentum in [0, 1), or None to leave the layers as they are.

    Returns:
        the model.
    """
    if momentum is not None:
        if not 0.0 <= float(momentum) < 1.0:
            raise ValueError(f"momentum must lie in [0, 1), got {momentum!r}")
        for layer in batchnorm_layers(model):
            layer.momentum = float(momentum)
    return model


def _inputs_of(batch):
    """The model inputs of one dataset element: x of (x, y[, w]), or the element itself."""
    return batch[0] if isinstance(batch, tuple) else batch


def recompute_batchnorm_statistics(model, batches, max_batches=None):
    """Set every trainable BatchNorm layer's moving statistics to their average over `batches`.

    The model is called in training mode (batch statistics, dropout active, as during training)
    on each batch; each layer's batch mean and (biased) batch variance are averaged, weighted by
    the batch size, and written as its moving mean and variance. Weights are not changed. All
    layers are estimated in the same passes: in training mode no layer's output depends on the
    moving statistics. Frozen layers (`trainable=False`, e.g. a distiller's teacher) and
    batch-renormalisation layers keep theirs. If the passes fail, every layer is restored.

    Args:
        model: a built keras.Model (or any layer holding BatchNormalization layers).
        batches: iterable of batches: `x`, or `(x, y)` / `(x, y, sample_weight)` tuples as a
            batched tf.data.Dataset yields them.
        max_batches: use at most this many batches (None: all of them).

    Returns:
        the number of samples the statistics were computed from (0 when the model has no
        trainable BatchNormalization layer, in which case nothing is called).

    Example:
    >>> train_ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(64)  # doctest: +SKIP
    >>> recompute_batchnorm_statistics(model, train_ds, max_batches=100)  # doctest: +SKIP
    6400
    """
    if max_batches is not None and int(max_batches) < 1:
        raise ValueError(f"max_batches must be >= 1 or None, got {max_batches!r}")
    layers = [layer for layer in batchnorm_layers(model) if layer.trainable and not layer.renorm]
    if not layers:
        return 0
    saved = [(layer.momentum, layer.moving_mean.numpy(), layer.moving_variance.numpy()) for layer in layers]
    sums = [[np.zeros_like(mean, dtype=np.float64), np.zeros_like(mean, dtype=np.float64)]
            for _, mean, _ in saved]
    seen = 0
    try:
        for layer in layers:
            layer.momentum = 0.0   # the moving statistics become the current batch's
        for index, batch in enumerate(batches):
            if max_batches is not None and index >= int(max_batches):
                break
            inputs = _inputs_of(batch)
            size = int(keras.tree.flatten(inputs)[0].shape[0])
            model(inputs, training=True)
            for layer, total in zip(layers, sums):
                total[0] += size * np.asarray(layer.moving_mean.numpy(), np.float64)
                total[1] += size * np.asarray(layer.moving_variance.numpy(), np.float64)
            seen += size
        if seen == 0:
            raise ValueError("recompute_batchnorm_statistics got no batch")
    except BaseException:
        for layer, (_, mean, variance) in zip(layers, saved):
            layer.moving_mean.assign(mean)
            layer.moving_variance.assign(variance)
        raise
    finally:
        for layer, (momentum, _, _) in zip(layers, saved):
            layer.momentum = momentum
    for layer, (mean_sum, variance_sum) in zip(layers, sums):
        layer.moving_mean.assign((mean_sum / seen).astype(layer.moving_mean.dtype))
        layer.moving_variance.assign((variance_sum / seen).astype(layer.moving_variance.dtype))
    return seen


__all__ = ["batchnorm_layers", "set_batchnorm_momentum", "recompute_batchnorm_statistics"]
