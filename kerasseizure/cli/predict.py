"""`predict`: class probabilities of EDF recordings (TUSZ) or HMS EEG parquet files.

With a .tflite model this runs on NumPy, SciPy and LiteRT alone (no TensorFlow, no Keras): the
preprocessing is `kerasseizure.export.litert_runtime` (`read_edf_recording`,
`preprocess_recording`, `hms_views`), the NumPy references of the feature pipelines.

Only the predictions go to stdout (with `--out -`); every status line and warning goes to stderr,
so `kerasseizure predict ... --out - > predictions.csv` writes a clean CSV.
"""

import math
import sys
from pathlib import Path

from kerasseizure.cli.common import (
    HMS_EEG_SAMPLES, CommandError, _add_wavenet_options, _fit_shape, _given, _infer_hms_input, _infer_tusz_input,
    _input_specs, _is_hms_root, _positive_int, _warn,
)
from kerasseizure.errors import KerasSeizureError, SignalError


def _status(message):
    """A progress / summary line: stderr, since stdout may carry the CSV (`--out -`)."""
    print(message, file=sys.stderr)


# ============================================================================ predict


class _LiteModel:
    """A .tflite file through the TensorFlow-free LiteRT runtime."""

    def __init__(self, path, num_threads, output_kind, batch_size):
        from kerasseizure.export.litert_runtime import LiteRTClassifier

        try:
            self.classifier = LiteRTClassifier(path, num_threads=num_threads, output_kind=output_kind,
                                               batch_size=batch_size)
        except ImportError as error:
            raise CommandError(f"{path}: running .tflite files needs ai-edge-litert ({error})") from error
        self.report = self.classifier.report
        details = self.classifier.input_details
        self.specs = [(name, tuple(int(d) if d >= 0 else None for d in details[name]["shape_signature"][1:]))
                      for name in self.classifier.input_names]
        self.n_classes = int(self.classifier.output_details[self.classifier.output_names[0]]["shape"][-1])

    def predict(self, arrays):
        return self.classifier.predict(arrays if len(arrays) > 1 else arrays[0])


class _KerasModel:
    """A .keras model (loads TensorFlow); outputs turned into probabilities like LiteRTClassifier does."""

    def __init__(self, path, output_kind, batch_size):
        from kerasseizure.export.saving import load_keras_model

        self.model = load_keras_model(path)
        self.report = {}
        self.specs = _input_specs(self.model)
        self.n_classes = int(self.model.outputs[0].shape[-1])
        self.batch_size = batch_size
        if output_kind is None:
            last = self.model.layers[-1]
            activation = getattr(getattr(last, "activation", None), "__name__", "")
            output_kind = "probabilities" if type(last).__name__ == "Softmax" or activation == "softmax" else "logits"
        self.output_kind = output_kind

    def predict(self, arrays):
        import numpy as np

        from kerasseizure.probabilities import softmax

        x = arrays[0] if len(arrays) == 1 else {name: a for (name, _), a in zip(self.specs, arrays)}
        scores = np.asarray(self.model.predict(x, batch_size=self.batch_size, verbose=0), dtype=np.float32)
        return softmax(scores, dtype=np.float32) if self.output_kind == "logits" else scores


def _load_predict_model(args):
    path = Path(args.model)
    if not path.is_file():
        raise CommandError(f"{path}: no such model file")
    if path.suffix == ".tflite":
        return _LiteModel(path, args.num_threads, args.output_kind, args.batch_size)
    if path.suffix == ".keras":
        return _KerasModel(path, args.output_kind, args.batch_size)
    raise CommandError(f"{path}: MODEL must be a .tflite or .keras file")


def _class_names(args, n_classes, default):
    if args.classes:
        names = [c.strip() for c in args.classes.split(",") if c.strip()]
        if len(names) != n_classes:
            raise CommandError(f"--classes names {len(names)} classes, the model outputs {n_classes}")
        return names
    if default is not None and len(default) == n_classes:
        return list(default)
    return [f"class_{i}" for i in range(n_classes)]


# ---------------------------------------------------------------------------- EDF (TUSZ)


def _read_edf(path, fmax):
    """(signals, electrode names, fs, duration) of an EDF's scalp electrodes (the library's reader).

    Raises SignalError when an electrode's own rate cannot carry `fmax` Hz (None: no check):
    resampling to 250 Hz adds nothing above the file's Nyquist frequency, so those bins would be
    empty. The check reads the header only.
    """
    from kerasseizure.export.litert_runtime import read_edf_recording
    from kerasseizure.io.edf import read_header

    try:
        rate = min((c.fs for c in read_header(path).electrodes().values()), default=None)
        if fmax is not None and rate is not None and rate / 2 <= fmax:
            raise SignalError(f"{path}: sampling rate below 2 x fmax ({rate:g} Hz; the model's features reach "
                              f"fmax={fmax:g} Hz, which needs more than {2 * fmax:g} Hz)")
        return read_edf_recording(path)
    except KerasSeizureError as error:
        if str(path) in str(error):
            raise
        raise CommandError(f"{path}: {error}") from error


