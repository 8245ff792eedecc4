"""The one training path: `fit()` (and `fit_stages()` for "train twice").

Every table trains through `fit`. It sets the precision policy, builds and compiles the model
under the distribution strategy, trains epoch by epoch and, after each completed epoch, writes
one checkpoint file atomically. A run killed at any moment (even mid-epoch) restarts, when `fit`
is called again with the same `run_dir`, from its last completed epoch and then behaves exactly as
if it had never stopped.

Why not `keras.callbacks.BackupAndRestore` (checked against Keras 3.15):
- it stores `model.save_weights()` (model + optimizer variables) but NOT the layers' seed-generator
  states (Dropout, noise layers), so a resumed run draws different dropout masks;
- it writes the weights file and the epoch-number file one after the other, non-atomically: a kill
  between the two leaves weights of epoch e+1 labelled epoch e;
- it keeps no data-order state: tf.data's reshuffling restarts from its first order in a new
  process, and numpy inputs are shuffled from the global numpy RNG;
- ModelCheckpoint's best value, EarlyStopping's patience counter and the history are lost.

So `fit` owns its loop: one `model.fit(initial_epoch=e, epochs=e + 1)` call per epoch on the data
of epoch e, which depends only on (seed, e); before each epoch the global RNGs are seeded from
(seed, e). A checkpoint is one `.npz` holding every model variable (seed-generator states
included), every optimizer variable (iteration count, moments, loss scale) and a JSON state
(epoch, best value, early-stopping counter, history), replaced atomically.

Callbacks given by the caller are passed to every per-epoch `model.fit` call: they see
`on_train_begin` / `on_train_end` once per epoch, and must keep their own state across calls if
they have any (the learning-rate, checkpoint, early-stopping and CSV logic of this module do not
rely on Keras callbacks for that reason).

Data forms accepted for `train_data`: numpy arrays (x, y) or (x, y, sample_weight) (x may be a
dict or list of arrays); an `EpochData` (an unbatched tf.data.Dataset or arrays, shuffled and
augmented per (seed, epoch)); a callable (epoch, seed, global_batch_size) -> batched Dataset; or a
batched tf.data.Dataset, used unchanged every epoch (its order must then not depend on how many
times it was iterated, i.e. no `reshuffle_each_iteration`, for resume to be exact).

The per-epoch data (`EpochData`, `epoch_seed`) live in `kerasseizure.training.epoch_data` and the
checkpoint files in `kerasseizure.training.checkpoints`; their public names are re-exported here.
"""

import dataclasses
import json
import math
from pathlib import Path

import keras
import numpy as np

from kerasseizure.files import atomic_path, atomic_write_json, atomic_write_text
from kerasseizure.training import losses as losses_lib
from kerasseizure.training import precision as precision_lib
from kerasseizure.evaluation.reports import plot_history
from kerasseizure.training.run_info import write_run_info
from kerasseizure.training import schedules
from kerasseizure.training import strategies as strategies_lib
from kerasseizure.training.batchnorm import recompute_batchnorm_statistics
from kerasseizure.training.checkpoints import (
    CHECKPOINT_DIR, FINAL_CHECKPOINT, ResumeError, _prune_checkpoints, _restore_latest, load_checkpoint,
    save_checkpoint,
)
from kerasseizure.training.epoch_data import (
    EpochData, FitConfigError, _validation_dataset, as_epoch_source, epoch_seed, seed_everything,
)

MAX_FIELDS = ("acc", "auc", "f1", "precision", "recall")


# ---------------------------------------------------------------------------------------------
# model, optimizer, monitoring


def _materialise(model, policy, strategy):
    """Call a builder, or check that a given model matches the policy and strategy."""
    if isinstance(model, keras.Model):
        if model.dtype_policy.name != policy:
            raise FitConfigError(
                f"the model was built under dtype policy {model.dtype_policy.name!r} but fit runs "
                f"under {policy!r}: pass a builder, or build the model inside precision_scope()"
            )
        model_strategy = getattr(model, "distribute_strategy", None)
        if strategies_lib.replicas(strategy) > 1 and model_strategy is not strategy:
            raise FitConfigError("under a distribution strategy, pass a model builder (a callable) to fit")
        return model
    if callable(model):
        built = model()
        if not isinstance(built, keras.Model):
            raise FitConfigError(f"the model builder returned {type(built).__name__}, not a keras.Model")
        return built
    raise FitConfigError(f"model must be a keras.Model or a builder, got {type(model).__name__}")


