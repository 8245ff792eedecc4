"""The HMS feature baseline: soft-target logistic regression, C chosen inside the training fold."""

import numpy as np
import pandas as pd
import pytest

from kerasseizure.experiments import hms_baseline
from kerasseizure.io.labels import HMS_CLASSES


def _votes_table(n=120, seed=0):
    """A table with 2 informative features: the votes follow a softmax of them (and patients)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 2))
    logits = np.stack([x[:, 0], -x[:, 0], x[:, 1], -x[:, 1], 0.5 * x[:, 0], np.zeros(n)], axis=1)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    table = pd.DataFrame(p, columns=list(HMS_CLASSES))
    table.insert(0, "patient_id", np.arange(n) // 3)
    table.insert(0, "eeg_id", np.arange(n) + 1000)
    table["population"] = np.where(np.arange(n) % 4 == 0, "high", "low")
    return x, table


def test_soft_targets_are_fitted_as_distributions():
    x, table = _votes_table()
    targets = table[list(HMS_CLASSES)].to_numpy()
    model = hms_baseline.fit_vote_regression(x, targets, c=100.0)
    predicted = hms_baseline.predict_votes(model, x)
    # the data are exactly a multinomial logistic model of x: a weak penalty recovers the distributions
    np.testing.assert_allclose(predicted, targets, atol=0.03)
    # fitting hard labels of the argmax instead would give far more confident (worse) distributions
    hard = hms_baseline.fit_vote_regression(x, np.eye(6)[targets.argmax(axis=1)], c=100.0)
    assert np.abs(hms_baseline.predict_votes(hard, x) - targets).max() > 0.2


def test_a_class_without_votes_gets_zero_and_c_is_chosen_on_the_training_rows_only():
    x, table = _votes_table()
    targets = table[list(HMS_CLASSES)].to_numpy().copy()
    targets[:, 5] = 0
    targets /= targets.sum(axis=1, keepdims=True)
    model = hms_baseline.fit_vote_regression(x, targets, c=1.0)
    predicted = hms_baseline.predict_votes(model, x)
    assert predicted.shape == (len(x), 6) and (predicted[:, 5] == 0).all()
    np.testing.assert_allclose(predicted.sum(axis=1), 1.0)

    train = np.arange(60)
    c, scores = hms_baseline.choose_c(x, table, train, grid=(0.001, 1.0))
    assert c == 1.0 and scores[1.0] < scores[0.001]  # the informative features need a weak penalty
    # the rows outside `train` do not enter the choice
    damaged = table.copy()
    damaged.loc[60:, list(HMS_CLASSES)] = np.eye(6)[0]
    assert hms_baseline.choose_c(x, damaged, train, grid=(0.001, 1.0)) == (c, scores)


def test_needs_the_eeg_view():
    class Features:
        arrays, views = {"eeg_panels": None}, ("image",)

    with pytest.raises(ValueError, match="needs the eeg view"):
        hms_baseline.vote_baseline_predictions(Features(), [], [0])
