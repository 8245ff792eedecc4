"""Cross-validation protocols of both benchmarks, on tables (one row per seizure / per eeg_id).

- `seizure_wise_folds`: IBM's seizure-wise K-fold (TUSZ, 5 folds): per seizure type, an
  unshuffled KFold over that type's seizures; fold i validates every type's i-th split.
  Patients leak across folds by design.
- `patient_wise_folds`: IBM's patient-wise K-fold (TUSZ v1.5.2, 3 folds, seed 2001): types
  visited rarest first, each patient assigned once (with all its seizures) through the first
  type where it has a seizure, a shuffled KFold over each type's newly assigned patients.
- `group_kfold_by_patient`: the HMS public starters' GroupKFold(5) by patient_id.
- `leakage_report`: per fold, the patients found on both sides.

Every protocol returns a list of (train_positions, validation_positions) int64 arrays of row
positions (not index labels) in the given table, each sorted ascending. Reference code and the
exact semantics are recorded in docs/protocols.md.
"""

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold, KFold

from kerasseizure.errors import KerasSeizureError
from kerasseizure.io.labels import PATIENT_WISE_TYPE_ORDER

# IBM drops myoclonic seizures (3 in TUSZ v1.5.2) from both protocols: they are in no fold.
IBM_EXCLUDED_LABELS = ("mysz",)
IBM_PATIENT_WISE_SEED = 2001


class FoldError(KerasSeizureError, ValueError):
    """A table cannot be split as the protocol asks (missing columns, too few seizures/patients)."""


# ----------------------------------------------------------------------------------------------
# TUSZ: IBM seizure-wise protocol
# ----------------------------------------------------------------------------------------------

def seizure_wise_folds(seizures, n_folds=5, label_column="label",
                       exclude_labels=IBM_EXCLUDED_LABELS):
    """IBM's seizure-wise cross-validation: per type, KFold(n_folds) without shuffle.

    For each seizure type separately, that type's seizures (in the table's row order) are cut
    into `n_folds` contiguous blocks by sklearn's KFold (the first n % n_folds blocks one seizure
    longer); fold i validates the union of every type's i-th block and trains on the rest.
    Seizures whose label is in `exclude_labels` are in no fold (IBM excludes MYSZ).

    Args:
        seizures: DataFrame, one row per seizure, with `label_column` (case-insensitive types).
        n_folds: number of folds (IBM: 5).
        label_column: column holding the seizure type.
        exclude_labels: types left out of every fold, train and validation alike.

    Returns:
        list of n_folds (train_positions, validation_positions) sorted int64 arrays.

    Raises:
        FoldError: a kept type has fewer seizures than folds (sklearn's KFold, and therefore
            IBM's script, refuses it; exclude the type as IBM did with MYSZ).

    Example:
        >>> table = pd.DataFrame({"label": ["fnsz"] * 5 + ["gnsz"] * 5,
        ...                       "patient_id": list("aabbcddeef")})
        >>> [v.tolist() for _, v in seizure_wise_folds(table, n_folds=5)]
        [[0, 5], [1, 6], [2, 7], [3, 8], [4, 9]]
    """
    _check_n_folds(n_folds)
    labels = _normalised_labels(seizures, label_column)
    kept = _kept_rows(labels, exclude_labels)
    validation = [[] for _ in range(n_folds)]
    for seizure_type in pd.unique(labels[kept]):
        positions = np.flatnonzero(kept & (labels == seizure_type))
        if positions.shape[0] < n_folds:
            raise FoldError(
                f"type {seizure_type!r} has {positions.shape[0]} seizure(s), fewer than "
                f"n_folds={n_folds}; IBM's KFold cannot split it - exclude it (exclude_labels)")
        for fold, (_, block) in enumerate(KFold(n_splits=n_folds).split(positions)):
            validation[fold].append(positions[block])
    return _folds_from_validation(np.flatnonzero(kept), validation)


# ----------------------------------------------------------------------------------------------
# TUSZ: IBM patient-wise protocol
# ----------------------------------------------------------------------------------------------

