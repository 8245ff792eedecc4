"""A 3D CNN over (time, electrode, frequency): the HMS paper's future-work spatio-temporal model.

Input: `(frames, electrodes, mels, 1)`. The intended layout is the 16 chain differences' mel
spectrograms (the same per-difference spectrograms the spectrogram image averages per chain:
librosa mel, power_to_db(ref=max), (dB + 40) / 40), transposed to time-major and stacked along
the electrode axis in chain order LL (Fp1-F7, F7-T3, T3-T5, T5-O1), LP (Fp1-F3, F3-C3, C3-P3,
P3-O1), RP (Fp2-F4, F4-C4, C4-P4, P4-O2), RL (Fp2-F8, F8-T4, T4-T6, T6-O2) -- so neighbouring
rows are neighbouring electrodes of one chain: default `(256, 16, 128, 1)`.
"""

import keras

from kerasseizure.models.layers_hms import check_local_weights, logits_model


def _pool_size(shape, block, pool_electrodes_from):
    """Pool 2 along each axis still >= 4 long (electrodes only from `pool_electrodes_from` on)."""
    frames, electrodes, mels = shape
    return (
        2 if frames is None or frames >= 4 else 1,
        2 if block >= pool_electrodes_from and electrodes is not None and electrodes >= 4 else 1,
        2 if mels is None or mels >= 4 else 1,
    )


def SpectroTemporal3D(
    input_shape=(256, 16, 128, 1),
    filters=(16, 32, 64, 128),
    kernel_size=3,
    pool_electrodes_from=1,
    dropout=0.2,
    num_classes=6,
    weights=None,
    name="spectro_temporal_3d",
):
    """3D CNN on stacked per-electrode spectrograms -> float32 logits.

    Each block is `Conv3D(f, kernel_size, padding="same", use_bias=False) -> BatchNormalization
    -> ReLU`; every block but the last is followed by a `MaxPooling3D` that halves each axis
    still at least 4 long (the electrode axis only from block index `pool_electrodes_from` on,
    0-based, so the first block mixes neighbouring electrodes at full electrode resolution).
    Then `GlobalAveragePooling3D` `"pooled_features"` -> optional `Dropout` ->
    `Dense(num_classes, dtype="float32")` `"logits"`.

    Args:
        input_shape: `(frames, electrodes, mels, 1)`; default `(256, 16, 128, 1)`. `frames`
            may be `None`.
        filters: output channels of the successive blocks; default `(16, 32, 64, 128)`.
        kernel_size: int or `(t, e, f)` kernel of every convolution.
        pool_electrodes_from: first block (0-based) after which the electrode axis is pooled.
        dropout: dropout rate before the logits (0 = no layer).
        num_classes: number of logits (6 for HMS).
        weights: `None` or a local path to weights of this whole model (`.weights.h5`).
        name: model name.

    Example:
    >>> import numpy as np
    >>> model = SpectroTemporal3D(input_shape=(32, 16, 16, 1), filters=(8, 16))
    >>> tuple(model(np.zeros((2, 32, 16, 16, 1))).shape)
    (2, 6)
    """
    weights = check_local_weights(weights)
    if len(input_shape) != 4:
        raise ValueError(f"input_shape must be (frames, electrodes, mels, channels), got "
                         f"{input_shape!r}")
    if any(d is not None and int(d) < 1 for d in input_shape) or input_shape[-1] is None:
        raise ValueError(f"input_shape must hold positive sizes, got {input_shape!r}")
    try:
        filters = tuple(int(f) for f in filters)
    except (TypeError, ValueError):
        raise ValueError(f"filters must be a sequence of positive integers, got "
                         f"{filters!r}") from None
    if not filters or min(filters) < 1:
        raise ValueError(f"filters must be a non-empty sequence of positive integers, got "
                         f"{filters!r}")
    kernel = (kernel_size,) * 3 if isinstance(kernel_size, int) else tuple(kernel_size)
    if len(kernel) != 3 or any(int(k) != k or k < 1 for k in kernel):
        raise ValueError(f"kernel_size must be a positive int or 3 positive ints, got "
                         f"{kernel_size!r}")

    inputs = keras.Input(tuple(input_shape), name="spectrograms")
    x = inputs
    shape = tuple(input_shape[:3])
    for i, f in enumerate(filters):
        x = keras.layers.Conv3D(f, kernel, padding="same", use_bias=False,
                                name=f"block{i + 1}_conv")(x)
        x = keras.layers.BatchNormalization(name=f"block{i + 1}_bn")(x)
        x = keras.layers.ReLU(name=f"block{i + 1}_relu")(x)
        if i < len(filters) - 1:
            pool = _pool_size(shape, i, pool_electrodes_from)
            if pool != (1, 1, 1):
                x = keras.layers.MaxPooling3D(pool, name=f"block{i + 1}_pool")(x)
            shape = tuple(None if d is None else d // p for d, p in zip(shape, pool))
    x = keras.layers.GlobalAveragePooling3D(name="pooled_features")(x)
    return logits_model(inputs, x, dropout=dropout, num_classes=num_classes, weights=weights, name=name)