def make_optimizer(optimizer, lr):
    """The optimizer of every training run: a name ("adam") or an instance, at `lr`'s first rate.

    Args:
        optimizer: optimizer name, or a keras optimizer (returned unchanged, `lr` ignored).
        lr: float, LearningRateSchedule, or per-epoch list (its epoch-0 rate; `fit` sets the
            later epochs' rates through `schedules.PerEpochLearningRate`).
    """
    if isinstance(optimizer, keras.optimizers.Optimizer):
        return optimizer
    if not isinstance(optimizer, str):
        raise FitConfigError(f"optimizer must be a name or a keras optimizer, got {type(optimizer).__name__}")
    initial = schedules.rate_for_epoch(lr, 0) if isinstance(lr, (list, tuple)) else lr
    return keras.optimizers.get({"class_name": optimizer, "config": {"learning_rate": initial}})


def _ensure_built(model, source, seed, global_batch):
    if not model.built:
        batch = next(iter(source.dataset(0, seed, global_batch)))
        model(batch[0] if isinstance(batch, (tuple, list)) else batch)
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)


def resolve_mode(monitor, mode="auto"):
    """"min" or "max" for a monitored quantity ("auto": max for acc/auc/f1/precision/recall).

    Args:
        monitor: metric name, e.g. "val_loss".
        mode: "auto", "min" or "max".
    """
    if mode in ("min", "max"):
        return mode
    if mode != "auto":
        raise FitConfigError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    return "max" if any(field in monitor.lower() for field in MAX_FIELDS) else "min"


def _improved(value, best, mode, min_delta):
    if value is None or not math.isfinite(value):
        return False
    if best is None:
        return True
    return value < best - min_delta if mode == "min" else value > best + min_delta


def _current_lr(optimizer):
    lr = optimizer.learning_rate
    if callable(lr) and not hasattr(lr, "numpy"):
        lr = lr(optimizer.iterations)
    return float(keras.ops.convert_to_numpy(lr))


# ---------------------------------------------------------------------------------------------
# fit


@dataclasses.dataclass
class FitResult:
    """What `fit` returns.

    Attributes:
        model: the trained model (best weights if restore_best_weights).
        history: dict metric -> per-epoch values over the whole run (resumed parts included).
        best: {"monitor", "mode", "value", "epoch"} (epoch 1-based, None when never improved).
        epochs_completed: epochs finished in the run folder.
        epochs_run: epochs trained by this call (0 when the run had already completed).
        stopped_early: True when early stopping ended the run.
        run_dir: the run folder.
    """

    model: object
    history: dict
    best: dict
    epochs_completed: int
    epochs_run: int
    stopped_early: bool
    run_dir: Path


def _history_csv(history):
    keys = list(history)
    lines = [",".join(["epoch"] + keys)]
    n = max((len(v) for v in history.values()), default=0)
    for i in range(n):
        row = [str(i + 1)] + [repr(float(history[k][i])) if i < len(history[k]) else "" for k in keys]
        lines.append(",".join(row))
    return "\n".join(lines) + "\n"


def _run_dir_for_worker(run_dir, strategy):
    if strategies_lib.is_chief(strategy):
        return Path(run_dir)
    _, index = strategies_lib.task_identity()
    return Path(run_dir) / f"worker-{index}"


def _new_state(seed, global_batch, monitor, mode):
    return {
        "epoch": 0,
        "seed": int(seed),
        "global_batch_size": int(global_batch),
        "history": {},
        "best": {"monitor": monitor, "mode": mode, "value": None, "epoch": None},
        "wait": 0,
        "stopped_early": False,
        "completed": False,
    }


