"""Kaggle notebook helpers for "HMS - Harmful Brain Activity Classification" (offline notebooks).

A Kaggle submission notebook runs without internet: the package and its wheels come from an
attached dataset, the trained fold models from another one, and the competition data from
`/kaggle/input/hms-harmful-brain-activity-classification`. This package covers that path:

- `competition_dir(path=None)`: the competition folder: the argument, else the environment
  variable `KERASSEIZURE_HMS_DIR`, else the Kaggle default; a clear error lists what was looked
  for and why each candidate was refused. (Here, with the competition layout and the errors.)
- `save_for_inference(out_dir, model, features, inputs=...)`: what a training run leaves for
  inference: `model.keras` plus `kerasseizure_inference.json` holding the feature-cache
  configuration the model was trained on (every preprocessing parameter, the code version).
  The spec, fold-model loading and the preprocessing check live in `kaggle/inference.py`.
- `make_submission(model_dirs, competition=None, out=...)`: builds the test views through
  `kerasseizure.pipelines.build_hms_features(split="test")` with the parameters READ FROM THE
  TRAINING RUN, checks that the test cache's configuration equals the training one (else
  `PreprocessingMismatchError`), averages the fold models' probabilities (softmax through
  `models.with_probabilities`, mean over folds, rows renormalised) and writes `submission.csv`
  (`kaggle/submission.py`, with prediction, fold averaging and the checks below).
- `write_submission(frame, path, ...)`: validates the frame with the checks of the competition
  scorer (`evaluation.metrics.kaggle_kl_divergence`: numeric, finite, in [0, 1], rows summing to 1
  by `np.allclose`, the expected ids once each) plus the column and row order of
  sample_submission.csv, writes it atomically, reads the written file back and validates it again
  before it is renamed into place. A bad submission never reaches the target path.
- `offline_install_check()`: which dependencies import, their versions, and whether they satisfy
  the package's requirements; it never touches the network (`kaggle/install.py`).

Every public name is importable from `kerasseizure.kaggle`. Importing it does not import
TensorFlow; predicting does. See docs/kaggle.md.
"""

import os
from pathlib import Path

from kerasseizure.errors import KerasSeizureError

COMPETITION = "hms-harmful-brain-activity-classification"
KAGGLE_INPUT = Path("/kaggle/input")
KAGGLE_WORKING = Path("/kaggle/working")
DEFAULT_COMPETITION_DIR = KAGGLE_INPUT / COMPETITION
ENV_COMPETITION_DIR = "KERASSEIZURE_HMS_DIR"
COMPETITION_FILES = ("test.csv", "sample_submission.csv", "test_eegs", "test_spectrograms")
TRAINING_FILES = ("train.csv", "train_eegs", "train_spectrograms")


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
# paths (here rather than in a submodule: `competition_dir` reads DEFAULT_COMPETITION_DIR and
# KAGGLE_INPUT from this namespace, where tests and notebooks may set them)


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
# the submodules (imported last: they use the errors and paths above)

from kerasseizure.kaggle.inference import (  # noqa: E402
    INFERENCE_FILE,
    INFERENCE_FORMAT,
    INPUT_VIEWS,
    MODEL_FILE,
    FoldModel,
    build_test_features,
    check_preprocessing,
    find_model_dirs,
    inference_spec,
    load_fold_model,
    preprocessing_signature,
    read_inference_spec,
    save_for_inference,
    test_feature_kwargs,
)
from kerasseizure.kaggle.install import DEPENDENCIES, InstallReport, offline_install_check  # noqa: E402
from kerasseizure.kaggle.submission import (  # noqa: E402
    SUBMISSION_COLUMNS,
    SubmissionResult,
    average_probabilities,
    make_submission,
    predict_probabilities,
    renormalise,
    submission_frame,
    submission_template,
    validate_submission,
    write_submission,
)

__all__ = [
    # paths and errors (this module)
    "COMPETITION", "COMPETITION_FILES", "CompetitionDataNotFound", "DEFAULT_COMPETITION_DIR", "ENV_COMPETITION_DIR",
    "InferenceSpecError", "KAGGLE_INPUT", "KAGGLE_WORKING", "KaggleError", "PreprocessingMismatchError",
    "SubmissionError", "TRAINING_FILES", "competition_dataset", "competition_dir", "working_dir",
    # inference
    "FoldModel", "INFERENCE_FILE", "INFERENCE_FORMAT", "INPUT_VIEWS", "MODEL_FILE", "build_test_features",
    "check_preprocessing", "find_model_dirs", "inference_spec", "load_fold_model", "preprocessing_signature",
    "read_inference_spec", "save_for_inference", "test_feature_kwargs",
    # submission
    "SUBMISSION_COLUMNS", "SubmissionResult", "average_probabilities", "make_submission", "predict_probabilities",
    "renormalise", "submission_frame", "submission_template", "validate_submission", "write_submission",
    # install
    "DEPENDENCIES", "InstallReport", "offline_install_check",
]
