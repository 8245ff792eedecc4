"""Helpers both synthetic corpora share: size presets, the output folder, the ground truth.

Each corpus writes what its readers should recover to `<root>/_truth/` (csv tables and
corpus.json); `load_truth(root)` reads it back.
"""

import contextlib
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from kerasseizure.files import atomic_path


def writer_fingerprint():
    """SHA-256 (16 hex digits) of the synthetic writers' and simulators' sources.

    Recorded in `_truth/corpus.json`: a corpus written by other code is not the same corpus, even
    with the same arguments, so whoever reuses one compares this too.
    """
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted([*package.glob("*.py"), *(package.parent / "simulation").glob("*.py")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _resolve(preset_table, size, **overrides):
    if size not in preset_table:
        raise ValueError(f"size must be one of {sorted(preset_table)}, got {size!r}")
    params = dict(preset_table[size])
    params.update({k: v for k, v in overrides.items() if v is not None})
    return params


def _prepare_out(out_dir, generated, overwrite):
    root = Path(out_dir)
    existing = [root / name for name in generated if (root / name).exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{root}: already holds {', '.join(p.name for p in existing)}; "
                              "pass overwrite=True to replace the synthetic corpus")
    for path in existing:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    root.mkdir(parents=True, exist_ok=True)
    return root


def _write_csv(path, frame):
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, lineterminator="\n")


class _CsvSink:
    """Rows (dicts) appended to a CSV file in chunks of `chunk` rows, so that a table of any length
    costs the memory of one chunk. Each chunk goes through pandas' `to_csv`: a table shorter than
    a chunk is byte-identical to one `to_csv` of the whole frame."""

    def __init__(self, path, columns, chunk):
        self.path, self.columns, self.chunk = path, columns, chunk
        self.rows, self.written, self.count = [], False, 0

    def add(self, row):
        self.rows.append(row)
        self.count += 1
        if len(self.rows) >= self.chunk:
            self.flush()

    def flush(self):
        if not self.rows and self.written:
            return
        frame = pd.DataFrame(self.rows, columns=self.columns)
        self.columns = list(frame.columns)   # later chunks keep the first chunk's column order
        frame.to_csv(self.path, mode="a" if self.written else "w", header=not self.written, index=False,
                     lineterminator="\n")
        self.rows, self.written = [], True


@contextlib.contextmanager
def csv_sink(path, columns=None, chunk=20_000):
    """Yield a `_CsvSink` writing `path` (atomically: renamed into place when the block succeeds);
    `columns`: the header when the table may be empty (else the first row's keys)."""
    with atomic_path(path) as tmp:
        sink = _CsvSink(tmp, None if columns is None else list(columns), int(chunk))
        yield sink
        sink.flush()


def exact_counts(rng, total, n, sigma, weights=None):
    """`n` integers >= 1 summing to `total`, spread log-normally (sigma) around `weights` (default
    equal): a heavy-tailed allocation with an exact total (seizures over patients, rows over
    files)."""
    if n < 1 or total < n:
        raise ValueError(f"cannot split {total} into {n} parts of at least 1")
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    p = w * rng.lognormal(0.0, sigma, size=n)
    return (1 + rng.multinomial(total - n, p / p.sum())).tolist()


def load_truth(root):
    """The ground truth a synthetic corpus was written with: {name: DataFrame} plus "corpus" (dict).

    TUSZ: "recordings", "seizures" (start/stop = the annotated term-level event; signal_onset/
    signal_offset = the simulated activity at the focus), "patients". HMS: "eegs" (one row per
    eeg_id: pattern, mix, votes), "recordings", "test_labels".
    """
    import json

    truth_dir = Path(root) / "_truth"
    if not (truth_dir / "corpus.json").exists():
        raise FileNotFoundError(f"{truth_dir}: no synthetic ground truth (corpus.json) here")
    out = {"corpus": json.loads((truth_dir / "corpus.json").read_text(encoding="utf-8"))}
    for path in sorted(truth_dir.glob("*.csv")):
        out[path.stem] = pd.read_csv(path, dtype={"patient_id": str} if out["corpus"]["kind"] == "tusz" else None)
    return out
