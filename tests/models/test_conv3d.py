import os

import keras
import numpy as np
import pytest

from kerasseizure.models.conv3d import SpectroTemporal3D
from tests.models.checks import (
    assert_logits,
    assert_mixed_precision,
    assert_save_load_identical,
    assert_training_lowers_loss,
)

SMALL = dict(input_shape=(16, 16, 16, 1), filters=(4, 8, 8))


def _x(batch=4, shape=(16, 16, 16, 1), seed=0):
    return np.random.default_rng(seed).normal(size=(batch,) + shape).astype("float32")


def _conv_params(c_in, c_out, k=3):
    return k**3 * c_in * c_out + 4 * c_out  # no bias; BatchNorm: gamma, beta, mean, variance


def test_default_architecture():
    model = SpectroTemporal3D()
    assert model.input.shape[1:] == (256, 16, 128, 1)
    # Pooling halves time and mels after every block but the last, electrodes from block 2 on.
    assert model.get_layer("block1_pool").output.shape[1:] == (128, 16, 64, 16)
    assert model.get_layer("block2_pool").output.shape[1:] == (64, 8, 32, 32)
    assert model.get_layer("block3_pool").output.shape[1:] == (32, 4, 16, 64)
    assert model.get_layer("block4_conv").output.shape[1:] == (32, 4, 16, 128)
    expected = (_conv_params(1, 16) + _conv_params(16, 32) + _conv_params(32, 64)
                + _conv_params(64, 128) + 128 * 6 + 6)
    assert model.count_params() == expected == 292470


def test_small_forward_and_save_load_safe_mode(tmp_path):
    model = SpectroTemporal3D(**SMALL)
    x = _x()
    assert_logits(model(x), 4)
    assert_save_load_identical(model, x, tmp_path)


def test_variable_length_time_axis():
    model = SpectroTemporal3D(input_shape=(None, 16, 16, 1), filters=(4, 8))
    assert_logits(model(_x(batch=2, shape=(12, 16, 16, 1))), 2)
    assert_logits(model(_x(batch=2, shape=(20, 16, 16, 1))), 2)


def test_a_few_steps_lower_the_loss():
    keras.utils.set_random_seed(0)
    model = SpectroTemporal3D(**SMALL, dropout=0.0)
    assert_training_lowers_loss(model, _x(batch=8), steps=5, learning_rate=1e-2)


def test_mixed_bfloat16(mixed_bfloat16):  # noqa: F811
    assert_mixed_precision(SpectroTemporal3D(**SMALL), _x())


def test_weights_only_from_local_files(tmp_path):
    model = SpectroTemporal3D(**SMALL)
    path = os.path.join(tmp_path, "m.weights.h5")
    model.save_weights(path)
    again = SpectroTemporal3D(**SMALL, weights=path)
    x = _x()
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(again(x, training=False)),
                                  keras.ops.convert_to_numpy(model(x, training=False)))
    with pytest.raises(ValueError, match="download"):
        SpectroTemporal3D(weights="imagenet")


@pytest.mark.parametrize("kwargs", [
    {"input_shape": (16, 16, 16)},
    {"input_shape": (16, 0, 16, 1)},
    {"filters": ()},
    {"filters": (8, -1)},
    {"kernel_size": (3, 3)},
    {"dropout": -0.1},
    {"num_classes": 0},
])
def test_bad_arguments_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        SpectroTemporal3D(**kwargs)
