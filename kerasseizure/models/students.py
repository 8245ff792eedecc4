"""Small students of SeizureNet for low-memory devices, and their distillation view.

A student is a MobileNet-style convolutional network on one SES tensor, built only from
layers that TFLite runs with builtin ops (Conv2D, DepthwiseConv2D, BatchNormalization folded
into the convolutions, ReLU6, MaxPooling2D, global average pooling -> MEAN, Dense), so
`TFLiteConverter` with `OpsSet.TFLITE_BUILTINS` converts it without Flex ops. It outputs
logits (float32). With `projection_dim` set, its head goes through a ReLU `projection` layer of
that size -- the teacher's embedding size -- so `keras.distillation.FeatureDistillation` can
match the projection to the teacher's `embedding` layer.

`keras.distillation.Distiller` feeds the same `x` to teacher and student and checks that their
inputs match; SeizureNet reads N_e SES tensors and a student one, so
`with_teacher_inputs(student, teacher)` gives a view of the student taking the teacher's inputs
(it reads one of them) and sharing the student's layers: distil the view, deploy the student.
In the view the projection is read from the layer `projection_tap`.
"""

import keras

from kerasseizure.models.layers import (
    _check_positive_int,
    _check_rate,
    _check_ses_shape,
    conv_bn_act,
    separable_block,
)

#: Presets: stem filters and stages of (filters, separable blocks); every stage but the first
#: starts with a 2x2 max pooling.
STUDENT_SIZES = {
    "tiny": {"stem": 8, "stages": ((16, 1), (32, 1))},
    "small": {"stem": 16, "stages": ((32, 1), (64, 2))},
    "base": {"stem": 16, "stages": ((32, 1), (64, 2), (96, 2))},
}


def _scaled(filters, width_multiplier):
    # Multiples of 4 keep the convolutions friendly to SIMD kernels on small devices.
    return max(4, int(round(filters * width_multiplier / 4.0)) * 4)


def student(
    input_shape=(20, 24, 3),
    num_classes=7,
    size="small",
    width_multiplier=1.0,
    projection_dim=None,
    dropout=0.2,
    activation="relu6",
    input_norm=True,
    input_name="ses_0",
    name=None,
):
    """A small convolutional student network on one SES tensor.

    Input BN (per-map standardisation, exported as MUL/ADD), a 3x3 convolution stem, stages of
    depthwise-separable blocks (2x2 max pooling before every stage but the first), global
    average pooling, dropout, an optional ReLU `projection` layer of `projection_dim` units,
    and float32 logits (layer `logits`).

    Args:
        input_shape: (electrodes, frequency bins, maps). Defaults to (20, 24, 3), the SES of
            the teacher's first member (fmax 24 Hz).
        num_classes: number of seizure types. Defaults to 7.
        size: "tiny", "small" or "base" (see `STUDENT_SIZES`). Defaults to "small".
        width_multiplier: scales every filter count (rounded to a multiple of 4). Defaults to 1.0.
        projection_dim: size of the projection layer matched to the teacher embedding
            (SeizureNet's default: 3 members x 128 = 384); None for no projection (pooled
            features go straight to the logits). Defaults to None.
        dropout: dropout before the projection / logits. Defaults to 0.2.
        activation: "relu6" (quantisation-friendly) or "relu". Defaults to "relu6".
        input_norm: start with a BatchNormalization of the input. Defaults to True.
        input_name: name of the input; "ses_0" matches SeizureNet's first input. Defaults to
            "ses_0".
        name: model name. Defaults to f"student_{size}".

    Returns:
        A functional `keras.Model` mapping (batch, *input_shape) to logits (batch, num_classes).

    Example:
    >>> model = student((20, 24, 3), num_classes=7, size="tiny", projection_dim=384)
    >>> model.output.shape, model.get_layer("projection").output.shape
    ((None, 7), (None, 384))
    """
    if size not in STUDENT_SIZES:
        raise ValueError(f"`size` must be one of {sorted(STUDENT_SIZES)}, got {size!r}.")
    input_shape = _check_ses_shape(input_shape, "input_shape")
    _check_positive_int(num_classes, "num_classes")
    if (
        isinstance(width_multiplier, bool)
        or not isinstance(width_multiplier, (int, float))
        or width_multiplier <= 0
    ):
        raise ValueError(
            f"`width_multiplier` must be a positive number, got {width_multiplier!r}."
        )
    if projection_dim is not None:
        _check_positive_int(projection_dim, "projection_dim")
    dropout = _check_rate(dropout, "dropout")
    if activation not in ("relu6", "relu"):
        raise ValueError(f"`activation` must be 'relu6' or 'relu', got {activation!r}.")
    config = STUDENT_SIZES[size]

    inputs = keras.Input(input_shape, name=input_name)
    x = inputs
    if input_norm:
        x = keras.layers.BatchNormalization(name="input_norm")(x)
    stem = _scaled(config["stem"], width_multiplier)
    x = conv_bn_act(x, stem, 3, activation=activation, name="stem")
    for s, (filters, n_blocks) in enumerate(config["stages"]):
        if s:
            x = keras.layers.MaxPooling2D(2, padding="same", name=f"stage{s}_pool")(x)
        for b in range(n_blocks):
            x = separable_block(
                x,
                _scaled(filters, width_multiplier),
                activation=activation,
                name=f"stage{s}_block{b}",
            )
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="pool_dropout")(x)
    if projection_dim is not None:
        x = keras.layers.Dense(projection_dim, activation="relu", name="projection")(x)
    logits = keras.layers.Dense(num_classes, dtype="float32", name="logits")(x)
    return keras.Model(inputs, logits, name=name or f"student_{size}")


