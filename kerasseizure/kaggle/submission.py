"""Prediction, fold averaging and the submission file.

`predict_probabilities` (softmax of a logits model on HMS features), `renormalise` /
`average_probabilities` (mean over fold models, rows renormalised), the submission layout of
sample_submission.csv (`submission_template`, `submission_frame`), the competition scorer's
checks (`validate_submission`), the atomic, read-back-validated `write_submission`, and
`make_submission`, which chains them for fold models. Re-exported by `kerasseizure.kaggle`; see
docs/kaggle.md.
"""

import dataclasses
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from kerasseizure.files import atomic_path
from kerasseizure.io.labels import HMS_CLASSES, HMS_VOTE_COLUMNS
from kerasseizure.kaggle import InferenceSpecError, SubmissionError, competition_dataset, working_dir
from kerasseizure.kaggle.inference import (
    FoldModel,
    build_test_features,
    check_preprocessing,
    find_model_dirs,
    load_fold_model,
    preprocessing_signature,
)

SUBMISSION_COLUMNS = ("eeg_id",) + HMS_VOTE_COLUMNS


# ----------------------------------------------------------------------------------------------
# prediction and averaging


def predict_probabilities(model, features, *, indices=None, inputs="eeg", image_size=None, include_kaggle=True,
                          batch_size=32, jit_compile="auto"):
    """Softmax probabilities (n, 6) float64 of a logits model on rows of `features.table`.

    Args:
        model: a logits model (every HMS builder); the softmax is `models.with_probabilities`.
        features: HMSFeatures (test split, or train for CV).
        indices: positions in `features.table` (e.g. a fold's validation positions), a boolean
            mask, or None for every row; the output rows follow them in the given order.
        inputs, image_size, include_kaggle: as the model was trained (`hms_dataset`).
        batch_size: prediction batch size.
        jit_compile: XLA for the prediction function ("auto": Keras' choice; False compiles much
            faster on a CPU for a few rows; True / "auto" pays off on a GPU or for many rows).
    """
    from kerasseizure.models import with_probabilities
    from kerasseizure.pipelines import hms_dataset

    positions = features.positions(indices)
    image_size = None if image_size is None else tuple(int(v) for v in image_size)
    dataset = hms_dataset(features, positions, batch_size=batch_size, inputs=inputs, targets=False,
                          image_size=image_size, include_kaggle=include_kaggle)
    probabilities_model = with_probabilities(model)
    probabilities_model.jit_compile = jit_compile
    probabilities = probabilities_model.predict(dataset, verbose=0)
    return np.asarray(probabilities, dtype=np.float64).reshape(len(positions), len(HMS_CLASSES))


def renormalise(probabilities, ids=None):
    """Rows divided by their sums (float64); refuses NaN / infinite / negative values and zero rows."""
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2:
        raise SubmissionError(f"probabilities must be 2-D (rows x classes), got shape {p.shape}")
    bad = ~np.isfinite(p).all(axis=1) | (p < 0).any(axis=1)
    sums = np.where(bad, 1.0, p.sum(axis=1))
    bad |= ~(sums > 0)
    if bad.any():
        where = np.flatnonzero(bad)
        names = [ids[i] for i in where[:5]] if ids is not None else where[:5].tolist()
        raise SubmissionError(f"{bad.sum()} row(s) are not probabilities (NaN, infinite, negative or all zero), "
                              f"e.g. {'eeg_ids' if ids is not None else 'rows'} {names}")
    return p / sums[:, None]


def average_probabilities(probabilities, weights=None, ids=None):
    """Mean over models of (n, 6) probability arrays (optionally weighted), rows renormalised."""
    stack = np.stack([np.asarray(p, dtype=np.float64) for p in probabilities])
    if stack.ndim != 3 or stack.shape[0] == 0:
        raise ValueError(f"need a non-empty list of (rows, classes) arrays, got shape {stack.shape}")
    for p in stack:
        renormalise(p, ids)  # refuse bad members before averaging
    weights = np.ones(len(stack)) if weights is None else np.asarray(weights, dtype=np.float64)
    if weights.shape != (len(stack),) or (weights < 0).any() or weights.sum() <= 0:
        raise ValueError(f"weights must be {len(stack)} non-negative numbers, not all zero, got {weights}")
    return renormalise(np.tensordot(weights / weights.sum(), stack, axes=1), ids)


