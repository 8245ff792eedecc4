"""One TUSZ seizure-type experiment on one cross-validation fold: train, evaluate, keep the run.

This is the library layer under `python -m reproduce.table1` (and the `kerasseizure train /
evaluate` commands): given cached features (`kerasseizure.pipelines.build_tusz_features`), a
fold's (train, validation) seizure positions and a `TUSZExperimentConfig`, it trains one row of
table 1 and returns its window probabilities and weighted F1 (window- and seizure-level):

    kind         model                                   features      trained with
    baseline     sklearn pipeline (`make_baseline`)       "fft"         sklearn, threads limited
    member       `seizurenet_member` on one SES input     "ses"         `fit`
    ensemble     `SeizureNet` on every SES input          "ses"         `fit`
    student      `student` on one SES input               "ses"         `fit`
    distilled    `student`, taught by this fold's teacher "ses"         `fit` of a Distiller

```python
from kerasseizure.experiments.tusz import TUSZExperimentConfig, run_tusz_fold

config = TUSZExperimentConfig.from_dict({"kind": "ensemble", "epochs": 10,
                                         "model": {"layers_per_block": [2, 2]}})
result = run_tusz_fold(features, train, valid, config, "runs/ensemble/fold-0")
result.metrics["seizure_f1"], result.predictions["probs"]
```

Every neural row trains through `training.fit.fit` in `<fold_dir>/fit` (a distilled row's
teacher in `teacher_dir`, normally the ensemble row's own fold folder), so an interrupted fold
resumes from its last completed epoch and a completed one is loaded, not retrained. Wrap the
call in `experiments.runs.run_folds` to get the per-fold `result.json` / `predictions.npz` and
skip completed folds entirely.

Speed: building a Keras model and tracing its training step costs far more than an epoch on a
small corpus. Models are therefore kept in a `ModelPool` (one per process by default) keyed by
architecture, input shapes, optimizer and seed: the first fold builds, compiles and records the
initial variables (model and optimizer); later folds restore those initial values and reuse the
traced functions. The initial values are those a fresh build under the same seed gives, so a
fold's result does not depend on which folds ran before it in the process (tested).

Windows: `train_window_stride` / `eval_window_stride` keep every k-th window of each seizure
(IBM's grid has 1-s windows every 0.25 s, i.e. 75% overlap; stride 4 gives non-overlapping
windows); batches come from `pipelines.tusz_dataset(..., window_stride=k)`. Seizure-level scores
are the mean of the evaluated windows' probabilities.

The configuration (`TUSZExperimentConfig`, `ExperimentConfigError`, `KINDS`) lives in
`kerasseizure.experiments.tusz_config` and is re-exported here.
"""

import json
import time
from pathlib import Path

import numpy as np

from kerasseizure.experiments.tusz_config import (
    KINDS, NEURAL_KINDS, ExperimentConfigError, TUSZExperimentConfig, _model_inputs,
)
from kerasseizure.files import atomic_write_json


# ------------------------------------------------------------------------------ models reused across folds


class ModelPool:
    """Compiled models reused across folds: built once, reset to their initial values per fold.

    Entries are keyed by a JSON key (role, architecture, input shapes, optimizer, seed, precision).
    `clear()` drops them (and Keras' global state).
    """

    def __init__(self):
        self.entries = {}

    def get(self, key, build):
        """The entry for `key` (built by `build()` -> (model, extra dict) on first use), reset."""
        entry = self.entries.get(key)
        if entry is None:
            model, extra = build()
            entry = {"model": model, **extra,
                     "initial": [np.array(v.numpy()) for v in model.variables],
                     "initial_optimizer": [np.array(v.numpy()) for v in model.optimizer.variables]}
            self.entries[key] = entry
        else:
            for variable, value in zip(entry["model"].variables, entry["initial"]):
                variable.assign(value)
            for variable, value in zip(entry["model"].optimizer.variables, entry["initial_optimizer"]):
                variable.assign(value)
        return entry

    def clear(self):
        """Forget every model."""
        from kerasseizure.training.precision import clear_session

        self.entries.clear()
        clear_session()


