import json

import keras
import numpy as np

from kerasseizure.training import losses, schedules
from kerasseizure.training.fit import EpochData, Stage, epoch_seed, fit, fit_stages, make_optimizer


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5)).astype("float32")
    y = np.eye(3, dtype="float32")[(x[:, 0] > 0).astype(int) + (x[:, 1] > 1).astype(int)] * 0.7 + 0.1
    return x, y


def _builder():
    inputs = keras.Input((5,))
    hidden = keras.layers.Dropout(0.2)(keras.layers.Dense(8, activation="relu")(inputs))
    return keras.Model(inputs, keras.layers.Dense(3)(hidden))


QUIET = dict(tensorboard=False, plot=False)


def test_kl_from_logits_matches_keras_kl_and_serialises():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(6, 6)).astype("float32")
    votes = rng.dirichlet(np.ones(6), size=6).astype("float32")
    votes[0] = [1, 0, 0, 0, 0, 0]
    ours = losses.KLDivergenceFromLogits()(votes, logits)
    reference = keras.losses.KLDivergence()(votes, keras.ops.softmax(logits))
    np.testing.assert_allclose(float(ours), float(reference), rtol=1e-5, atol=1e-6)
    clone = keras.losses.deserialize(keras.losses.serialize(losses.CrossEntropyFromLogits(class_weights=[1, 2, 3])))
    assert clone.class_weights == [1.0, 2.0, 3.0]
    onehot = np.eye(3, dtype="float32")[[0, 2]]
    logit3 = rng.normal(size=(2, 3)).astype("float32")
    plain = keras.losses.CategoricalCrossentropy(from_logits=True, reduction=None)(onehot, logit3)
    weighted = clone(onehot, logit3)
    np.testing.assert_allclose(float(weighted), float((plain[0] * 1 + plain[1] * 3) / 2), rtol=1e-5)


def test_schedules_and_optimizer():
    assert [schedules.rate_for_epoch(schedules.WAVENET_LR, e) for e in range(6)] == [1e-3, 1e-3, 1e-4, 1e-4, 1e-5, 1e-5]
    first = make_optimizer("adam", schedules.EFFICIENTNET_LR)
    assert isinstance(first, keras.optimizers.Adam) and np.isclose(float(first.learning_rate), 1e-3)
    cosine = keras.optimizers.schedules.CosineDecay(0.0, 100, warmup_target=1.0, warmup_steps=10)
    assert make_optimizer("sgd", cosine).get_config()["learning_rate"]["class_name"] == "CosineDecay"
    given = keras.optimizers.AdamW()
    assert make_optimizer(given, 0.5) is given


def test_run_folder_layout_same_seed_and_completed_run(tmp_path):
    x, y = _data()
    kwargs = dict(epochs=3, lr=[1e-2, 1e-3], batch_size=8, seed=4, **QUIET)
    a = fit(_builder, (x[:32], y[:32]), (x[32:], y[32:]), run_dir=tmp_path / "a", **kwargs)
    b = fit(_builder, (x[:32], y[:32]), (x[32:], y[32:]), run_dir=tmp_path / "b", plot=True, **{
        k: v for k, v in kwargs.items() if k != "plot"})
    assert a.history == b.history  # same seed -> same metrics
    for name in ("config.json", "environment.json", "history.csv", "best.keras", "final.keras", "result.json"):
        assert (tmp_path / "a" / name).exists(), name
    assert (tmp_path / "b" / "learning_curves.png").read_bytes()[:4] == b"\x89PNG"
    env = json.loads((tmp_path / "a" / "environment.json").read_text())["sessions"][0]
    assert {"python", "numpy", "tensorflow", "keras", "kerasseizure"} <= set(env["versions"])
    again = fit(_builder, (x[:32], y[:32]), (x[32:], y[32:]), run_dir=tmp_path / "a", **kwargs)
    assert again.epochs_run == 0 and again.history == a.history
    np.testing.assert_allclose(again.model.predict(x, verbose=0), a.model.predict(x, verbose=0), rtol=1e-6)
    assert epoch_seed(4, 1) != epoch_seed(4, 2) and epoch_seed(4, 1) == epoch_seed(4, 1)


def test_early_stopping_and_epoch_data(tmp_path):
    x, y = _data()
    data = EpochData((x, y), augment=None)
    result = fit(_builder, data, (x, y), run_dir=tmp_path / "r", epochs=30, lr=1e-6, batch_size=8, seed=0,
                 min_delta=1.0, early_stopping_patience=2, **QUIET)
    assert result.stopped_early and result.epochs_completed == 3


def test_two_stage_training_resumes_per_stage(tmp_path):
    x, y = _data()
    stages = [Stage("few_votes", (x[:24], y[:24]), epochs=2, lr=1e-2),
              Stage("many_votes", (x[24:], y[24:]), epochs=1, lr=[1e-3])]
    first = fit_stages(_builder, stages, run_dir=tmp_path / "run", batch_size=8, seed=1, **QUIET)
    assert [r.epochs_run for r in first] == [2, 1]
    again = fit_stages(_builder, stages, run_dir=tmp_path / "run", batch_size=8, seed=1, **QUIET)
    assert [r.epochs_run for r in again] == [0, 0]
    np.testing.assert_allclose(again[-1].model.predict(x, verbose=0), first[-1].model.predict(x, verbose=0),
                               rtol=1e-6)




def test_a_step_cap_trains_that_many_batches_per_epoch_and_is_recorded(tmp_path):
    x, y = _data()
    result = fit(_builder, (x, y), (x, y), run_dir=tmp_path / "r", epochs=2, batch_size=8, seed=0,
                 max_steps_per_epoch=2, **QUIET)
    assert int(result.model.optimizer.iterations) == 2 * 2  # 48 windows would be 6 batches an epoch
    assert json.loads((tmp_path / "r" / "config.json").read_text())["max_steps_per_epoch"] == 2