def patient_wise_folds(seizures, n_folds=3, seed=IBM_PATIENT_WISE_SEED,
                       type_order=PATIENT_WISE_TYPE_ORDER, label_column="label",
                       patient_column="patient_id", exclude_labels=IBM_EXCLUDED_LABELS):
    """IBM's patient-wise cross-validation: each patient, with all its seizures, in one fold.

    Types are visited in `type_order` (IBM: rarest first, TNSZ SPSZ ABSZ TCSZ CPSZ GNSZ FNSZ).
    For each type, its patients not yet assigned are sorted (np.unique / np.setdiff1d order) and
    split by KFold(n_folds, shuffle=True, random_state=seed); fold i validates every seizure of
    the patients of every type's i-th split and trains on the seizures of all other assigned
    patients. A type whose patients were all assigned through rarer types is skipped.

    Args:
        seizures: DataFrame, one row per seizure, with `patient_column` and `label_column`.
            Use TUSZ's 8-character patient ids as strings to get IBM's sorted patient order.
        n_folds: number of folds (IBM: 3).
        seed: KFold random_state (IBM: 2001, chosen by them to balance fold sizes).
        type_order: order in which types are visited (lower case).
        label_column: column holding the seizure type (case-insensitive).
        patient_column: column holding the patient id.
        exclude_labels: types whose seizures are in no fold (IBM excludes MYSZ).

    Returns:
        list of n_folds (train_positions, validation_positions) sorted int64 arrays.

    Raises:
        FoldError: a kept seizure has a type outside `type_order`, or a type has between 1 and
            n_folds - 1 unassigned patients (sklearn's KFold, and IBM's script, refuse it).

    Example:
        >>> table = pd.DataFrame({"label": ["tnsz"] * 3 + ["fnsz"] * 4,
        ...                       "patient_id": ["p1", "p2", "p3", "p1", "p4", "p5", "p6"]})
        >>> len(patient_wise_folds(table, n_folds=3))
        3
    """
    _check_n_folds(n_folds)
    labels = _normalised_labels(seizures, label_column)
    patients = _column_values(seizures, patient_column)
    kept = _kept_rows(labels, exclude_labels)
    order = _lower(type_order)
    unknown = sorted(set(labels[kept].tolist()) - set(order))
    if unknown:
        raise FoldError(f"seizure type(s) {unknown} are not in type_order {tuple(order)}; "
                        f"add them to type_order or to exclude_labels")
    validation_patients = _patient_splits(labels[kept], patients[kept], order, n_folds, seed)
    validation = [[np.flatnonzero(kept & np.isin(patients, group))]
                  for group in validation_patients]
    return _folds_from_validation(np.flatnonzero(kept), validation)


def _patient_splits(labels, patients, type_order, n_folds, seed):
    """Per fold, the patients it validates (IBM's rarest-type-first assignment)."""
    splitter = KFold(n_splits=n_folds, shuffle=True, random_state=seed)
    assigned = np.array([], dtype=patients.dtype)
    fold_patients = [[] for _ in range(n_folds)]
    for seizure_type in type_order:
        candidates = np.setdiff1d(np.unique(patients[labels == seizure_type]), assigned)
        if candidates.shape[0] == 0:
            continue
        if candidates.shape[0] < n_folds:
            raise FoldError(
                f"type {seizure_type!r} has {candidates.shape[0]} patient(s) not assigned through "
                f"rarer types, fewer than n_folds={n_folds}; IBM's KFold cannot split them")
        assigned = np.concatenate([assigned, candidates])
        for fold, (_, chosen) in enumerate(splitter.split(candidates)):
            fold_patients[fold].append(candidates[chosen])
    return [np.concatenate(groups) if groups else np.array([], dtype=patients.dtype)
            for groups in fold_patients]


# ----------------------------------------------------------------------------------------------
# HMS: GroupKFold by patient
# ----------------------------------------------------------------------------------------------

def group_kfold_by_patient(table, n_folds=5, patient_column="patient_id"):
    """The HMS starters' protocol: sklearn GroupKFold(n_folds) with patient_id as the groups.

    GroupKFold (no shuffle) puts the patients with most rows first, each into the fold with
    fewest rows so far; it is deterministic for a given table. Pass one row per eeg_id (the
    starters' label table) to reproduce their folds.

    Args:
        table: DataFrame with `patient_column` (e.g. HMSDataset.labels).
        n_folds: number of folds (starters: 5).
        patient_column: column holding the patient id.

    Returns:
        list of n_folds (train_positions, validation_positions) sorted int64 arrays.

    Raises:
        FoldError: the column is missing or has missing values, or there are fewer patients
            than folds.

    Example:
        >>> table = pd.DataFrame({"patient_id": [1, 1, 2, 3, 3, 3]})
        >>> [v.tolist() for _, v in group_kfold_by_patient(table, n_folds=3)]
        [[3, 4, 5], [0, 1], [2]]
    """
    _check_n_folds(n_folds)
    groups = _column_values(table, patient_column)
    n_patients = pd.unique(groups).shape[0]
    if n_patients < n_folds:
        raise FoldError(f"{n_patients} patient(s) for n_folds={n_folds}")
    splitter = GroupKFold(n_splits=n_folds)
    return [(np.sort(train).astype(np.int64), np.sort(valid).astype(np.int64))
            for train, valid in splitter.split(np.zeros((groups.shape[0], 1)), groups=groups)]