DEFAULT_POOL = ModelPool()


def _shapes(features, names):
    return [tuple(int(d) for d in features.arrays[name].shape[1:]) for name in names]


def _build_network(config, features):
    from kerasseizure.models import SeizureNet, seizurenet_member, student
    from kerasseizure.training.batchnorm import set_batchnorm_momentum

    n_classes = len(features.classes)
    names, _ = _model_inputs(config, features)
    shapes = _shapes(features, names)
    options = dict(config.model)
    if config.kind == "ensemble":
        model = SeizureNet(input_shapes=shapes, num_classes=n_classes, input_names=names, **options)
    elif config.kind == "member":
        model = seizurenet_member(shapes[0], num_classes=n_classes, input_name=names[0], **options)
    else:
        model = student(shapes[0], num_classes=n_classes, input_name=config.input_name, **options)
    return set_batchnorm_momentum(model, config.bn_momentum)


def _pool_key(role, config, features):
    names, _ = _model_inputs(config, features)
    key = {"role": role, "kind": config.kind, "model": config.model, "bn_momentum": config.bn_momentum, "inputs": names,
           "shapes": _shapes(features, names), "classes": list(features.classes), "optimizer": config.optimizer,
           "lr": config.lr, "seed": config.seed, "precision": config.precision}
    if role == "distiller":
        key.update(teacher=json.loads(_pool_key("teacher", config.teacher, features)), input_name=config.input_name,
                   temperature=config.temperature, alpha=config.alpha,
                   feature_distillation=config.feature_distillation, feature_weight=config.feature_weight)
    return json.dumps(key, sort_keys=True, default=str)


def _network_entry(config, features, pool):
    """A compiled classifier (member, ensemble or student) at its initial state."""
    from kerasseizure.training import losses as losses_lib
    from kerasseizure.training.fit import make_optimizer, seed_everything
    from kerasseizure.training.precision import precision_scope

    def build():
        seed_everything(config.seed)
        with precision_scope(config.precision):
            model = _build_network(config, features)
            model.compile(optimizer=make_optimizer(config.optimizer, config.lr),
                          loss=losses_lib.get_loss("sparse_cross_entropy"))
            model.optimizer.build(model.trainable_variables)
        return model, {}

    return pool.get(_pool_key("network", config, features), build)


def _distiller_entry(config, features, pool):
    """A compiled Distiller (its own teacher and student instances) at its initial state."""
    from kerasseizure.models import student as student_builder
    from kerasseizure.models import with_teacher_inputs
    from kerasseizure.training.batchnorm import set_batchnorm_momentum
    from kerasseizure.training.distillation import compiled_distiller
    from kerasseizure.training.fit import seed_everything
    from kerasseizure.training.precision import precision_scope

    def build():
        seed_everything(config.seed)
        with precision_scope(config.precision):
            # The student is built first, right after seeding, exactly as the "student" row builds
            # it: a distilled student starts from the same weights as the student trained alone.
            shape = _shapes(features, [config.input_name])[0]
            small = set_batchnorm_momentum(student_builder(shape, num_classes=len(features.classes),
                                                           input_name=config.input_name, **config.model),
                                           config.bn_momentum)
            teacher = _build_network(config.teacher, features)
            teacher_names = [t.name for t in teacher.inputs]
            view = with_teacher_inputs(small, teacher, input_index=teacher_names.index(config.input_name),
                                       taps=("pool",))
            feature_layers = ("embedding", "pool_tap") if config.feature_distillation else None
            distiller, _ = compiled_distiller(teacher, view, temperature=config.temperature, alpha=config.alpha,
                                              feature_layers=feature_layers, feature_weight=config.feature_weight,
                                              student_loss="sparse_cross_entropy", optimizer=config.optimizer,
                                              lr=config.lr)
            shapes = _shapes(features, teacher_names)
            dummy = {n: np.zeros((1, *s), np.float32) for n, s in zip(teacher_names, shapes)}
            distiller(dummy if len(teacher_names) > 1 else dummy[teacher_names[0]])
            distiller.optimizer.build(distiller.trainable_variables)
        return distiller, {"teacher": teacher, "student": small, "view": view, "features": bool(feature_layers)}

    return pool.get(_pool_key("distiller", config, features), build)


