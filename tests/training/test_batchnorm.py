import json

import keras
import numpy as np
import pytest

from kerasseizure.training.batchnorm import (
    batchnorm_layers, recompute_batchnorm_statistics, set_batchnorm_momentum,
)
from kerasseizure.training.fit import FitConfigError, fit


def _two_bn_model():
    """Dense -> BN -> relu -> nested (Dense -> BN) -> Dense: two BN layers, one inside a nested model."""
    inner_in = keras.Input((6,))
    inner = keras.Model(inner_in, keras.layers.BatchNormalization(name="bn_inner")(
        keras.layers.Dense(6, name="inner_dense")(inner_in)), name="inner")
    inputs = keras.Input((4,))
    x = keras.layers.BatchNormalization(name="bn_outer")(keras.layers.Dense(6, name="dense")(inputs))
    x = inner(keras.layers.ReLU()(x))
    return keras.Model(inputs, keras.layers.Dense(3, name="logits")(x))


def _batches(x, sizes):
    edges = np.cumsum([0] + list(sizes))
    return [x[a:b] for a, b in zip(edges[:-1], edges[1:])]


def test_layers_found_recursively_and_momentum_set():
    model = _two_bn_model()
    assert [layer.name for layer in batchnorm_layers(model)] == ["bn_outer", "bn_inner"]
    set_batchnorm_momentum(model, 0.5)
    assert [layer.momentum for layer in batchnorm_layers(model)] == [0.5, 0.5]
    assert set_batchnorm_momentum(model, None) is model
    with pytest.raises(ValueError, match="momentum"):
        set_batchnorm_momentum(model, 1.0)