# ----------------------------------------------------------------------------------------------
# Reports and helpers
# ----------------------------------------------------------------------------------------------

def leakage_report(table, folds, patient_column="patient_id"):
    """Per fold: sizes, patients on both sides, and validation rows of such patients.

    Args:
        table: the DataFrame the folds index (row positions).
        folds: list of (train_positions, validation_positions).
        patient_column: column holding the patient id.

    Returns:
        DataFrame indexed by fold (0-based) with columns n_train, n_validation,
        n_train_patients, n_validation_patients, n_leaked_patients, n_leaked_validation_rows
        (validation rows - seizures for TUSZ - whose patient is also in training),
        n_rows_in_both (positions present on both sides; always 0 for a valid split) and
        leaked_patients (sorted list).

    Example:
        >>> table = pd.DataFrame({"patient_id": ["a", "a", "b"]})
        >>> report = leakage_report(table, [(np.array([0]), np.array([1, 2]))])
        >>> report["n_leaked_patients"].tolist(), report["n_leaked_validation_rows"].tolist()
        ([1], [1])
    """
    patients = _column_values(table, patient_column)
    rows = []
    for train, validation in folds:
        train = np.asarray(train, dtype=np.int64)
        validation = np.asarray(validation, dtype=np.int64)
        train_patients = set(patients[train].tolist())
        validation_patients = patients[validation]
        leaked = sorted(train_patients & set(validation_patients.tolist()), key=str)
        rows.append({
            "n_train": int(train.shape[0]),
            "n_validation": int(validation.shape[0]),
            "n_train_patients": len(train_patients),
            "n_validation_patients": len(set(validation_patients.tolist())),
            "n_leaked_patients": len(leaked),
            "n_leaked_validation_rows": int(np.isin(validation_patients, leaked).sum()),
            "n_rows_in_both": int(np.intersect1d(train, validation).shape[0]),
            "leaked_patients": leaked,
        })
    return pd.DataFrame(rows, index=pd.RangeIndex(len(rows), name="fold"))


def validation_fold_of_rows(n_rows, folds):
    """The fold that validates each row, or -1 for rows in no validation set.

    Args:
        n_rows: number of rows of the table the folds index.
        folds: list of (train_positions, validation_positions).

    Returns:
        int64 array (n_rows,), e.g. to store as a "fold" column.

    Raises:
        FoldError: a row is validated by more than one fold or a position is out of range.

    Example:
        >>> folds = [(np.array([1]), np.array([0])), (np.array([0]), np.array([1]))]
        >>> validation_fold_of_rows(3, folds).tolist()
        [0, 1, -1]
    """
    fold_of_row = np.full(n_rows, -1, dtype=np.int64)
    for fold, (_, validation) in enumerate(folds):
        validation = np.asarray(validation, dtype=np.int64)
        if validation.size and (validation.min() < 0 or validation.max() >= n_rows):
            raise FoldError(f"fold {fold} has positions outside 0..{n_rows - 1}")
        if np.any(fold_of_row[validation] >= 0):
            raise FoldError(f"fold {fold} validates rows already validated by another fold")
        fold_of_row[validation] = fold
    return fold_of_row


def _folds_from_validation(kept_positions, validation_blocks):
    folds = []
    for blocks in validation_blocks:
        validation = np.sort(np.concatenate(blocks)).astype(np.int64)
        train = np.setdiff1d(kept_positions, validation).astype(np.int64)
        folds.append((train, validation))
    return folds


def _kept_rows(labels, exclude_labels):
    kept = ~np.isin(labels, _lower(exclude_labels))
    if not np.any(kept):
        raise FoldError("no seizures to split once excluded labels are removed")
    return kept


def _check_n_folds(n_folds):
    if isinstance(n_folds, bool) or not isinstance(n_folds, (int, np.integer)) or n_folds < 2:
        raise FoldError(f"n_folds must be an integer >= 2; got {n_folds!r}")


def _column_values(table, column):
    if column not in table.columns:
        raise FoldError(f"the table has no {column!r} column (columns: {list(table.columns)})")
    values = table[column].to_numpy()
    if pd.isna(values).any():
        raise FoldError(f"column {column!r} has missing values")
    return values


def _normalised_labels(table, column):
    return np.array([str(label).lower() for label in _column_values(table, column)], dtype=object)


def _lower(labels):
    return [str(label).lower() for label in labels]