def _check_resumable(state, seed, global_batch, path):
    if state["seed"] != int(seed) or state["global_batch_size"] != int(global_batch):
        raise ResumeError(
            f"{path}: checkpoint was made with seed={state['seed']}, global batch "
            f"{state['global_batch_size']}; this run asks seed={seed}, global batch {global_batch}. "
            "Use another run_dir to change them."
        )


def _tensorboard_available():
    import importlib.util

    return importlib.util.find_spec("tensorboard") is not None


def _epoch_callbacks(run_dir, lr, callbacks, tensorboard):
    extra = list(callbacks)
    if isinstance(lr, (list, tuple)):
        extra.append(schedules.PerEpochLearningRate(lr))
    if tensorboard is True and not _tensorboard_available():
        raise FitConfigError("tensorboard=True but the tensorboard package is not installed")
    if tensorboard is True or (tensorboard == "auto" and _tensorboard_available()):
        extra.append(keras.callbacks.TensorBoard(log_dir=str(Path(run_dir) / "logs"), write_graph=False))
    return extra


def _save_model_file(model, export, path):
    with atomic_path(path) as tmp:
        export(model).save(tmp)


def _train_one_epoch(model, source, val_ds, epoch, *, seed, global_batch, strategy, callbacks, verbose,
                     max_steps=None):
    keras.utils.set_random_seed(epoch_seed(seed, epoch))
    multi = strategies_lib.replicas(strategy) > 1
    ds = source.dataset(epoch, seed, global_batch, drop_remainder=multi)
    if max_steps is not None:
        ds = ds.take(max_steps)
    ds = strategies_lib.shard_options(ds, strategy)
    keras_history = model.fit(
        ds, validation_data=val_ds, initial_epoch=epoch, epochs=epoch + 1, callbacks=callbacks,
        verbose=verbose, shuffle=False,
    )
    logs = {k: float(v[-1]) for k, v in keras_history.history.items() if v}
    logs["lr"] = _current_lr(model.optimizer)
    return logs


def _after_epoch(state, logs, *, model, run_dir, export, min_delta, patience, keep_checkpoints):
    epoch = state["epoch"]
    for key, value in logs.items():
        state["history"].setdefault(key, []).append(value)
    best = state["best"]
    value = logs.get(best["monitor"])
    if value is None:
        raise FitConfigError(f"monitored metric {best['monitor']!r} not in the logs {sorted(logs)}")
    if _improved(value, best["value"], best["mode"], min_delta):
        best.update(value=float(value), epoch=epoch + 1)
        state["wait"] = 0
        _save_model_file(model, export, run_dir / "best.keras")
        save_checkpoint(run_dir / CHECKPOINT_DIR / "best.npz", model, dict(state, epoch=epoch + 1))
    else:
        state["wait"] += 1
    state["epoch"] = epoch + 1
    if patience is not None and state["wait"] >= int(patience):
        state["stopped_early"] = True
    save_checkpoint(run_dir / CHECKPOINT_DIR / f"epoch-{epoch + 1:04d}.npz", model, state)
    _prune_checkpoints(run_dir, keep_checkpoints)
    atomic_write_text(run_dir / "history.csv", _history_csv(state["history"]))


def _recompute_batchnorm(model, source, state, *, batches, seed, global_batch):
    # The data of the epoch after the last one: deterministic for (seed, epochs), so a run killed
    # before final.npz recomputes the same statistics on resume.
    keras.utils.set_random_seed(epoch_seed(seed, state["epoch"]))
    ds = source.dataset(state["epoch"], seed, global_batch)
    state["batchnorm_samples"] = recompute_batchnorm_statistics(model, ds, max_batches=batches)


def _finish(state, *, model, run_dir, export, plot):
    state["completed"] = True
    save_checkpoint(run_dir / FINAL_CHECKPOINT, model, state)
    _save_model_file(model, export, run_dir / "final.keras")
    atomic_write_json(
        run_dir / "result.json",
        {k: state[k] for k in ("epoch", "best", "stopped_early", "history", "batchnorm_samples") if k in state},
    )
    if plot and state["history"]:
        plot_history(state["history"], run_dir / "learning_curves.png")