# ----------------------------------------------------------------------------------------------
# submission


def _sample_columns(sample_submission_csv):
    columns = list(pd.read_csv(sample_submission_csv, nrows=0).columns)
    if sorted(columns) != sorted(SUBMISSION_COLUMNS) or columns[0] != "eeg_id":
        raise SubmissionError(f"{sample_submission_csv}: columns {columns}, expected eeg_id then the six vote "
                              f"columns {list(HMS_VOTE_COLUMNS)}")
    return columns


def submission_template(competition=None):
    """(columns, eeg_ids) a submission must have: sample_submission.csv's column and row order.

    Also checks that test.csv names the same eeg_ids in the same order.
    """
    from kerasseizure.io.hms import HMSDataset

    dataset = competition if isinstance(competition, HMSDataset) else competition_dataset(competition)
    columns = _sample_columns(dataset.sample_submission_csv)
    sample_ids = dataset.sample_submission()["eeg_id"].to_numpy(np.int64)
    test_ids = dataset.test_ids["eeg_id"].to_numpy(np.int64)
    if len(set(sample_ids.tolist())) != len(sample_ids):
        raise SubmissionError(f"{dataset.sample_submission_csv}: repeated eeg_ids")
    if not np.array_equal(sample_ids, test_ids):
        if sorted(sample_ids.tolist()) != sorted(test_ids.tolist()):
            raise SubmissionError(f"{dataset.root}: test.csv and sample_submission.csv list different eeg_ids")
        warnings.warn("test.csv and sample_submission.csv list the eeg_ids in different orders; "
                      "the submission follows sample_submission.csv", stacklevel=2)
    return columns, sample_ids


def submission_frame(probabilities, eeg_ids, columns=SUBMISSION_COLUMNS, order=None, renormalise_rows=True):
    """The submission table: `columns` (eeg_id + the six vote columns), rows in `order`.

    Args:
        probabilities: (n, 6) in class order Seizure, LPD, GPD, LRDA, GRDA, Other.
        eeg_ids: the n eeg_ids of the rows.
        columns: the column order (sample_submission.csv's).
        order: the eeg_id order of the output (sample_submission.csv's); None keeps `eeg_ids`' order.
            Every id of `order` must be in `eeg_ids` exactly once, and no other.
        renormalise_rows: divide each row by its sum (refusing rows that are not probabilities).
    """
    eeg_ids = np.asarray(eeg_ids, dtype=np.int64)
    p = np.asarray(probabilities, dtype=np.float64)
    if p.shape != (len(eeg_ids), len(HMS_VOTE_COLUMNS)):
        raise SubmissionError(f"probabilities of shape {p.shape} for {len(eeg_ids)} eeg_ids and "
                              f"{len(HMS_VOTE_COLUMNS)} classes")
    if renormalise_rows:
        p = renormalise(p, eeg_ids.tolist())
    frame = pd.DataFrame(p, columns=list(HMS_VOTE_COLUMNS))
    frame.insert(0, "eeg_id", eeg_ids)
    if order is not None:
        order = np.asarray(order, dtype=np.int64)
        _check_ids(eeg_ids, order)
        frame = frame.set_index("eeg_id").loc[order].reset_index()
    return frame[list(columns)]