def _edf_settings(model):
    """Per model input: preprocess_recording keyword arguments (from the export report, else the shape)."""
    report = model.report.get("preprocessing") if model.report else None
    if report and len(model.specs) == 1 and report.get("kind") in ("ses", "fft", "raw"):
        options = {k: v for k, v in report.items() if k != "fs"}
        return [options]
    return [{"wl": 1.0, "ws": 0.25, **inferred} for inferred in _inferred_inputs(
        model, _infer_tusz_input, "is not a TUSZ window: an EDF cannot feed it (HMS models take .parquet input)")]


def _inferred_inputs(model, infer, refusal):
    """`infer(shape)` of every model input; CommandError "model input <name> <shape> <refusal>" on None."""
    inferred = []
    for name, shape in model.specs:
        value = infer(shape)
        if value is None:
            raise CommandError(f"model input {name} {shape} {refusal}")
        inferred.append(value)
    return inferred


def _highest_frequency(model, settings):
    """The highest frequency (Hz) the model's spectra keep, or None when no fmax is known.

    fft/ses inputs state it; a raw-window model computes its spectra in its front-end, whose
    config the export report keeps.
    """
    values = [float(s["fmax"]) for s in settings if s.get("kind") != "raw" and "fmax" in s]
    frontend = (model.report or {}).get("frontend") or {}
    if "fmax" in frontend:
        values.append(float(frontend["fmax"]))
    return max(values, default=None)


def _predict_edf(model, paths, args):
    import numpy as np
    import pandas as pd

    from kerasseizure.export.litert_runtime import TARGET_FS, pool_windows, preprocess_recording
    from kerasseizure.io.labels import SEIZURE_TYPES

    settings = _edf_settings(model)
    fmax = _highest_frequency(model, settings)
    classes = _class_names(args, model.n_classes, SEIZURE_TYPES)
    grids = {(float(s.get("wl", 1.0)), float(s.get("ws", 0.25))) for s in settings}
    if len(grids) != 1:
        raise CommandError(f"model inputs use different window grids {sorted(grids)}")
    wl, ws = grids.pop()
    length = math.floor(wl * TARGET_FS) / TARGET_FS
    step = math.floor(ws * TARGET_FS) / TARGET_FS
    frames = []
    for path in paths:
        signals, names, fs, duration = _read_edf(path, fmax)
        try:
            arrays = [_fit_shape(preprocess_recording(signals, names, fs=fs, **options), shape, f"{path}")
                      for options, (_, shape) in zip(settings, model.specs)]
        except KerasSeizureError as error:
            raise CommandError(f"{path}: {error}") from error
        except ValueError as error:  # e.g. a recording shorter than one window
            raise CommandError(f"{path}: {error}") from error
        probabilities = np.asarray(model.predict(arrays), dtype=np.float64)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        n = len(probabilities)
        starts = np.arange(n) * step
        frame = pd.DataFrame({"recording": str(path), "level": "window", "window": np.arange(n),
                              "start_seconds": np.round(starts, 6), "end_seconds": np.round(starts + length, 6)})
        for k, name in enumerate(classes):
            frame[name] = probabilities[:, k]
        pooled = pool_windows(probabilities, method=args.pooling)
        pooled = pooled / pooled.sum()
        row = {"recording": str(path), "level": "recording", "window": pd.NA, "start_seconds": 0.0,
               "end_seconds": round(float(duration), 6), **dict(zip(classes, pooled))}
        frame = pd.concat([frame, pd.DataFrame([row])], ignore_index=True)
        frame["window"] = frame["window"].astype("Int64")
        frame["predicted"] = np.asarray(classes)[frame[classes].to_numpy(np.float64).argmax(axis=1)]
        frames.append(frame)
        _status(f"{path}: {n} windows, recording: {classes[int(np.argmax(pooled))]} ({pooled.max():.3f})")
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------------- parquet (HMS)


def _hms_inputs(path):
    """(eeg parquet files, HMS root or None, split) of a .parquet file or a folder of them."""
    path = Path(path)
    if path.is_file():
        folder = path.parent
        files = [path]
    else:
        folder = path
        if (path / "test_eegs").is_dir():
            folder = path / "test_eegs"
        files = sorted(folder.glob("*.parquet"))
        if not files:
            raise CommandError(f"{path}: no .parquet file in this folder")
    split = "train" if folder.name == "train_eegs" else "test"
    root = folder.parent if folder.name in ("train_eegs", "test_eegs") and _is_hms_root(folder.parent) else None
    return files, root, split


