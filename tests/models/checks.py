"""Checks shared by the model tests."""

import os

import keras
import numpy as np


def assert_save_load_identical(model, inputs, tmp_path):
    """`.keras` save and load with safe_mode=True gives the same outputs."""
    path = os.path.join(tmp_path, f"{model.name}.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    expected = keras.ops.convert_to_numpy(model(inputs, training=False))
    got = keras.ops.convert_to_numpy(loaded(inputs, training=False))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    return loaded


def assert_training_lowers_loss(model, inputs, steps=5, learning_rate=3e-3, seed=0):
    """A few Adam steps on one fixed batch with soft targets lower the (logit) KL loss."""
    batch = len(next(iter(inputs.values()))) if isinstance(inputs, dict) else len(inputs)
    rng = np.random.default_rng(seed)
    targets = rng.dirichlet(np.ones(6) * 0.5, size=batch).astype("float32")
    # Cross-entropy from logits against soft targets = KL divergence + a constant. Eager: XLA
    # compile (and graph tracing) time on a CPU dwarfs these few steps.
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True),
                  run_eagerly=True)
    losses = [float(model.train_on_batch(inputs, targets)) for _ in range(steps)]
    assert np.isfinite(losses).all() and losses[-1] < losses[0], losses


def assert_logits(outputs, batch, num_classes=6):
    outputs = keras.ops.convert_to_numpy(outputs)
    assert outputs.shape == (batch, num_classes)
    assert outputs.dtype == np.float32
    assert np.isfinite(outputs).all()


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)


def assert_mixed_precision(model, inputs):
    """Built under mixed_bfloat16: float32 variables, bfloat16 compute, float32 logits."""
    assert all(v.dtype == "float32" for v in model.weights)
    assert any(layer.compute_dtype == "bfloat16" for layer in _all_layers(model))
    assert model.get_layer("logits").compute_dtype == "float32"
    assert_logits(model(inputs), len(next(iter(inputs.values())))
                  if isinstance(inputs, dict) else len(inputs))