def _restore_state(run_dir, model, *, epochs, seed, global_batch, monitor, mode):
    final = run_dir / FINAL_CHECKPOINT
    if final.exists():
        with np.load(final, allow_pickle=False) as data:
            state = json.loads(str(data["state"]))
        _check_resumable(state, seed, global_batch, final)
        if state["stopped_early"] or state["epoch"] >= epochs:
            load_checkpoint(final, model)
            return state
    state = _restore_latest(run_dir, model)
    if state is None:
        return _new_state(seed, global_batch, monitor, mode)
    _check_resumable(state, seed, global_batch, run_dir)
    state["completed"] = False
    return state


def _check_workers_agree(state, strategy, run_dir):
    """Multi-worker: every worker must resume from the same epoch, or the collectives deadlock.

    Each worker restores from its own folder, and a kill can land between the chief's and another
    worker's checkpoint write. One collective (on every worker, before any early return) compares
    the restored epochs; all workers then raise the same error instead of hanging.
    """
    if not strategies_lib.is_multi_worker(strategy):
        return
    rows = strategies_lib.gather_ints(strategy, [state["epoch"]])
    epochs_restored = sorted({row[0] for row in rows})
    if len(epochs_restored) > 1:
        raise ResumeError(
            f"{run_dir}: the workers restored different epochs {epochs_restored}; remove the checkpoints "
            f"after epoch {epochs_restored[0]} (and final.npz) from the run folders of the workers that are ahead"
        )