def _check_ids(found, expected):
    found_list, expected_list = list(map(int, found)), list(map(int, expected))
    if len(set(found_list)) != len(found_list):
        repeated = pd.Index(found_list)[pd.Index(found_list).duplicated()].tolist()[:5]
        raise SubmissionError(f"repeated eeg_ids: {repeated}")
    missing = sorted(set(expected_list) - set(found_list))
    extra = sorted(set(found_list) - set(expected_list))
    if missing or extra:
        raise SubmissionError(f"eeg_ids differ from the expected ones: {len(missing)} missing (e.g. {missing[:5]}), "
                              f"{len(extra)} unexpected (e.g. {extra[:5]})")


def validate_submission(frame, expected_ids=None, columns=SUBMISSION_COLUMNS):
    """Refuse a submission the scorer would refuse, or whose layout differs from sample_submission.

    Checks: the columns are exactly `columns` in order; eeg_ids are integers, unique and (when
    `expected_ids` is given) exactly `expected_ids` in that order; then the competition scorer's
    own validation (`kaggle_kl_divergence` against a uniform solution with the same ids: numeric,
    finite, every value in [0, 1], every row summing to 1 within `np.allclose`).

    Raises:
        SubmissionError: naming what is wrong.
    """
    from kerasseizure.evaluation.metrics import MetricInputError, kaggle_kl_divergence

    if list(frame.columns) != list(columns):
        raise SubmissionError(f"submission columns {list(frame.columns)}, expected {list(columns)}")
    ids = frame["eeg_id"]
    if not pd.api.types.is_integer_dtype(ids):
        raise SubmissionError(f"eeg_id must hold integers, got dtype {ids.dtype}")
    if expected_ids is not None:
        _check_ids(ids.to_numpy(), expected_ids)
        if not np.array_equal(ids.to_numpy(np.int64), np.asarray(expected_ids, dtype=np.int64)):
            raise SubmissionError("eeg_ids are not in sample_submission.csv's order")
    if len(frame) == 0:
        raise SubmissionError("the submission has no rows")
    solution = pd.DataFrame({"eeg_id": ids.to_numpy()})
    for column in HMS_VOTE_COLUMNS:
        solution[column] = 1.0 / len(HMS_VOTE_COLUMNS)
    try:
        kaggle_kl_divergence(solution, frame, id_column="eeg_id", class_columns=HMS_VOTE_COLUMNS)
    except MetricInputError as error:
        raise SubmissionError(f"the competition scorer would refuse this submission: {error}") from error


def write_submission(frame, path=None, *, expected_ids=None, columns=None, competition=None):
    """Validate `frame` and write it atomically as `path` (default /kaggle/working/submission.csv).

    The expected layout comes from `columns` / `expected_ids` when given, else from the
    competition's sample_submission.csv (`competition`: a folder, an `HMSDataset`, or None for
    `competition_dir()`). The frame is validated, written to a temporary file beside `path`, read
    back and validated again; only then is it renamed onto `path`. On any failure nothing is
    written (an existing file at `path` is left untouched) and `SubmissionError` is raised.

    Returns:
        pathlib.Path of the written file.
    """
    if columns is None or expected_ids is None:
        template_columns, template_ids = submission_template(competition)
        columns = template_columns if columns is None else columns
        expected_ids = template_ids if expected_ids is None else expected_ids
    path = Path(path) if path is not None else working_dir() / "submission.csv"
    validate_submission(frame, expected_ids, columns)
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)
        validate_submission(pd.read_csv(tmp), expected_ids, columns)
    return path


@dataclasses.dataclass
class SubmissionResult:
    """What `make_submission` did.

    Attributes:
        path: the written submission.csv.
        frame: its contents.
        per_model: {model folder: (n, 6) probabilities in `frame`'s row order}.
        test_features: {model folder: the test HMSFeatures used}.
        skipped: eeg_ids given the fallback (uniform) prediction because their files were bad
            (only with skip_bad=True).
    """

    path: Path
    frame: pd.DataFrame
    per_model: dict
    test_features: dict
    skipped: list

    def __repr__(self):
        return (f"SubmissionResult(path='{self.path}', rows={len(self.frame)}, models={len(self.per_model)}, "
                f"skipped={len(self.skipped)})")


