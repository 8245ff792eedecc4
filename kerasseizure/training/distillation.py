"""Knowledge distillation teacher -> student through `keras.distillation` and the one fit path.

Loss (Hinton et al. 2015), with logits z_t (teacher) and z_s (student):

    total = alpha * L_student(y, z_s)
            + (1 - alpha) * [ T^2 * KL(softmax(z_t / T) || softmax(z_s / T))
                              + feature_weight * MSE(teacher_embedding, projection(student_features)) ]

built from Keras 3.15's `keras.distillation.Distiller` (`student_loss_weight` = alpha),
`LogitsDistillation(temperature=T)` (KL on the softened softmax, scaled by T^2) and
`FeatureDistillation(loss="mse")`. The teacher is frozen by the Distiller. The Distiller is an
ordinary `keras.Model`, so it trains through `fit(compile=False)`: the same resume, checkpoints,
logs and strategies as every other run; only the student is saved as best.keras / final.keras.
`distill()` is `compiled_distiller` (the Distiller, compiled) + `fit_distiller` (its training);
callers that keep their own compiled Distiller (the TUSZ model pool) use those two directly.

Facts about keras.distillation 3.15 that shape this module:
- `LogitsDistillation(loss="kl_divergence")` (its default!) resolves the string to the FUNCTION
  `keras.losses.kl_divergence`, which fails its `isinstance(loss, KLDivergence)` check, so the KL
  is computed on the clipped raw logits / T instead of the softened softmax and without T^2; a
  student trained that way matches nothing useful (our test caught it: 0.30 accuracy vs 0.90).
  We always pass a `keras.losses.KLDivergence()` instance;
- both models must output logits (the package's models do) with matching shapes;
- the student's supervised loss is the `loss` given to `Distiller.compile`; `sample_weight` is
  ignored by `Distiller.compute_loss` (use class-weighted losses instead of sample weights);
- a feature pair is named by layers, and the student layer must lie on the student's graph. A
  trainable projection from the student's features to the teacher's embedding width is not part
  of a deployable student, so for feature matching `distill` trains a two-output *view* of each
  model ([logits, teacher embedding] and [logits, projection(student features)]) that shares the
  student's layers; the extracted student keeps its single logits output and the projection is
  discarded after training.
"""

import dataclasses

import keras

from kerasseizure.errors import KerasSeizureError
from kerasseizure.training import fit as fit_lib
from kerasseizure.training import losses as losses_lib

PACKAGE = "kerasseizure"


class DistillationError(KerasSeizureError, ValueError):
    """Teacher and student cannot be distilled as asked."""


def _ignored_output_loss(y_true, y_pred):
    """Zero loss for the projection output of a feature-matching view (it has no ground truth)."""
    return keras.ops.zeros((), dtype="float32")


def _build(model_or_builder):
    model = model_or_builder() if not isinstance(model_or_builder, keras.Model) and callable(model_or_builder) \
        else model_or_builder
    if not isinstance(model, keras.Model):
        raise DistillationError(f"expected a keras.Model or a builder, got {type(model).__name__}")
    return model


def _feature_views(teacher, student, teacher_layer, student_layer):
    """Two-output views sharing the models' layers: ([logits, embedding], [logits, projection])."""
    try:
        teacher_features = teacher.get_layer(teacher_layer).output
        student_features = student.get_layer(student_layer).output
    except ValueError as error:
        raise DistillationError(f"feature layer not found: {error}") from error
    width = int(teacher_features.shape[-1])
    projected = keras.layers.Dense(width, name="kd_projection", dtype="float32")(student_features)
    # Tuples, not lists: Keras tracking turns lists into TrackedList, which keras.tree then refuses
    # to match against the (y, y) tuples coming out of tf.data.
    teacher_view = keras.Model(teacher.inputs, (teacher.outputs[0], teacher_features), name="teacher_view")
    student_view = keras.Model(student.inputs, (student.outputs[0], projected), name="student_view")
    return teacher_view, student_view


def make_distiller(teacher, student, *, temperature=4.0, alpha=0.5, feature_layers=None, feature_weight=1.0):
    """A `keras.distillation.Distiller` for (teacher, student), uncompiled.

    Args:
        teacher: trained keras.Model with logits output (frozen by the Distiller).
        student: keras.Model with logits output of the same shape.
        temperature: softmax temperature T (> 0).
        alpha: weight of the student's ground-truth loss in [0, 1]; 1 - alpha weighs the
            distillation terms.
        feature_layers: None, or (teacher_layer_name, student_layer_name) for feature matching.
        feature_weight: weight of the feature-matching term relative to the logits term.

    Returns:
        (distiller, student) where `student` is the model to extract after training.
    """
    if not 0.0 <= float(alpha) <= 1.0:
        raise DistillationError(f"alpha must lie in [0, 1], got {alpha}")
    if float(temperature) <= 0:
        raise DistillationError(f"temperature must be positive, got {temperature}")
    if feature_layers is None:
        return keras.distillation.Distiller(
            teacher=teacher,
            student=student,
            distillation_losses=keras.distillation.LogitsDistillation(
                temperature=float(temperature), loss=keras.losses.KLDivergence()
            ),
            student_loss_weight=float(alpha),
        ), student
    teacher_view, student_view = _feature_views(teacher, student, *feature_layers)
    distiller = keras.distillation.Distiller(
        teacher=teacher_view,
        student=student_view,
        distillation_losses=[
            keras.distillation.LogitsDistillation(temperature=float(temperature), loss=(keras.losses.KLDivergence(), None)),
            keras.distillation.FeatureDistillation(loss=(None, "mse")),
        ],
        distillation_loss_weights=[1.0, float(feature_weight)],
        student_loss_weight=float(alpha),
    )
    return distiller, student


