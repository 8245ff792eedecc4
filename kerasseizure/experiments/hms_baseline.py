"""The HMS feature baseline of table 2: hand-made pattern features and a logistic regression on the votes.

The TUSZ table has its IBM-feature baselines; this is HMS's: `signal.hms_features.pattern_features`
of each eeg_id's WaveNet view (band powers, low-frequency peak, periodicity, lateralisation) and
a multinomial logistic regression fitted to the vote distributions. Soft targets are fitted
exactly by giving each eeg_id one training row per class weighted by that class's vote share:
the weighted log-loss is then the cross-entropy with the vote distribution, the quantity the
Kaggle KL ranks models by. The regularisation C is chosen inside each training fold
(GroupKFold by patient), so the validation fold never picks it.
"""

import numpy as np
import pandas as pd

from kerasseizure.evaluation.folds import group_kfold_by_patient
from kerasseizure.evaluation.hms_scoring import kl_metrics, oof_part, targets_of
from kerasseizure.io.labels import HMS_CLASSES

# Inverse regularisation strengths tried inside each training fold.
C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
INNER_FOLDS = 3


def fit_vote_regression(x, targets, c, seed=0):
    """A StandardScaler + multinomial LogisticRegression fitted to vote distributions.

    Args:
        x: (n, features) array.
        targets: (n, classes) vote distributions (rows summing to 1).
        c: inverse regularisation strength.
        seed: random_state of the solver.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    targets = np.asarray(targets, dtype=np.float64)
    n, k = targets.shape
    rows = np.repeat(np.arange(n), k)
    labels = np.tile(np.arange(k), n)
    weights = targets.reshape(-1)
    keep = weights > 0
    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=5000, random_state=seed))
    model.fit(x[rows[keep]], labels[keep], logisticregression__sample_weight=weights[keep])
    return model


def predict_votes(model, x, n_classes=len(HMS_CLASSES)):
    """(n, n_classes) probabilities of a `fit_vote_regression` model; 0 for a class no training
    row voted for (a tiny corpus), which the regression cannot know."""
    out = np.zeros((len(x), n_classes))
    out[:, model.classes_] = model.predict_proba(x)
    return out


def choose_c(x, table, train, seed=0, grid=C_GRID, n_folds=INNER_FOLDS):
    """The C of `grid` with the lowest pooled KL over GroupKFold(n_folds) by patient of the rows `train`."""
    train = np.asarray(train, dtype=np.int64)
    inner = group_kfold_by_patient(table.iloc[train].reset_index(drop=True), n_folds)
    scores = {}
    for c in grid:
        predicted, positions = [], []
        for fit_rows, check_rows in inner:
            model = fit_vote_regression(x[train[fit_rows]], targets_of(table, train[fit_rows]), c, seed)
            predicted.append(predict_votes(model, x[train[check_rows]]))
            positions.append(train[check_rows])
        scores[c] = kl_metrics(table, np.concatenate(positions), np.concatenate(predicted))["kl_all"]
    return min(grid, key=lambda c: scores[c]), scores


def vote_baseline_predictions(features, folds, fold_indices, seed=0):
    """Out-of-fold predictions of the feature baseline, in `experiments.hms`'s oof layout.

    Args:
        features: HMSFeatures with the "eeg" view (the WaveNet input).
        folds: [(train, valid)] positions into `features.table`.
        fold_indices: the folds to predict.
        seed: the solver's random_state.

    Returns:
        (oof DataFrame: fold, position, eeg_id, population and one column per class;
        {fold: {"c": chosen C, "inner_kl": {C: KL}}}).
    """
    from kerasseizure.signal.hms_features import pattern_features

    if "wavenet" not in features.arrays:
        raise ValueError(f"the feature baseline needs the eeg view; the features hold {features.views}")
    table = features.table
    rows = table["row"].to_numpy(np.int64)
    x = pattern_features(np.asarray(features.arrays["wavenet"][rows, 0], dtype=np.float32))
    parts, chosen = [], {}
    for k in fold_indices:
        train, valid = (np.asarray(p, dtype=np.int64) for p in folds[k])
        c, inner = choose_c(x, table, train, seed)
        model = fit_vote_regression(x[train], targets_of(table, train), c, seed)
        parts.append(oof_part(table, k, valid, predict_votes(model, x[valid])))
        chosen[int(k)] = {"c": c, "inner_kl": inner}
    return pd.concat(parts, ignore_index=True), chosen
