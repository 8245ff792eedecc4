"""Cross-validation protocols: hand-worked IBM assignments, a re-statement of IBM's script, leakage."""

import collections

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GroupKFold, KFold

from kerasseizure.errors import KerasSeizureError
from kerasseizure.evaluation.folds import (
    FoldError,
    group_kfold_by_patient,
    leakage_report,
    patient_wise_folds,
    seizure_wise_folds,
    validation_fold_of_rows,
)


def _as_lists(folds):
    return [(train.tolist(), validation.tolist()) for train, validation in folds]


def _random_tusz_table(seed, n_seizures=400):
    """Seizure table shaped like TUSZ: many FNSZ/GNSZ, few patients for the rare types."""
    rng = np.random.default_rng(seed)
    types = ["fnsz", "gnsz", "cpsz", "absz", "tnsz", "tcsz", "spsz"]
    weights = np.array([0.5, 0.2, 0.12, 0.06, 0.04, 0.04, 0.04])
    labels = rng.choice(types, size=n_seizures, p=weights)
    patients = np.empty(n_seizures, dtype=object)
    pools = {t: [f"{i:08d}" for i in rng.choice(1000, size=k, replace=False)]
             for t, k in zip(types, [40, 25, 12, 6, 3, 6, 3])}
    for row, label in enumerate(labels):
        patients[row] = rng.choice(pools[label])
    return pd.DataFrame({"patient_id": patients, "label": labels})


# --- seizure-wise -------------------------------------------------------------------------------

HAND_SEIZURE_TABLE = pd.DataFrame({
    "label": ["fnsz", "gnsz", "fnsz", "fnsz", "gnsz", "mysz", "fnsz",
              "gnsz", "fnsz", "gnsz", "fnsz", "gnsz", "fnsz"],
    "patient_id": ["p1", "p2", "p1", "p3", "p2", "p9", "p3", "p4", "p5", "p4", "p5", "p6", "p6"],
})


def test_seizure_wise_hand_worked_assignment():
    # fnsz at rows 0 2 3 6 8 10 12 (7 seizures): KFold(5) blocks of 2 2 1 1 1 ->
    #   [0 2] [3 6] [8] [10] [12]
    # gnsz at rows 1 4 7 9 11 (5 seizures): [1] [4] [7] [9] [11]
    # mysz (row 5) is excluded: in no train and no validation set.
    folds = seizure_wise_folds(HAND_SEIZURE_TABLE, n_folds=5)
    expected_validation = [[0, 1, 2], [3, 4, 6], [7, 8], [9, 10], [11, 12]]
    kept = [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12]
    assert [v for _, v in _as_lists(folds)] == expected_validation
    for (train, validation), expected in zip(_as_lists(folds), expected_validation):
        assert train == [row for row in kept if row not in expected]
        assert 5 not in train and 5 not in validation


def test_seizure_wise_matches_ibm_script_restated():
    # IBM's generate_seizure_wise_cv_folds, restated on a table: files grouped by type in
    # listing order, KFold(5) per type, fold i collects every type's i-th split.
    table = _random_tusz_table(seed=4)
    files_by_type = collections.defaultdict(list)
    for row, label in enumerate(table["label"]):
        files_by_type[label.upper()].append(row)
    ibm = {fold: {"train": [], "val": []} for fold in range(5)}
    for _, rows in files_by_type.items():
        rows = np.array(rows)
        for fold, (train, val) in enumerate(KFold(n_splits=5).split(rows)):
            ibm[fold]["train"].extend(rows[train])
            ibm[fold]["val"].extend(rows[val])
    folds = seizure_wise_folds(table, n_folds=5)
    for fold, (train, validation) in enumerate(folds):
        assert train.tolist() == sorted(ibm[fold]["train"])
        assert validation.tolist() == sorted(ibm[fold]["val"])