def test_statistics_are_the_size_weighted_average_of_the_batch_statistics():
    keras.utils.set_random_seed(0)
    model = _two_bn_model()
    x = np.random.default_rng(0).normal(2.0, 3.0, size=(23, 4)).astype("float32")
    sizes = [8, 8, 7]
    dense = model.get_layer("dense")
    inner_dense = model.get_layer("inner").get_layer("inner_dense")
    outer = model.get_layer("bn_outer")
    # the reference: per batch, the BN inputs (outer: dense(x); inner: through the training-mode outer BN)
    expected_mean = np.zeros(6)
    expected_var = np.zeros(6)
    inner_mean = np.zeros(6)
    inner_var = np.zeros(6)
    for batch in _batches(x, sizes):
        h = keras.ops.convert_to_numpy(dense(batch)).astype(np.float64)
        expected_mean += len(batch) * h.mean(0)
        expected_var += len(batch) * h.var(0)
        normalised = (h - h.mean(0)) / np.sqrt(h.var(0) + outer.epsilon)
        g = keras.ops.convert_to_numpy(inner_dense(np.maximum(normalised, 0).astype("float32"))).astype(np.float64)
        inner_mean += len(batch) * g.mean(0)
        inner_var += len(batch) * g.var(0)
    seen = recompute_batchnorm_statistics(model, [(b, None) for b in _batches(x, sizes)])
    assert seen == 23
    np.testing.assert_allclose(outer.moving_mean.numpy(), expected_mean / 23, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(outer.moving_variance.numpy(), expected_var / 23, rtol=1e-5)
    bn_inner = model.get_layer("inner").get_layer("bn_inner")
    np.testing.assert_allclose(bn_inner.moving_mean.numpy(), inner_mean / 23, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn_inner.moving_variance.numpy(), inner_var / 23, rtol=1e-4)
    assert outer.momentum == 0.99 and bn_inner.momentum == 0.99   # restored
    # max_batches: only the first batch counts
    assert recompute_batchnorm_statistics(model, _batches(x, sizes), max_batches=1) == 8
    h = keras.ops.convert_to_numpy(dense(x[:8]))
    np.testing.assert_allclose(outer.moving_mean.numpy(), h.mean(0), rtol=1e-5, atol=1e-5)


def test_frozen_layers_keep_theirs_and_a_failure_restores_every_layer():
    model = _two_bn_model()
    model.get_layer("inner").trainable = False
    x = np.random.default_rng(1).normal(size=(16, 4)).astype("float32")
    before = {layer.name: layer.moving_mean.numpy().copy() for layer in batchnorm_layers(model)}
    recompute_batchnorm_statistics(model, [x])
    assert not np.allclose(model.get_layer("bn_outer").moving_mean.numpy(), before["bn_outer"])
    np.testing.assert_array_equal(model.get_layer("inner").get_layer("bn_inner").moving_mean.numpy(),
                                  before["bn_inner"])

    model.get_layer("inner").trainable = True
    before = {layer.name: layer.moving_variance.numpy().copy() for layer in batchnorm_layers(model)}

    def failing():
        yield x
        raise RuntimeError("reader died")

    with pytest.raises(RuntimeError, match="reader died"):
        recompute_batchnorm_statistics(model, failing())
    for layer in batchnorm_layers(model):
        np.testing.assert_array_equal(layer.moving_variance.numpy(), before[layer.name])
        assert layer.momentum == 0.99
    with pytest.raises(ValueError, match="no batch"):
        recompute_batchnorm_statistics(model, [])
    with pytest.raises(ValueError, match="max_batches"):
        recompute_batchnorm_statistics(model, [x], max_batches=0)


def test_fit_recomputes_the_final_statistics_and_resume_keeps_them(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = np.eye(3, dtype="float32")[(x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)]
    kwargs = dict(epochs=2, lr=1e-2, batch_size=16, seed=3, loss="cross_entropy", tensorboard=False, plot=False)
    plain = fit(_two_bn_model, (x, y), run_dir=tmp_path / "plain", **kwargs)
    precise = fit(_two_bn_model, (x, y), run_dir=tmp_path / "precise", recompute_batchnorm=3, **kwargs)
    # same training, different statistics: the moving averages of 8 steps at 0.99 are still near (0, 1)
    for name in ("dense", "logits"):
        np.testing.assert_array_equal(plain.model.get_layer(name).kernel.numpy(),
                                      precise.model.get_layer(name).kernel.numpy())
    plain_var = plain.model.get_layer("bn_outer").moving_variance.numpy()
    precise_var = precise.model.get_layer("bn_outer").moving_variance.numpy()
    assert not np.allclose(plain_var, precise_var, rtol=0.05)
    record = json.loads((tmp_path / "precise" / "result.json").read_text())
    assert record["batchnorm_samples"] == 48   # 3 batches of 16
    # final.keras carries the recomputed statistics; best.keras the moving averages
    final = keras.saving.load_model(tmp_path / "precise" / "final.keras", compile=False)
    np.testing.assert_allclose(final.get_layer("bn_outer").moving_variance.numpy(), precise_var)
    best = keras.saving.load_model(tmp_path / "precise" / "best.keras", compile=False)
    np.testing.assert_allclose(best.get_layer("bn_outer").moving_variance.numpy(), plain_var)
    again = fit(_two_bn_model, (x, y), run_dir=tmp_path / "precise", recompute_batchnorm=3, **kwargs)
    assert again.epochs_run == 0
    np.testing.assert_allclose(again.model.predict(x, verbose=0), precise.model.predict(x, verbose=0), rtol=1e-6)
    with pytest.raises(FitConfigError, match="recompute_batchnorm"):
        fit(_two_bn_model, (x, y), run_dir=tmp_path / "bad", recompute_batchnorm=0, **kwargs)


def test_fit_killed_before_the_final_checkpoint_recomputes_the_same_statistics(tmp_path, monkeypatch):
    from kerasseizure.training import fit as fit_module

    rng = np.random.default_rng(4)
    x = rng.normal(size=(48, 4)).astype("float32")
    y = np.eye(3, dtype="float32")[(x[:, 0] > 0).astype(int)]
    kwargs = dict(epochs=2, lr=1e-2, batch_size=8, seed=5, loss="cross_entropy", tensorboard=False, plot=False,
                  recompute_batchnorm=4)
    whole = fit(_two_bn_model, (x, y), run_dir=tmp_path / "whole", **kwargs)

    def killed(*args, **kw):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(fit_module, "_finish", killed)
        with pytest.raises(KeyboardInterrupt):
            fit(_two_bn_model, (x, y), run_dir=tmp_path / "killed", **kwargs)
    resumed = fit(_two_bn_model, (x, y), run_dir=tmp_path / "killed", **kwargs)
    assert resumed.epochs_run == 0
    for a, b in zip(batchnorm_layers(whole.model), batchnorm_layers(resumed.model)):
        np.testing.assert_allclose(a.moving_mean.numpy(), b.moving_mean.numpy(), rtol=1e-6)
        np.testing.assert_allclose(a.moving_variance.numpy(), b.moving_variance.numpy(), rtol=1e-6)
