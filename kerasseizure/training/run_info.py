"""What a run folder records about the machine and code that produced it.

`fit` writes, in its run folder, `config.json` (the run's configuration) and `environment.json`
(one entry per session that worked on the run: time, versions, git commit, hardware).
"""

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from kerasseizure.files import atomic_write_json


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