def test_seizure_wise_is_stratified_per_type_and_leaks_patients():
    table = _random_tusz_table(seed=5)
    folds = seizure_wise_folds(table)
    counts = table["label"].value_counts()
    for _, validation in folds:
        fold_counts = table["label"].iloc[validation].value_counts()
        for label, total in counts.items():
            assert fold_counts[label] in (total // 5, total // 5 + 1)
    assert validation_fold_of_rows(len(table), folds).min() == 0    # every seizure validated once
    assert leakage_report(table, folds)["n_leaked_patients"].sum() > 0


def test_seizure_wise_too_few_seizures_and_case_insensitive_labels():
    table = pd.DataFrame({"label": ["FNSZ"] * 5 + ["MYSZ"] * 3 + ["TNSZ"] * 2,
                          "patient_id": list("abcdefghij")})
    with pytest.raises(FoldError, match="'tnsz' has 2 seizure"):
        seizure_wise_folds(table)
    folds = seizure_wise_folds(table, exclude_labels=("mysz", "tnsz"))
    assert [v for _, v in _as_lists(folds)] == [[0], [1], [2], [3], [4]]
    with pytest.raises(FoldError, match="no seizures"):
        seizure_wise_folds(table.iloc[5:8])
    with pytest.raises(FoldError, match="n_folds"):
        seizure_wise_folds(table, n_folds=1)
    with pytest.raises(FoldError, match="no 'label' column"):
        seizure_wise_folds(table.drop(columns="label"))


# --- patient-wise -------------------------------------------------------------------------------

def _hand_patient_table():
    rows = [
        ("T1", "tnsz"), ("T2", "tnsz"), ("T3", "tnsz"), ("T1", "tnsz"),
        ("S1", "spsz"), ("S2", "spsz"), ("S3", "spsz"), ("T1", "spsz"),
        ("S1", "absz"),
        ("G1", "gnsz"), ("G2", "gnsz"), ("G3", "gnsz"), ("G4", "gnsz"), ("S2", "gnsz"),
        ("F1", "fnsz"), ("F2", "fnsz"), ("F3", "fnsz"), ("F4", "fnsz"), ("F5", "fnsz"),
        ("T2", "fnsz"), ("G1", "fnsz"), ("F2", "fnsz"),
        ("M1", "mysz"), ("F1", "mysz"),
    ]
    return pd.DataFrame(rows, columns=["patient_id", "label"])


def test_patient_wise_hand_worked_assignment():
    # KFold(3, shuffle=True, random_state=2001) sends sorted positions to folds as follows:
    #   3 items -> [1] [2] [0];  4 items -> [1 2] [3] [0];  5 items -> [1 3] [2 4] [0].
    # tnsz: T1 T2 T3            -> fold0 T2, fold1 T3, fold2 T1
    # spsz: S1 S2 S3 (T1 taken) -> fold0 S2, fold1 S3, fold2 S1
    # absz: only S1 (taken) -> skipped; tcsz, cpsz: absent
    # gnsz: G1..G4 (S2 taken)   -> fold0 G2 G3, fold1 G4, fold2 G1
    # fnsz: F1..F5 (T2, G1 taken) -> fold0 F2 F4, fold1 F3 F5, fold2 F1
    # mysz rows (M1, and F1's mysz seizure) are in no fold.
    expected_patients = [{"T2", "S2", "G2", "G3", "F2", "F4"},
                         {"T3", "S3", "G4", "F3", "F5"},
                         {"T1", "S1", "G1", "F1"}]
    table = _hand_patient_table()
    kept = np.flatnonzero(table["label"] != "mysz")
    folds = patient_wise_folds(table, n_folds=3, seed=2001)
    for (train, validation), patients in zip(folds, expected_patients):
        expected = [row for row in kept if table["patient_id"][row] in patients]
        assert validation.tolist() == expected
        assert train.tolist() == [row for row in kept if row not in expected]


def _ibm_patient_wise_restated(table, num_split=3, seed=2001):
    """IBM's generate_patient_wise_cv_folds restated on a table (rows instead of file names)."""
    type_patients = collections.defaultdict(list)
    patient_rows = collections.defaultdict(list)
    for row, (patient, label) in enumerate(zip(table["patient_id"], table["label"])):
        if label.upper() != "MYSZ":
            type_patients[label.upper()].append(patient)
            patient_rows[patient].append(row)
    order = ["TNSZ", "SPSZ", "ABSZ", "TCSZ", "CPSZ", "GNSZ", "FNSZ"]
    for name in order:
        type_patients[name] = np.unique(type_patients[name])
    kf = KFold(n_splits=num_split, random_state=seed, shuffle=True)
    split = {i: {"train": [], "val": []} for i in range(num_split)}
    allocated = []
    for name in order:
        patient_list = np.setdiff1d(type_patients[name], allocated)
        allocated.extend(patient_list)
        for index, (train_index, val_index) in enumerate(kf.split(patient_list)):
            for patient in patient_list[train_index]:
                split[index]["train"].extend(patient_rows[patient])
            for patient in patient_list[val_index]:
                split[index]["val"].extend(patient_rows[patient])
    return split


def test_patient_wise_matches_ibm_script_restated():
    table = _random_tusz_table(seed=6)
    reference = _ibm_patient_wise_restated(table)
    folds = patient_wise_folds(table)
    for fold, (train, validation) in enumerate(folds):
        assert train.tolist() == sorted(reference[fold]["train"])
        assert validation.tolist() == sorted(reference[fold]["val"])


def test_patient_wise_no_leakage_every_seizure_once_deterministic():
    table = _random_tusz_table(seed=7)
    folds = patient_wise_folds(table)
    report = leakage_report(table, folds)
    assert report["n_leaked_patients"].tolist() == [0, 0, 0]
    assert report["n_leaked_validation_rows"].tolist() == [0, 0, 0]
    assert report["n_rows_in_both"].tolist() == [0, 0, 0]
    assert (validation_fold_of_rows(len(table), folds) >= 0).all()
    for train, validation in folds:
        assert np.union1d(train, validation).tolist() == list(range(len(table)))
    assert _as_lists(patient_wise_folds(table)) == _as_lists(folds)
    assert _as_lists(patient_wise_folds(table, seed=1)) != _as_lists(folds)


def test_patient_wise_refusals():
    table = pd.DataFrame({"patient_id": ["a", "b", "c", "a"],
                          "label": ["tnsz", "tnsz", "spsz", "spsz"]})
    with pytest.raises(FoldError, match="'tnsz' has 2 patient"):
        patient_wise_folds(table)
    table = pd.DataFrame({"patient_id": ["a", "b", "c", "d"],
                          "label": ["tnsz", "tnsz", "tnsz", "bckg"]})
    with pytest.raises(FoldError, match="not in type_order"):
        patient_wise_folds(table)
    assert len(patient_wise_folds(table, exclude_labels=("bckg",))) == 3
    with pytest.raises(FoldError, match="missing values"):
        patient_wise_folds(table.assign(patient_id=[None, "b", "c", "d"]))


# --- HMS GroupKFold -----------------------------------------------------------------------------

def test_group_kfold_by_patient_matches_sklearn_and_keeps_patients_together():
    rng = np.random.default_rng(8)
    table = pd.DataFrame({"eeg_id": np.arange(500), "patient_id": rng.integers(0, 60, 500)})
    folds = group_kfold_by_patient(table)
    reference = GroupKFold(n_splits=5).split(table, groups=table["patient_id"])
    for (train, validation), (ref_train, ref_validation) in zip(folds, reference):
        assert train.tolist() == sorted(ref_train) and validation.tolist() == sorted(ref_validation)
    report = leakage_report(table, folds)
    assert report["n_leaked_patients"].sum() == 0
    assert (validation_fold_of_rows(len(table), folds) >= 0).all()
    validation_patients = [set(table["patient_id"].iloc[v]) for _, v in folds]
    assert sum(len(p) for p in validation_patients) == table["patient_id"].nunique()


def test_group_kfold_hand_worked_and_refusal():
    # Rows per patient: 2 -> 2, 5 -> 3, 7 -> 1, 9 -> 2. GroupKFold visits patients by size,
    # largest first, ties broken towards the later patient in sorted order (stable argsort,
    # reversed): 5, 9, 2, 7. Each goes to the fold with fewest rows so far (first on ties):
    # 5 -> f0 (3 rows), 9 -> f1 (2), 2 -> f1 (4), 7 -> f0 (4).
    table = pd.DataFrame({"patient_id": [7, 5, 5, 9, 2, 5, 9, 2]})
    folds = group_kfold_by_patient(table, n_folds=2)
    assert _as_lists(folds) == [([3, 4, 6, 7], [0, 1, 2, 5]), ([0, 1, 2, 5], [3, 4, 6, 7])]
    with pytest.raises(FoldError, match="4 patient"):
        group_kfold_by_patient(table, n_folds=5)


# --- helpers ------------------------------------------------------------------------------------

def test_leakage_report_counts_by_hand():
    folds = seizure_wise_folds(HAND_SEIZURE_TABLE, n_folds=5)
    report = leakage_report(HAND_SEIZURE_TABLE, folds)
    # fold 0 validates rows 0 1 2 (p1 p2 p1): p1 has no other seizure, p2 also has row 4.
    assert report.loc[0, "leaked_patients"] == ["p2"]
    assert report.loc[0, "n_leaked_validation_rows"] == 1
    assert report.loc[0, "n_validation"] == 3 and report.loc[0, "n_train"] == 9
    assert report["n_rows_in_both"].sum() == 0


def test_validation_fold_of_rows_refuses_overlap():
    with pytest.raises(FoldError, match="already validated"):
        validation_fold_of_rows(3, [([1], [0]), ([2], [0])])
    with pytest.raises(FoldError, match="outside"):
        validation_fold_of_rows(3, [([1], [3])])
    assert issubclass(FoldError, KerasSeizureError) and issubclass(FoldError, ValueError)
