import os

import keras
import numpy as np
import pytest

from kerasseizure.models.compact_spectrogram_net import CompactSpectrogramNet
from kerasseizure.models.fusion import fused
from kerasseizure.models.layers_hms import with_probabilities
from kerasseizure.models.wavenet import WaveNet
from tests.models.checks import (
    assert_logits,
    assert_mixed_precision,
    assert_save_load_identical,
    assert_training_lowers_loss,
)

EEG = (32, 8)
IMAGE = (32, 32, 3)
BLOCKS = [(8, 3, 2)]


def _inputs(batch=2, seed=0):
    rng = np.random.default_rng(seed)
    return {"eeg": rng.normal(size=(batch,) + EEG).astype("float32"),
            "image": rng.normal(size=(batch,) + IMAGE).astype("float32")}


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


@pytest.fixture(scope="module")
def branches(small_v2b0):
    # small_v2b0 (conftest.py, shared with test_spectrogram_net.py): SpectrogramNet(IMAGE,
    # "EfficientNetV2B0", dropout=0.2); the fused model copies it up to "pooled_features".
    keras.utils.set_random_seed(0)
    return (WaveNet(EEG, blocks=BLOCKS), small_v2b0)


@pytest.fixture(scope="module")
def model(branches):
    return fused(wavenet=branches[0], spectrogram_net=branches[1])


def test_structure_and_outputs(model):
    assert set(model.input) == {"eeg", "image"}
    assert model.get_layer("temporal_trunk").output.shape[1:] == (32,)   # 4 chains x 8 filters
    assert model.get_layer("spatial_trunk").output.shape[1:] == (1280,)  # EfficientNetV2B0
    assert model.get_layer("fused_features").output.shape[1:] == (1312,)
    assert model.get_layer("logits").dtype_policy.name == "float32"
    assert_logits(model(_inputs()), 2)
    probs = _numpy(with_probabilities(model)(_inputs()))
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)


def test_trunks_start_from_copies_of_the_given_models(branches, model):
    wavenet, spectrogram_net = branches
    x = _inputs()
    temporal_ref = keras.Model(wavenet.input, wavenet.get_layer("chain_features").output)
    spatial_ref = keras.Model(spectrogram_net.input,
                              spectrogram_net.get_layer("pooled_features").output)
    np.testing.assert_allclose(_numpy(model.get_layer("temporal_trunk")(x["eeg"])),
                               _numpy(temporal_ref(x["eeg"])), atol=1e-6)
    np.testing.assert_allclose(
        _numpy(model.get_layer("spatial_trunk")(x["image"], training=False)),
        _numpy(spatial_ref(x["image"], training=False)), atol=1e-5)
    # Copies, not shared variables: the given models stay as they were.
    given = {id(v) for v in wavenet.weights + spectrogram_net.weights}
    assert not given & {id(v) for v in model.weights}


@pytest.mark.slow  # ~7 s (an EfficientNet trunk); fast smoke: the compact-trunk test below
def test_save_load_safe_mode(model, tmp_path):
    assert_save_load_identical(model, _inputs(), tmp_path)


def test_save_load_safe_mode_with_a_compact_image_trunk(tmp_path):
    """Both trunks are nested functional models copied from the given ones; the EfficientNet's own
    layers are covered by test_spectrogram_net.py::test_save_load_safe_mode."""
    model = fused(wavenet=WaveNet(EEG, blocks=BLOCKS), spectrogram_net=CompactSpectrogramNet(IMAGE, filters=(4, 8)))
    assert_save_load_identical(model, _inputs(), tmp_path)


def _check_end_to_end_training(branches, model):
    keras.utils.set_random_seed(0)
    before = [_numpy(v).copy() for v in branches[0].weights]
    temporal_before = _numpy(model.get_layer("temporal_trunk").weights[0]).copy()
    assert_training_lowers_loss(model, _inputs(batch=8), steps=3, learning_rate=3e-4)
    # Both branches train (the WaveNet trunk's first kernel moved) ...
    assert not np.array_equal(_numpy(model.get_layer("temporal_trunk").weights[0]),
                              temporal_before)
    # ... and the models the trunks were copied from did not change.
    for v, old in zip(branches[0].weights, before):
        np.testing.assert_array_equal(_numpy(v), old)


@pytest.mark.slow  # ~18 s of eager EfficientNet steps; fast smoke: the compact-trunk test below
def test_end_to_end_training_lowers_the_loss_and_leaves_the_given_models(branches, model):
    _check_end_to_end_training(branches, model)


def test_end_to_end_training_with_a_compact_image_trunk():
    """The same end-to-end training check with a CompactSpectrogramNet as the spatial trunk (fast)."""
    keras.utils.set_random_seed(0)
    branches = (WaveNet(EEG, blocks=BLOCKS), CompactSpectrogramNet(IMAGE, filters=(4, 8)))
    model = fused(wavenet=branches[0], spectrogram_net=branches[1])
    assert model.get_layer("spatial_trunk").output.shape[1:] == (8 * 8,)  # 32 / 4 rows x 8 filters
    _check_end_to_end_training(branches, model)


def test_mixed_bfloat16(mixed_bfloat16):  # noqa: F811
    model = fused(eeg_shape=EEG, image_shape=IMAGE, wavenet_blocks=BLOCKS,
                  backbone="EfficientNetV2B0")
    assert_mixed_precision(model, _inputs())


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        fused(wavenet="not a model")
    with pytest.raises(ValueError):
        fused(wavenet=keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]),
              image_shape=IMAGE, backbone="EfficientNetV2B0")
    with pytest.raises(ValueError, match="local"):
        fused(backbone_weights="imagenet")
    with pytest.raises(FileNotFoundError):
        fused(weights=os.path.join(tmp_path, "missing.weights.h5"))
    with pytest.raises(ValueError):
        fused(head_units=-3)


@pytest.mark.slow
def test_full_size_default():
    model = fused()
    assert model.get_layer("fused_features").output.shape[1:] == (256 + 1408,)
    x = {"eeg": np.zeros((1, 2000, 8), "float32"), "image": np.zeros((1, 512, 512, 3), "float32")}
    assert_logits(model(x), 1)