def _network_entry_cached(config, features, pool):
    """The pool entry of a network trained just before (no reset: it holds the fold's weights)."""
    return pool.entries[_pool_key("network", config, features)]


# ------------------------------------------------------------------------------ run plans


def time_network(config, features, *, steps=3, warmup=1):
    """Size and measured step times of a neural row's model, compiled exactly as its folds compile it.

    A distilled row times its Distiller's training step (teacher forward pass included) and its
    student's evaluation; the figures are `experiments.plan.time_model`'s, on random inputs of
    the features' shapes (planned features do: `build_tusz_features(..., plan_only=True)`).
    """
    from kerasseizure.experiments import plan as plan_lib

    pool = ModelPool()
    if config.kind == "distilled":
        entry = _distiller_entry(config, features, pool)
        train_model, inputs_of, deployed = entry["model"], entry["teacher"], entry["student"]
    else:
        entry = _network_entry(config, features, pool)
        train_model = inputs_of = deployed = entry["model"]
    labels = np.random.default_rng(config.seed).integers(len(features.classes), size=int(config.batch_size))
    if entry.get("features"):
        labels = (labels, labels)  # feature matching: the two-output view takes (y, y)
    timing = plan_lib.time_model(train_model, plan_lib.random_batch(inputs_of, int(config.batch_size)), labels,
                                 plan_lib.random_batch(deployed, int(config.eval_batch_size)), steps=steps,
                                 warmup=warmup, eval_model=deployed)
    return plan_lib.model_size(deployed), timing


def time_baseline(config, features, n_train, n_eval):
    """`experiments.plan.baseline_timing` of a baseline row's estimator on windows of the features' width."""
    from threadpoolctl import threadpool_limits

    from kerasseizure.experiments import plan as plan_lib
    from kerasseizure.experiments.baselines import make_baseline

    width = int(np.prod(features.arrays["fft"].shape[1:]))
    with threadpool_limits(int(config.sklearn_threads)):
        return plan_lib.baseline_timing(
            lambda: make_baseline(config.baseline, seed=config.seed, classifier_params=config.baseline_params or None),
            width, len(features.classes), n_train, n_eval, seed=config.seed, quadratic_predict=config.baseline == "knn")


# ------------------------------------------------------------------------------ windows and data


def _dataset_inputs(config, features):
    """`tusz_dataset`'s `inputs` for the row's model: the input name, or the list of names of a dict input."""
    names, as_dict = _model_inputs(config, features)
    return names if as_dict else names[0]


# ------------------------------------------------------------------------------ training


