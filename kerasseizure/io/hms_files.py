"""Reading and validating the HMS corpus' files: csv tables and parquet columns.

Every problem raises `TableError` naming the file, the problem and (for tables) the offending
lines and ids. `kerasseizure.io.hms.HMSDataset` builds on these; no TensorFlow here.
"""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kerasseizure.errors import TableError

_EXPECTED_LAYOUT = (
    "an HMS root holds train.csv, test.csv, sample_submission.csv, train_eegs/<eeg_id>.parquet, "
    "train_spectrograms/<spectrogram_id>.parquet, test_eegs/ and test_spectrograms/ "
    "(unzip `kaggle competitions download -c hms-harmful-brain-activity-classification` there)"
)
_MAX_LISTED = 10


def _describe_rows(frame, mask, id_columns):
    """'line 3 (eeg_id 5, label_id 12), ...' for the rows of a csv table selected by mask."""
    positions = np.flatnonzero(np.asarray(mask))
    parts = []
    for pos in positions[:_MAX_LISTED]:
        ids = ", ".join(f"{c} {_fmt_id(frame[c].iloc[pos])}" for c in id_columns if c in frame.columns)
        parts.append(f"line {pos + 2}" + (f" ({ids})" if ids else ""))
    more = len(positions) - _MAX_LISTED
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _fmt_id(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "NaN"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _read_csv(path, expected, what):
    """Read a csv table whose first columns must be `expected`, in that order."""
    path = Path(path)
    if not path.is_file():
        raise TableError(path, f"{what} not found; {_EXPECTED_LAYOUT}")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        raise TableError(path, f"cannot read {what} as csv: {exc}") from None
    _check_columns(path, list(frame.columns), expected)
    if len(frame) == 0:
        raise TableError(path, f"{what} has a header but no rows")
    return frame


def _check_columns(path, found, expected):
    missing = [c for c in expected if c not in found]
    if missing:
        raise TableError(path, f"missing columns {missing}; expected columns {list(expected)} "
                               f"in this order, found {found}")
    present = [c for c in found if c in expected]
    if present != list(expected):
        raise TableError(path, f"columns out of order: expected {list(expected)}, found {present}")


def _integer_columns(path, frame, columns, id_columns):
    """Coerce columns to int64; missing, non-numeric or fractional values -> TableError."""
    for column in columns:
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isnan(values)
        if bad.any():
            raise TableError(path, f"missing or non-numeric {column} at "
                                   f"{_describe_rows(frame, bad, id_columns)}")
        frac = values != np.round(values)
        if frac.any():
            raise TableError(path, f"non-integer {column} at {_describe_rows(frame, frac, id_columns)}")
        frame[column] = values.astype(np.int64)


def _parquet_stems(folder):
    if not folder.is_dir():
        return set()
    return {entry.name[:-8] for entry in os.scandir(folder) if entry.name.endswith(".parquet")}


def _open_parquet(path, what):
    path = Path(path)
    if not path.is_file():
        raise TableError(path, f"{what} parquet file not found")
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise TableError(path, f"cannot read {what} parquet file: {exc}") from None


def _numeric_column(path, table, name):
    column = table.column(name)
    if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
        raise TableError(path, f"column {name!r} has type {column.type}, expected numbers")
    return column.to_numpy().astype(np.float32, copy=False)


def _read_parquet_table(path, what, columns=None):
    """The parquet file as a pyarrow Table (`columns` only, when given), or TableError naming the file.

    `pq.read_table` rather than `ParquetFile.read`: 3x faster on the EEG files and 1.5x on the
    401-column spectrograms (docs/benchmarks.md, "Full-size corpora").
    """
    path = Path(path)
    if not path.is_file():
        raise TableError(path, f"{what} parquet file not found")
    try:
        return pq.read_table(path, columns=None if columns is None else list(columns), use_threads=False,
                             use_pandas_metadata=False)
    except (pa.ArrowException, OSError) as exc:
        if columns is not None:
            names = _open_parquet(path, what).schema_arrow.names
            missing = [c for c in columns if c not in names]
            if missing:
                raise TableError(path, f"{what} parquet lacks columns {missing}; expected {list(columns)}, "
                                       f"found {names}") from None
        raise TableError(path, f"cannot read {what} parquet file: {exc}") from None


def _parquet_columns(path, table, columns):
    """float32 [rows, len(columns)] of a table's named numeric columns (nulls -> NaN)."""
    out = np.empty((table.num_rows, len(columns)), dtype=np.float32)
    for i, name in enumerate(columns):
        out[:, i] = _numeric_column(path, table, name)
    return out
