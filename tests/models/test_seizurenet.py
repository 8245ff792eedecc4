import numpy as np
import pytest

import keras

from kerasseizure.models.layers import (
    MemberLogits,
    dense_inception_layer,
    inception_conv,
    transition,
)
from kerasseizure.models.seizurenet import SeizureNet, seizurenet_member, seizurenet_with_embeddings

SHAPES = ((20, 24, 3), (20, 48, 3), (20, 96, 3))
# A small configuration with every architectural feature (3 members, 2 blocks, a transition).
SMALL = dict(stem_filters=8, growth_rate=6, layers_per_block=(1, 1), embedding_dim=16)


def _inputs(n=4, shapes=SHAPES, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(n,) + s).astype("float32") for s in shapes]


def test_default_seizurenet_contract(default_seizurenet, default_seizurenet_member):
    model = default_seizurenet  # shared (session fixture in conftest.py): read only
    assert [tuple(t.shape[1:]) for t in model.inputs] == list(SHAPES)
    assert [t.name for t in model.inputs] == ["ses_0", "ses_1", "ses_2"]
    assert tuple(model.output.shape) == (None, 7)
    assert model.output.dtype == "float32"
    # The numbers quoted in docs/seizurenet.md.
    assert model.count_params() == 1_464_153
    assert default_seizurenet_member.count_params() == 488_051
    assert tuple(model.get_layer("embedding").output.shape) == (None, 3 * 128)
    out = model(_inputs(2), training=False)
    assert out.shape == (2, 7) and np.all(np.isfinite(out))


def test_list_and_dict_inputs_agree_and_ensemble_is_the_mean_of_members():
    model = SeizureNet(SHAPES, num_classes=5, **SMALL)
    x = _inputs()
    by_list = keras.ops.convert_to_numpy(model(x, training=False))
    by_dict = keras.ops.convert_to_numpy(
        model({f"ses_{i}": v for i, v in enumerate(x)}, training=False)
    )
    np.testing.assert_allclose(by_list, by_dict, rtol=1e-6, atol=1e-6)
    view = seizurenet_with_embeddings(model)
    out = {k: keras.ops.convert_to_numpy(v) for k, v in view(x, training=False).items()}
    assert out["member_logits"].shape == (4, 3, 5)
    assert out["embedding"].shape == (4, 3 * 16)
    np.testing.assert_allclose(out["logits"], by_list, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["member_logits"].mean(axis=1), by_list, rtol=1e-5, atol=1e-6)
    assert np.all(np.isfinite(out["embedding"]))


def test_single_member_and_one_input_ensemble():
    member = seizurenet_member((20, 24, 3), num_classes=4, factorize=True, **SMALL)
    assert tuple(member.output.shape) == (None, 4)
    assert member.get_layer("block0_l0_inception_5x1") is not None
    out = seizurenet_with_embeddings(member)(_inputs(3, SHAPES[:1]), training=False)
    assert out["member_logits"].shape == (3, 1, 4) and out["embedding"].shape == (3, 16)
    single = SeizureNet(SHAPES[:1], num_classes=4, **SMALL)
    assert single(_inputs(3, SHAPES[:1]), training=False).shape == (3, 4)


def test_a_few_steps_lower_the_loss():
    keras.utils.set_random_seed(0)
    shapes = SHAPES[:2]
    model = SeizureNet(shapes, num_classes=3, head_dropout=0.0, **SMALL)
    rng = np.random.default_rng(1)
    y = np.arange(24) % 3
    x = [rng.normal(size=(24,) + s).astype("float32") + y[:, None, None, None] for s in shapes]
    model.compile(
        optimizer=keras.optimizers.Adam(2e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        run_eagerly=True,  # tracing a graph costs more than these few steps on CPU (~2x)
    )
    # Training-mode losses: the batch-norm moving averages lag behind after so few steps. Each eager
    # step costs ~1-2 s (op dispatch, whatever the batch size): three steps, ending near 0.58x.
    losses = model.fit(x, y, epochs=3, batch_size=24, verbose=0).history["loss"]
    assert losses[-1] < 0.7 * losses[0]


def test_keras_save_load_safe_mode(tmp_path):
    model = SeizureNet(SHAPES, num_classes=7, **SMALL)
    x = _inputs()
    path = tmp_path / "seizurenet.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(model(x, training=False)),
        keras.ops.convert_to_numpy(loaded(x, training=False)),
    )
    assert isinstance(loaded.get_layer("member_logits"), MemberLogits)


def test_mixed_bfloat16_keeps_float32_variables_and_logits():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = SeizureNet(SHAPES, num_classes=7, **SMALL)
        assert all(v.dtype == "float32" for v in model.weights)
        assert model.get_layer("member0_stem_conv").compute_dtype == "bfloat16"
        out = model(_inputs(2), training=False)
        assert keras.backend.standardize_dtype(out.dtype) == "float32"
        assert np.all(np.isfinite(keras.ops.convert_to_numpy(out)))
    finally:
        keras.config.set_dtype_policy(previous)


def test_member_logits_layer_config_round_trip():
    layer = MemberLogits(2, 3, name="heads")
    x = np.random.default_rng(0).normal(size=(4, 10)).astype("float32")
    y = keras.ops.convert_to_numpy(layer(x))
    clone = MemberLogits.from_config(layer.get_config())
    clone.build((None, 10))
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(clone(x)), y)
    # Member 1 reads only the second half of the features.
    k1 = keras.ops.convert_to_numpy(layer.kernels[1])
    b1 = keras.ops.convert_to_numpy(layer.biases[1])
    np.testing.assert_allclose(y[:, 1], x[:, 5:] @ k1 + b1, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError):
        MemberLogits(3, 2)(np.ones((1, 10), "float32"))


def test_blocks_shapes():
    x = keras.Input((20, 24, 16))
    assert tuple(inception_conv(x, 4, (1, 3, 5), factorize=True).shape) == (None, 20, 24, 12)
    assert tuple(dense_inception_layer(x, 6, (3, 5)).shape) == (None, 20, 24, 22)
    assert tuple(transition(keras.Input((5, 3, 10))).shape) == (None, 3, 2, 5)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(growth_rate=25),  # not divisible by 3 kernel sizes
        dict(input_shapes=((20, 24),)),
        dict(input_shapes=(20, 24, 3)),
        dict(input_shapes=()),
        dict(compression=0.0),
        dict(dropout=1.0),
        dict(layers_per_block=()),
        dict(layers_per_block=4),
        dict(kernel_sizes=(3, 3)),
        dict(num_classes=0),
        dict(input_names=("a", "a", "b")),
    ],
)
def test_bad_arguments_raise_value_error(kwargs):
    args = dict(SMALL)
    args.update(kwargs)
    with pytest.raises(ValueError):
        SeizureNet(**args)