def fit(
    model,
    train_data,
    validation_data=None,
    *,
    run_dir,
    epochs=1,
    loss="kl",
    lr=1e-3,
    optimizer="adam",
    metrics=None,
    class_weights=None,
    batch_size=32,
    seed=0,
    precision="float32",
    strategy=None,
    compile=True,
    run_eagerly=False,
    jit_compile="auto",
    monitor=None,
    mode="auto",
    min_delta=0.0,
    early_stopping_patience=None,
    restore_best_weights=False,
    callbacks=(),
    tensorboard="auto",
    plot=True,
    keep_checkpoints=2,
    export=None,
    recompute_batchnorm=None,
    deterministic=False,
    max_steps_per_epoch=None,
    config=None,
    verbose=0,
):
    """Train `model` resumably in `run_dir`; the one training path of the package.

    Args:
        model: a keras.Model, or a builder `() -> keras.Model` (required under a multi-replica
            strategy, and the way to get the precision policy applied: the builder is called
            inside the precision scope and `strategy.scope()`).
        train_data: numpy (x, y[, w]), EpochData, batched tf.data.Dataset or factory
            (epoch, seed, global_batch_size) -> Dataset (see module docstring).
        validation_data: same forms (never shuffled), or None.
        run_dir: run folder (created); calling fit again with it resumes or returns the result.
        epochs: total epochs of the run (resumed epochs included).
        loss: "kl" (KL divergence from logits), "cross_entropy", "sparse_cross_entropy" or a loss.
        lr: float, per-epoch list (e.g. schedules.WAVENET_LR) or a LearningRateSchedule.
        optimizer: optimizer name ("adam") or instance (then `lr` is ignored).
        metrics: metrics for `compile`.
        class_weights: per-class weights for the cross-entropy losses given by name.
        batch_size: batch size PER REPLICA (global batch = batch_size x replicas).
        seed: the one seed: initialisation, data order, augmentation, dropout.
        precision: "float32", "mixed_float16", "mixed_bfloat16" or "auto".
        strategy: None, "default", "mirrored", "multiworker", "tpu" or a tf.distribute.Strategy.
        compile: compile the model (False: it must be compiled already, e.g. a Distiller).
        run_eagerly, jit_compile: Keras `compile` options (ignored when compile=False).
        monitor: quantity for the best checkpoint / early stopping (default: "val_loss" with
            validation data, else "loss").
        mode: "auto", "min" or "max" for `monitor`.
        min_delta: minimum change that counts as an improvement.
        early_stopping_patience: stop after this many epochs without improvement (None: never).
        restore_best_weights: end with the best epoch's weights instead of the last.
        callbacks: extra Keras callbacks (called per epoch; see module docstring).
        tensorboard: write TensorBoard logs to run_dir/logs: True, False, or "auto" (when the
            tensorboard package is installed; tf.summary needs it).
        plot: write learning_curves.png at the end.
        keep_checkpoints: number of per-epoch checkpoints kept (>= 1).
        export: callable model -> model saved as best.keras / final.keras (default: the model).
        recompute_batchnorm: None, or a number of training batches: at the end of training (after
            `restore_best_weights`), every trainable BatchNormalization layer's moving statistics
            are recomputed from that many batches of the training data ("precise BN", see
            `training.batchnorm`); final.keras, final.npz and the returned model carry them
            (best.keras keeps the moving averages). For short runs, whose moving averages trail
            the weights. One replica only.
        deterministic: force TensorFlow op determinism (process-wide; see seed_everything).
        max_steps_per_epoch: None, or at most this many training batches per epoch and as many
            validation batches: a smoke run that checks a configuration end to end in seconds.
        config: extra JSON-serialisable configuration recorded in config.json.
        verbose: Keras verbosity.

    Returns:
        FitResult.
    """
    strategy = strategies_lib.resolve_strategy(strategy)
    run_dir = _run_dir_for_worker(run_dir, strategy)
    chief = strategies_lib.is_chief(strategy)
    global_batch = strategies_lib.global_batch_size(batch_size, strategy)
    monitor = monitor or ("val_loss" if validation_data is not None else "loss")
    mode = resolve_mode(monitor, mode)
    export = export or (lambda m: m)
    if max_steps_per_epoch is not None and int(max_steps_per_epoch) < 1:
        raise FitConfigError(f"max_steps_per_epoch must be None or >= 1, got {max_steps_per_epoch!r}")
    if recompute_batchnorm is not None:
        if int(recompute_batchnorm) < 1:
            raise FitConfigError(f"recompute_batchnorm must be None or >= 1 batches, got {recompute_batchnorm!r}")
        if strategies_lib.replicas(strategy) > 1:
            raise FitConfigError("recompute_batchnorm runs on one replica; leave it None under a multi-replica "
                                 "strategy")
    seed_everything(seed, deterministic)
    with precision_lib.precision_scope(precision) as policy, strategy.scope():
        model = _materialise(model, policy, strategy)
        if compile:
            model.compile(
                optimizer=make_optimizer(optimizer, lr),
                loss=losses_lib.get_loss(loss, class_weights),
                metrics=list(metrics) if metrics else None,
                run_eagerly=run_eagerly,
                jit_compile=jit_compile,
            )
        elif getattr(model, "optimizer", None) is None:
            raise FitConfigError("compile=False needs a compiled model")
        source = as_epoch_source(train_data)
        _ensure_built(model, source, seed, global_batch)
        strategies_lib.adapt_model_for_strategy(model, strategy)  # multi-worker only (Keras 3.15 fix)
        write_run_info(run_dir, _fit_config(config, epochs, lr, optimizer, loss, batch_size, global_batch,
                                                  seed, policy, strategy, monitor, mode, early_stopping_patience,
                                                  recompute_batchnorm, max_steps_per_epoch))
        state = _restore_state(run_dir, model, epochs=epochs, seed=seed, global_batch=global_batch,
                               monitor=monitor, mode=mode)
        _check_workers_agree(state, strategy, run_dir)
        start = state["epoch"]
        if state["completed"]:
            return _result(model, state, 0, run_dir)
        val_ds = _validation_dataset(validation_data, seed, global_batch, strategy)
        if max_steps_per_epoch is not None and val_ds is not None:
            val_ds = val_ds.take(int(max_steps_per_epoch))
        epoch_callbacks = _epoch_callbacks(run_dir, lr, callbacks, tensorboard)
        while state["epoch"] < epochs and not state["stopped_early"]:
            logs = _train_one_epoch(model, source, val_ds, state["epoch"], seed=seed, global_batch=global_batch,
                                    strategy=strategy, callbacks=epoch_callbacks, verbose=verbose,
                                    max_steps=max_steps_per_epoch)
            _after_epoch(state, logs, model=model, run_dir=run_dir, export=export, min_delta=min_delta,
                         patience=early_stopping_patience, keep_checkpoints=keep_checkpoints)
        if restore_best_weights and (run_dir / CHECKPOINT_DIR / "best.npz").exists():
            load_checkpoint(run_dir / CHECKPOINT_DIR / "best.npz", model, restore_optimizer=False)
        if recompute_batchnorm is not None:
            _recompute_batchnorm(model, source, state, batches=int(recompute_batchnorm), seed=seed,
                                 global_batch=global_batch)
        _finish(state, model=model, run_dir=run_dir, export=export, plot=plot and chief)
    return _result(model, state, state["epoch"] - start, run_dir)


