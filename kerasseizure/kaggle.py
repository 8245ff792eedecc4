"""Kaggle notebook helpers for "HMS - Harmful Brain Activity Classification" (offline notebooks).

A Kaggle submission notebook runs without internet: the package and its wheels come from an
attached dataset, the trained fold models from another one, and the competition data from
`/kaggle/input/hms-harmful-brain-activity-classification`. This module covers that path:

- `competition_dir(path=None)`: the competition folder: the argument, else the environment
  variable `KERASSEIZURE_HMS_DIR`, else the Kaggle default; a clear error lists what was looked
  for and why each candidate was refused.
- `save_for_inference(out_dir, model, features, inputs=...)`: what a training run leaves for
  inference: `model.keras` plus `kerasseizure_inference.json` holding the feature-cache
  configuration the model was trained on (every preprocessing parameter, the code version).
- `make_submission(model_dirs, competition=None, out=...)`: builds the test views through
  `kerasseizure.pipelines.build_hms_features(split="test")` with the parameters READ FROM THE
  TRAINING RUN, checks that the test cache's configuration equals the training one (else
  `PreprocessingMismatchError`), averages the fold models' probabilities (softmax through
  `models.with_probabilities`, mean over folds, rows renormalised) and writes `submission.csv`.
- `write_submission(frame, path, ...)`: validates the frame with the checks of the competition
  scorer (`training.metrics.kaggle_kl_divergence`: numeric, finite, in [0, 1], rows summing to 1
  by `np.allclose`, the expected ids once each) plus the column and row order of
  sample_submission.csv, writes it atomically, reads the written file back and validates it again
  before it is renamed into place. A bad submission never reaches the target path.
- `offline_install_check()`: which dependencies import, their versions, and whether they satisfy
  the package's requirements; it never touches the network.

Importing this module does not import TensorFlow; predicting does. See docs/kaggle.md.
"""

import dataclasses
import importlib
import importlib.metadata
import json
import os
import platform
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from kerasseizure.errors import KerasSeizureError
from kerasseizure.files import atomic_path, atomic_write_json
from kerasseizure.io.labels import HMS_CLASSES, HMS_VOTE_COLUMNS

COMPETITION = "hms-harmful-brain-activity-classification"
KAGGLE_INPUT = Path("/kaggle/input")
KAGGLE_WORKING = Path("/kaggle/working")
DEFAULT_COMPETITION_DIR = KAGGLE_INPUT / COMPETITION
ENV_COMPETITION_DIR = "KERASSEIZURE_HMS_DIR"
COMPETITION_FILES = ("test.csv", "sample_submission.csv", "test_eegs", "test_spectrograms")
TRAINING_FILES = ("train.csv", "train_eegs", "train_spectrograms")
SUBMISSION_COLUMNS = ("eeg_id",) + HMS_VOTE_COLUMNS
INFERENCE_FILE = "kerasseizure_inference.json"
INFERENCE_FORMAT = 1
MODEL_FILE = "model.keras"
INPUT_VIEWS = {"eeg": ("eeg",), "image": ("image",), "both": ("eeg", "image")}
# Parts of a feature-cache config that describe the data, not the preprocessing: they differ
# between the train and the test split by construction.
_DATA_KEYS = ("split", "corpus", "time_shift_views", "spectrogram_offset", "views", "params")
# build_hms_features keyword for each cached WaveNet parameter whose name differs.
_WAVENET_KWARGS = {"order": "filter_order"}


class KaggleError(KerasSeizureError):
    """Base class of the errors of the Kaggle helpers."""


class CompetitionDataNotFound(KaggleError, FileNotFoundError):
    """The competition folder could not be found; the message lists every place looked at."""


class SubmissionError(KaggleError, ValueError):
    """A submission would not be accepted by the competition scorer; nothing was written."""


class PreprocessingMismatchError(KaggleError, ValueError):
    """The test views would not be computed like the views the model was trained on."""


class InferenceSpecError(KaggleError, ValueError):
    """A model folder lacks (or has a malformed) kerasseizure_inference.json / model file."""


# ----------------------------------------------------------------------------------------------
# paths


