"""A small CNN on the HMS spectrogram image that keeps the frequency axis: the CPU stand-in.

An EfficientNet needs ImageNet weights to learn from a few hundred images. Trained from random
weights on the 240 training eeg_ids of a synthetic quick run, EfficientNetV2B0 scored KL 1.6-1.9
against 1.38 for the uniform guess. It also pools globally, so it must infer from padding effects
where in a panel (at which frequency) the power lies. This network has ~68k parameters. It averages
over time only, so the flattened features keep each (panel, frequency band) position. It is the
`backbone="compact"` of the HMS experiments, used by table 2's quick preset.
"""

import keras

from kerasseizure.models.layers_hms import check_local_weights, logits_model


def CompactSpectrogramNet(
    input_shape=(256, 64, 3),
    filters=(16, 32, 64, 64),
    dropout=0.3,
    num_classes=6,
    weights=None,
    name="compact_spectrogram_net",
):
    """Conv blocks -> mean over time -> flattened (panel, frequency) features -> Dense logits.

    Graph: input `"image"` (height = stacked panels x frequency, width = time, as the pipeline's
    spectrogram image) -> per entry of `filters`: `Conv2D(f, 3, padding="same", use_bias=False)
    -> BatchNormalization -> ReLU -> MaxPooling2D(2)` -> `AveragePooling2D((1, remaining width))`
    `"time_pooling"` -> `Flatten` `"pooled_features"` (height / 2**len(filters) x filters[-1]
    wide; the layer the fused model taps) -> optional `Dropout` -> `Dense(num_classes,
    dtype="float32")` `"logits"`.

    Args:
        input_shape: `(height, width, channels)`, all given; each side at least
            `2 ** len(filters)`. Default `(256, 64, 3)`: the 512 x 256 EEG-only image halved in
            frequency and quartered in time.
        filters: filters of the conv blocks (one 2 x 2 max pooling each).
        dropout: dropout rate before the logits (0 = no layer).
        num_classes: number of logits (6 for HMS).
        weights: `None` or a local path to weights of this model (`.weights.h5`).
        name: model name.

    Example:
    >>> import numpy as np
    >>> model = CompactSpectrogramNet((256, 64, 3))
    >>> tuple(model(np.zeros((2, 256, 64, 3))).shape)
    (2, 6)
    """
    weights = check_local_weights(weights)
    if len(input_shape) != 3 or any(s is None for s in input_shape):
        raise ValueError(f"input_shape must be a complete (height, width, channels), got {input_shape!r}")
    filters = [int(f) for f in filters]
    if not filters or min(filters) < 1:
        raise ValueError(f"filters must be a non-empty list of positive integers, got {filters!r}")
    height, width, channels = (int(s) for s in input_shape)
    smallest = 2 ** len(filters)
    if min(height, width) < smallest:
        raise ValueError(f"{len(filters)} pooling blocks need images of at least {smallest} x {smallest}, "
                         f"got {input_shape!r}")

    inputs = keras.Input((height, width, channels), name="image")
    x = inputs
    for index, count in enumerate(filters):
        x = keras.layers.Conv2D(count, 3, padding="same", use_bias=False, name=f"block{index}_conv")(x)
        x = keras.layers.BatchNormalization(name=f"block{index}_bn")(x)
        x = keras.layers.ReLU(name=f"block{index}_relu")(x)
        x = keras.layers.MaxPooling2D(2, name=f"block{index}_pool")(x)
    x = keras.layers.AveragePooling2D((1, width // smallest), name="time_pooling")(x)
    x = keras.layers.Flatten(name="pooled_features")(x)
    return logits_model(inputs, x, dropout=dropout, num_classes=num_classes, weights=weights, name=name)
