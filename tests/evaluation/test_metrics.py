"""Metrics against independent formulas (Kaggle's scorer code, scipy rel_entr, sklearn) and hand computations."""

import math

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics
from scipy.special import rel_entr

from kerasseizure.errors import KerasSeizureError
from kerasseizure.io.labels import HMS_VOTE_COLUMNS, SEIZURE_TYPES
from kerasseizure.evaluation.metrics import (
    MetricInputError,
    ProbabilityError,
    classification_report_frame,
    kaggle_kl_divergence,
    kl_terms,
    predicted_labels,
    seizure_level_labels,
    seizure_level_scores,
    weighted_f1,
    window_and_seizure_f1,
)


def _random_distributions(rng, n_rows, n_classes, zero_fraction):
    values = rng.dirichlet(np.ones(n_classes), size=n_rows)
    values[rng.random(values.shape) < zero_fraction] = 0.0
    values[values.sum(axis=1) == 0, 0] = 1.0
    return values / values.sum(axis=1, keepdims=True)


def _reference_kl(target, predicted, epsilon=1e-15):
    """The competition scorer's own arithmetic (its pandas column loop with np.log), micro average."""
    solution, submission = pd.DataFrame(target), pd.DataFrame(predicted)
    for col in solution.columns:
        submission[col] = np.clip(submission[col], epsilon, 1 - epsilon)
        nonzero = solution[col] != 0
        solution.loc[nonzero, col] = solution.loc[nonzero, col] * np.log(
            solution.loc[nonzero, col] / submission.loc[nonzero, col])
        solution.loc[~nonzero, col] = 0
    return float(np.average(solution.sum(axis=1)))


def _frame(ids, values, columns=HMS_VOTE_COLUMNS):
    frame = pd.DataFrame(values, columns=list(columns))
    frame.insert(0, "eeg_id", ids)
    return frame


# --- KL divergence ----------------------------------------------------------------------------

def test_kl_matches_the_kaggle_scorer_with_zero_targets_and_zero_predictions():
    rng = np.random.default_rng(0)
    target = _random_distributions(rng, 200, 6, zero_fraction=0.4)
    predicted = _random_distributions(rng, 200, 6, zero_fraction=0.3)
    assert (target == 0).any() and (predicted == 0).any()
    assert kaggle_kl_divergence(target, predicted) == pytest.approx(
        _reference_kl(target, predicted), rel=1e-12)


def test_kl_known_values_from_the_kaggle_metric_docstring():
    # The two worked examples in the docstring of Kaggle's kullback-leibler-divergence metric.
    solution = pd.DataFrame({"id": range(4), "ham": [0, 1, 1, 0], "spam": [1, 0, 0, 1]})
    submission = pd.DataFrame({"id": range(4), "ham": [.1, .9, .8, .35],
                               "spam": [.9, .1, .2, .65]})
    assert kaggle_kl_divergence(solution, submission, id_column="id",
                                class_columns=("ham", "spam")) == pytest.approx(0.216161, abs=1e-6)
    solution = pd.DataFrame({"id": range(3), "ham": [0, 0.5, 0.5], "spam": [0.1, 0.5, 0.5],
                             "other": [0.9, 0, 0]})
    submission = pd.DataFrame({"id": range(3), "ham": [0.2, 0.3, 0.5], "spam": [0.1, 0.5, 0.5],
                               "other": [0.7, 0.2, 0]})
    columns = ("ham", "spam", "other")
    assert kaggle_kl_divergence(solution, solution.copy(), id_column="id",
                                class_columns=columns) == 0.0
    assert kaggle_kl_divergence(solution, submission, id_column="id",
                                class_columns=columns) == pytest.approx(0.160531, abs=1e-6)


def test_submission_zero_is_clipped_to_epsilon():
    target = np.array([[1.0, 0.0], [0.5, 0.5]])
    predicted = np.array([[0.0, 1.0], [0.5, 0.5]])
    expected = (math.log(1 / 1e-15) + 0.0) / 2   # row 1: 1 * log(1 / 1e-15); row 2: 0
    assert kaggle_kl_divergence(target, predicted) == pytest.approx(expected, rel=1e-12)
    assert kaggle_kl_divergence(target, predicted, epsilon=1e-6) == pytest.approx(
        math.log(1e6) / 2, rel=1e-9)


def test_only_the_submission_is_clipped_and_nothing_is_renormalised():
    # A submission row summing to 1 + 5e-9 passes np.allclose and is scored as given.
    target = np.array([[0.25, 0.75]])
    predicted = np.array([[0.25 + 5e-9, 0.75]])
    expected = 0.25 * math.log(0.25 / (0.25 + 5e-9))
    assert kaggle_kl_divergence(target, predicted) == pytest.approx(expected, rel=1e-9)