def compiled_distiller(teacher, student, *, temperature=4.0, alpha=0.5, feature_layers=None, feature_weight=1.0,
                       student_loss="cross_entropy", optimizer="adam", lr=1e-3, metrics=None):
    """`make_distiller` compiled with the student's loss and `fit`'s optimizer: every Distiller we train.

    Args:
        teacher, student, temperature, alpha, feature_layers, feature_weight: see `make_distiller`.
        student_loss: loss name or object for the student's logits and y (`losses.get_loss`).
        optimizer, lr: as in fit (`fit.make_optimizer`).
        metrics: student metrics for compile (single-output students only).

    Returns:
        (distiller, student) as `make_distiller`.
    """
    if feature_layers is not None and metrics:
        raise DistillationError("metrics are not supported together with feature matching")
    distiller, student = make_distiller(teacher, student, temperature=temperature, alpha=alpha,
                                        feature_layers=feature_layers, feature_weight=feature_weight)
    loss = losses_lib.get_loss(student_loss)
    distiller.compile(
        optimizer=fit_lib.make_optimizer(optimizer, lr),
        loss=(loss, _ignored_output_loss) if feature_layers is not None else loss,
        metrics=list(metrics) if metrics else None,
    )
    return distiller, student


def _duplicate_targets(data):
    """Map (x, y[, w]) data to (x, (y, y)[, w]) for the two-output feature-matching views."""
    import tensorflow as tf

    def dup(*element):
        return (element[0], (element[1], element[1])) + tuple(element[2:])

    if isinstance(data, tf.data.Dataset):
        return data.map(dup)
    if isinstance(data, fit_lib.EpochData):
        return fit_lib.EpochData(_duplicate_targets(data.data), shuffle=data.shuffle, buffer_size=data.buffer_size,
                                 augment=data.augment, drop_remainder=data.drop_remainder)
    if callable(data):
        return lambda epoch, seed, batch: data(epoch, seed, batch).map(dup)
    if isinstance(data, (tuple, list)):
        return (data[0], (data[1], data[1])) + tuple(data[2:])
    raise DistillationError(f"unsupported data type {type(data).__name__} for feature matching")


def fit_distiller(distiller, train_data, validation_data=None, *, feature_matching, monitor=None, **fit_options):
    """Train a compiled Distiller (or a builder of one) through `fit(compile=False)`.

    Args:
        distiller: from `compiled_distiller`, or a builder returning one.
        train_data, validation_data: any fit data form of (x, y[, w]).
        feature_matching: the Distiller was made with feature_layers (its two-output views
            take (y, y) targets).
        monitor: default "val_student_loss" with validation data, else "student_loss".
        **fit_options: further fit arguments (run_dir, epochs, lr, seed, ...; `export`: the
            student, so that best.keras / final.keras hold it).

    Returns:
        FitResult whose `.model` is the Distiller.
    """
    if feature_matching:
        train_data = _duplicate_targets(train_data)
        validation_data = None if validation_data is None else _duplicate_targets(validation_data)
    monitor = monitor or ("val_student_loss" if validation_data is not None else "student_loss")
    return fit_lib.fit(distiller, train_data, validation_data, compile=False, monitor=monitor, **fit_options)


def distill(
    teacher,
    student,
    train_data,
    validation_data=None,
    *,
    run_dir,
    temperature=4.0,
    alpha=0.5,
    student_loss="cross_entropy",
    feature_layers=None,
    feature_weight=1.0,
    epochs=1,
    lr=1e-3,
    optimizer="adam",
    metrics=None,
    monitor=None,
    **fit_options,
):
    """Distil `teacher` into `student` through `fit` (resumable, logged, strategy-aware).

    Args:
        teacher: trained keras.Model (logits) or a builder returning one (e.g. one that loads a
            .keras file; builders are required under a multi-replica strategy).
        student: keras.Model (logits) or a builder.
        train_data: any fit data form of (x, y[, w]); y is the ground truth for the student loss.
        validation_data: same, or None.
        run_dir: run folder (best.keras / final.keras hold the STUDENT).
        temperature: softmax temperature T.
        alpha: weight of the ground-truth loss (Distiller's student_loss_weight).
        student_loss: "cross_entropy", "kl" (vote probabilities), "sparse_cross_entropy" or a
            loss object, applied to the student's logits and y.
        feature_layers: None or (teacher_layer_name, student_layer_name) for feature matching.
        feature_weight: weight of the feature term relative to the logits term.
        epochs, lr, optimizer: as in fit.
        metrics: student metrics for compile (single-output students only).
        monitor: quantity to monitor (default "val_student_loss" with validation data,
            else "student_loss").
        **fit_options: further fit arguments (seed, batch_size, precision, strategy, ...).

    Returns:
        FitResult whose `.model` is the trained student (its original single-output model).
    """
    extracted = {}

    def builder():
        distiller, extracted["student"] = compiled_distiller(
            _build(teacher), _build(student), temperature=temperature, alpha=alpha, feature_layers=feature_layers,
            feature_weight=feature_weight, student_loss=student_loss, optimizer=optimizer, lr=lr, metrics=metrics,
        )
        return distiller

    result = fit_distiller(
        builder, train_data, validation_data, feature_matching=feature_layers is not None, monitor=monitor,
        run_dir=run_dir, epochs=epochs, lr=lr, export=lambda _: extracted["student"], **fit_options,
    )
    return dataclasses.replace(result, model=extracted["student"])