def _folder_problems(folder, required):
    if not folder.exists():
        return "does not exist"
    if not folder.is_dir():
        return "is not a folder"
    missing = [name for name in required if not (folder / name).exists()]
    return f"lacks {', '.join(missing)}" if missing else None


def _candidates_under(root, required, depth=3):
    """Folders up to `depth` levels below `root` that hold every name of `required`."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = set()
    for level in range(1, depth + 1):
        pattern = "/".join(["*"] * level) + f"/{required[0]}"
        try:
            found.update(p.parent for p in root.glob(pattern))
        except OSError:
            continue
    return sorted(p for p in found if _folder_problems(p, required) is None)


def competition_dir(path=None, *, require=COMPETITION_FILES, env=ENV_COMPETITION_DIR):
    """The HMS competition folder.

    Looked up in this order, the first one SET being the one used (a wrong explicit setting is
    an error, never a silent fall-back to another folder):

    1. `path`, when given;
    2. the environment variable `KERASSEIZURE_HMS_DIR` (name: `env`), when set and not empty;
    3. `/kaggle/input/hms-harmful-brain-activity-classification` (Kaggle's mount point).

    Args:
        path: the folder, or None.
        require: names the folder must contain (default: what a submission needs: test.csv,
            sample_submission.csv, test_eegs/, test_spectrograms/; add `TRAINING_FILES` to train).
        env: the environment variable to read.

    Returns:
        pathlib.Path of the folder (absolute).

    Raises:
        CompetitionDataNotFound: with every place looked at, why it was refused, folders under
            /kaggle/input that would qualify, and how to fix it.
    """
    require = tuple(require)
    if path is not None:
        candidates = [("argument", Path(path))]
    elif os.environ.get(env, "").strip():
        candidates = [(f"${env}", Path(os.environ[env].strip()))]
    else:
        candidates = [("default", DEFAULT_COMPETITION_DIR)]
    looked = []
    for source, folder in candidates:
        folder = folder.expanduser()
        problem = _folder_problems(folder, require)
        if problem is None:
            return folder.resolve()
        looked.append(f"  - {folder} ({source}): {problem}")
    lines = ["HMS competition data not found. Looked for a folder holding "
             f"{', '.join(require)}:", *looked]
    if path is None and not os.environ.get(env, "").strip():
        lines.append(f"  (argument: not given; ${env}: not set)")
    elif path is not None:
        lines.append(f"  (the argument takes precedence over ${env} and {DEFAULT_COMPETITION_DIR})")
    else:
        lines.append(f"  (${env} takes precedence over {DEFAULT_COMPETITION_DIR})")
    suggestions = [p for p in _candidates_under(KAGGLE_INPUT, require)
                   if p.resolve() not in {Path(c).expanduser().resolve() for _, c in candidates}]
    if suggestions:
        lines.append(f"Folders under {KAGGLE_INPUT} that hold these files: "
                     + ", ".join(str(p) for p in suggestions))
    lines.append(f"Fix: on Kaggle, add the competition data to the notebook (Add Input -> Competitions -> "
                 f"{COMPETITION}); elsewhere pass the folder or set {env}=/path/to/hms.")
    raise CompetitionDataNotFound("\n".join(lines))


def competition_dataset(path=None, *, require=COMPETITION_FILES):
    """`HMSDataset` of the competition folder found by `competition_dir(path, require=require)`."""
    from kerasseizure.io.hms import HMSDataset

    return HMSDataset(competition_dir(path, require=require))


def working_dir():
    """/kaggle/working on Kaggle (where submission.csv must go), else the current folder."""
    return KAGGLE_WORKING if KAGGLE_WORKING.is_dir() else Path.cwd()


# ----------------------------------------------------------------------------------------------
# what a training run leaves for inference


def _features_config(features):
    config = getattr(features, "config", features)
    if not isinstance(config, dict) or config.get("pipeline") != "hms":
        raise InferenceSpecError("features must be HMSFeatures (or their config dict) from build_hms_features")
    return json.loads(json.dumps(config))


def inference_spec(features, *, inputs="eeg", image_size=None, include_kaggle=True, model_file=MODEL_FILE,
                   extra=None):
    """The JSON-able description a model needs at inference: inputs and the training preprocessing.

    Pass it as `fit(..., config={"inference": inference_spec(...)})` so that the fit run's
    config.json carries it too, and to `save_for_inference` (which writes it beside the model).

    Args:
        features: the TRAIN `HMSFeatures` the model was trained on (or their `.config`).
        inputs: "eeg", "image" or "both", as given to `hms_dataset`.
        image_size: `hms_dataset(image_size=...)` of training (None = native size).
        include_kaggle: `hms_dataset(include_kaggle=...)` of training.
        model_file: the model's file name, relative to the folder.
        extra: any JSON-able record to keep (fold, CV score, ...).
    """
    import kerasseizure

    if inputs not in INPUT_VIEWS:
        raise ValueError(f"inputs must be one of {tuple(INPUT_VIEWS)}, got {inputs!r}")
    config = _features_config(features)
    missing = [v for v in INPUT_VIEWS[inputs] if v not in config.get("views", [])]
    if missing:
        raise InferenceSpecError(f"inputs={inputs!r} needs views {missing}, the features hold {config.get('views')}")
    return {"format": INFERENCE_FORMAT, "task": "hms", "model": str(model_file), "inputs": inputs,
            "image_size": None if image_size is None else [int(v) for v in image_size],
            "include_kaggle": bool(include_kaggle), "classes": list(HMS_CLASSES),
            "features_config": config, "kerasseizure_version": kerasseizure.__version__,
            "extra": extra if extra is not None else {}}


def save_for_inference(out_dir, model, features, *, inputs="eeg", image_size=None, include_kaggle=True,
                       extra=None):
    """Write `model.keras` and `kerasseizure_inference.json` into `out_dir` (one fold model).

    Upload the parent folder of such folders as a Kaggle dataset; `find_model_dirs` finds them.

    Args:
        out_dir: the folder (created).
        model: the trained logits model (keras.Model).
        features: the TRAIN `HMSFeatures` it was trained on (their config is recorded).
        inputs, image_size, include_kaggle, extra: see `inference_spec`.

    Returns:
        pathlib.Path of the spec file.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    spec = inference_spec(features, inputs=inputs, image_size=image_size, include_kaggle=include_kaggle,
                          extra=extra)
    with atomic_path(out_dir / MODEL_FILE) as tmp:
        model.save(tmp)
    atomic_write_json(out_dir / INFERENCE_FILE, spec)
    return out_dir / INFERENCE_FILE


def read_inference_spec(model_dir):
    """The inference spec of a model folder.

    Read from `kerasseizure_inference.json`, else from a `fit` run folder's config.json
    (`config.json["user"]["inference"]`, written when `fit(config={"inference": spec})`), in which
    case the model file defaults to the run's final.keras.
    """
    model_dir = Path(model_dir)
    spec_path = model_dir / INFERENCE_FILE
    if spec_path.is_file():
        spec = _read_json(spec_path)
    elif (model_dir / "config.json").is_file():
        config = _read_json(model_dir / "config.json")
        spec = (config.get("user") or {}).get("inference") if isinstance(config, dict) else None
        if not isinstance(spec, dict):
            raise InferenceSpecError(f"{model_dir / 'config.json'}: no 'user.inference' entry (train with "
                                     f"fit(config={{'inference': kaggle.inference_spec(...)}}) or save_for_inference)")
        spec = dict(spec)
        if not (model_dir / spec.get("model", "")).is_file():
            spec["model"] = "final.keras"
    else:
        raise InferenceSpecError(f"{model_dir}: neither {INFERENCE_FILE} nor a fit run's config.json found")
    problems = [key for key in ("model", "inputs", "features_config") if key not in spec]
    if problems or spec.get("format", INFERENCE_FORMAT) > INFERENCE_FORMAT:
        raise InferenceSpecError(f"{model_dir}: inference spec lacks {problems} or has a newer format "
                                 f"({spec.get('format')}); upgrade kerasseizure")
    if spec["inputs"] not in INPUT_VIEWS:
        raise InferenceSpecError(f"{model_dir}: unknown inputs {spec['inputs']!r}")
    if list(spec.get("classes", HMS_CLASSES)) != list(HMS_CLASSES):
        raise InferenceSpecError(f"{model_dir}: classes {spec.get('classes')} differ from {list(HMS_CLASSES)}")
    return spec


def _read_json(path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InferenceSpecError(f"{path}: cannot be read as JSON ({error})") from error


def find_model_dirs(root):
    """Folders at or below `root` holding a `kerasseizure_inference.json`, sorted by path.

    Raises:
        InferenceSpecError: when there is none.
    """
    root = Path(root)
    found = sorted({p.parent for p in root.rglob(INFERENCE_FILE)}) if root.is_dir() else []
    if not found:
        raise InferenceSpecError(f"no {INFERENCE_FILE} at or below {root} (attach the dataset of trained "
                                 f"fold models; see kaggle.save_for_inference)")
    return found


@dataclasses.dataclass
class FoldModel:
    """One trained model ready for inference: its folder, spec and the logits model."""

    path: Path
    spec: dict
    model: object

    @property
    def inputs(self):
        return self.spec["inputs"]

    @property
    def preprocessing(self):
        return preprocessing_signature(self.spec["features_config"], self.inputs)


def load_fold_model(model_dir):
    """Read the spec and load the model of one folder (`keras.saving.load_model`, safe mode)."""
    import keras

    importlib.import_module("kerasseizure.models")  # registers the package's layers for deserialisation

    model_dir = Path(model_dir)
    spec = read_inference_spec(model_dir)
    path = model_dir / spec["model"]
    if not path.is_file():
        raise InferenceSpecError(f"{model_dir}: model file {spec['model']!r} not found")
    # compile=False: inference needs no loss or optimizer (and a custom training loss need not be importable).
    return FoldModel(model_dir, spec, keras.saving.load_model(path, compile=False))


# ----------------------------------------------------------------------------------------------
# preprocessing: read from the training run, checked on the test cache


def preprocessing_signature(features_config, inputs):
    """What must be equal between the training and the test views of a model with `inputs`.

    The feature-cache configuration minus what describes the data (split, corpus, time-shift
    variants, the train-only spectrogram offset rule), restricted to the views the model reads.
    """
    config = _features_config(features_config)
    signature = {k: v for k, v in config.items() if k not in _DATA_KEYS}
    params = config.get("params") or {}
    views = INPUT_VIEWS[inputs]
    missing = [v for v in views if v not in config.get("views", [])]
    if missing:
        raise PreprocessingMismatchError(f"the model reads views {list(views)} but was trained on features with "
                                         f"views {config.get('views')}")
    signature["params"] = {("wavenet" if v == "eeg" else v): params.get("wavenet" if v == "eeg" else v)
                           for v in views}
    signature["views"] = list(views)
    return signature


def test_feature_kwargs(features_config, inputs):
    """`build_hms_features` keyword arguments reproducing the training preprocessing on the test split."""
    config = _features_config(features_config)
    params = config.get("params") or {}
    views = INPUT_VIEWS[inputs]
    kwargs = {"views": views, "split": "test", "dtype": config["dtype"]}
    if config.get("spectrogram_offset") is not None:
        kwargs["spectrogram_offset"] = config["spectrogram_offset"]
    if "eeg" in views:
        for key, value in (params.get("wavenet") or {}).items():
            kwargs[_WAVENET_KWARGS.get(key, key)] = value
    if "image" in views:
        for key, value in (params.get("image") or {}).items():
            kwargs[key] = value
    return kwargs


def _differences(expected, found, prefix=""):
    out = []
    for key in sorted(set(expected) | set(found), key=str):
        a, b = expected.get(key, "<absent>"), found.get(key, "<absent>")
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}: training {a!r}, test {b!r}")
    return out


def check_preprocessing(training_config, test_config, inputs, *, allow_code_change=False, where=""):
    """Raise `PreprocessingMismatchError` unless the test views are computed like the training views.

    Args:
        training_config: the training features' config (from the model's spec).
        test_config: the test features' config (`HMSFeatures.config` of split "test").
        inputs: the model's inputs ("eeg", "image", "both").
        allow_code_change: a different transform-code version (package version or source hash of
            the signal / pipeline modules) only warns instead of raising.
        where: the model folder, for the message.
    """
    expected = preprocessing_signature(training_config, inputs)
    found = preprocessing_signature(test_config, inputs)
    if test_config.get("split") != "test":
        raise PreprocessingMismatchError(f"test features must come from split 'test', got {test_config.get('split')!r}")
    code_diffs = _differences({"code": expected.pop("code", None)}, {"code": found.pop("code", None)})
    diffs = _differences(expected, found)
    if diffs:
        raise PreprocessingMismatchError(
            f"{where or 'model'}: the test views would not match the training preprocessing:\n  "
            + "\n  ".join(diffs)
            + "\n(the parameters are read from the training run's features_config; a difference means the "
              "spec was edited or this kerasseizure version computes the views differently)")
    if code_diffs:
        message = (f"{where or 'model'}: the transform code differs from the training run's:\n  "
                   + "\n  ".join(code_diffs)
                   + "\nInstall the kerasseizure version the models were trained with "
                     "(or pass allow_code_change=True to accept it)")
        if not allow_code_change:
            raise PreprocessingMismatchError(message)
        warnings.warn(message, stacklevel=3)


def build_test_features(dataset, spec, cache_dir=None, *, allow_code_change=False, skip_bad=False, progress=True,
                        where=""):
    """The test views of one model: `build_hms_features(split="test")` with the training parameters.

    Args:
        dataset: `HMSDataset` (or folder) of the competition.
        spec: the model's inference spec (`read_inference_spec`).
        cache_dir: feature cache folder (None: the pipelines' default).
        allow_code_change, where: see `check_preprocessing`.
        skip_bad, progress: passed to `build_hms_features`.

    Returns:
        HMSFeatures of the test split, checked against the training configuration.
    """
    from kerasseizure.pipelines import build_hms_features

    training = spec["features_config"]
    preprocessing_signature(training, spec["inputs"])  # views present
    kwargs = test_feature_kwargs(training, spec["inputs"])
    try:
        features = build_hms_features(dataset, cache_dir, skip_bad=skip_bad, progress=progress, **kwargs)
    except TypeError as error:
        raise PreprocessingMismatchError(f"{where or 'model'}: the training preprocessing {kwargs} cannot be "
                                         f"reproduced by this kerasseizure version ({error})") from error
    check_preprocessing(training, features.config, spec["inputs"], allow_code_change=allow_code_change, where=where)
    return features


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
    from kerasseizure.training.metrics import MetricInputError, kaggle_kl_divergence

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


# ----------------------------------------------------------------------------------------------
# offline install check


# (distribution, module, what it is needed for, required for the HMS Kaggle path)
DEPENDENCIES = (
    ("kerasseizure", "kerasseizure", "this package", True),
    ("tensorflow", "tensorflow", "tf.data pipelines, training, Keras backend (extra [cpu]/[gpu])", True),
    ("keras", "keras", "models (Keras 3)", True),
    ("numpy", "numpy", "everything", True),
    ("scipy", "scipy", "filter design", True),
    ("pandas", "pandas", "HMS tables", True),
    ("pyarrow", "pyarrow", "HMS parquet files", True),
    ("librosa", "librosa", "mel filterbank (EEG spectrograms)", True),
    ("scikit-learn", "sklearn", "folds, metrics", True),
    ("matplotlib", "matplotlib", "learning curves", False),
    ("pyedflib", "pyedflib", "TUSZ EDF files", False),
    ("openpyxl", "openpyxl", "TUSZ v1 seizure spreadsheets", False),
    ("pyyaml", "yaml", "configuration files", False),
    ("ai-edge-litert", "ai_edge_litert", ".tflite inference", False),
)


def _requirements():
    """{normalised distribution name: specifier string} from kerasseizure's installed metadata."""
    try:
        from packaging.requirements import Requirement
    except ImportError:
        return {}
    try:
        raw = importlib.metadata.requires("kerasseizure") or []
    except importlib.metadata.PackageNotFoundError:
        return {}
    found = {}
    for text in raw:
        try:
            requirement = Requirement(text)
        except Exception:  # noqa: BLE001 (a malformed line must not break the check)
            continue
        name = requirement.name.lower().replace("_", "-")
        if name.startswith("tensorflow"):  # the extras name tensorflow-cpu / tensorflow[and-cuda]
            name = "tensorflow"
        extra = requirement.marker is not None and "extra" in str(requirement.marker)
        if extra and not name.startswith("tensorflow"):
            continue
        if str(requirement.specifier):
            found.setdefault(name, str(requirement.specifier))
    return found


def _satisfies(version, specifier):
    if not version or not specifier:
        return None
    try:
        from packaging.specifiers import SpecifierSet

        return SpecifierSet(specifier).contains(version, prereleases=True)
    except Exception:  # noqa: BLE001
        return None


def _distribution_version(names):
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


@dataclasses.dataclass
class InstallReport:
    """Result of `offline_install_check`.

    Attributes:
        rows: one dict per dependency: package, module, needed_for, required, installed (the
            distribution's version, from its metadata), imported (bool), version (module
            __version__), requirement (kerasseizure's specifier), satisfies (True/False/None),
            error (the import error, or "").
        python: the interpreter version.
        keras_backend: the Keras backend in use (when keras imported).
        devices: TensorFlow's physical devices (when tensorflow imported).
    """

    rows: list
    python: str
    keras_backend: str = None
    devices: list = dataclasses.field(default_factory=list)

    @property
    def ok(self):
        """True when every required dependency imports and satisfies the package's requirement."""
        return not self.problems

    @property
    def problems(self):
        return [r["package"] for r in self.rows if r["required"] and (not r["imported"] or r["satisfies"] is False)]

    @property
    def missing(self):
        return [r["package"] for r in self.rows if not r["imported"]]

    def to_frame(self):
        return pd.DataFrame(self.rows)

    def __str__(self):
        lines = [f"python {self.python}; keras backend {self.keras_backend}; devices {self.devices}"]
        for r in self.rows:
            state = "ok" if r["imported"] and r["satisfies"] is not False else (
                "TOO OLD" if r["imported"] else ("MISSING" if r["required"] else "missing (optional)"))
            version = r["version"] or r["installed"] or "-"
            need = f" (needs {r['requirement']})" if r["requirement"] else ""
            error = f": {r['error']}" if r["error"] and not r["imported"] else ""
            lines.append(f"  {r['package']:<16} {version:<14} {state}{need}{error}")
        lines.append("all required dependencies import" if self.ok else f"PROBLEMS: {', '.join(self.problems)}")
        return "\n".join(lines)

    def raise_for_problems(self):
        """Raise `KaggleError` listing the required dependencies that do not import or are too old."""
        if not self.ok:
            raise KaggleError(f"required dependencies missing or too old: {', '.join(self.problems)}\n{self}")


def offline_install_check(packages=DEPENDENCIES, *, import_modules=True):
    """Report which dependencies are installed and import, with their versions. No network.

    Args:
        packages: (distribution, module, needed_for, required) tuples; default `DEPENDENCIES`.
        import_modules: import each module (True) or only read the installed metadata (False,
            fast; `imported` then means "installed").

    Returns:
        InstallReport (print it; `.ok`, `.problems`, `.raise_for_problems()`).
    """
    requirements = _requirements()
    rows = []
    for distribution, module, needed_for, required in packages:
        names = [distribution] + (["tensorflow-cpu", "tensorflow-gpu", "tf-nightly"] if distribution == "tensorflow"
                                  else [])
        installed = _distribution_version(names)
        imported, version, error = installed is not None, None, ""
        if import_modules:
            try:
                loaded = importlib.import_module(module)
                imported, version = True, getattr(loaded, "__version__", None)
            except Exception as exc:  # noqa: BLE001 (any import failure is a finding, not a crash)
                imported, error = False, f"{type(exc).__name__}: {exc}"
        elif installed is None:
            error = "not installed"
        requirement = requirements.get(distribution.lower())
        rows.append({"package": distribution, "module": module, "needed_for": needed_for, "required": bool(required),
                     "installed": installed, "imported": imported, "version": version,
                     "requirement": requirement,
                     "satisfies": _satisfies(installed or version, requirement) if imported else None,
                     "error": error})
    backend, devices = None, []
    if "keras" in sys.modules:
        try:
            backend = sys.modules["keras"].backend.backend()
        except Exception:  # noqa: BLE001
            backend = os.environ.get("KERAS_BACKEND")
    if "tensorflow" in sys.modules:
        try:
            devices = [d.name for d in sys.modules["tensorflow"].config.list_physical_devices()]
        except Exception:  # noqa: BLE001
            devices = []
    return InstallReport(rows, platform.python_version(), backend, devices)
