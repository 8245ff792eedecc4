import numpy as np
import pytest

import keras
import tensorflow as tf

from kerasseizure.models.seizurenet import SeizureNet
from kerasseizure.models.students import STUDENT_SIZES, student, with_teacher_inputs

SHAPES = ((20, 24, 3), (20, 48, 3), (20, 96, 3))
SMALL_TEACHER = dict(stem_filters=8, growth_rate=6, layers_per_block=(1, 1), embedding_dim=16)


def _x(n=4, shape=(20, 24, 3), seed=0):
    return np.random.default_rng(seed).normal(size=(n,) + tuple(shape)).astype("float32")


def test_sizes_shapes_and_finite_outputs():
    x = _x()
    for size in STUDENT_SIZES:
        model = student(size=size)
        assert tuple(model.output.shape) == (None, 7) and model.output.dtype == "float32"
        out = keras.ops.convert_to_numpy(model(x, training=False))
        assert out.shape == (4, 7) and np.all(np.isfinite(out))
    model = student((20, 96, 3), num_classes=4, size="tiny", width_multiplier=0.5, projection_dim=32)
    assert tuple(model.get_layer("projection").output.shape) == (None, 32)
    assert model(_x(2, (20, 96, 3)), training=False).shape == (2, 4)


def test_students_are_at_least_20_times_smaller_than_the_default_teacher(default_seizurenet):
    teacher_params = default_seizurenet.count_params()  # SeizureNet(), shared (conftest.py)
    for size in STUDENT_SIZES:
        # With the projection matched to the default teacher embedding (3 x 128), the largest.
        params = student(size=size, projection_dim=384).count_params()
        assert teacher_params / params >= 20, (size, params)


def test_a_few_steps_lower_the_loss():
    keras.utils.set_random_seed(0)
    model = student(num_classes=3, size="tiny", dropout=0.0)
    y = np.arange(24) % 3
    x = _x(24) + y[:, None, None, None]
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        run_eagerly=True,
    )
    # Four eager steps (~0.8 s each, whatever the batch size): the loss ends near 0.48x.
    losses = model.fit(x, y, epochs=4, batch_size=24, verbose=0).history["loss"]
    assert losses[-1] < 0.7 * losses[0]


def test_keras_save_load_safe_mode(tmp_path):
    model = student(size="small", projection_dim=24)
    x = _x()
    model.save(tmp_path / "student.keras")
    loaded = keras.saving.load_model(tmp_path / "student.keras", safe_mode=True)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(model(x, training=False)),
        keras.ops.convert_to_numpy(loaded(x, training=False)),
    )


def test_mixed_bfloat16_keeps_float32_variables_and_logits():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = student(size="tiny", projection_dim=16)
        assert all(v.dtype == "float32" for v in model.weights)
        assert model.get_layer("stem_conv").compute_dtype == "bfloat16"
        out = model(_x(2), training=False)
        assert keras.backend.standardize_dtype(out.dtype) == "float32"
        assert np.all(np.isfinite(keras.ops.convert_to_numpy(out)))
    finally:
        keras.config.set_dtype_policy(previous)


def test_tflite_builtin_ops_only_and_matches_keras(tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    model = student(size="small", projection_dim=16)
    # Non-trivial batch-norm statistics, so folding them is actually exercised.
    model.compile(
        optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        run_eagerly=True,  # one step: tracing a train function would cost more than it
    )
    model.fit(_x(8, seed=3) * 3.0 + 1.0, np.arange(8) % 7, epochs=1, verbose=0)
    assert any(not np.allclose(layer.moving_mean.numpy(), 0.0) for layer in model.layers
               if isinstance(layer, keras.layers.BatchNormalization))
    # Via a SavedModel (Keras 3's model.export): from_concrete_functions on a Keras 3 model
    # leaves the variables as VAR_HANDLE / READ_VARIABLE ops that read as NaN.
    model.export(str(tmp_path / "saved_model"), verbose=False)
    converter = tf.lite.TFLiteConverter.from_saved_model(str(tmp_path / "saved_model"))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    flatbuffer = converter.convert()
    interpreter = Interpreter(model_content=flatbuffer)
    interpreter.allocate_tensors()
    ops = {op["op_name"] for op in interpreter._get_ops_details()}
    assert not any(name.startswith("Flex") or name == "CUSTOM" for name in ops), ops
    assert "DEPTHWISE_CONV_2D" in ops and "CONV_2D" in ops
    # Batch norms folded into the convolutions; variables frozen into constants.
    assert not ops & {"RSQRT", "VAR_HANDLE", "READ_VARIABLE"}, ops
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    for seed in range(3):
        x = _x(1, seed=seed) * 3.0 + 1.0
        interpreter.set_tensor(inp["index"], x)
        interpreter.invoke()
        np.testing.assert_allclose(
            interpreter.get_tensor(out["index"]),
            keras.ops.convert_to_numpy(model(x, training=False)),
            rtol=1e-4,
            atol=1e-4,
        )


def test_distiller_logits_and_feature_distillation():
    keras.utils.set_random_seed(0)
    teacher = SeizureNet(SHAPES, num_classes=7, **SMALL_TEACHER)
    small = student(size="tiny", projection_dim=3 * 16)
    view = with_teacher_inputs(small, teacher)
    assert [t.name for t in view.inputs] == ["ses_0", "ses_1", "ses_2"]
    x = [_x(8, s, seed=i) for i, s in enumerate(SHAPES)]
    # The view is the student: same weights, same outputs.
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(view(x, training=False)),
        keras.ops.convert_to_numpy(small(x[0], training=False)),
        rtol=1e-6,
        atol=1e-6,
    )
    distiller = keras.distillation.Distiller(
        teacher=teacher,
        student=view,
        distillation_losses=[
            keras.distillation.LogitsDistillation(temperature=3.0),
            keras.distillation.FeatureDistillation(
                loss="mse", teacher_layer_name="embedding", student_layer_name="projection_tap"
            ),
        ],
        distillation_loss_weights=[1.0, 0.5],
        student_loss_weight=0.5,
    )
    distiller.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        run_eagerly=True,
    )
    before = small.get_layer("projection").get_weights()[0].copy()
    teacher_before = teacher.get_layer("member_logits").get_weights()[0].copy()
    history = distiller.fit(x, np.arange(8) % 7, epochs=1, batch_size=8, verbose=0).history
    assert np.isfinite(history["distillation_loss"][0]) and history["distillation_loss"][0] > 0
    # The deployable student was trained through the view; the teacher stayed frozen.
    assert not np.allclose(before, small.get_layer("projection").get_weights()[0])
    np.testing.assert_array_equal(
        teacher_before, teacher.get_layer("member_logits").get_weights()[0]
    )


def test_bad_arguments_raise_value_error():
    with pytest.raises(ValueError):
        student(size="huge")
    with pytest.raises(ValueError):
        student(input_shape=(20, 24))
    with pytest.raises(ValueError):
        student(projection_dim=0)
    with pytest.raises(ValueError):
        student(width_multiplier=0)
    teacher = SeizureNet(SHAPES, **SMALL_TEACHER)
    with pytest.raises(ValueError):
        with_teacher_inputs(student((20, 48, 3), size="tiny"), teacher, input_index=0)
    with pytest.raises(ValueError):
        with_teacher_inputs(student(size="tiny"), teacher, input_index=3)
