"""Run folders that know what they hold, and the resumable cross-validation driver.

A run is identified by a fingerprint of its identity: the experiment configuration, the data
manifest (the feature cache's key, which covers the corpus tables and the transform settings,
and the fold membership) and the package version. `run_folds` lays out:

    <run_dir>/
      run.json             {"fingerprint", "identity"}: what the folder holds; written first
      environment.json     versions, git commit, hardware; one entry per session
      fold-0/ result.json  metrics, the fold's own fingerprint (the completion marker)
              predictions.npz, fit/ (the engine's run folder: checkpoints, best.keras ...)
      fold-1/ ...
      summary.json         per-metric mean and standard deviation over folds

A folder made for another identity (or whose run.json is damaged, or that predates run.json) is
never reused nor mixed with: `claim_run_dir` refuses with `RunIdentityError`, naming the settings
that differ, unless `overwrite=True` (`--overwrite` on the command line), which deletes it and
starts afresh. We refuse rather than keep one subfolder per fingerprint so that a results folder
always shows one run's numbers, and the choice to discard work is the user's. A fold's result is
reused only when its own fingerprint (run fingerprint + fold name + fold membership) matches.
Temporary files a killed write left behind (`files.atomic_path`) are removed when a run starts.
"""

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np

import kerasseizure
from kerasseizure.errors import KerasSeizureError
from kerasseizure.evaluation.reports import summarise
from kerasseizure.files import atomic_path, atomic_write_json, remove_stale_partials
from kerasseizure.pipelines.cache import canonical_config, config_key
from kerasseizure.training.run_info import write_run_info

RESULT_FILE = "result.json"
PREDICTIONS_FILE = "predictions.npz"
RUN_FILE = "run.json"
OVERWRITE_HINT = "re-run with --overwrite to replace it, or choose another results folder"


class RunError(KerasSeizureError):
    """A run folder is inconsistent with the run asked for, or a fold returned a bad result."""


class RunIdentityError(RunError):
    """A run folder holds a run made with other settings (or of unknown settings)."""


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
    fingerprint: str = None


# ------------------------------------------------------------------------------ identity


def run_identity(config, data):
    """A run's identity: its configuration, its data manifest and the package version.

    Args:
        config: JSON-like configuration of the run (e.g. an experiment config's `to_dict()`).
        data: JSON-like data manifest (e.g. {"features": cache key, "folds": fold digest}).

    >>> run_identity({"seed": 0}, {"features": "ab12"})["package"] == kerasseizure.__version__
    True
    """
    return canonical_config({"config": config, "data": data, "package": kerasseizure.__version__})


def fold_digest(value):
    """SHA-256 (16 hex digits) of a fold specification: nested tuples, lists, dicts, arrays, scalars.

    >>> fold_digest((np.arange(3), [4, 5])) == fold_digest(([0, 1, 2], np.array([4, 5])))
    True
    """
    digest = hashlib.sha256()

    def feed(item):
        if isinstance(item, dict):
            for key in sorted(item, key=str):
                digest.update(f"{key}=".encode())
                feed(item[key])
            return
        if isinstance(item, (list, tuple, np.ndarray)):
            try:
                array = np.asarray(item)
            except ValueError:  # ragged
                array = None
            if array is not None and array.ndim >= 1 and array.dtype.kind in "iubf":
                kind = np.int64 if array.dtype.kind in "iub" else np.float64
                digest.update(f"a{array.shape}".encode() + np.ascontiguousarray(array, dtype=kind).tobytes())
                return
            digest.update(b"[")
            for part in item:
                feed(part)
            digest.update(b"]")
            return
        digest.update(json.dumps(canonical_config(item)).encode() + b";")

    feed(value)
    return digest.hexdigest()[:16]