def test_dataframes_are_aligned_by_id_and_extra_columns_ignored():
    rng = np.random.default_rng(1)
    ids = rng.permutation(1000)[:50] + 10_000
    target = _random_distributions(rng, 50, 6, 0.5)
    predicted = _random_distributions(rng, 50, 6, 0.1)
    solution = _frame(ids, target)
    submission = _frame(ids, predicted).sample(frac=1.0, random_state=3)
    submission["notes"] = "x"
    assert kaggle_kl_divergence(solution, submission) == pytest.approx(
        _reference_kl(target, predicted), rel=1e-12)


def test_macro_average_and_sample_weights():
    rng = np.random.default_rng(2)
    target = _random_distributions(rng, 30, 6, 0.3)
    predicted = _random_distributions(rng, 30, 6, 0.0)
    cells = rel_entr(target, predicted)
    assert kaggle_kl_divergence(target, predicted, micro_average=False) == pytest.approx(
        cells.mean(axis=0).mean(), rel=1e-12)
    weights = rng.random(30)
    assert kaggle_kl_divergence(target, predicted, sample_weights=weights) == pytest.approx(
        np.sum(cells.sum(axis=1) * weights) / weights.sum(), rel=1e-12)
    with pytest.raises(MetricInputError, match="micro_average"):
        kaggle_kl_divergence(target, predicted, micro_average=False, sample_weights=weights)


def test_integer_one_hot_solution_is_accepted():
    target = np.array([[0, 1], [1, 0]])
    predicted = np.array([[0.5, 0.5], [0.5, 0.5]])
    assert kaggle_kl_divergence(target, predicted) == pytest.approx(math.log(2), rel=1e-12)


@pytest.mark.parametrize("which", ["solution", "submission"])
@pytest.mark.parametrize("row, message", [
    ([0.5, 0.6], "add to one"),
    ([-0.1, 1.1], "at least zero"),
    ([1.2, -0.2], "at least zero"),
    ([np.nan, 1.0], "NaN"),
])
def test_refuses_rows_that_are_not_distributions(which, row, message):
    good = np.array([[0.5, 0.5], [0.3, 0.7]])
    bad = np.array([row, [0.3, 0.7]])
    args = (bad, good) if which == "solution" else (good, bad)
    with pytest.raises(ProbabilityError, match=message) as raised:
        kaggle_kl_divergence(*args)
    assert which in str(raised.value)
    assert isinstance(raised.value, KerasSeizureError) and isinstance(raised.value, ValueError)


def test_refuses_value_above_one():
    # max > 1 with rows summing to 1 needs a negative partner; the lower bound is checked first,
    # as in Kaggle's verify_valid_probabilities. A lone value above one fails the upper bound.
    with pytest.raises(ProbabilityError, match="no greater than one"):
        kaggle_kl_divergence(np.array([[1.5, 0.0]]), np.array([[0.5, 0.5]]))


def test_refuses_mismatched_ids_duplicates_columns_and_shapes():
    values = np.full((3, 6), 1 / 6)
    solution = _frame([1, 2, 3], values)
    with pytest.raises(MetricInputError, match="ids of solution and submission differ"):
        kaggle_kl_divergence(solution, _frame([1, 2, 4], values))
    with pytest.raises(MetricInputError, match="ids of solution and submission differ"):
        kaggle_kl_divergence(solution, _frame([1, 2, 3, 4], np.full((4, 6), 1 / 6)))
    with pytest.raises(MetricInputError, match="repeats id"):
        kaggle_kl_divergence(solution, _frame([1, 2, 2], values))
    with pytest.raises(MetricInputError, match="lacks column"):
        kaggle_kl_divergence(solution, _frame([1, 2, 3], values).drop(columns="lpd_vote"))
    with pytest.raises(MetricInputError, match="shape"):
        kaggle_kl_divergence(values, values[:2])
    with pytest.raises(MetricInputError, match="both be"):
        kaggle_kl_divergence(solution, values)
    with pytest.raises(MetricInputError, match="nothing to score"):
        kaggle_kl_divergence(np.zeros((0, 6)), np.zeros((0, 6)))
    with pytest.raises(ProbabilityError, match="numeric"):
        kaggle_kl_divergence(np.array([["a", "b"]]), np.array([[0.5, 0.5]]))


def test_kl_terms_zero_where_target_zero():
    terms = kl_terms(np.array([[0.0, 0.5, 0.5]]), np.array([[0.0, 0.25, 0.75]]))
    np.testing.assert_allclose(terms, rel_entr([[0.0, 0.5, 0.5]], [[0.0, 0.25, 0.75]]))


# --- F1 -----------------------------------------------------------------------------------------

