"""What a training run leaves for inference, and the preprocessing contract checked at inference.

- The inference spec (`inference_spec`, `save_for_inference`, `read_inference_spec`): the model
  file, its inputs and the TRAIN feature-cache configuration, written as
  `kerasseizure_inference.json` beside `model.keras` (or read from a `fit` run's config.json).
- Fold models (`find_model_dirs`, `load_fold_model` -> `FoldModel`).
- The preprocessing check: `preprocessing_signature` (what must be equal between training and
  test views), `test_feature_kwargs` (the `build_hms_features` arguments reproducing it),
  `check_preprocessing` and `build_test_features` (raise `PreprocessingMismatchError`).

Re-exported by `kerasseizure.kaggle`; see docs/kaggle.md.
"""

import dataclasses
import json
import warnings
from pathlib import Path

from kerasseizure.files import atomic_path, atomic_write_json
from kerasseizure.io.labels import HMS_CLASSES
from kerasseizure.kaggle import InferenceSpecError, PreprocessingMismatchError

INFERENCE_FILE = "kerasseizure_inference.json"
INFERENCE_FORMAT = 1
MODEL_FILE = "model.keras"
INPUT_VIEWS = {"eeg": ("eeg",), "image": ("image",), "both": ("eeg", "image")}
# Parts of a feature-cache config that describe the data, not the preprocessing: they differ
# between the train and the test split by construction.
_DATA_KEYS = ("split", "corpus", "time_shift_views", "spectrogram_offset", "views", "params")
# build_hms_features keyword for each cached WaveNet parameter whose name differs.
_WAVENET_KWARGS = {"order": "filter_order"}


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
    """Read the spec and load the model of one folder (`export.saving.load_model`: safe mode, no
    training configuration)."""
    from kerasseizure.export.saving import load_keras_model

    model_dir = Path(model_dir)
    spec = read_inference_spec(model_dir)
    path = model_dir / spec["model"]
    if not path.is_file():
        raise InferenceSpecError(f"{model_dir}: model file {spec['model']!r} not found")
    return FoldModel(model_dir, spec, load_keras_model(path))


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
