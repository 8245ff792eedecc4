"""Evaluation metrics of both benchmarks: the HMS Kaggle KL divergence and the TUSZ weighted F1.

Pure NumPy / SciPy / pandas / scikit-learn (no TensorFlow), so that scores can be computed anywhere,
including on predictions read back from disk.

- `kaggle_kl_divergence` follows the competition scorer ("kullback-leibler-divergence" metric
  notebook with `kaggle_metric_utilities.verify_valid_probabilities`): both frames are checked to
  hold probabilities (values in [0, 1], rows summing to 1 by `np.allclose`) and refused otherwise;
  only the submission is clipped to [epsilon, 1 - epsilon]; terms with a zero target are 0; the
  score is the mean over rows of the per-row sums. Nothing is renormalised.
- `weighted_f1` is scikit-learn's `f1_score(average="weighted")`; `window_and_seizure_f1` gives it
  per window and per seizure (a seizure's probabilities = the mean of its windows' probabilities).
- `classification_report_frame` gives per-class precision / recall / F1 / support and the
  confusion matrix with every class of the class list present, in class order.

See docs/protocols.md for the exact semantics and what was checked against the reference code.
"""

import numpy as np
import pandas as pd
import scipy.special
import sklearn.metrics

from kerasseizure.errors import KerasSeizureError
from kerasseizure.io.labels import HMS_VOTE_COLUMNS

KAGGLE_EPSILON = 1e-15


class MetricInputError(KerasSeizureError, ValueError):
    """Inputs handed to a metric cannot be scored (shapes, ids or columns do not match)."""


class ProbabilityError(MetricInputError):
    """A table that must hold probability distributions does not (the Kaggle scorer refuses it)."""


# ----------------------------------------------------------------------------------------------
# HMS: Kaggle KL divergence
# ----------------------------------------------------------------------------------------------

def kaggle_kl_divergence(solution, submission, epsilon=KAGGLE_EPSILON, micro_average=True,
                         sample_weights=None, id_column="eeg_id", class_columns=HMS_VOTE_COLUMNS):
    """The HMS competition score: KL(solution || submission), as Kaggle's scorer computes it.

    Steps (in the scorer's order): check that both tables hold probabilities (numeric, every value
    in [0, 1], every row summing to 1 within `np.allclose` defaults) and refuse them otherwise;
    clip the submission (only) to [epsilon, 1 - epsilon]; per cell y * log(y / p) where y != 0 and
    0 where y == 0; with `micro_average` the (weighted) mean over rows of the per-row sums,
    otherwise the mean over classes of the per-class means. Rows are never renormalised.

    Args:
        solution: target probabilities, an array (n_rows, n_classes) or a DataFrame with
            `id_column` and `class_columns` (e.g. HMS train labels as in sample_submission.csv).
        submission: predicted probabilities, the same kind as `solution`. DataFrames are aligned
            on `id_column` (any row order); both must hold exactly the same, unique ids.
        epsilon: clipping bound of the submission (Kaggle: 1e-15).
        micro_average: True (the HMS setting) averages over rows; False averages per class.
        sample_weights: optional weights per row (in `solution`'s row order), micro average only.
        id_column: the id column of DataFrame inputs.
        class_columns: the probability columns of DataFrame inputs, in class order.

    Returns:
        The score as a Python float (lower is better; 0 for a perfect submission).

    Raises:
        ProbabilityError: a table is not numeric, has values outside [0, 1] or NaN, or a row
            that does not sum to 1.
        MetricInputError: shapes, columns or ids do not match.

    Example:
        >>> y = np.array([[0.0, 1.0], [0.5, 0.5]])
        >>> p = np.array([[0.2, 0.8], [0.5, 0.5]])
        >>> round(kaggle_kl_divergence(y, p), 6)   # (1*log(1/0.8) + 0) / 2
        0.111572
    """
    target, predicted = _aligned_probability_arrays(solution, submission, id_column, class_columns)
    _check_not_empty(target)
    weights = _row_weights(sample_weights, target.shape[0], micro_average)
    _check_probabilities(target, "solution")
    _check_probabilities(predicted, "submission")
    terms = kl_terms(target, np.clip(predicted, epsilon, 1.0 - epsilon))
    if micro_average:
        return float(np.average(terms.sum(axis=1), weights=weights))
    return float(np.average(terms.mean(axis=0)))


