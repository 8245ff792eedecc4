"""Run plans: what a table (or one row) will run and how long it will take here, before it trains.

`python -m reproduce.tableN --plan` and `kerasseizure train --row R --plan` index the data, train
nothing, write no run folder and no feature cache, and write `<results-dir>/plan.json`:

- per row (and protocol): folds x epochs, training windows per epoch, evaluated windows;
- per model: parameters, MACs per sample (`models.summary.count_macs`), and seconds per training
  step and per evaluation batch MEASURED on this machine: the row's own compiled model (or
  Distiller) on random inputs of the real shapes, median of a few steps after a warm-up step
  (whose time, tracing included, is kept as `first_step_seconds`);
- per feature cache: windows (or EEGs), bytes on disk, whether it is complete, and the measured
  seconds to build it (the first few items read and transformed);
- the projected wall time of the whole run, and the rules it follows (`assumptions`).

The figures are for the device Keras runs on here (`machine`); on a machine with an accelerator
the step times are the accelerator's. Folds already completed in the results folder are counted
and left out of the projection (the table reuses them).
"""

import math
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

PLAN_FILE = "plan.json"
PLAN_HELP = ("train nothing: print what the run would do and how long it would take on this machine (rows x "
             "folds x epochs, windows, parameters and MACs, feature cache sizes, measured step times, projected "
             "wall time) and write <results-dir>/plan.json")
ASSUMPTIONS = (
    "a neural fold: epochs x steps per epoch x the measured training step, plus (where learning "
    "curves are tracked) a validation pass per epoch, plus the final evaluation, at the measured "
    "evaluation batch time; the first step (tracing) once per model",
    "a baseline fold: fit and prediction timed on a sample of random windows of the real width, "
    "scaled linearly in windows (k-NN prediction also in training windows)",
    "features: the measured seconds per item (reading included) times the items; 0 for a complete cache",
    "folds completed in the results folder are reused, not projected",
)


def machine():
    """The machine the figures were measured on: CPU, cores, Keras backend, accelerators seen."""
    import keras

    return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "backend": keras.backend.backend(), "accelerators": accelerators()}


def accelerators():
    """Names of the accelerators the Keras backend sees (empty on a CPU-only machine)."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return [device.name for device in tf.config.list_physical_devices() if device.device_type != "CPU"]
    if backend == "jax":
        import jax

        return [str(device) for device in jax.devices() if device.platform != "cpu"]
    if backend == "torch":
        import torch

        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return []


def random_batch(model, batch_size, seed=0):
    """Random float32 inputs of `model`'s input shapes for `batch_size` samples (a dict when several)."""
    rng = np.random.default_rng(seed)
    inputs = {tensor.name: rng.standard_normal((batch_size, *tensor.shape[1:])).astype(np.float32)
              for tensor in model.inputs}
    return inputs if len(inputs) > 1 else next(iter(inputs.values()))


def time_model(model, x, y, x_eval, *, steps=3, warmup=1, eval_model=None):
    """Seconds of the first training step, then the median training step and evaluation batch.

    Args:
        model: a compiled keras.Model (or Distiller); its weights change (a throwaway model).
        x, y: one training batch.
        x_eval: one evaluation batch of `eval_model`.
        steps: timed steps after `warmup` untimed ones.
        eval_model: the model that predicts at evaluation (default `model`).
    """
    if steps < 1 or warmup < 0:
        raise ValueError(f"steps must be >= 1 and warmup >= 0, got {steps}, {warmup}")
    eval_model = eval_model or model

    def timed(call):
        start = time.perf_counter()
        call()
        return time.perf_counter() - start

    first = timed(lambda: model.train_on_batch(x, y))
    for _ in range(max(warmup - 1, 0)):
        model.train_on_batch(x, y)
    train = [timed(lambda: model.train_on_batch(x, y)) for _ in range(steps)]
    for _ in range(max(warmup, 1)):
        eval_model.predict_on_batch(x_eval)
    evaluate = [timed(lambda: eval_model.predict_on_batch(x_eval)) for _ in range(steps)]
    return {"first_step_seconds": first, "train_step_seconds": statistics.median(train),
            "eval_batch_seconds": statistics.median(evaluate), "timed_steps": steps}


def model_size(model):
    """Parameters and MACs per sample of a model."""
    from kerasseizure.models.summary import count_macs

    return {"parameters": int(model.count_params()), "macs_per_sample": int(count_macs(model))}


def neural_fold_seconds(timing, stages, *, batch_size, eval_windows, eval_batch_size, max_steps_per_epoch=None,
                        track_validation=False, extra_batches=0):
    """Projected seconds of one neural fold from measured step times (see `ASSUMPTIONS`).

    Args:
        timing: `time_model`'s figures.
        stages: [(epochs, training windows per epoch)] of the fold's training stages.
        batch_size: the training batch size.
        eval_windows, eval_batch_size: windows evaluated and the evaluation batch size.
        max_steps_per_epoch: the step cap of a smoke run (also caps validation batches).
        track_validation: a validation pass after every epoch.
        extra_batches: further evaluation-sized batches (e.g. recomputing BatchNorm statistics).
    """
    eval_batches = math.ceil(eval_windows / eval_batch_size)
    seconds = (eval_batches + extra_batches) * timing["eval_batch_seconds"]
    for epochs, windows in stages:
        steps, validation = math.ceil(windows / batch_size), eval_batches if track_validation else 0
        if max_steps_per_epoch:
            steps, validation = min(steps, max_steps_per_epoch), min(validation, max_steps_per_epoch)
        seconds += epochs * (steps * timing["train_step_seconds"] + validation * timing["eval_batch_seconds"])
    return seconds


