import os

import keras
import numpy as np
import pytest

from kerasseizure.models.layers_hms import ChannelSlice, with_probabilities
from kerasseizure.models.wavenet import WAVENET_BLOCK_PRESETS, WaveNet
from tests.models.checks import (
    assert_logits,
    assert_mixed_precision,
    assert_save_load_identical,
    assert_training_lowers_loss,
)


def _eeg(batch=4, time=64, channels=8, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, time, channels)).astype("float32")


def _block_params(c_in, filters, kernel, n):
    # first 1x1 conv + per dilation: tanh conv + sigmoid conv (k taps) + 1x1 output conv
    return (c_in * filters + filters) + n * (2 * (kernel * filters * filters + filters)
                                             + (filters * filters + filters))


def test_default_parameter_count_matches_the_architecture_by_hand():
    # Blocks (8,3,12), (16,3,8), (32,3,4), (64,3,1) on a 1-channel signal:
    #   (1*8+8)     + 12*(2*(3*8*8+8)     + 8*8+8)     =  5,680
    #   (8*16+16)   +  8*(2*(3*16*16+16)  + 16*16+16)  = 14,864
    #   (16*32+32)  +  4*(2*(3*32*32+32)  + 32*32+32)  = 29,600
    #   (32*64+64)  +  1*(2*(3*64*64+64)  + 64*64+64)  = 30,976   -> shared trunk 81,120
    # head: Dense(256 -> 64) 16,448 + Dense(64 -> 6) 390           -> total 97,958
    trunk = (_block_params(1, 8, 3, 12) + _block_params(8, 16, 3, 8)
             + _block_params(16, 32, 3, 4) + _block_params(32, 64, 3, 1))
    assert trunk == 5680 + 14864 + 29600 + 30976 == 81120
    total = trunk + (256 * 64 + 64) + (64 * 6 + 6)
    assert total == 97958
    model = WaveNet()
    assert model.count_params() == total
    assert model.input.shape[1:] == (2000, 8)
    assert model.get_layer("chain_features").output.shape[1:] == (256,)
    # The per-signal network is one shared model called once per difference.
    assert model.get_layer("signal_features").count_params() == trunk
    assert len(model.get_layer("signal_features")._inbound_nodes) == 8


def test_k4_d6_preset_and_custom_blocks():
    assert WAVENET_BLOCK_PRESETS["k4_d6"] == ((8, 4, 6), (16, 4, 6), (32, 4, 6), (64, 4, 6))
    trunk = (_block_params(1, 8, 4, 6) + _block_params(8, 16, 4, 6)
             + _block_params(16, 32, 4, 6) + _block_params(32, 64, 4, 6))
    model = WaveNet(input_shape=(64, 8), blocks="k4_d6")
    assert model.count_params() == trunk + 256 * 64 + 64 + 64 * 6 + 6
    small = WaveNet(input_shape=(64, 8), blocks=[(4, 3, 2)], hidden_units=None)
    assert small.get_layer("chain_features").output.shape[1:] == (16,)
    assert_logits(small(_eeg()), 4)


def test_forward_matches_a_manual_chain_average():
    model = WaveNet(input_shape=(64, 8), blocks=[(4, 3, 3), (8, 3, 1)])
    x = _eeg(batch=3)
    trunk = model.get_layer("signal_features")
    per_signal = [keras.ops.convert_to_numpy(trunk(x[:, :, c:c + 1])).mean(axis=1)
                  for c in range(8)]
    chains = [(per_signal[2 * i] + per_signal[2 * i + 1]) / 2 for i in range(4)]
    expected = np.concatenate(chains, axis=1)
    features = keras.Model(model.input, model.get_layer("chain_features").output)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(features(x)), expected,
                               rtol=1e-5, atol=1e-6)
    assert_logits(model(x), 3)


def test_probabilities_helper_is_a_float32_softmax_of_the_logits():
    model = WaveNet(input_shape=(64, 8), blocks=[(4, 3, 2)])
    x = _eeg()
    probs = keras.ops.convert_to_numpy(with_probabilities(model)(x))
    logits = keras.ops.convert_to_numpy(model(x))
    expected = np.exp(logits - logits.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    assert probs.dtype == np.float32
    np.testing.assert_allclose(probs, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)


def test_save_load_safe_mode(tmp_path):
    # Two blocks, dilations 1 and 2: every layer type of the trunk; small, as saving costs per layer.
    model = WaveNet(input_shape=(64, 8), blocks=[(4, 3, 2), (8, 3, 1)])
    assert_save_load_identical(model, _eeg(batch=8), tmp_path)


def test_a_few_steps_lower_the_loss():
    keras.utils.set_random_seed(0)
    model = WaveNet(input_shape=(32, 8), blocks=[(8, 3, 2)])
    # Three eager steps (~1 s each: the trunk runs once per EEG difference); the loss falls each step.
    assert_training_lowers_loss(model, _eeg(batch=8, time=32), steps=3)


def test_mixed_bfloat16(mixed_bfloat16):
    model = WaveNet(input_shape=(64, 8), blocks=[(8, 3, 3), (16, 3, 2)])
    assert_mixed_precision(model, _eeg())


def test_weights_from_a_local_file_only(tmp_path):
    model = WaveNet(input_shape=(64, 8), blocks=[(4, 3, 2)])
    path = os.path.join(tmp_path, "w.weights.h5")
    model.save_weights(path)
    again = WaveNet(input_shape=(64, 8), blocks=[(4, 3, 2)], weights=path)
    x = _eeg()
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(again(x)),
                                  keras.ops.convert_to_numpy(model(x)))
    with pytest.raises(ValueError, match="download"):
        WaveNet(weights="imagenet")
    with pytest.raises(FileNotFoundError):
        WaveNet(weights=os.path.join(tmp_path, "missing.weights.h5"))


@pytest.mark.parametrize("kwargs", [
    {"blocks": "nope"},
    {"blocks": [(8, 3)]},
    {"blocks": [(8, 0, 2)]},
    {"input_shape": (2000, 7)},
    {"input_shape": (2000,)},
    {"num_classes": 0},
    {"hidden_units": -1},
])
def test_bad_arguments_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        WaveNet(**kwargs)


def test_channel_slice_layer():
    x = np.arange(16, dtype="float32").reshape(1, 2, 8)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(ChannelSlice(3, 5)(x)), x[..., 3:5])
    assert ChannelSlice.from_config(ChannelSlice(1, 2).get_config()).stop == 2
    with pytest.raises(ValueError):
        ChannelSlice(2, 2)