def test_weighted_f1_matches_sklearn_on_labels_and_probabilities():
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 7, 300)
    probs = rng.random((300, 7))
    expected = sklearn.metrics.f1_score(y_true, probs.argmax(axis=1), average="weighted")
    assert weighted_f1(y_true, probs) == pytest.approx(expected, rel=1e-12)
    assert weighted_f1(y_true, probs.argmax(axis=1)) == pytest.approx(expected, rel=1e-12)
    names = np.array(SEIZURE_TYPES)[y_true]
    assert weighted_f1(names, probs, class_labels=SEIZURE_TYPES) == pytest.approx(expected)


def test_seizure_level_pooling_by_hand():
    probs = np.array([
        [0.9, 0.1, 0.0],   # seizure "b"
        [0.1, 0.8, 0.1],   # seizure "a"
        [0.3, 0.7, 0.0],   # seizure "b"
        [0.2, 0.2, 0.6],   # seizure "c"
        [0.6, 0.4, 0.0],   # seizure "b"
    ])
    ids, pooled = seizure_level_scores(probs, ["b", "a", "b", "c", "b"])
    assert ids.tolist() == ["b", "a", "c"]
    np.testing.assert_allclose(pooled, [[0.6, 0.4, 0.0], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]])


def test_window_and_seizure_f1_by_hand():
    # Seizure 0 (class 0): windows argmax 0, 1, 0 -> mean (0.5, 0.5-ish) argmax 0.
    # Seizure 1 (class 1): windows argmax 1, 0 -> mean argmax 1.
    probs = np.array([[0.9, 0.1], [0.4, 0.6], [0.7, 0.3], [0.1, 0.9], [0.55, 0.45]])
    seizure_ids = [10, 10, 10, 11, 11]
    labels = [0, 0, 0, 1, 1]
    scores = window_and_seizure_f1(probs, seizure_ids, labels)
    window_expected = sklearn.metrics.f1_score(labels, [0, 1, 0, 1, 0], average="weighted")
    assert scores["window_f1"] == pytest.approx(window_expected)
    assert scores["seizure_f1"] == 1.0
    assert (scores["n_windows"], scores["n_seizures"]) == (5, 2)


def test_seizure_with_mixed_window_labels_is_refused():
    with pytest.raises(MetricInputError, match="different labels"):
        seizure_level_labels([0, 1], ["s", "s"])
    ids, labels = seizure_level_labels(["fnsz", "gnsz", "fnsz"], [4, 2, 4])
    assert ids.tolist() == [4, 2] and labels.tolist() == ["fnsz", "gnsz"]


def test_predicted_labels_checks_class_labels():
    with pytest.raises(MetricInputError):
        predicted_labels(np.zeros((2, 3)), class_labels=("a", "b"))


# --- report ---------------------------------------------------------------------------------

def test_report_keeps_absent_classes_in_class_order():
    y_true = np.array(["fnsz", "fnsz", "gnsz", "cpsz", "gnsz"])
    y_pred = np.array(["fnsz", "gnsz", "gnsz", "fnsz", "gnsz"])
    report, confusion = classification_report_frame(y_true, y_pred, SEIZURE_TYPES)
    assert list(report.index) == [*SEIZURE_TYPES, "macro avg", "weighted avg"]
    assert list(confusion.index) == list(SEIZURE_TYPES) == list(confusion.columns)
    assert report.loc["absz", "support"] == 0 and report.loc["absz", "f1"] == 0.0
    assert confusion.to_numpy().sum() == 5
    assert confusion.loc["fnsz", "gnsz"] == 1 and confusion.loc["cpsz", "fnsz"] == 1
    reference = sklearn.metrics.classification_report(
        y_true, y_pred, labels=list(SEIZURE_TYPES), output_dict=True, zero_division=0)
    for name in SEIZURE_TYPES:
        assert report.loc[name, "precision"] == pytest.approx(reference[name]["precision"])
        assert report.loc[name, "recall"] == pytest.approx(reference[name]["recall"])
        assert report.loc[name, "f1"] == pytest.approx(reference[name]["f1-score"])
    assert report.loc["weighted avg", "f1"] == pytest.approx(weighted_f1(y_true, y_pred))
    assert report.loc["macro avg", "f1"] == pytest.approx(reference["macro avg"]["f1-score"])
    assert report.loc["weighted avg", "support"] == 5


def test_report_from_probabilities_with_integer_labels():
    probs = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1]])
    report, confusion = classification_report_frame([0, 1, 1], probs, ("a", "b", "c"))
    assert confusion.loc["b", "a"] == 1 and confusion.loc["c"].sum() == 0
    assert report.loc["b", "recall"] == 0.5
    with pytest.raises(MetricInputError, match="outside the class list"):
        classification_report_frame([0, 5], [0, 1], ("a", "b"))