def _eeg_id(path):
    stem = Path(path).stem
    return int(stem) if stem.isdigit() else stem


def _model_hms_views(model):
    return _inferred_inputs(model, _infer_hms_input, "is not an HMS view (eeg (2000, 8) or image (H, W, 3)): "
                                                     "a parquet EEG cannot feed it (TUSZ models take an .edf)")


def _count_nan(path, window, kaggle, totals):
    """Warn about the NaNs of one input and add them to `totals` (the keys of `prepare`'s NaN line).

    The HMS views replace NaNs by the starters' rules (EEG: electrode or difference mean, all-NaN
    -> 0; Kaggle spectrogram: 0 after standardisation) without a word; here they are counted as
    the feature builder counts them.
    """
    import numpy as np

    from kerasseizure.io.channels import HMS_EEG_COLUMNS
    from kerasseizure.io.hms import HMS_EEG_FS
    from kerasseizure.io.missing import fill_nan_with_channel_mean, longest_nan_runs

    _, filled = fill_nan_with_channel_mean(window)
    kaggle_nan = 0 if kaggle is None else int(np.isnan(kaggle).sum())
    found = []
    if filled.total:
        found.append(f"{filled.total} EEG values")
        if filled.all_nan_channels:
            found.append("all-NaN channels " + ",".join(HMS_EEG_COLUMNS[i] for i in filled.all_nan_channels))
        runs = longest_nan_runs(window)
        runs[list(filled.all_nan_channels)] = 0  # listed above; the gaps of the other channels matter here
        if runs.any():
            found.append(f"longest NaN run {runs.max()} samples ({runs.max() / HMS_EEG_FS:g} s) in "
                         f"{HMS_EEG_COLUMNS[int(runs.argmax())]}")
    if kaggle_nan:
        found.append(f"{kaggle_nan} Kaggle spectrogram values")
    if found:
        _warn("predict", f"{path}: NaN filled in the 50 s window: " + ", ".join(found))
    totals["eeg_values"] += filled.total
    totals["eeg_ids"] += bool(filled.total)
    totals["all_nan_channels"] += len(filled.all_nan_channels)
    totals["kaggle_values"] += kaggle_nan


def _predict_parquet(model, paths, root, split, args):
    import numpy as np
    import pandas as pd

    from kerasseizure.export.litert_runtime import hms_views
    from kerasseizure.io.hms import HMSDataset, read_eeg_parquet
    from kerasseizure.io.labels import HMS_VOTE_COLUMNS

    views = _model_hms_views(model)
    if model.n_classes != len(HMS_VOTE_COLUMNS):
        raise CommandError(f"{args.model}: outputs {model.n_classes} classes, HMS has {len(HMS_VOTE_COLUMNS)}")
    report = (model.report or {}).get("preprocessing") or {}
    report = report if report.get("kind") == "hms" else {}
    eeg_options = dict(report.get("eeg") or {})
    eeg_options.update({k: v for k, v in _given(args, ("low_hz", "high_hz", "clip", "scale", "keep_every")).items()})
    if getattr(args, "filter_order", None) is not None:
        eeg_options["order"] = args.filter_order
    if getattr(args, "zero_phase", None):
        eeg_options["zero_phase"] = True
    dataset, spectrogram_of, offsets = None, {}, {}
    image_shape = next((shape for (_, shape), v in zip(model.specs, views) if v == "image"), None)
    needs_kaggle = image_shape is not None and tuple(image_shape[:2]) != (512, 256) and \
        report.get("include_kaggle", True)
    if needs_kaggle:
        if root is None:
            raise CommandError(f"{args.input}: the image model needs the Kaggle spectrograms; give the competition "
                               "folder (holding test.csv and test_spectrograms/) or its test_eegs/ folder")
        dataset = HMSDataset(root)
        if split == "test":
            table = dataset.test_ids
            spectrogram_of = dict(zip(table["eeg_id"].astype(int), table["spectrogram_id"].astype(int)))
        else:
            table = dataset.labels
            spectrogram_of = dict(zip(table["eeg_id"].astype(int), table["spectrogram_id"].astype(int)))
            offsets = dict(zip(table["eeg_id"].astype(int), (table["spectrogram_label_offset_seconds_min"]
                                                             + table["spectrogram_label_offset_seconds_max"]) / 2))
    rows = []
    nan = dict.fromkeys(("eeg_values", "eeg_ids", "all_nan_channels", "kaggle_values"), 0)
    for path in paths:
        eeg = read_eeg_parquet(path)
        if eeg.shape[0] < HMS_EEG_SAMPLES:
            raise CommandError(f"{path}: EEG has {eeg.shape[0]} samples ({eeg.shape[0] / 200:g} s), "
                               f"shorter than the {HMS_EEG_SAMPLES}-sample (50 s) window")
        start = (eeg.shape[0] - HMS_EEG_SAMPLES) // 2  # the middle 50 s, as the starters take it
        window = eeg[start : start + HMS_EEG_SAMPLES]
        eeg_id = _eeg_id(path)
        kaggle = None
        if needs_kaggle and "image" in views:
            if eeg_id not in spectrogram_of:
                raise CommandError(f"{path}: eeg_id {eeg_id} is not listed in {root}/{split}.csv")
            kaggle = dataset.spectrogram_window(spectrogram_of[eeg_id], float(offsets.get(eeg_id, 0.0)),
                                                split=split).values
        _count_nan(path, window, kaggle, nan)
        inputs = hms_views(window, views, image_size=tuple(int(d) for d in image_shape[:2]) if image_shape else None,
                           kaggle_spectrogram=kaggle, standardize_over=report.get("standardize_over") or "panel",
                           eeg_options=eeg_options)
        arrays = [_fit_shape(x[None], shape, f"{path}") for x, (_, shape) in zip(inputs, model.specs)]
        probabilities = np.asarray(model.predict(arrays), dtype=np.float64)[0]
        probabilities = probabilities / probabilities.sum()
        rows.append({"eeg_id": eeg_id, **dict(zip(HMS_VOTE_COLUMNS, probabilities))})
    frame = pd.DataFrame(rows, columns=["eeg_id", *HMS_VOTE_COLUMNS])
    _status(f"{len(frame)} eeg_id(s) predicted ({'+'.join(views)})")
    _status(f"NaN fills: {nan['eeg_values']} EEG values in {nan['eeg_ids']} eeg_ids, {nan['all_nan_channels']} "
            f"all-NaN channels, {nan['kaggle_values']} Kaggle values")
    return frame