def make_submission(models, competition=None, out=None, *, cache_dir=None, batch_size=32, weights=None,
                    allow_code_change=False, skip_bad=False, progress=True, jit_compile="auto"):
    """Predict the test set with fold models and write submission.csv.

    For each model: the test views are built with the preprocessing recorded in its training run
    (`build_test_features`, checked against it), the model's softmax probabilities are predicted
    (`models.with_probabilities`); models sharing a preprocessing share the test cache. The
    probabilities are averaged over models (optionally `weights`), rows renormalised, put in
    sample_submission.csv's column and row order, validated like the scorer does and written
    atomically.

    Args:
        models: a folder holding model folders (see `find_model_dirs`), a list of model folders,
            or `FoldModel`s.
        competition: the competition folder / `HMSDataset`, or None for `competition_dir()`.
        out: the submission path (default /kaggle/working/submission.csv, else ./submission.csv).
        cache_dir: test feature cache folder (None: the pipelines' default).
        batch_size: prediction batch size.
        weights: one weight per model for the average (None: equal).
        allow_code_change: see `check_preprocessing`.
        skip_bad: eeg_ids whose files cannot be read get the uniform prediction (listed in
            `result.skipped`, with a warning) instead of stopping the notebook.
        progress: feature-cache progress lines.
        jit_compile: see `predict_probabilities`.

    Returns:
        SubmissionResult.
    """
    from kerasseizure.io.hms import HMSDataset

    dataset = competition if isinstance(competition, HMSDataset) else competition_dataset(competition)
    columns, order = submission_template(dataset)
    if isinstance(models, (str, os.PathLike)):
        models = find_model_dirs(models)
    folds = [m if isinstance(m, FoldModel) else load_fold_model(m) for m in models]
    if not folds:
        raise InferenceSpecError("no models given")
    per_model, test_features, built = {}, {}, {}
    fallback = np.full(len(HMS_VOTE_COLUMNS), 1.0 / len(HMS_VOTE_COLUMNS))
    skipped = set()
    for fold in folds:
        key = json.dumps([fold.inputs, preprocessing_signature(fold.spec["features_config"], fold.inputs)],
                         sort_keys=True)
        if key not in built:
            built[key] = build_test_features(dataset, fold.spec, cache_dir, allow_code_change=allow_code_change,
                                             skip_bad=skip_bad, progress=progress, where=str(fold.path))
        else:  # same preprocessing: still check this model's own spec against the shared cache
            check_preprocessing(fold.spec["features_config"], built[key].config, fold.inputs,
                                allow_code_change=allow_code_change, where=str(fold.path))
        features = built[key]
        probabilities = predict_probabilities(fold.model, features, inputs=fold.inputs,
                                              image_size=fold.spec.get("image_size"),
                                              include_kaggle=fold.spec.get("include_kaggle", True),
                                              batch_size=batch_size, jit_compile=jit_compile)
        by_id = dict(zip(features.table["eeg_id"].astype(np.int64).tolist(), probabilities))
        missing = [i for i in order.tolist() if i not in by_id]
        if missing and not skip_bad:
            raise SubmissionError(f"{fold.path}: no prediction for eeg_ids {missing[:5]}")
        skipped.update(missing)
        per_model[str(fold.path)] = np.stack([by_id.get(i, fallback) for i in order.tolist()])
        test_features[str(fold.path)] = features
    if skipped:
        warnings.warn(f"make_submission: {len(skipped)} eeg_ids could not be read and get the uniform "
                      f"prediction: {sorted(skipped)[:10]}", stacklevel=2)
    mean = average_probabilities(list(per_model.values()), weights=weights, ids=order.tolist())
    frame = submission_frame(mean, order, columns=columns)
    path = write_submission(frame, out, expected_ids=order, columns=columns)
    return SubmissionResult(path, frame, per_model, test_features, sorted(skipped))