def kl_terms(target, predicted):
    """Cell-wise KL terms y * log(y / p), 0 where y == 0: `scipy.special.rel_entr` in float64.

    No clipping or checking happens here; `kaggle_kl_divergence` clips the prediction first.

    Args:
        target: array of target probabilities.
        predicted: array of predicted probabilities of the same shape, positive where target > 0.

    Returns:
        float64 array of the same shape.

    Example:
        >>> kl_terms(np.array([[0.0, 1.0]]), np.array([[0.5, 0.5]])).round(4).tolist()
        [[0.0, 0.6931]]
    """
    target = np.asarray(target, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    if target.shape != predicted.shape:
        raise MetricInputError(f"target shape {target.shape} != predicted shape {predicted.shape}")
    return scipy.special.rel_entr(target, predicted)


def _aligned_probability_arrays(solution, submission, id_column, class_columns):
    """Both inputs as float arrays (n_rows, n_classes), submission rows in solution's id order."""
    solution_is_frame = isinstance(solution, pd.DataFrame)
    if solution_is_frame != isinstance(submission, pd.DataFrame):
        raise MetricInputError(
            "solution and submission must both be DataFrames (aligned by id) or both be arrays; "
            "got one of each")
    if solution_is_frame:
        return _frames_to_arrays(solution, submission, id_column, list(class_columns))
    target = _as_numeric_2d(solution, "solution")
    predicted = _as_numeric_2d(submission, "submission")
    if target.shape != predicted.shape:
        raise MetricInputError(
            f"solution has shape {target.shape} but submission has shape {predicted.shape}")
    return target, predicted


def _check_not_empty(target):
    if target.shape[0] == 0 or target.shape[1] == 0:
        raise MetricInputError(f"nothing to score: solution has shape {target.shape}")


def _frames_to_arrays(solution, submission, id_column, class_columns):
    for name, frame in (("solution", solution), ("submission", submission)):
        missing = [c for c in [id_column, *class_columns] if c not in frame.columns]
        if missing:
            raise MetricInputError(f"{name} lacks column(s) {missing}")
        if frame[id_column].duplicated().any():
            duplicated = frame.loc[frame[id_column].duplicated(), id_column].tolist()[:5]
            raise MetricInputError(f"{name} repeats id(s) in {id_column!r}, e.g. {duplicated}")
    solution_ids = pd.Index(solution[id_column])
    submission_ids = pd.Index(submission[id_column])
    missing_ids = solution_ids.difference(submission_ids)
    extra_ids = submission_ids.difference(solution_ids)
    if len(missing_ids) or len(extra_ids):
        raise MetricInputError(
            f"ids of solution and submission differ: {len(missing_ids)} solution id(s) missing "
            f"from submission (e.g. {missing_ids[:5].tolist()}), {len(extra_ids)} submission id(s) "
            f"not in solution (e.g. {extra_ids[:5].tolist()})")
    aligned = submission.set_index(id_column).loc[solution_ids, class_columns]
    target = _as_numeric_2d(solution[class_columns], "solution")
    predicted = _as_numeric_2d(aligned, "submission")
    return target, predicted


def _as_numeric_2d(values, name):
    array = np.asarray(values)
    if array.ndim != 2:
        raise MetricInputError(f"{name} must be 2-D (rows x classes); got shape {array.shape}")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise ProbabilityError(f"all target values in {name} must be numeric (dtype {array.dtype})")
    return array.astype(np.float64)


def _row_weights(sample_weights, n_rows, micro_average):
    if sample_weights is None:
        return None
    if not micro_average:
        raise MetricInputError("sample weights are only valid with micro_average=True")
    weights = np.asarray(sample_weights, dtype=np.float64).reshape(-1)
    if weights.shape[0] != n_rows:
        raise MetricInputError(f"{weights.shape[0]} sample weights for {n_rows} rows")
    return weights


def _check_probabilities(array, name):
    """Kaggle's verify_valid_probabilities, plus an explicit refusal of NaN / infinite values."""
    if not np.all(np.isfinite(array)):
        raise ProbabilityError(f"{name} holds NaN or infinite values")
    if array.size and array.min() < 0:
        raise ProbabilityError(f"all target values in {name} must be at least zero")
    if array.size and array.max() > 1:
        raise ProbabilityError(f"all target values in {name} must be no greater than one")
    row_sums = array.sum(axis=1)
    if not np.allclose(row_sums, 1):
        bad = np.flatnonzero(~np.isclose(row_sums, 1))
        raise ProbabilityError(
            f"target values in {name} do not add to one within all rows "
            f"({bad.size} row(s), first at position {bad[0]} sums to {row_sums[bad[0]]!r})")


# ----------------------------------------------------------------------------------------------
# TUSZ: weighted F1 at window and seizure level
# ----------------------------------------------------------------------------------------------

def predicted_labels(y_pred_or_probs, class_labels=None):
    """Hard predictions: 1-D input is returned as is, 2-D probabilities become their argmax.

    Args:
        y_pred_or_probs: predicted labels (n,) or class probabilities / scores (n, n_classes).
        class_labels: optional label of each probability column (e.g. SEIZURE_TYPES); the argmax
            index is mapped through it. Without it the argmax index itself is the label.

    Returns:
        1-D numpy array of predicted labels.

    Example:
        >>> predicted_labels(np.array([[0.1, 0.9], [0.7, 0.3]]), class_labels=("a", "b")).tolist()
        ['b', 'a']
    """
    values = np.asarray(y_pred_or_probs)
    if values.ndim == 1:
        return values
    if values.ndim != 2:
        raise MetricInputError(f"predictions must be 1-D labels or 2-D scores; got {values.shape}")
    index = np.argmax(values, axis=1)
    if class_labels is None:
        return index
    class_labels = np.asarray(class_labels)
    if class_labels.shape[0] != values.shape[1]:
        raise MetricInputError(
            f"{class_labels.shape[0]} class labels for {values.shape[1]} probability columns")
    return class_labels[index]


def weighted_f1(y_true, y_pred_or_probs, labels=None, class_labels=None, zero_division=0.0):
    """Support-weighted F1 over classes: sklearn `f1_score(average="weighted")`.

    Args:
        y_true: true labels (n,).
        y_pred_or_probs: predicted labels (n,) or probabilities (n, n_classes) (argmax taken).
        labels: classes to average over (sklearn `labels`); default: those present in either.
        class_labels: label of each probability column, when probabilities are given and
            `y_true` holds names rather than column indices.
        zero_division: value for a class with no prediction (sklearn's default value is 0).

    Returns:
        float.

    Example:
        >>> probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.1, 0.9]])
        >>> round(weighted_f1([0, 0, 1, 1], probs), 4)
        0.7333
    """
    y_pred = predicted_labels(y_pred_or_probs, class_labels)
    y_true = np.asarray(y_true)
    if y_true.shape[0] != y_pred.shape[0]:
        raise MetricInputError(f"{y_true.shape[0]} true labels for {y_pred.shape[0]} predictions")
    return float(sklearn.metrics.f1_score(y_true, y_pred, labels=labels, average="weighted",
                                          zero_division=zero_division))


def seizure_level_scores(window_probs, seizure_ids):
    """Pool window probabilities into one row per seizure: the mean of its windows' rows.

    Args:
        window_probs: (n_windows, n_classes) probabilities (or any per-window scores).
        seizure_ids: (n_windows,) id of the seizure each window comes from.

    Returns:
        (ids, probs): the unique seizure ids in order of first appearance, and the
        (n_seizures, n_classes) float64 mean of each seizure's windows.

    Example:
        >>> ids, probs = seizure_level_scores(np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]),
        ...                                   ["s2", "s2", "s1"])
        >>> ids.tolist(), probs.tolist()
        (['s2', 's1'], [[0.5, 0.5], [0.5, 0.5]])
    """
    probs = np.asarray(window_probs, dtype=np.float64)
    ids, inverse = _first_appearance_codes(seizure_ids, probs.shape[0])
    if probs.ndim != 2:
        raise MetricInputError(f"window_probs must be 2-D; got shape {probs.shape}")
    sums = np.zeros((ids.shape[0], probs.shape[1]), dtype=np.float64)
    np.add.at(sums, inverse, probs)
    counts = np.bincount(inverse, minlength=ids.shape[0]).astype(np.float64)
    return ids, sums / counts[:, None]


def seizure_level_labels(window_labels, seizure_ids):
    """One label per seizure from per-window labels, refusing seizures with mixed labels.

    Args:
        window_labels: (n_windows,) true label of each window.
        seizure_ids: (n_windows,) seizure id of each window.

    Returns:
        (ids, labels) with ids in order of first appearance (the order of
        `seizure_level_scores`).

    Example:
        >>> ids, labels = seizure_level_labels(["fnsz", "fnsz", "gnsz"], [7, 7, 3])
        >>> ids.tolist(), labels.tolist()
        ([7, 3], ['fnsz', 'gnsz'])
    """
    labels = np.asarray(window_labels)
    ids, inverse = _first_appearance_codes(seizure_ids, labels.shape[0])
    _, first_rows = np.unique(inverse, return_index=True)
    per_seizure = labels[first_rows]
    mixed = per_seizure[inverse] != labels
    if np.any(mixed):
        bad = ids[inverse[np.flatnonzero(mixed)[0]]]
        raise MetricInputError(f"seizure {bad!r} has windows with different labels")
    return ids, per_seizure


def window_and_seizure_f1(window_probs, seizure_ids, window_labels, labels=None,
                          class_labels=None):
    """Weighted F1 scored per window and per seizure (mean of its windows' probabilities).

    Args:
        window_probs: (n_windows, n_classes) probabilities.
        seizure_ids: (n_windows,) seizure id of each window.
        window_labels: (n_windows,) true label of each window (constant within a seizure).
        labels: classes to average over (sklearn `labels`).
        class_labels: label of each probability column when labels are names.

    Returns:
        dict with window_f1, seizure_f1, n_windows, n_seizures.

    Example:
        >>> probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.1, 0.9]])
        >>> window_and_seizure_f1(probs, [0, 0, 1, 1], [0, 0, 1, 1])["seizure_f1"]
        1.0
    """
    _, seizure_probs = seizure_level_scores(window_probs, seizure_ids)
    _, seizure_truth = seizure_level_labels(window_labels, seizure_ids)
    return {
        "window_f1": weighted_f1(window_labels, window_probs, labels, class_labels),
        "seizure_f1": weighted_f1(seizure_truth, seizure_probs, labels, class_labels),
        "n_windows": int(np.asarray(window_probs).shape[0]),
        "n_seizures": int(seizure_truth.shape[0]),
    }


def _first_appearance_codes(ids, n_rows):
    """Unique ids in order of first appearance and each row's position among them."""
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.shape[0] != n_rows:
        raise MetricInputError(f"need one seizure id per window: {ids.shape} ids, {n_rows} rows")
    codes, uniques = pd.factorize(ids, sort=False)
    if np.any(codes < 0):
        raise MetricInputError("seizure ids must not be missing (NaN / None)")
    return np.asarray(uniques), codes


# ----------------------------------------------------------------------------------------------
# Per-class report and confusion matrix
# ----------------------------------------------------------------------------------------------

def classification_report_frame(y_true, y_pred_or_probs, class_names, labels=None):
    """Per-class precision / recall / F1 / support and the confusion matrix, in class order.

    Every class of `class_names` gets a row and a confusion row/column, also when it is absent
    from this fold (support 0; metrics of an undefined ratio are 0). Two summary rows follow:
    "macro avg" and "weighted avg" (the latter equals `weighted_f1` over the present classes).

    Args:
        y_true: true labels (n,).
        y_pred_or_probs: predicted labels (n,) or probabilities (n, n_classes), columns in class
            order.
        class_names: display name of each class, in class order (e.g. SEIZURE_TYPES).
        labels: the values `y_true` uses for those classes. Default: `class_names` when `y_true`
            holds strings, else 0..n_classes-1.

    Returns:
        (report, confusion): report is a DataFrame indexed by class name (plus the two averages)
        with columns precision, recall, f1, support; confusion is a DataFrame of counts with
        rows = true class, columns = predicted class, both named by `class_names`.

    Example:
        >>> report, confusion = classification_report_frame([0, 0, 1], [0, 1, 1], ("a", "b", "c"))
        >>> int(report.loc["c", "support"]), int(confusion.loc["a", "b"])
        (0, 1)
    """
    class_names = list(class_names)
    y_true = np.asarray(y_true)
    labels = _report_labels(y_true, class_names, labels)
    y_pred = predicted_labels(y_pred_or_probs, labels if np.ndim(y_pred_or_probs) == 2 else None)
    summary = sklearn.metrics.classification_report(y_true, y_pred, labels=labels, target_names=class_names,
                                                    output_dict=True, zero_division=0.0)
    rows = [*class_names, "macro avg", "weighted avg"]
    report = pd.DataFrame([summary[row] for row in rows], index=rows).rename(columns={"f1-score": "f1"})
    report = report[["precision", "recall", "f1", "support"]].astype({"support": np.int64})
    confusion = pd.DataFrame(sklearn.metrics.confusion_matrix(y_true, y_pred, labels=labels),
                             index=pd.Index(class_names, name="true"),
                             columns=pd.Index(class_names, name="predicted"))
    return report, confusion


def _report_labels(y_true, class_names, labels):
    if labels is None:
        is_text = y_true.dtype.kind in "OUS"
        labels = class_names if is_text else list(range(len(class_names)))
    labels = list(labels)
    if len(labels) != len(class_names):
        raise MetricInputError(f"{len(labels)} labels for {len(class_names)} class names")
    unknown = sorted(set(y_true.tolist()) - set(labels), key=str)
    if unknown:
        raise MetricInputError(f"y_true holds label(s) outside the class list: {unknown[:5]}")
    return labels
