"""The offline install check of a Kaggle notebook: which dependencies import, and their versions.

`offline_install_check()` imports each dependency of `DEPENDENCIES` (or only reads the installed
metadata), compares the versions with kerasseizure's requirements and returns an `InstallReport`;
it never touches the network. Re-exported by `kerasseizure.kaggle`; see docs/kaggle.md.
"""

import dataclasses
import importlib
import importlib.metadata
import os
import platform
import sys

import pandas as pd

from kerasseizure.kaggle import KaggleError

# (distribution, module, what it is needed for, required for the HMS Kaggle path)
DEPENDENCIES = (
    ("kerasseizure", "kerasseizure", "this package", True),
    ("tensorflow", "tensorflow", "tf.data pipelines, training, Keras backend (extra [cpu]/[gpu])", True),
    ("keras", "keras", "models (Keras 3)", True),
    ("numpy", "numpy", "everything", True),
    ("scipy", "scipy", "filter design", True),
    ("pandas", "pandas", "HMS tables", True),
    ("pyarrow", "pyarrow", "HMS parquet files", True),
    ("librosa", "librosa", "mel filterbank (EEG spectrograms)", True),
    ("scikit-learn", "sklearn", "folds, metrics", True),
    ("matplotlib", "matplotlib", "learning curves", False),
    ("pyedflib", "pyedflib", "TUSZ EDF files", False),
    ("openpyxl", "openpyxl", "TUSZ v1 seizure spreadsheets", False),
    ("pyyaml", "yaml", "configuration files", False),
    ("ai-edge-litert", "ai_edge_litert", ".tflite inference", False),
)


def _requirements():
    """{normalised distribution name: specifier string} from kerasseizure's installed metadata."""
    try:
        from packaging.requirements import Requirement
    except ImportError:
        return {}
    try:
        raw = importlib.metadata.requires("kerasseizure") or []
    except importlib.metadata.PackageNotFoundError:
        return {}
    found = {}
    for text in raw:
        try:
            requirement = Requirement(text)
        except Exception:  # noqa: BLE001 (a malformed line must not break the check)
            continue
        name = requirement.name.lower().replace("_", "-")
        if name.startswith("tensorflow"):  # the extras name tensorflow-cpu / tensorflow[and-cuda]
            name = "tensorflow"
        extra = requirement.marker is not None and "extra" in str(requirement.marker)
        if extra and not name.startswith("tensorflow"):
            continue
        if str(requirement.specifier):
            found.setdefault(name, str(requirement.specifier))
    return found


def _satisfies(version, specifier):
    if not version or not specifier:
        return None
    try:
        from packaging.specifiers import SpecifierSet

        return SpecifierSet(specifier).contains(version, prereleases=True)
    except Exception:  # noqa: BLE001
        return None


def _distribution_version(names):
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


@dataclasses.dataclass
class InstallReport:
    """Result of `offline_install_check`.

    Attributes:
        rows: one dict per dependency: package, module, needed_for, required, installed (the
            distribution's version, from its metadata), imported (bool), version (module
            __version__), requirement (kerasseizure's specifier), satisfies (True/False/None),
            error (the import error, or "").
        python: the interpreter version.
        keras_backend: the Keras backend in use (when keras imported).
        devices: TensorFlow's physical devices (when tensorflow imported).
    """

    rows: list
    python: str
    keras_backend: str = None
    devices: list = dataclasses.field(default_factory=list)

    @property
    def ok(self):
        """True when every required dependency imports and satisfies the package's requirement."""
        return not self.problems

    @property
    def problems(self):
        return [r["package"] for r in self.rows if r["required"] and (not r["imported"] or r["satisfies"] is False)]

    @property
    def missing(self):
        return [r["package"] for r in self.rows if not r["imported"]]

    def to_frame(self):
        return pd.DataFrame(self.rows)

    def __str__(self):
        lines = [f"python {self.python}; keras backend {self.keras_backend}; devices {self.devices}"]
        for r in self.rows:
            state = "ok" if r["imported"] and r["satisfies"] is not False else (
                "TOO OLD" if r["imported"] else ("MISSING" if r["required"] else "missing (optional)"))
            version = r["version"] or r["installed"] or "-"
            need = f" (needs {r['requirement']})" if r["requirement"] else ""
            error = f": {r['error']}" if r["error"] and not r["imported"] else ""
            lines.append(f"  {r['package']:<16} {version:<14} {state}{need}{error}")
        lines.append("all required dependencies import" if self.ok else f"PROBLEMS: {', '.join(self.problems)}")
        return "\n".join(lines)

    def raise_for_problems(self):
        """Raise `KaggleError` listing the required dependencies that do not import or are too old."""
        if not self.ok:
            raise KaggleError(f"required dependencies missing or too old: {', '.join(self.problems)}\n{self}")


def offline_install_check(packages=DEPENDENCIES, *, import_modules=True):
    """Report which dependencies are installed and import, with their versions. No network.

    Args:
        packages: (distribution, module, needed_for, required) tuples; default `DEPENDENCIES`.
        import_modules: import each module (True) or only read the installed metadata (False,
            fast; `imported` then means "installed").

    Returns:
        InstallReport (print it; `.ok`, `.problems`, `.raise_for_problems()`).
    """
    requirements = _requirements()
    rows = []
    for distribution, module, needed_for, required in packages:
        names = [distribution] + (["tensorflow-cpu", "tensorflow-gpu", "tf-nightly"] if distribution == "tensorflow"
                                  else [])
        installed = _distribution_version(names)
        imported, version, error = installed is not None, None, ""
        if import_modules:
            try:
                loaded = importlib.import_module(module)
                imported, version = True, getattr(loaded, "__version__", None)
            except Exception as exc:  # noqa: BLE001 (any import failure is a finding, not a crash)
                imported, error = False, f"{type(exc).__name__}: {exc}"
        elif installed is None:
            error = "not installed"
        requirement = requirements.get(distribution.lower())
        rows.append({"package": distribution, "module": module, "needed_for": needed_for, "required": bool(required),
                     "installed": installed, "imported": imported, "version": version,
                     "requirement": requirement,
                     "satisfies": _satisfies(installed or version, requirement) if imported else None,
                     "error": error})
    backend, devices = None, []
    if "keras" in sys.modules:
        try:
            backend = sys.modules["keras"].backend.backend()
        except Exception:  # noqa: BLE001
            backend = os.environ.get("KERAS_BACKEND")
    if "tensorflow" in sys.modules:
        try:
            devices = [d.name for d in sys.modules["tensorflow"].config.list_physical_devices()]
        except Exception:  # noqa: BLE001
            devices = []
    return InstallReport(rows, platform.python_version(), backend, devices)