def with_teacher_inputs(student_model, teacher, input_index=0, taps=("projection",)):
    """A view of `student_model` that takes the teacher's inputs and reads one of them.

    The view re-applies the student's own layers (shared weights: training the view trains the
    student) to the teacher input `input_index`; the teacher's other inputs are accepted and
    ignored. Use it as the `student` of `keras.distillation.Distiller`; deploy / export
    `student_model` itself.

    A shared layer's `.output` is its first call's output -- in the student's own graph -- so
    `FeatureDistillation`, which looks features up as `model.get_layer(name).output`, cannot
    read the view's call of a shared layer. The view therefore passes the output of every
    student layer named in `taps` through a new `Identity` layer named `f"{name}_tap"`: use
    `FeatureDistillation(teacher_layer_name="embedding", student_layer_name="projection_tap")`.

    Args:
        student_model: a functional single-input student (e.g. from `student`).
        teacher: the teacher model (e.g. `SeizureNet`), whose inputs the view mirrors.
        input_index: which teacher input the student reads. Defaults to 0 (fmax 24 Hz).
        taps: names of student layers to expose as `{name}_tap`; names the student lacks are
            skipped. Defaults to ("projection",).

    Returns:
        A functional `keras.Model` with the teacher's inputs and the student's logits.

    Example:
    >>> teacher = SeizureNet(layers_per_block=(2, 2))  # doctest: +SKIP
    >>> small = student(size="tiny", projection_dim=384)  # doctest: +SKIP
    >>> view = with_teacher_inputs(small, teacher)  # doctest: +SKIP
    >>> len(view.inputs), view.get_layer("projection_tap").output.shape  # doctest: +SKIP
    (3, (None, 384))
    """
    for model, role in ((student_model, "student_model"), (teacher, "teacher")):
        if not isinstance(model, keras.Model) or getattr(model, "inputs", None) is None:
            raise ValueError(f"`{role}` must be a functional keras.Model.")
    if len(student_model.inputs) != 1:
        raise ValueError(
            f"`student_model` must have one input, got {len(student_model.inputs)}."
        )
    n_inputs = len(teacher.inputs)
    if (
        isinstance(input_index, bool)
        or not isinstance(input_index, int)
        or not 0 <= input_index < n_inputs
    ):
        raise ValueError(
            f"`input_index` must be an integer in [0, {n_inputs}), got {input_index!r}."
        )
    if isinstance(taps, str):
        taps = (taps,)
    taps = frozenset(taps or ())
    wanted = tuple(teacher.inputs[input_index].shape[1:])
    have = tuple(student_model.inputs[0].shape[1:])
    if wanted != have:
        raise ValueError(
            f"The student reads {have} but teacher input {input_index} is {wanted}; build the "
            "student with the same input_shape."
        )
    inputs = [keras.Input(t.shape[1:], dtype=t.dtype, name=t.name) for t in teacher.inputs]

    def call_function(layer, *args, **kwargs):
        outputs = layer(*args, **kwargs)
        if layer.name in taps:
            outputs = keras.layers.Identity(name=f"{layer.name}_tap")(outputs)
        return outputs

    # An identity clone_function re-applies the very same layers (shared weights) to the new
    # input, so the view's graph holds the student's layers at its top level.
    shared = keras.models.clone_model(
        student_model,
        input_tensors=inputs[input_index],
        clone_function=lambda layer: layer,
        call_function=call_function,
    )
    return keras.Model(inputs, shared.output, name=f"{student_model.name}_on_teacher_inputs")
