"""HMS scoring: the competition KL on out-of-fold tables (probability helpers: kerasseizure.probabilities).

Scores are the competition's (`metrics.kaggle_kl_divergence`, exact scorer semantics) on float64
probabilities, on every validated eeg_id ("all") and on the eeg_ids with >= 10 votes on every
sub-row ("high"). `oof_frame` / `score_oof` / `average_results` / `reference_predictions` build and
score out-of-fold tables in the `HMSCVResult.oof` layout. Re-exported by
`kerasseizure.experiments.hms`.
"""

import math

import numpy as np
import pandas as pd

from kerasseizure.io.labels import HMS_CLASSES
from kerasseizure.probabilities import average_probabilities, renormalise


def targets_of(table, positions):
    """The vote probabilities (float64, class order HMS_CLASSES) of table rows `positions`."""
    return table.iloc[np.asarray(positions, dtype=np.int64)][list(HMS_CLASSES)].to_numpy(np.float64)


def kl_metrics(table, positions, probabilities):
    """Kaggle KL on every eeg_id of `positions` and on its >= 10-vote ("high") eeg_ids.

    Returns:
        {"kl_all", "kl_high" (NaN when no high eeg_id), "n_all", "n_high"}.
    """
    from kerasseizure.evaluation.metrics import kaggle_kl_divergence

    positions = np.asarray(positions, dtype=np.int64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if len(positions) != len(probabilities):
        raise ValueError(f"{len(positions)} positions but {len(probabilities)} probability rows")
    y = targets_of(table, positions)
    high = (table["population"].to_numpy()[positions] == "high")
    out = {"kl_all": float(kaggle_kl_divergence(y, probabilities)) if len(y) else float("nan"),
           "n_all": int(len(y)), "n_high": int(high.sum())}
    out["kl_high"] = float(kaggle_kl_divergence(y[high], probabilities[high])) if high.any() else float("nan")
    return out


def per_class_kl(table, positions, probabilities):
    """Each class's share of the KL: mean over rows of y_c log(y_c / p_c) (sums to the KL)."""
    from kerasseizure.evaluation.metrics import KAGGLE_EPSILON, kl_terms

    y = targets_of(table, positions)
    p = np.clip(np.asarray(probabilities, dtype=np.float64), KAGGLE_EPSILON, 1 - KAGGLE_EPSILON)
    return np.asarray(kl_terms(y, p)).mean(axis=0)


def prior_probabilities(table, train_positions, n_rows):
    """The training fold's mean vote distribution repeated `n_rows` times (a reference)."""
    prior = targets_of(table, train_positions).mean(axis=0)
    return np.tile(renormalise(prior[None]), (int(n_rows), 1))


def oof_frame(table, fold_results):
    """The out-of-fold table of `{fold: FoldResult}` (see HMSCVResult.oof)."""
    parts = []
    for fold, result in fold_results.items():
        positions = np.asarray(result.predictions["position"], dtype=np.int64)
        part = pd.DataFrame(np.asarray(result.predictions["probabilities"], dtype=np.float64),
                            columns=list(HMS_CLASSES))
        part.insert(0, "population", table["population"].to_numpy()[positions])
        part.insert(0, "eeg_id", np.asarray(result.predictions["eeg_id"], dtype=np.int64))
        part.insert(0, "position", positions)
        part.insert(0, "fold", int(fold))
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def score_oof(table, oof, name, members=()):
    """Per-fold and pooled KL of an out-of-fold table (HMSCVResult.oof layout)."""
    from kerasseizure.evaluation.reports import summarise

    per_fold = {}
    for fold, part in oof.groupby("fold", sort=True):
        per_fold[int(fold)] = kl_metrics(table, part["position"].to_numpy(np.int64),
                                         part[list(HMS_CLASSES)].to_numpy(np.float64))
    pooled = kl_metrics(table, oof["position"].to_numpy(np.int64), oof[list(HMS_CLASSES)].to_numpy(np.float64))
    summary = summarise(list(per_fold.values()))
    return {"name": name, "members": list(members), "oof": oof, "pooled": pooled, "per_fold": per_fold,
            "summary": summary}


def average_results(table, results, name="both"):
    """The paper's "both": mean of the members' out-of-fold probabilities, rows renormalised.

    Args:
        table: features.table (for the targets and populations).
        results: HMSCVResult list validated on the same eeg_ids.
        name: the ensemble's label.

    Returns:
        `score_oof` dict (name, members, oof, pooled, per_fold, summary).
    """
    if not results:
        raise ValueError("average_results needs at least one result")
    base = results[0].oof
    for other in results[1:]:
        if not np.array_equal(other.oof["position"].to_numpy(), base["position"].to_numpy()):
            raise ValueError(f"{other.config.name} was validated on other eeg_ids than {results[0].config.name}")
    oof = base[["fold", "position", "eeg_id", "population"]].copy()
    oof[list(HMS_CLASSES)] = average_probabilities(*[r.oof[list(HMS_CLASSES)].to_numpy(np.float64)
                                                     for r in results])
    return score_oof(table, oof, name, [r.config.name for r in results])


def reference_predictions(table, folds, fold_indices=None, truth=None):
    """Out-of-fold tables of the references: uniform 1/6, the training fold's class prior and,
    given `truth`, the vote distributions the votes were drawn from (a synthetic corpus).

    Args:
        table: features.table (eeg_id, population, the vote columns).
        folds: [(train, valid)] positions into `table`.
        fold_indices: the folds to score (default all).
        truth: None, or a DataFrame with eeg_id and one column per class (HMS_CLASSES), holding
            every validated eeg_id (`io.synthetic.generating_vote_distributions`).

    Returns:
        {"uniform": oof DataFrame, "train prior": oof DataFrame[, "truth": oof DataFrame]}.
    """
    indices = list(range(len(folds))) if fold_indices is None else list(fold_indices)
    labels = ("uniform", "train prior") + (() if truth is None else ("truth",))
    if truth is not None:
        truth = truth.set_index("eeg_id")[list(HMS_CLASSES)]
        missing = sorted(set(table["eeg_id"].to_numpy(np.int64)) - set(truth.index))
        if missing:
            raise ValueError(f"the truth lacks {len(missing)} eeg_ids of the table, e.g. {missing[:5]}")
    out = {}
    for label in labels:
        parts = []
        for k in indices:
            train, valid = folds[k]
            valid = np.asarray(valid, dtype=np.int64)
            if label == "uniform":
                p = np.full((len(valid), len(HMS_CLASSES)), 1.0 / len(HMS_CLASSES))
            elif label == "train prior":
                p = prior_probabilities(table, train, len(valid))
            else:
                p = truth.loc[table["eeg_id"].to_numpy(np.int64)[valid]].to_numpy(np.float64)
            parts.append(oof_part(table, k, valid, p))
        out[label] = pd.concat(parts, ignore_index=True)
    return out


def oof_part(table, fold, positions, probabilities):
    """One fold's rows of an out-of-fold table: fold, position, eeg_id, population, the classes."""
    positions = np.asarray(positions, dtype=np.int64)
    part = pd.DataFrame(np.asarray(probabilities, dtype=np.float64), columns=list(HMS_CLASSES))
    part.insert(0, "population", table["population"].to_numpy()[positions])
    part.insert(0, "eeg_id", table["eeg_id"].to_numpy(np.int64)[positions])
    part.insert(0, "position", positions)
    part.insert(0, "fold", int(fold))
    return part


def finite_or_none(value):
    """A float, or None for NaN / inf (JSON-friendly)."""
    value = float(value)
    return value if math.isfinite(value) else None
