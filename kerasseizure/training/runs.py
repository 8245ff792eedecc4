"""Run folders and the resumable cross-validation driver.

A run folder records everything needed to trust and redo a result:

    <run_dir>/
      config.json          the run's configuration (written by the caller / fit)
      environment.json     versions (python, numpy, tensorflow, keras, kerasseizure), git commit,
                           hardware; one entry per session that worked on the run
      history.csv          one row per completed epoch (fit)
      learning_curves.png  loss / metric curves (fit, at the end)
      checkpoints/         resumable per-epoch state (fit)
      best.keras, final.keras, result.json   (fit)
      logs/                TensorBoard event files (fit)

`run_folds` lays out one such folder per fold plus the fold results:

    <run_dir>/
      config.json, environment.json
      fold-0/ result.json (metrics, the completion marker), predictions.npz, <whatever the fold wrote>
      fold-1/ ...
      summary.json         per-metric mean and standard deviation over folds
"""

import dataclasses
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from kerasseizure.errors import KerasSeizureError
from kerasseizure.files import atomic_path, atomic_write_json

RESULT_FILE = "result.json"
PREDICTIONS_FILE = "predictions.npz"


class RunError(KerasSeizureError):
    """A run folder is inconsistent with the run asked for, or a fold returned a bad result."""


def _package_root():
    return Path(__file__).resolve().parents[2]


def git_commit(path=None, timeout=5.0):
    """The git commit (plus "-dirty" when the tree has changes) of `path`, or None.

    Args:
        path: a folder inside the repository (the package's source tree by default).
        timeout: seconds allowed for each git call.
    """
    cwd = Path(path) if path is not None else _package_root()
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd, capture_output=True, text=True, timeout=timeout, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("-dirty" if dirty else "") if commit else None


def versions():
    """Versions of python, numpy, tensorflow, keras and kerasseizure (None when not importable)."""
    import kerasseizure

    found = {"python": sys.version.split()[0], "numpy": np.__version__, "kerasseizure": kerasseizure.__version__}
    for name in ("tensorflow", "keras"):
        try:
            module = __import__(name)
            found[name] = getattr(module, "__version__", None)
        except ImportError:
            found[name] = None
    return found


def hardware():
    """Host and accelerator description: platform, CPU count, TensorFlow's physical devices."""
    info = {"platform": platform.platform(), "machine": platform.machine(), "cpu_count": os.cpu_count()}
    try:
        import tensorflow as tf

        info["devices"] = [f"{d.device_type}:{d.name}" for d in tf.config.list_physical_devices()]
    except ImportError:
        info["devices"] = []
    return info


def environment():
    """One session's environment record: time, versions, git commit, hardware."""
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "versions": versions(),
        "git_commit": git_commit(),
        "hardware": hardware(),
    }


def write_run_info(run_dir, config=None):
    """Write config.json and append this session to environment.json in `run_dir`.

    Args:
        run_dir: the run folder (created if needed).
        config: JSON-serialisable configuration, or None to leave config.json alone.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if config is not None:
        atomic_write_json(run_dir / "config.json", config)
    env_path = run_dir / "environment.json"
    sessions = []
    if env_path.exists():
        try:
            sessions = json.loads(env_path.read_text(encoding="utf-8")).get("sessions", [])
        except (ValueError, AttributeError):
            sessions = []
    sessions.append(environment())
    atomic_write_json(env_path, {"sessions": sessions})


def plot_history(history, path, title=None):
    """Plot learning curves (each metric with its val_ twin) to a PNG file, atomically.

    Args:
        history: dict metric name -> list of per-epoch values.
        path: output .png path.
        title: optional figure title.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    bases = [k for k in history if not k.startswith("val_") and k not in ("epoch",)]
    bases = bases or [k[4:] for k in history if k.startswith("val_")]
    n = max(len(bases), 1)
    fig, axes = plt.subplots(1, n, figsize=(4 * n, 3.2), squeeze=False)
    for ax, base in zip(axes[0], bases):
        for key in (base, "val_" + base):
            values = history.get(key)
            if values:
                ax.plot(range(1, len(values) + 1), values, marker="o", label=key)
        ax.set_xlabel("epoch")
        ax.set_title(base)
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


@dataclasses.dataclass
class FoldResult:
    """What one fold produced.

    Args:
        metrics: dict name -> float (JSON-serialisable values).
        predictions: dict name -> numpy array (e.g. "y_true", "y_prob", "index"), may be empty.
        extra: further JSON-serialisable information (e.g. the fit's best epoch).
    """

    metrics: dict
    predictions: dict = dataclasses.field(default_factory=dict)
    extra: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class CVResult:
    """Results of every fold plus their summary."""

    folds: list
    summary: dict
    run_dir: Path
    reused: list


