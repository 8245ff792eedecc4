import keras
import numpy as np

from kerasseizure.training.distillation import distill
from kerasseizure.training.fit import fit


def _task(seed=0):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(10, 4))
    x = rng.normal(size=(1200, 10)).astype("float32")
    labels = np.argmax(x @ w, axis=1)
    return x, np.eye(4, dtype="float32")[labels]


def _net(width, name):
    def build():
        inputs = keras.Input((10,))
        hidden = keras.layers.Dense(width, activation="relu", name=f"{name}_embedding")(inputs)
        return keras.Model(inputs, keras.layers.Dense(4, name=f"{name}_logits")(hidden))

    return build


def _accuracy(model, x, y):
    return float(np.mean(np.argmax(model.predict(x, verbose=0), 1) == np.argmax(y, 1)))


def test_distilled_student_beats_student_trained_alone(tmp_path):
    # Teacher trained on 1000 labelled samples. The student alone has 40 labelled samples; the
    # distilled student has the teacher's temperature-softened outputs on the 1000 inputs as its
    # only target (alpha=0: Hinton's transfer set, the labels passed are not used).
    x, y = _task()
    x_test, y_test = x[1000:], y[1000:]
    # Few epochs of larger batches: fit's per-epoch work (checkpoints) costs more than the steps.
    # The student alone still gets 80 updates (10 epochs of 8 batches of 5).
    common = dict(seed=5, tensorboard=False, plot=False)
    teacher = fit(_net(64, "t"), (x[:1000], y[:1000]), run_dir=tmp_path / "teacher", epochs=5, lr=2e-2,
                  batch_size=50, loss="cross_entropy", **common).model
    few = (x[:40], y[:40])
    alone = fit(_net(8, "s"), few, run_dir=tmp_path / "alone", epochs=10, lr=1e-2, batch_size=5,
                loss="cross_entropy", **common).model
    unlabelled = (x[:1000], np.zeros_like(y[:1000]))
    distilled = distill(teacher, _net(8, "s"), unlabelled, run_dir=tmp_path / "kd", epochs=5, lr=2e-2,
                        batch_size=50, temperature=2.0, alpha=0.0, **common)
    acc_teacher = _accuracy(teacher, x_test, y_test)
    acc_alone = _accuracy(alone, x_test, y_test)
    acc_kd = _accuracy(distilled.model, x_test, y_test)
    assert acc_teacher > 0.85
    assert acc_kd > acc_alone + 0.03, (acc_teacher, acc_alone, acc_kd)
    saved = keras.models.load_model(tmp_path / "kd" / "final.keras")
    assert len(saved.outputs) == 1
    np.testing.assert_allclose(saved.predict(x_test[:8], verbose=0), distilled.model.predict(x_test[:8], verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_feature_matching_trains_and_extracts_single_output_student(tmp_path):
    x, y = _task(1)
    teacher = _net(16, "t")()
    result = distill(teacher, _net(8, "s"), (x[:64], y[:64]), (x[64:96], y[64:96]), run_dir=tmp_path / "kd",
                     epochs=2, feature_layers=("t_embedding", "s_embedding"), feature_weight=0.5,
                     batch_size=16, seed=0, tensorboard=False, plot=False)
    assert len(result.model.outputs) == 1
    assert "val_student_loss" in result.history and np.isfinite(result.history["loss"]).all()
    assert result.best["monitor"] == "val_student_loss"


def _bn_net(name):
    def build():
        inputs = keras.Input((10,))
        hidden = keras.layers.Dense(8, name=f"{name}_embedding")(inputs)
        hidden = keras.layers.BatchNormalization(name=f"{name}_bn")(hidden)
        return keras.Model(inputs, keras.layers.Dense(4, name=f"{name}_logits")(keras.layers.ReLU()(hidden)))

    return build


def test_recomputed_batchnorm_statistics_are_the_students_only(tmp_path):
    from kerasseizure.training.batchnorm import recompute_batchnorm_statistics

    x, y = _task(2)
    teacher = _bn_net("t")()
    teacher(x[:4])
    teacher_variance = teacher.get_layer("t_bn").moving_variance.numpy().copy()
    for feature_layers in (None, ("t_embedding", "s_embedding")):
        run_dir = tmp_path / ("features" if feature_layers else "logits")
        result = distill(teacher, _bn_net("s"), (x[:64], y[:64]), run_dir=run_dir, epochs=1, batch_size=16, seed=0,
                         feature_layers=feature_layers, recompute_batchnorm=2, tensorboard=False, plot=False)
        np.testing.assert_array_equal(teacher.get_layer("t_bn").moving_variance.numpy(), teacher_variance)
        student = result.model
        recomputed = student.get_layer("s_bn").moving_variance.numpy().copy()
        # the statistics of the final weights on the training data: far from the (1, ..) start
        # that 4 steps at momentum 0.99 would leave, and what recomputing again gives
        assert not np.allclose(recomputed, 1.0, atol=0.05)
        recompute_batchnorm_statistics(student, [x[i:i + 16] for i in range(0, 64, 16)])
        np.testing.assert_allclose(student.get_layer("s_bn").moving_variance.numpy(), recomputed, rtol=0.5)
        saved = keras.models.load_model(run_dir / "final.keras")
        np.testing.assert_allclose(saved.get_layer("s_bn").moving_variance.numpy(), recomputed)