def _predict(args):
    source = Path(args.input)
    if not source.exists():
        raise CommandError(f"{source}: no such file or folder")
    edfs = [source] if source.is_file() and source.suffix.lower() == ".edf" else (
        sorted(p for p in source.rglob("*") if p.suffix.lower() == ".edf") if source.is_dir() else [])
    parquet = source.suffix.lower() == ".parquet" or (source.is_dir() and not edfs)
    if not edfs and not parquet:
        raise CommandError(f"{source}: INPUT must be an .edf file, an HMS EEG .parquet file or a folder of them")
    model = _load_predict_model(args)
    if edfs:
        frame = _predict_edf(model, edfs, args)
    else:
        files, root, split = _hms_inputs(source)
        frame = _predict_parquet(model, files, root, split, args)
    if args.out == "-":
        frame.to_csv(sys.stdout, index=False)
        return
    from kerasseizure.files import atomic_path

    with atomic_path(args.out) as tmp:
        frame.to_csv(tmp, index=False)
    _status(f"wrote {len(frame)} rows to {args.out}")


def _add_predict(commands):
    predict = commands.add_parser(
        "predict", help="class probabilities of EDF recordings (TUSZ) or HMS EEG parquet files",
        description="Run a .tflite model (LiteRT, no TensorFlow) or a .keras model on an EDF recording "
                    "(per-window probabilities with window times plus a pooled per-recording row; "
                    "preprocessing from the export report when present) or on HMS EEG parquet files "
                    "(one row per eeg_id in the sample_submission layout).")
    predict.add_argument("model", metavar="MODEL", help="a .tflite or .keras model")
    predict.add_argument("input", metavar="INPUT",
                         help="an .edf file (or a folder of them), an HMS EEG .parquet file, or a folder of "
                              "HMS test parquet files (or the competition folder: its test_eegs/ is used)")
    predict.add_argument("--out", default="predictions.csv",
                         help="CSV to write atomically (default predictions.csv; '-' for stdout)")
    predict.add_argument("--classes", help="comma-separated class names of the TUSZ model's outputs "
                                           "(default: the seven benchmark types when it has 7 outputs)")
    predict.add_argument("--pooling", default="mean", choices=("mean", "max"),
                         help="per-recording pooling of window probabilities (default mean)")
    predict.add_argument("--output-kind", choices=("logits", "probabilities"),
                         help="what the model outputs (default: from the export report / the last layer)")
    predict.add_argument("--batch-size", type=_positive_int, default=64, help="windows per inference call")
    predict.add_argument("--num-threads", type=_positive_int, default=1, help="LiteRT threads")
    group = predict.add_argument_group("HMS WaveNet input (default: the export report's, else the starter's)")
    _add_wavenet_options(group)
    predict.set_defaults(run=_predict)


