import os

import keras
import numpy as np
import pytest

from kerasseizure.models.spectrogram_net import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    SpectrogramNet,
    backbone_input_map,
    backbone_names,
)
from tests.models.checks import (
    assert_logits,
    assert_mixed_precision,
    assert_save_load_identical,
    assert_training_lowers_loss,
)

SMALL = (32, 32, 3)


def _image(batch=2, shape=SMALL, seed=0):
    # Roughly what the pipeline produces: standardised values, mostly in [-2, 2].
    return np.random.default_rng(seed).normal(size=(batch,) + shape).astype("float32")


def _backbone(model):
    return next(layer for layer in model.layers if isinstance(layer, keras.Model))


# small_v2b0: SpectrogramNet(SMALL, "EfficientNetV2B0", dropout=0.2), a session fixture in conftest.py
# shared with test_fusion.py (EfficientNet builds are the slow part here).


def test_default_is_efficientnetv2b2_with_six_logits():
    # Parameters do not depend on the image size, so build the default backbone small.
    model = SpectrogramNet(input_shape=SMALL)
    backbone = _backbone(model)
    assert backbone.name == "efficientnetv2-b2"
    assert model.get_layer("pooled_features").output.shape[1:] == (1408,)
    # EfficientNetV2B2 without top: 8,769,374 parameters; head: 1408 * 6 + 6.
    assert backbone.count_params() == 8769374
    assert model.count_params() == 8769374 + 1408 * 6 + 6
    assert_logits(model(_image()), 2)


@pytest.mark.parametrize("backbone", ["EfficientNetV2B2", "EfficientNetB0"])
def test_imagenet_input_map_is_the_inverse_of_imagenet_standardisation(backbone):
    scale, offset = backbone_input_map(backbone)
    v = _image(batch=3)
    pixels = v * np.asarray(scale, "float32") + np.asarray(offset, "float32")
    np.testing.assert_allclose(
        (pixels / 255.0 - np.asarray(IMAGENET_MEAN)) / np.asarray(IMAGENET_STD), v, atol=1e-4)


def test_input_map_of_v2_s_m_l_is_the_inverse_of_their_minus_one_one_rescaling():
    scale, offset = backbone_input_map("EfficientNetV2S")
    v = _image()
    np.testing.assert_allclose((v * scale + offset) / 128.0 - 1.0, v, atol=1e-5)


def test_backbone_preprocessing_gives_back_the_pipeline_values(small_v2b0):
    # Our Rescaling, then the backbone's own preprocessing layers (Rescaling(1/255) and the
    # ImageNet Normalization): the first convolution sees the pipeline values unchanged.
    model = small_v2b0
    v = _image(batch=3)
    x = model.get_layer("to_backbone_pixels")(v)
    preprocessing = _backbone(model).layers[1:3]
    assert [type(layer) for layer in preprocessing] == [keras.layers.Rescaling,
                                                        keras.layers.Normalization]
    for layer in preprocessing:
        x = layer(x)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(x), v, atol=1e-4)


def test_save_load_safe_mode(small_v2b0, tmp_path):
    # EfficientNetV2 carries Rescaling + Normalization(mean, variance) layers.
    assert_save_load_identical(small_v2b0, _image(), tmp_path)


@pytest.mark.slow
def test_save_load_safe_mode_v1_backbone(tmp_path):
    # EfficientNet (V1) carries a Normalization whose statistics are weights.
    model = SpectrogramNet(input_shape=SMALL, backbone="EfficientNetB0")
    assert_save_load_identical(model, _image(), tmp_path)


@pytest.mark.slow
def test_a_few_steps_lower_the_loss():
    keras.utils.set_random_seed(0)
    model = SpectrogramNet(input_shape=SMALL, backbone="EfficientNetV2B0")
    assert_training_lowers_loss(model, _image(batch=8), steps=5, learning_rate=3e-4)


def test_mixed_bfloat16(mixed_bfloat16):  # noqa: F811
    model = SpectrogramNet(input_shape=SMALL, backbone="EfficientNetV2B0")
    assert_mixed_precision(model, _image())


def test_weights_only_from_local_files(small_v2b0, tmp_path):
    with pytest.raises(ValueError, match="local"):
        SpectrogramNet(input_shape=SMALL, backbone_weights="imagenet")
    with pytest.raises(ValueError, match="local"):
        SpectrogramNet(input_shape=SMALL, weights="imagenet")
    with pytest.raises(FileNotFoundError, match="not found"):
        SpectrogramNet(input_shape=SMALL, backbone_weights=os.path.join(tmp_path, "b2.h5"))
    # A local backbone ("notop") weights file is loaded into the backbone.
    path = os.path.join(tmp_path, "notop.weights.h5")
    _backbone(small_v2b0).save_weights(path)
    model = SpectrogramNet(input_shape=SMALL, backbone="EfficientNetV2B0", backbone_weights=path)
    for a, b in zip(_backbone(small_v2b0).weights, _backbone(model).weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


@pytest.mark.parametrize("kwargs", [
    {"backbone": "ResNet50"},
    {"input_shape": (512, 512)},
    {"input_shape": (16, 16, 3)},
    {"input_shape": (64, 64, 1)},
    {"dropout": 1.0},
    {"num_classes": 0},
])
def test_bad_arguments_raise_value_error(kwargs, monkeypatch):
    # Every bad argument is refused before the backbone (the default EfficientNetV2B2 on 512 x 512
    # images, seconds to build) is built.
    def never(*args, **kwargs):
        raise AssertionError("the backbone was built before the arguments were checked")

    monkeypatch.setattr(keras.applications, "EfficientNetV2B2", never)
    with pytest.raises(ValueError):
        SpectrogramNet(**kwargs)


def test_backbone_names():
    assert {"EfficientNetV2B2", "EfficientNetV2B0", "EfficientNetB0"} <= set(backbone_names())
    assert backbone_input_map("efficientnet_v2_b2") == backbone_input_map("EfficientNetV2B2")


@pytest.mark.slow
def test_full_size_default_forward():
    model = SpectrogramNet()
    assert model.input.shape[1:] == (512, 512, 3)
    assert_logits(model(_image(batch=1, shape=(512, 512, 3))), 1)