def _flat(value, prefix=""):
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            out.update(_flat(item, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: value}


def describe_difference(found, wanted, limit=4):
    """The settings that differ between two identities, as `key: found -> wanted` phrases."""
    a, b = _flat(found), _flat(wanted)
    keys = sorted(k for k in set(a) | set(b) if a.get(k, "<absent>") != b.get(k, "<absent>"))
    words = [f"{k}: {json.dumps(a.get(k, '<absent>'))} -> {json.dumps(b.get(k, '<absent>'))}" for k in keys[:limit]]
    more = f" and {len(keys) - limit} more" if len(keys) > limit else ""
    return "; ".join(words) + more


def _read_claim(path):
    """The stored {"fingerprint", "identity"}, or None when damaged."""
    try:
        stored = json.loads(Path(path).read_text(encoding="utf-8"))
        if stored["fingerprint"] == config_key(stored["identity"]):
            return stored
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def claim_run_dir(run_dir, identity, *, overwrite=False):
    """Make `run_dir` the folder of the run `identity`, or refuse; returns the run's fingerprint.

    A new or empty folder is claimed (run.json written atomically). A folder claimed by the same
    identity is kept (its finished work will be reused). Any other folder (another identity, a
    damaged run.json, or content without run.json) raises `RunIdentityError` naming what differs,
    unless `overwrite`, which deletes the folder first. Stale temporary files are removed.

    Args:
        run_dir: the run folder.
        identity: `run_identity(...)` of the run asked for.
        overwrite: replace a folder made for something else.
    """
    run_dir = Path(run_dir)
    identity = canonical_config(identity)
    fingerprint = config_key(identity)
    marker = run_dir / RUN_FILE
    occupied = run_dir.is_dir() and any(run_dir.iterdir())
    if occupied:
        stored = _read_claim(marker) if marker.exists() else None
        if stored is not None and stored["fingerprint"] == fingerprint:
            remove_stale_partials(run_dir)
            return fingerprint
        if not overwrite:
            if not marker.exists():
                problem = "holds results of unknown settings (no run.json)"
            elif stored is None:
                problem = "has a damaged run.json"
            else:
                problem = f"holds a run made with other settings ({describe_difference(stored['identity'], identity)})"
            raise RunIdentityError(f"{run_dir} {problem}; {OVERWRITE_HINT}")
        shutil.rmtree(run_dir)
    atomic_write_json(marker, {"fingerprint": fingerprint, "identity": identity})
    return fingerprint


# ------------------------------------------------------------------------------ folds


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


def save_fold_result(fold_dir, result, fingerprint=None):
    """Write predictions.npz then result.json (the completion marker, with `fingerprint`), atomically."""
    fold_dir = Path(fold_dir)
    fold_dir.mkdir(parents=True, exist_ok=True)
    if result.predictions:
        with atomic_path(fold_dir / PREDICTIONS_FILE) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, **{k: np.asarray(v) for k, v in result.predictions.items()})
    record = {
        "fingerprint": fingerprint,
        "metrics": _plain_metrics(result.metrics),
        "predictions": sorted(result.predictions),
        "extra": result.extra,
    }
    atomic_write_json(fold_dir / RESULT_FILE, record)


def load_fold_result(fold_dir, fingerprint=None):
    """A completed fold's result; None when the fold has not completed.

    Args:
        fold_dir: the fold's folder.
        fingerprint: when given, the result must have been saved under it, else
            `RunIdentityError` (a result of other settings is never reused).
    """
    fold_dir = Path(fold_dir)
    marker = fold_dir / RESULT_FILE
    if not marker.exists():
        return None
    try:
        record = json.loads(marker.read_text(encoding="utf-8"))
        metrics = record["metrics"]
    except (ValueError, KeyError, TypeError) as error:
        raise RunIdentityError(f"{marker}: damaged fold result ({error}); {OVERWRITE_HINT}") from error
    if fingerprint is not None and record.get("fingerprint") != fingerprint:
        raise RunIdentityError(f"{marker}: this fold was computed for other settings or another fold; "
                               f"{OVERWRITE_HINT}")
    predictions = {}
    if record.get("predictions"):
        with np.load(fold_dir / PREDICTIONS_FILE, allow_pickle=False) as data:
            predictions = {k: data[k] for k in data.files}
    return FoldResult(metrics, predictions, record.get("extra", {}))


def _fold_items(folds):
    items = list(folds.items()) if isinstance(folds, dict) else list(enumerate(folds))
    names = [str(k) for k, _ in items]
    if len(set(names)) != len(names):
        raise RunError(f"fold names must be unique, got {names}")
    return items


def run_folds(folds, train_one_fold, run_dir, *, identity, overwrite=False, log=None):
    """Run (or resume) a cross-validation: each fold once, completed folds loaded from disk.

    Args:
        folds: sequence of fold specifications (fold i -> folder `fold-i`) or a dict
            name -> specification (folder `fold-<name>`). Specifications are passed through
            untouched (e.g. (train_index, valid_index) pairs) and are part of each fold's
            fingerprint.
        train_one_fold: callable (spec, fold_dir) -> FoldResult or dict. It should train through
            `fit(..., run_dir=fold_dir / "fit")` so an interrupted fold resumes mid-way.
        run_dir: the cross-validation's run folder.
        identity: `run_identity(config, data)` of this run; the folder must hold this run or
            be new (`claim_run_dir`).
        overwrite: replace a folder made for another identity instead of refusing.
        log: optional callable(str) for progress messages.

    Returns:
        CVResult with the fold results in order, the summary, the names of reused folds and
        the run's fingerprint.
    """
    run_dir = Path(run_dir)
    fingerprint = claim_run_dir(run_dir, identity, overwrite=overwrite)
    write_run_info(run_dir)
    results, reused = [], []
    for name, spec in _fold_items(folds):
        fold_dir = run_dir / f"fold-{name}"
        fold_print = config_key({"run": fingerprint, "fold": str(name), "spec": fold_digest(spec)})
        done = load_fold_result(fold_dir, fold_print)
        if done is not None:
            reused.append(str(name))
            results.append(done)
            if log:
                log(f"fold {name}: completed earlier, loaded from {fold_dir}")
            continue
        fold_dir.mkdir(parents=True, exist_ok=True)
        result = _as_fold_result(train_one_fold(spec, fold_dir))
        save_fold_result(fold_dir, result, fold_print)
        results.append(result)
        if log:
            log(f"fold {name}: {_plain_metrics(result.metrics)}")
    summary = summarise([r.metrics for r in results])
    atomic_write_json(run_dir / "summary.json", {"folds": len(results), "metrics": summary})
    return CVResult(results, summary, run_dir, reused, fingerprint)