def _describe(value):
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_describe(v) for v in value]
    return type(value).__name__


def _fit_config(config, epochs, lr, optimizer, loss, batch_size, global_batch, seed, policy, strategy, monitor,
                mode, patience, recompute_batchnorm, max_steps_per_epoch):
    record = {
        "epochs": epochs,
        "lr": _describe(lr),
        "optimizer": _describe(optimizer),
        "loss": _describe(loss),
        "batch_size_per_replica": batch_size,
        "global_batch_size": global_batch,
        "replicas": strategies_lib.replicas(strategy),
        "strategy": type(strategy).__name__,
        "seed": seed,
        "precision": policy,
        "monitor": monitor,
        "mode": mode,
        "early_stopping_patience": patience,
        "recompute_batchnorm": recompute_batchnorm,
        "max_steps_per_epoch": max_steps_per_epoch,
    }
    if config:
        record["user"] = config
    return record


def _result(model, state, epochs_run, run_dir):
    return FitResult(
        model=model,
        history={k: list(v) for k, v in state["history"].items()},
        best=dict(state["best"]),
        epochs_completed=state["epoch"],
        epochs_run=epochs_run,
        stopped_early=state["stopped_early"],
        run_dir=Path(run_dir),
    )


@dataclasses.dataclass
class Stage:
    """One stage of a multi-stage schedule (e.g. "train twice").

    Args:
        name: stage name (folder `stage-<i>-<name>`).
        train_data: this stage's training data (any fit form).
        validation_data: this stage's validation data, or None.
        epochs: this stage's epochs.
        lr: this stage's learning rate (float, per-epoch list or schedule).
        options: further fit keyword arguments for this stage only (e.g. loss, monitor).
    """

    name: str
    train_data: object
    validation_data: object = None
    epochs: int = 1
    lr: object = 1e-3
    options: dict = dataclasses.field(default_factory=dict)


def fit_stages(model, stages, *, run_dir, strategy=None, **common):
    """Train through several stages in order, each a resumable `fit` in its own sub-folder.

    Each stage starts from the weights the previous stage ended with and gets a fresh optimizer
    with its own learning rate. On re-run, completed stages are restored from their final
    checkpoint (not retrained) and an interrupted stage resumes from its last completed epoch.

    Args:
        model: keras.Model or builder (called once, by the first stage).
        stages: sequence of Stage.
        run_dir: the run folder; stage i writes to `run_dir/stage-<i>-<name>`.
        strategy: as in fit (resolved once and shared by the stages).
        **common: fit keyword arguments shared by every stage (seed, batch_size, loss, ...).

    Returns:
        list of FitResult, one per stage; the last one's `.model` is the trained model.
    """
    strategy = strategies_lib.resolve_strategy(strategy)
    results = []
    for index, stage in enumerate(stages):
        options = dict(common)
        options.update(stage.options)
        result = fit(
            model, stage.train_data, stage.validation_data,
            run_dir=Path(run_dir) / f"stage-{index + 1}-{stage.name}",
            epochs=stage.epochs, lr=stage.lr, strategy=strategy, **options,
        )
        results.append(result)
        model = result.model
    return results


__all__ = [
    "fit", "fit_stages", "Stage", "FitResult", "make_optimizer", "resolve_mode", "MAX_FIELDS",
    "EpochData", "FitConfigError", "as_epoch_source", "epoch_seed", "seed_everything",
    "CHECKPOINT_DIR", "FINAL_CHECKPOINT", "ResumeError", "load_checkpoint", "save_checkpoint",
]