class _EpochLog:
    """Keras callback factory logging each finished epoch through `log`."""

    @staticmethod
    def make(log, what, epochs):
        import keras

        class EpochLog(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                logs = logs or {}
                shown = ", ".join(f"{k} {float(v):.4f}" for k, v in logs.items() if "loss" in k)
                log(f"{what}: epoch {epoch + 1}/{epochs} {shown}")

        return EpochLog()


def _fit_kwargs(config, run_dir, log, what):
    callbacks = [_EpochLog.make(log, what, config.epochs)] if log else []
    return dict(run_dir=run_dir, epochs=int(config.epochs), lr=config.lr, batch_size=int(config.batch_size),
                seed=int(config.seed), precision=config.precision, callbacks=callbacks,
                tensorboard=bool(config.tensorboard), plot=bool(config.plot), keep_checkpoints=1,
                recompute_batchnorm=config.recompute_batchnorm, max_steps_per_epoch=config.max_steps_per_epoch,
                config={"experiment": config.to_dict()})


def training_rows(config, features, train, epoch=0, seed=None):
    """The window rows a row trains on in one epoch: every `train_window_stride`-th window of the
    seizures at `train`, or with `background_ratio` those seizure windows and a fresh draw of
    background windows (`pipelines.subsample_background`, seeded by seed (default the config's)
    and epoch)."""
    from kerasseizure.pipelines import subsample_background

    rows = features.window_positions(train, config.train_window_stride)
    if config.background_ratio is None:
        return rows
    seed = config.seed if seed is None else seed
    return subsample_background(features, rows, config.background_ratio, seed, epoch)


def _data(config, features, train, valid):
    """(training data factory, validation data factory or None, number of training windows) of a row."""
    from kerasseizure.pipelines import tusz_dataset

    inputs = _dataset_inputs(config, features)

    def epoch_rows(epoch, seed):
        return training_rows(config, features, train, epoch, seed)

    n_train = int(epoch_rows(0, config.seed).size)
    if n_train == 0:
        raise ExperimentConfigError(f"row {config.name!r}: the fold's training seizures have no windows")

    def train_data(epoch, seed, global_batch):
        return tusz_dataset(features, train, global_batch, shuffle=True, seed=seed, epoch=epoch, inputs=inputs,
                            window_rows=epoch_rows(epoch, seed))

    def validation_data(epoch, seed, global_batch):
        return tusz_dataset(features, valid, config.eval_batch_size, window_stride=config.eval_window_stride,
                            inputs=inputs)

    tracked = (config.track_validation and valid is not None
               and features.window_positions(valid, config.eval_window_stride).size > 0)
    return train_data, validation_data if tracked else None, n_train


def train_network(features, train, valid, config, run_dir, *, pool=None, log=None):
    """Train (or resume, or load) a member / ensemble / student in `run_dir`; returns (model, FitResult)."""
    from kerasseizure.training.fit import fit

    pool = pool or DEFAULT_POOL
    train_data, validation, n_train = _data(config, features, train, valid)
    entry = _network_entry(config, features, pool)
    result = fit(entry["model"], train_data, validation, loss="sparse_cross_entropy", compile=False,
                 **_fit_kwargs(config, run_dir, log, config.name))
    return entry["model"], result, n_train


def _distill(features, train, valid, config, run_dir, teacher_model, *, pool, log):
    from kerasseizure.training.distillation import fit_distiller

    train_data, validation, n_train = _data(config, features, train, valid)
    entry = _distiller_entry(config, features, pool)
    for target, source in zip(entry["teacher"].variables, teacher_model.variables):
        target.assign(source)
    student = entry["student"]
    result = fit_distiller(entry["model"], train_data, validation, feature_matching=entry["features"],
                           export=lambda _: student, **_fit_kwargs(config, run_dir, log, config.name))
    return student, result, n_train


def _predict(model, features, valid, config, inputs):
    """Softmax probabilities (float64) of the row's evaluated windows of the seizures at `valid`."""
    import keras

    from kerasseizure.pipelines import tusz_dataset

    ds = tusz_dataset(features, valid, config.eval_batch_size, window_stride=config.eval_window_stride, inputs=inputs)
    logits = model.predict(ds, verbose=0)
    return np.asarray(keras.ops.convert_to_numpy(keras.ops.softmax(logits, axis=-1)), np.float64)


def _member_view(entry):
    """A view of a pooled SeizureNet returning its members' logits (batch, members, classes)."""
    import keras

    if "view" not in entry:
        model = entry["model"]
        entry["view"] = keras.Model(model.inputs, model.get_layer("member_logits").output, name="member_logits_view")
    return entry["view"]


# ------------------------------------------------------------------------------ evaluation


def evaluate_probabilities(features, rows, probs):
    """Weighted F1 per window and per seizure (mean of its windows' probabilities) of window rows."""
    from kerasseizure.evaluation.metrics import window_and_seizure_f1

    windows = features.windows
    return window_and_seizure_f1(probs, windows["seizure"].to_numpy()[rows],
                                 windows["label_index"].to_numpy()[rows])


def truth_probabilities(features, rows, activity, fallback):
    """The best a model can do on a synthetic corpus: one-hot probabilities of window rows `rows`.

    A window at least half inside its seizure's simulated activity (`activity`:
    `io.synthetic.simulated_seizure_activity`) gets its seizure's type; any other window (the
    annotation starts before the simulated onset or ends after the offset) shows only background,
    so no model can know its type: it gets class `fallback` (the training fold's majority).

    Args:
        features: TUSZFeatures of the synthetic corpus.
        rows: window rows (positions in `features.windows`).
        activity: the corpus's simulated seizure activity.
        fallback: the class index of the windows without activity.
    """
    windows = features.windows.iloc[np.asarray(rows, dtype=np.int64)]
    spans = {}
    for path, start, onset, offset in zip(activity["edf_path"], activity["start"], activity["signal_onset"],
                                          activity["signal_offset"]):
        spans.setdefault(str(path), []).append((float(start), float(onset), float(offset)))
    by_seizure = {}
    for position in np.unique(windows["seizure"].to_numpy()):
        seizure = features.seizures.iloc[int(position)]
        found = [(onset, offset) for start, onset, offset in spans.get(str(seizure["edf_path"]), [])
                 if abs(start - float(seizure["start"])) < 1e-3]  # annotation files round to 0.1 ms
        if not found:
            raise ValueError(f"{seizure['edf_path']}: no simulated activity in the truth for the seizure at "
                             f"{float(seizure['start']):g} s: not the corpus the truth describes")
        by_seizure[int(position)] = found[0]
    onset, offset = np.array([by_seizure[int(s)] for s in windows["seizure"]], dtype=np.float64).reshape(-1, 2).T
    wl = float(features.config["params"]["wl"])
    start = windows["start_seconds"].to_numpy(np.float64)
    inside = np.clip(np.minimum(start + wl, offset) - np.maximum(start, onset), 0.0, None) >= wl / 2
    classes = np.where(inside, windows["label_index"].to_numpy(), int(fallback))
    return np.eye(len(features.classes))[classes]


def _fold_result(features, rows, probs, extra, more_metrics=None, more_predictions=None):
    from kerasseizure.experiments.runs import FoldResult

    metrics = evaluate_probabilities(features, rows, probs)
    metrics.update(more_metrics or {})
    windows = features.windows
    predictions = {"probs": probs.astype(np.float32), "window": rows.astype(np.int64),
                   "seizure": windows["seizure"].to_numpy()[rows].astype(np.int64),
                   "label": windows["label_index"].to_numpy()[rows].astype(np.int64)}
    predictions.update(more_predictions or {})
    return FoldResult(metrics, predictions, extra)


def _run_baseline(features, train, valid, config, fold_dir, log):
    from threadpoolctl import threadpool_limits

    from kerasseizure.experiments.baselines import make_baseline

    if "fft" not in features.arrays:
        raise ExperimentConfigError(f"baseline {config.name!r} needs FFT features (build_tusz_features(..., 'fft')); "
                                    f"these hold {sorted(features.arrays)}")
    train_rows = features.window_positions(train, config.train_window_stride)
    valid_rows = features.window_positions(valid, config.eval_window_stride)
    x = np.asarray(features.arrays["fft"][train_rows], dtype=np.float32)
    y = features.windows["label_index"].to_numpy()[train_rows]
    start = time.perf_counter()
    with threadpool_limits(int(config.sklearn_threads)):
        model = make_baseline(config.baseline, seed=config.seed, classifier_params=config.baseline_params or None)
        model.fit(x, y)
        train_seconds = time.perf_counter() - start
        x_valid = np.asarray(features.arrays["fft"][valid_rows], dtype=np.float32)
        scores = model.predict_proba(x_valid)
    probs = np.zeros((len(valid_rows), len(features.classes)), np.float64)
    probs[:, model.classes_.astype(int)] = scores
    if log:
        log(f"{config.name}: fitted on {len(train_rows)} windows in {train_seconds:.1f} s")
    atomic_write_json(Path(fold_dir) / "config.json", {"experiment": config.to_dict()})
    return _fold_result(features, valid_rows, probs, {"n_train_windows": int(len(train_rows)),
                                                      "train_seconds": round(train_seconds, 3)})


def run_tusz_fold(features, train, valid, config, fold_dir, *, teacher_dir=None, pool=None, log=None):
    """Train and evaluate one table-1 row on one fold; resumable through `fold_dir`.

    Args:
        features: TUSZFeatures holding what the row needs ("fft" for baselines, "ses" otherwise;
            `config.representation`).
        train, valid: the fold's seizure positions in `features.seizures`.
        config: TUSZExperimentConfig (or a dict).
        fold_dir: the fold's folder; neural rows train in `<fold_dir>/fit`.
        teacher_dir: a distilled row's teacher folder (its fit goes to `<teacher_dir>/fit`);
            pass the teacher row's own fold folder to reuse its training (default
            `<fold_dir>/teacher`).
        pool: ModelPool (default: the module's).
        log: callable(str) for progress lines (each epoch, each fit).

    Returns:
        experiments.runs.FoldResult: metrics (window_f1, seizure_f1, n_windows, n_seizures, and for an
        ensemble member{i}_window_f1 / member{i}_seizure_f1 of its members alone), predictions
        (probs (n, classes) float32, window, seizure, label; an ensemble adds member_probs
        (n, members, classes)) and extra (training windows, epochs, best epoch, seconds).
    """
    if isinstance(config, dict):
        config = TUSZExperimentConfig.from_dict(config)
    fold_dir = Path(fold_dir)
    fold_dir.mkdir(parents=True, exist_ok=True)
    train = np.asarray(train)
    valid = np.asarray(valid)
    if config.kind == "baseline":
        return _run_baseline(features, train, valid, config, fold_dir, log)
    pool = pool or DEFAULT_POOL
    start = time.perf_counter()
    extra = {}
    if config.kind == "distilled":
        teacher_dir = Path(teacher_dir) if teacher_dir is not None else fold_dir / "teacher"
        teacher, teacher_fit, _ = train_network(features, train, valid, config.teacher, teacher_dir / "fit",
                                                pool=pool, log=log)
        extra["teacher_run"] = str(teacher_dir / "fit")
        model, result, n_train = _distill(features, train, valid, config, fold_dir / "fit", teacher,
                                          pool=pool, log=log)
        inputs = config.input_name
        entry = None
    else:
        model, result, n_train = train_network(features, train, valid, config, fold_dir / "fit", pool=pool, log=log)
        inputs = _dataset_inputs(config, features)
        entry = _network_entry_cached(config, features, pool)
    valid_rows = features.window_positions(valid, config.eval_window_stride)
    probs = _predict(model, features, valid, config, inputs)
    more_metrics, more_predictions = {}, {}
    if config.kind == "ensemble":
        member_probs = _predict(_member_view(entry), features, valid, config, inputs)
        more_predictions["member_probs"] = member_probs.astype(np.float32)
        for i in range(member_probs.shape[1]):
            scores = evaluate_probabilities(features, valid_rows, member_probs[:, i])
            more_metrics[f"member{i}_window_f1"] = scores["window_f1"]
            more_metrics[f"member{i}_seizure_f1"] = scores["seizure_f1"]
    extra.update({"n_train_windows": n_train, "epochs_completed": result.epochs_completed,
                  "epochs_run": result.epochs_run, "best": result.best, "run_dir": str(result.run_dir),
                  "seconds": round(time.perf_counter() - start, 3)})
    return _fold_result(features, valid_rows, probs, extra, more_metrics, more_predictions)


def load_history(run_dir):
    """The per-epoch history (DataFrame) a `fit` run wrote in `run_dir` (None when absent)."""
    import pandas as pd

    path = Path(run_dir) / "history.csv"
    return pd.read_csv(path) if path.is_file() else None


__all__ = [
    "KINDS", "NEURAL_KINDS", "ExperimentConfigError", "TUSZExperimentConfig", "ModelPool", "DEFAULT_POOL",
    "train_network", "evaluate_probabilities", "run_tusz_fold", "load_history",
]
