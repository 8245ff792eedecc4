import keras
import numpy as np
import pytest

from kerasseizure.models import CompactSpectrogramNet, fused
from tests.models.checks import (
    assert_logits,
    assert_mixed_precision,
    assert_save_load_identical,
    assert_training_lowers_loss,
)


def _x(batch=4, shape=(256, 64, 3), seed=0):
    return np.random.default_rng(seed).normal(size=(batch,) + shape).astype("float32")


def test_default_architecture_keeps_the_frequency_axis():
    model = CompactSpectrogramNet()
    assert model.input.shape[1:] == (256, 64, 3)
    # four 2x2 poolings, then the mean over the 4 remaining time steps: 16 frequency rows x 64
    assert model.get_layer("block3_pool").output.shape[1:] == (16, 4, 64)
    assert model.get_layer("time_pooling").output.shape[1:] == (16, 1, 64)
    assert model.get_layer("pooled_features").output.shape[1:] == (1024,)
    convs = 9 * (3 * 16 + 16 * 32 + 32 * 64 + 64 * 64)
    batchnorm = 4 * (16 + 32 + 64 + 64)
    assert model.count_params() == convs + batchnorm + 1024 * 6 + 6 == 67190


def test_features_depend_on_where_the_power_lies_in_frequency():
    # Same power, two frequency rows: global pooling could confuse them, the flattened rows do not.
    model = CompactSpectrogramNet((64, 32, 3), filters=(4, 8), dropout=0.0)
    low = np.zeros((1, 64, 32, 3), "float32")
    high = np.zeros((1, 64, 32, 3), "float32")
    low[:, 20:24] = 1.0
    high[:, 40:44] = 1.0
    features = keras.Model(model.input, model.get_layer("pooled_features").output)
    a = keras.ops.convert_to_numpy(features(low))
    b = keras.ops.convert_to_numpy(features(high))
    assert not np.allclose(a, b)
    assert np.allclose(np.sort(a.ravel()), np.sort(b.ravel()), atol=1e-6)   # the same values, moved


def test_forward_save_load_and_training(tmp_path):
    keras.utils.set_random_seed(0)
    model = CompactSpectrogramNet((64, 32, 3), filters=(4, 8), dropout=0.0)
    x = _x(shape=(64, 32, 3))
    assert_logits(model(x), 4)
    assert_save_load_identical(model, x, tmp_path)
    assert_training_lowers_loss(model, x, steps=5, learning_rate=1e-2)


def test_fused_taps_its_features():
    spatial = CompactSpectrogramNet((64, 32, 3), filters=(4, 8))
    model = fused(eeg_shape=(200, 8), wavenet_blocks=[[4, 3, 2]], spectrogram_net=spatial)
    x = {"eeg": np.zeros((2, 200, 8), "float32"), "image": _x(batch=2, shape=(64, 32, 3))}
    assert_logits(model(x), 2)


def test_mixed_bfloat16(mixed_bfloat16):  # noqa: F811
    assert_mixed_precision(CompactSpectrogramNet((64, 32, 3), filters=(4, 8)), _x(shape=(64, 32, 3)))


@pytest.mark.parametrize("kwargs, message", [
    (dict(input_shape=(64, None, 3)), "complete"),
    (dict(input_shape=(8, 64, 3)), "at least 16"),
    (dict(filters=()), "filters"),
    (dict(dropout=1.0), "dropout"),
    (dict(num_classes=0), "num_classes"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CompactSpectrogramNet(**kwargs)
