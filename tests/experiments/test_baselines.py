"""Baselines: every pipeline learns a separable synthetic problem, and a seed fixes the model."""

import numpy as np
import pytest
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from kerasseizure.experiments.baselines import (
    BASELINES,
    BaselineError,
    flatten_windows,
    make_baseline,
)
from kerasseizure.evaluation.metrics import weighted_f1


def _separable_windows(seed, n_per_class=80, n_classes=3, shape=(20, 6)):
    """IBM-shaped windows (n, 20, F): each class raises a different block of frequency bins."""
    rng = np.random.default_rng(seed)
    features, labels = [], []
    for label in range(n_classes):
        block = rng.normal(0.0, 1.0, size=(n_per_class, *shape))
        block[:, :, label * 2:(label + 1) * 2] += 2.0
        features.append(block)
        labels.append(np.full(n_per_class, label))
    order = rng.permutation(n_per_class * n_classes)
    return np.concatenate(features)[order], np.concatenate(labels)[order]


@pytest.fixture(autouse=True)
def one_thread():
    # HistGradientBoosting's OpenMP threads crawl on a busy 2-core machine; one thread is fast.
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def train_and_test():
    return _separable_windows(seed=0), _separable_windows(seed=1, n_per_class=40)


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_baseline_learns_and_beats_chance(name, train_and_test):
    (x_train, y_train), (x_test, y_test) = train_and_test
    model = make_baseline(name, seed=0).fit(x_train, y_train)
    probs = model.predict_proba(x_test)
    assert probs.shape == (len(y_test), 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-9)
    assert weighted_f1(y_test, probs) > 0.8          # chance is about 1/3
    flat = model.predict(x_test.reshape(len(x_test), -1))  # per-window vectors work too
    np.testing.assert_array_equal(flat, model.predict(x_test))


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_baseline_is_reproducible_for_a_seed(name, train_and_test):
    (x_train, y_train), (x_test, _) = train_and_test
    first = make_baseline(name, seed=3).fit(x_train, y_train).predict_proba(x_test)
    second = make_baseline(name, seed=3).fit(x_train, y_train).predict_proba(x_test)
    np.testing.assert_array_equal(first, second)


def test_pipeline_steps_scale_only_where_needed():
    for name in BASELINES:
        model = make_baseline(name)
        assert isinstance(model, Pipeline)
        steps = [step for step, _ in model.steps]
        expected = ["flatten", "scale", "classifier"] if name in ("knn", "sgd") else \
            ["flatten", "classifier"]
        assert steps == expected
    assert make_baseline("sgd", seed=7).named_steps["classifier"].random_state == 7


def test_published_numbers_and_names():
    assert {k: v.published_weighted_f1 for k, v in BASELINES.items()} == {
        "knn": 0.884, "sgd": 0.649, "adaboost": 0.509, "gradient_boosting": 0.782}
    assert BASELINES["gradient_boosting"].display_name == \
        "gradient boosting (sklearn, in place of XGBoost)"
    display, f1, source = BASELINES["knn"]
    assert (display, f1) == ("k-NN", 0.884) and "1902.01012" in source


def test_overrides_and_refusals():
    model = make_baseline("knn", classifier_params={"n_neighbors": 3})
    assert model.named_steps["classifier"].n_neighbors == 3
    with pytest.raises(BaselineError, match="unknown baseline"):
        make_baseline("xgboost")
    with pytest.raises(BaselineError, match="bad parameters"):
        make_baseline("sgd", classifier_params={"no_such_parameter": 1})
    with pytest.raises(BaselineError):
        flatten_windows(np.zeros(3))