def _as_fold_result(value):
    if isinstance(value, FoldResult):
        return value
    if isinstance(value, dict) and "metrics" in value:
        return FoldResult(value["metrics"], dict(value.get("predictions") or {}), dict(value.get("extra") or {}))
    if isinstance(value, dict):
        return FoldResult(dict(value))
    raise RunError(f"train_one_fold must return a FoldResult or a dict of metrics, got {type(value).__name__}")


def _plain_metrics(metrics):
    plain = {}
    for key, value in metrics.items():
        value = np.asarray(value)
        plain[str(key)] = float(value) if value.ndim == 0 else value.tolist()
    return plain


def save_fold_result(fold_dir, result):
    """Write predictions.npz then result.json (the completion marker), each atomically."""
    fold_dir = Path(fold_dir)
    fold_dir.mkdir(parents=True, exist_ok=True)
    if result.predictions:
        with atomic_path(fold_dir / PREDICTIONS_FILE) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, **{k: np.asarray(v) for k, v in result.predictions.items()})
    record = {
        "metrics": _plain_metrics(result.metrics),
        "predictions": sorted(result.predictions),
        "extra": result.extra,
    }
    atomic_write_json(fold_dir / RESULT_FILE, record)


def load_fold_result(fold_dir):
    """Read a completed fold's result, or None when the fold has not completed."""
    fold_dir = Path(fold_dir)
    marker = fold_dir / RESULT_FILE
    if not marker.exists():
        return None
    record = json.loads(marker.read_text(encoding="utf-8"))
    predictions = {}
    if record.get("predictions"):
        with np.load(fold_dir / PREDICTIONS_FILE, allow_pickle=False) as data:
            predictions = {k: data[k] for k in data.files}
    return FoldResult(record["metrics"], predictions, record.get("extra", {}))


def summarise(fold_results):
    """Mean, standard deviation (ddof=0) and per-fold values of every scalar metric.

    Args:
        fold_results: sequence of FoldResult.
    """
    names = sorted({k for r in fold_results for k, v in r.metrics.items() if np.ndim(v) == 0})
    summary = {}
    for name in names:
        values = [float(r.metrics[name]) for r in fold_results if name in r.metrics]
        finite = [v for v in values if math.isfinite(v)]
        summary[name] = {
            "mean": float(np.mean(finite)) if finite else float("nan"),
            "std": float(np.std(finite)) if finite else float("nan"),
            "per_fold": values,
        }
    return summary


def _fold_items(folds):
    items = list(folds.items()) if isinstance(folds, dict) else list(enumerate(folds))
    names = [str(k) for k, _ in items]
    if len(set(names)) != len(names):
        raise RunError(f"fold names must be unique, got {names}")
    return items


def run_folds(folds, train_one_fold, run_dir, *, config=None, log=None):
    """Run (or resume) a cross-validation: each fold once, completed folds loaded from disk.

    Args:
        folds: sequence of fold specifications (fold i -> folder `fold-i`) or a dict
            name -> specification (folder `fold-<name>`). Specifications are passed through
            untouched (e.g. (train_index, valid_index) pairs).
        train_one_fold: callable (spec, fold_dir) -> FoldResult or dict. It should train through
            `fit(..., run_dir=fold_dir / "fit")` so an interrupted fold resumes mid-way.
        run_dir: the cross-validation's run folder.
        config: JSON-serialisable configuration written to config.json (None: left alone).
        log: optional callable(str) for progress messages.

    Returns:
        CVResult with the fold results in order, the summary, and the names of reused folds.
    """
    run_dir = Path(run_dir)
    write_run_info(run_dir, config)
    results, reused = [], []
    for name, spec in _fold_items(folds):
        fold_dir = run_dir / f"fold-{name}"
        done = load_fold_result(fold_dir)
        if done is not None:
            reused.append(str(name))
            results.append(done)
            if log:
                log(f"fold {name}: completed earlier, loaded from {fold_dir}")
            continue
        fold_dir.mkdir(parents=True, exist_ok=True)
        result = _as_fold_result(train_one_fold(spec, fold_dir))
        save_fold_result(fold_dir, result)
        results.append(result)
        if log:
            log(f"fold {name}: {_plain_metrics(result.metrics)}")
    summary = summarise(results)
    atomic_write_json(run_dir / "summary.json", {"folds": len(results), "metrics": summary})
    return CVResult(results, summary, run_dir, reused)
