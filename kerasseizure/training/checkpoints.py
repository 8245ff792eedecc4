"""Checkpoints of `fit`: one atomically written .npz per completed epoch.

A checkpoint holds every model variable (seed-generator states included), every optimizer
variable and a JSON state (epoch, best value, early-stopping counter, history). `save_checkpoint`
/ `load_checkpoint` write and restore one file; the run folder keeps the last few under
`checkpoints/` (CHECKPOINT_DIR) and the final one as FINAL_CHECKPOINT.
"""

import json
from pathlib import Path

import numpy as np

from kerasseizure.errors import KerasSeizureError
from kerasseizure.files import atomic_path

CHECKPOINT_DIR = "checkpoints"
FINAL_CHECKPOINT = "final.npz"


class ResumeError(KerasSeizureError):
    """A run folder's checkpoint does not match the run being resumed."""


def _optimizer_variables(model):
    optimizer = getattr(model, "optimizer", None)
    return list(optimizer.variables) if optimizer is not None else []


def _to_numpy(variable):
    value = variable.value
    if hasattr(value, "read_value"):  # tf.Variable / MirroredVariable: the (primary) value
        value = value.read_value()
    return np.asarray(value)


def save_checkpoint(path, model, state):
    """Write model + optimizer variables and the JSON `state` to one .npz file, atomically.

    Args:
        path: destination file (.npz).
        model: a compiled keras.Model whose optimizer is built.
        state: JSON-serialisable dict.
    """
    arrays = {f"m{i:05d}": _to_numpy(v) for i, v in enumerate(model.variables)}
    arrays.update({f"o{i:05d}": _to_numpy(v) for i, v in enumerate(_optimizer_variables(model))})
    arrays["state"] = np.array(json.dumps(state, default=float))
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)


def _assign_all(variables, values, what, path):
    if len(variables) != len(values):
        raise ResumeError(f"{path}: checkpoint has {len(values)} {what} variables, the model has {len(variables)}")
    for variable, value in zip(variables, values):
        if tuple(variable.shape) != tuple(value.shape):
            raise ResumeError(
                f"{path}: {what} variable {variable.path} has shape {tuple(variable.shape)}, "
                f"checkpoint has {tuple(value.shape)}"
            )
    for variable, value in zip(variables, values):
        variable.assign(value.astype(variable.dtype) if hasattr(value, "astype") else value)


def load_checkpoint(path, model, restore_optimizer=True):
    """Restore a checkpoint written by `save_checkpoint` into `model`; returns its state dict.

    Args:
        path: the .npz file.
        model: the same architecture, compiled, optimizer built.
        restore_optimizer: also restore the optimizer variables.
    """
    with np.load(path, allow_pickle=False) as data:
        state = json.loads(str(data["state"]))
        model_values = [data[k] for k in sorted(k for k in data.files if k.startswith("m"))]
        optimizer_values = [data[k] for k in sorted(k for k in data.files if k.startswith("o"))]
    _assign_all(list(model.variables), model_values, "model", path)
    if restore_optimizer and optimizer_values:
        _assign_all(_optimizer_variables(model), optimizer_values, "optimizer", path)
    return state


def _checkpoint_files(run_dir):
    folder = Path(run_dir) / CHECKPOINT_DIR
    return sorted(folder.glob("epoch-*.npz")) if folder.exists() else []


def _prune_checkpoints(run_dir, keep):
    files = _checkpoint_files(run_dir)
    for old in files[: max(len(files) - max(int(keep), 1), 0)]:
        old.unlink(missing_ok=True)


def _restore_latest(run_dir, model):
    """Restore the newest readable checkpoint; returns its state or None when there is none."""
    errors = []
    for path in reversed(_checkpoint_files(run_dir)):
        try:
            return load_checkpoint(path, model)
        except (OSError, ValueError, KeyError) as error:
            errors.append(f"{path.name}: {error}")
    if errors:
        raise ResumeError(f"{run_dir}: no readable checkpoint ({'; '.join(errors)})")
    return None