def baseline_timing(make, n_features, n_classes, n_train, n_eval, *, sample=2000, seed=0, quadratic_predict=False):
    """Seconds to fit a fresh estimator on at most `sample` random windows and to predict as many.

    Args:
        make: callable() -> unfitted estimator (fit / predict_proba).
        n_features: the window's flattened width.
        n_classes: classes in the labels.
        n_train, n_eval: windows of a real fold (the sample is no larger).
        sample: windows timed.
        quadratic_predict: prediction grows with training windows too (k-NN); kept for
            `baseline_fold_seconds`.
    """
    rng = np.random.default_rng(seed)
    n_fit, n_predict = max(min(sample, n_train), n_classes), max(min(sample, n_eval), 1)
    x = rng.standard_normal((n_fit, n_features)).astype(np.float32)
    estimator = make()
    start = time.perf_counter()
    estimator.fit(x, np.arange(n_fit) % n_classes)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    estimator.predict_proba(rng.standard_normal((n_predict, n_features)).astype(np.float32))
    return {"sample_windows": n_fit, "predicted_windows": n_predict, "fit_seconds": fit_seconds,
            "predict_seconds": time.perf_counter() - start, "quadratic_predict": bool(quadratic_predict)}


def baseline_fold_seconds(timing, n_train, n_eval):
    """Projected seconds of one baseline fold: `baseline_timing`'s figures scaled linearly in windows."""
    predict_scale = n_eval / timing["predicted_windows"]
    if timing["quadratic_predict"]:
        predict_scale *= n_train / timing["sample_windows"]
    return timing["fit_seconds"] * n_train / timing["sample_windows"] + timing["predict_seconds"] * predict_scale


def completed_folds(row_dir, names):
    """The fold names among `names` whose result is complete in `row_dir` (reused by the run)."""
    from kerasseizure.experiments.runs import load_fold_result

    return [name for name in names if load_fold_result(Path(row_dir) / f"fold-{name}") is not None]


def assemble(table, preset, seed, data, features, rows, notes=()):
    """The plan dict: the inputs, the entries, and the projected seconds (features, rows, total)."""
    feature_seconds = sum(f["projected_build_seconds"] for f in features)
    row_seconds = sum(r["projected_seconds"] for r in rows)
    return {"table": table, "preset": preset, "seed": seed, "machine": machine(), "data": data,
            "features": features, "rows": rows,
            "projected_seconds": {"features": feature_seconds, "rows": row_seconds,
                                  "total": feature_seconds + row_seconds},
            "assumptions": list(ASSUMPTIONS), "notes": list(notes)}


def _duration(seconds):
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _bytes(value):
    return f"{value / 2 ** 30:.2f} GiB" if value >= 2 ** 30 else f"{value / 2 ** 20:.1f} MiB"


def _count(value):
    return f"{value:,.0f}" if value is not None else "-"


def describe(plan):
    """The plan as text lines (what `--plan` prints)."""
    m = plan["machine"]
    lines = [f"Plan of {plan['table']}, preset {plan['preset']!r}, seed {plan['seed']}: measured on "
             f"{m['cpu']} ({m['cores']} cores, Keras {m['backend']}"
             + (f", {', '.join(m['accelerators'])}" if m["accelerators"] else ", no accelerator") + ")",
             "", "features:"]
    for f in plan["features"]:
        state = "complete, loaded" if f["complete"] else f"to build, ~{_duration(f['projected_build_seconds'])}"
        lines.append(f"  {f['name']}: {_count(f['items'])} {f['item']}, {_bytes(f['bytes'])} ({state})")
    lines += ["", "rows (folds x epochs, training windows per epoch, model, step times, projected):"]
    for r in plan["rows"]:
        where = f"{r['row']}" + (f" [{r['protocol']}]" if r.get("protocol") else "")
        folds = f"{r['folds']} folds" + (f" ({len(r['completed_folds'])} done)" if r["completed_folds"] else "")
        if r["measured"] is None:
            detail = "all folds done, reused"
        elif r["kind"] == "baseline":
            detail = f"sklearn, {r['measured']['fit_seconds']:.2f} s fit on {r['measured']['sample_windows']} windows"
        else:
            t = r["measured"]
            detail = (f"{r['model']['parameters']:,} params, {r['model']['macs_per_sample'] / 1e6:.1f} M MACs, "
                      f"step {t['train_step_seconds'] * 1e3:.0f} ms (batch {r['batch_size']}), "
                      f"eval {t['eval_batch_seconds'] * 1e3:.0f} ms (batch {r['eval_batch_size']})")
        lines.append(f"  {where}: {folds} x {r['epochs']} epochs, {_count(r['train_windows_per_epoch'])} windows; "
                     f"{detail}; ~{_duration(r['projected_seconds'])}")
    total = plan["projected_seconds"]
    lines += ["", f"projected wall time here: {_duration(total['total'])} (features {_duration(total['features'])}, "
                  f"rows {_duration(total['rows'])})"]
    lines += [f"note: {note}" for note in plan["notes"]]
    return lines


def write_plan(results_dir, plan):
    """Write `plan.json` into `results_dir` (atomically); returns its path."""
    from kerasseizure.files import atomic_write_json

    path = Path(results_dir) / PLAN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, plan)
    return path


def show(plan, results_dir):
    """Write `plan.json` into `results_dir`, print the plan and where it went; returns the plan."""
    path = write_plan(results_dir, plan)
    print("\n".join(describe(plan)) + f"\nplan: {path}")
    return plan
