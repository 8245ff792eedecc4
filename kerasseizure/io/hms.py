"""The Kaggle "HMS - Harmful Brain Activity Classification" corpus as it lies on disk.

`HMSDataset(root)` reads the competition folder (the one holding train.csv):

    root/train.csv  test.csv  sample_submission.csv
    root/train_eegs/<eeg_id>.parquet          root/test_eegs/<eeg_id>.parquet
    root/train_spectrograms/<spectrogram_id>.parquet
    root/test_spectrograms/<spectrogram_id>.parquet

Tables are read and validated on first use; signals are read per id with a small per-instance
LRU cache. Every problem with a file raises `TableError` naming the file and the problem.
No TensorFlow here (docs/hms.md describes the label table and the NaN policy).
"""

import collections
import dataclasses
import threading
from pathlib import Path

import numpy as np
import pandas as pd

from kerasseizure.errors import CorpusError, TableError
from kerasseizure.io.channels import HMS_EEG_COLUMNS
from kerasseizure.io.hms_files import (
    _EXPECTED_LAYOUT, _MAX_LISTED, _describe_rows, _integer_columns, _parquet_columns, _parquet_stems, _read_csv,
    _read_parquet_table,
)
from kerasseizure.io.missing import eeg_nan_statistics
from kerasseizure.io.labels import (
    HMS_CLASSES,
    HMS_HIGH_VOTE_THRESHOLD,
    HMS_TEST_COLUMNS,
    HMS_TRAIN_COLUMNS,
    HMS_VOTE_COLUMNS,
)

HMS_EEG_FS = 200                      # EEG sampling rate (Hz)
HMS_EEG_WINDOW_SECONDS = 50           # the labelled EEG window (and the test EEG length)
HMS_SPECTROGRAM_REGIONS = ("LL", "RL", "LP", "RP")   # parquet order of the spectrogram regions
HMS_SPECTROGRAM_BINS = 100            # frequency bins per region (0.59-19.92 Hz)
HMS_SPECTROGRAM_ROW_SECONDS = 2       # one spectrogram row per 2 s (time 1, 3, 5, ...)
HMS_SPECTROGRAM_WINDOW_ROWS = 300     # 10 minutes
HMS_SUBMISSION_COLUMNS = ("eeg_id",) + HMS_VOTE_COLUMNS
SPLITS = ("train", "test")

# Column order of `HMSDataset.labels`.
LABEL_COLUMNS = (
    ("eeg_id", "patient_id", "spectrogram_id", "n_annotations")
    + HMS_VOTE_COLUMNS + ("total_votes",) + HMS_CLASSES
    + ("votes_per_annotation_min", "votes_per_annotation_max", "population", "expert_consensus",
       "spectrogram_label_offset_seconds_mean", "spectrogram_label_offset_seconds_min",
       "spectrogram_label_offset_seconds_max", "eeg_label_offset_seconds_min",
       "eeg_label_offset_seconds_max")
)

_TRAIN_INT_COLUMNS = ("eeg_id", "eeg_sub_id", "spectrogram_id", "spectrogram_sub_id", "label_id",
                      "patient_id")
_TRAIN_OFFSET_COLUMNS = ("eeg_label_offset_seconds", "spectrogram_label_offset_seconds")


@dataclasses.dataclass(frozen=True)
class Spectrogram:
    """One Kaggle spectrogram file (or a window of it).

    Attributes:
        time: float32 [rows], the file's `time` column (seconds: 1, 3, 5, ...).
        values: float32 [rows, 400], the value columns in file order (LL, RL, LP, RP; 100 bins
            each), NaNs kept.
        columns: the 400 value-column names, e.g. ("LL_0.59", ..., "RP_19.92").
        frequencies: float64 [100], the bin frequencies (Hz) parsed from the LL column names.
        path: the parquet file it came from.
    """

    time: np.ndarray
    values: np.ndarray
    columns: tuple
    frequencies: np.ndarray
    path: str

    def region(self, name):
        """float32 [rows, 100]: the bins of one region ("LL", "RL", "LP" or "RP")."""
        if name not in HMS_SPECTROGRAM_REGIONS:
            raise ValueError(f"unknown region {name!r}; expected one of {HMS_SPECTROGRAM_REGIONS}")
        i = HMS_SPECTROGRAM_REGIONS.index(name) * HMS_SPECTROGRAM_BINS
        return self.values[:, i:i + HMS_SPECTROGRAM_BINS]


class _LRU:
    """A small thread-safe least-recently-used cache (per instance; size 0 disables it)."""

    def __init__(self, maxsize):
        self.maxsize = int(maxsize)
        self._items = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key, value):
        if self.maxsize <= 0:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def clear(self):
        with self._lock:
            self._items.clear()

    def __len__(self):
        return len(self._items)


class HMSDataset:
    """The HMS competition folder: label tables, EEG and spectrogram parquet files.

    Args:
        root: the folder that holds train.csv (on Kaggle:
            /kaggle/input/hms-harmful-brain-activity-classification).
        eeg_cache_size: EEG files kept in memory (per instance, least recently used dropped).
        spectrogram_cache_size: spectrogram files kept in memory; several eeg_ids share one
            spectrogram, so a few entries save most re-reads.

    Nothing is read at construction beyond checking that `root` is a folder.
    """

    def __init__(self, root, eeg_cache_size=4, spectrogram_cache_size=16):
        self.root = Path(root)
        if not self.root.is_dir():
            raise CorpusError(f"{self.root}: not a folder; {_EXPECTED_LAYOUT}")
        self.eeg_cache_size = int(eeg_cache_size)
        self.spectrogram_cache_size = int(spectrogram_cache_size)
        self._init_state()

    def _init_state(self):
        self._tables = {}
        self._tables_lock = threading.RLock()   # labels builds on annotations
        self._eeg_cache = _LRU(self.eeg_cache_size)
        self._spectrogram_cache = _LRU(self.spectrogram_cache_size)

    # Caches and locks are per process: drop them when pickled (multiprocessing, tf.data workers).
    def __getstate__(self):
        return {"root": self.root, "eeg_cache_size": self.eeg_cache_size,
                "spectrogram_cache_size": self.spectrogram_cache_size}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._init_state()

    def __repr__(self):
        return f"HMSDataset({str(self.root)!r})"

    # ------------------------------------------------------------------ paths

    @property
    def train_csv(self):
        return self.root / "train.csv"

    @property
    def test_csv(self):
        return self.root / "test.csv"

    @property
    def sample_submission_csv(self):
        return self.root / "sample_submission.csv"

    def eeg_dir(self, split="train"):
        """The folder of EEG parquet files of a split (train_eegs/ or test_eegs/)."""
        return self.root / f"{_check_split(split)}_eegs"

    def spectrogram_dir(self, split="train"):
        """The folder of spectrogram parquet files of a split."""
        return self.root / f"{_check_split(split)}_spectrograms"

    def eeg_path(self, eeg_id, split="train"):
        return self.eeg_dir(split) / f"{_check_id(eeg_id, 'eeg_id')}.parquet"

    def spectrogram_path(self, spectrogram_id, split="train"):
        return self.spectrogram_dir(split) / f"{_check_id(spectrogram_id, 'spectrogram_id')}.parquet"

    # ------------------------------------------------------------------ tables

    def _table(self, name, build):
        with self._tables_lock:
            if name not in self._tables:
                self._tables[name] = build()
            return self._tables[name]

    @property
    def annotations(self):
        """The validated train.csv, one row per labelled sub-window, in file order.

        All train.csv columns (ids as int64), plus `total_votes` (the row's own vote total) and
        `population` ("high" if total_votes >= 10, else "low").
        """
        return self._table("annotations", self._load_annotations).copy(deep=False)

    @property
    def labels(self):
        """One row per eeg_id, sorted by eeg_id (columns: `LABEL_COLUMNS`).

        Votes are summed over the eeg_id's sub-rows and normalised into one probability column
        per class (Seizure, LPD, GPD, LRDA, GRDA, Other). `population` is "high" when every
        sub-row has >= 10 votes, "low" when every sub-row has fewer, "mixed" otherwise.
        `expert_consensus` is that of the first sub-row by eeg_sub_id (the starters' choice).
        """
        return self._table("labels", self._build_labels).copy(deep=False)

    @property
    def test_ids(self):
        """The validated test.csv: spectrogram_id, eeg_id, patient_id (int64), file order."""
        return self._table("test", self._load_test).copy(deep=False)

    def sample_submission(self):
        """The validated sample_submission.csv: eeg_id then the six *_vote columns."""
        path = self.sample_submission_csv
        frame = _read_csv(path, HMS_SUBMISSION_COLUMNS, "sample_submission.csv")
        frame = frame[list(HMS_SUBMISSION_COLUMNS)].copy()
        _integer_columns(path, frame, ["eeg_id"], ["eeg_id"])
        for column in HMS_VOTE_COLUMNS:
            values = pd.to_numeric(frame[column], errors="coerce").to_numpy(np.float64, na_value=np.nan)
            bad = np.isnan(values) | (values < 0) | (values > 1)
            if bad.any():
                raise TableError(path, f"{column} not a probability in [0, 1] at "
                                       f"{_describe_rows(frame, bad, ['eeg_id'])}")
            frame[column] = values
        return frame

    def _load_annotations(self):
        path = self.train_csv
        frame = _read_csv(path, HMS_TRAIN_COLUMNS, "train.csv")
        ids = ["eeg_id", "label_id"]
        _integer_columns(path, frame, _TRAIN_INT_COLUMNS, ids)
        for column in _TRAIN_OFFSET_COLUMNS:
            values = pd.to_numeric(frame[column], errors="coerce").to_numpy(np.float64, na_value=np.nan)
            bad = np.isnan(values) | (values < 0)
            if bad.any():
                raise TableError(path, f"missing, non-numeric or negative {column} at "
                                       f"{_describe_rows(frame, bad, ids)}")
            frame[column] = values
        _integer_columns(path, frame, HMS_VOTE_COLUMNS, ids)
        votes = frame[list(HMS_VOTE_COLUMNS)].to_numpy()
        negative = (votes < 0).any(axis=1)
        if negative.any():
            raise TableError(path, f"negative votes at {_describe_rows(frame, negative, ids)}")
        total = votes.sum(axis=1)
        if (total == 0).any():
            raise TableError(path, f"rows without any vote at {_describe_rows(frame, total == 0, ids)}")
        consensus = frame["expert_consensus"].astype(object)
        bad = ~consensus.isin(HMS_CLASSES).to_numpy()
        if bad.any():
            raise TableError(path, f"expert_consensus not one of {list(HMS_CLASSES)} at "
                                   f"{_describe_rows(frame, bad, ids)}")
        frame["expert_consensus"] = consensus.astype(str)
        for key in (["label_id"], ["eeg_id", "eeg_sub_id"]):
            dup = frame.duplicated(key, keep=False).to_numpy()
            if dup.any():
                raise TableError(path, f"duplicate {'+'.join(key)} at {_describe_rows(frame, dup, ids)}")
        frame["total_votes"] = total.astype(np.int64)
        frame["population"] = np.where(total >= HMS_HIGH_VOTE_THRESHOLD, "high", "low")
        return frame

    def _build_labels(self):
        path = self.train_csv
        rows = self._table("annotations", self._load_annotations).sort_values(["eeg_id", "eeg_sub_id"], kind="stable")
        groups = rows.groupby("eeg_id", sort=True)
        for column in ("patient_id", "spectrogram_id"):
            n = groups[column].nunique()
            if (n > 1).any():
                bad = [int(i) for i in n.index[n > 1]]
                listed = ", ".join(map(str, bad[:_MAX_LISTED])) + (" ..." if len(bad) > _MAX_LISTED else "")
                raise TableError(path, f"sub-rows of one eeg_id disagree on {column} for eeg_id {listed}")
        agg = {
            "patient_id": ("patient_id", "first"),
            "spectrogram_id": ("spectrogram_id", "first"),
            "n_annotations": ("eeg_sub_id", "size"),
            **{c: (c, "sum") for c in HMS_VOTE_COLUMNS},
            "total_votes": ("total_votes", "sum"),
            "votes_per_annotation_min": ("total_votes", "min"),
            "votes_per_annotation_max": ("total_votes", "max"),
            "expert_consensus": ("expert_consensus", "first"),
            "spectrogram_label_offset_seconds_mean": ("spectrogram_label_offset_seconds", "mean"),
            "spectrogram_label_offset_seconds_min": ("spectrogram_label_offset_seconds", "min"),
            "spectrogram_label_offset_seconds_max": ("spectrogram_label_offset_seconds", "max"),
            "eeg_label_offset_seconds_min": ("eeg_label_offset_seconds", "min"),
            "eeg_label_offset_seconds_max": ("eeg_label_offset_seconds", "max"),
        }
        labels = groups.agg(**agg).reset_index()
        votes = labels[list(HMS_VOTE_COLUMNS)].to_numpy(np.float64)
        probabilities = votes / votes.sum(axis=1, keepdims=True)
        for i, name in enumerate(HMS_CLASSES):
            labels[name] = probabilities[:, i]
        high = labels["votes_per_annotation_min"] >= HMS_HIGH_VOTE_THRESHOLD
        low = labels["votes_per_annotation_max"] < HMS_HIGH_VOTE_THRESHOLD
        labels["population"] = np.select([high, low], ["high", "low"], "mixed")
        return labels[list(LABEL_COLUMNS)]

    def describe(self):
        """Corpus statistics per vote population, like the TUSZ `describe`.

        Returns:
            DataFrame indexed by population ("low", "high", "mixed" when present, then "all")
            with the counts of eeg_ids, patients, spectrogram_ids and annotation rows, the mean
            votes per annotation, and the eeg_ids per expert-consensus class.
        """
        labels = self.labels
        groups = [(p, labels[labels["population"] == p]) for p in ("low", "high", "mixed")
                  if (labels["population"] == p).any()]
        rows = []
        for population, part in groups + [("all", labels)]:
            consensus = part["expert_consensus"].value_counts()
            rows.append({
                "population": population,
                "eeg_ids": len(part),
                "patients": part["patient_id"].nunique(),
                "spectrogram_ids": part["spectrogram_id"].nunique(),
                "annotations": int(part["n_annotations"].sum()),
                "votes_per_annotation": float((part["total_votes"] / part["n_annotations"]).mean()),
                **{name: int(consensus.get(name, 0)) for name in HMS_CLASSES},
            })
        return pd.DataFrame(rows).set_index("population")

    def _load_test(self):
        path = self.test_csv
        frame = _read_csv(path, HMS_TEST_COLUMNS, "test.csv")
        _integer_columns(path, frame, HMS_TEST_COLUMNS, ["eeg_id"])
        dup = frame.duplicated("eeg_id", keep=False).to_numpy()
        if dup.any():
            raise TableError(path, f"duplicate eeg_id at {_describe_rows(frame, dup, ['eeg_id'])}")
        return frame

    def missing_files(self, split="train"):
        """Ids listed in the split's csv whose parquet file is absent (a partial download).

        Returns {"eeg_id": [...], "spectrogram_id": [...]}, sorted ids.
        """
        table = self.labels if _check_split(split) == "train" else self.test_ids
        present = {
            "eeg_id": _parquet_stems(self.eeg_dir(split)),
            "spectrogram_id": _parquet_stems(self.spectrogram_dir(split)),
        }
        return {column: sorted(int(i) for i in set(table[column]) if str(int(i)) not in present[column])
                for column in present}

    # ------------------------------------------------------------------ EEG

    def eeg(self, eeg_id, split="train"):
        """float32 [samples, 20]: an EEG file's columns Fp1 ... O2, EKG (`HMS_EEG_COLUMNS`), 200 Hz.

        Columns come in the competition's file order whatever their order on disk; extra
        columns are ignored; NaNs are kept. A fresh array each call.
        """
        return self._eeg(eeg_id, split).copy()

    def _eeg(self, eeg_id, split):
        path = self.eeg_path(eeg_id, split)
        key = (split, int(eeg_id))
        cached = self._eeg_cache.get(key)
        if cached is None:
            cached = read_eeg_parquet(path)
            cached.setflags(write=False)
            self._eeg_cache.put(key, cached)
        return cached

    def eeg_window(self, eeg_id, offset_seconds=None, seconds=HMS_EEG_WINDOW_SECONDS, split="train"):
        """float32 [seconds * 200, 20]: a window of an EEG file, NaNs kept.

        Args:
            eeg_id: the file's id.
            offset_seconds: start of the window (train.csv's eeg_label_offset_seconds); None takes
                the middle of the file as the WaveNet starter does: start (n - seconds*200) // 2.
            seconds: window length (the labels describe 50 s).
            split: "train" or "test".
        """
        width = _window_length(seconds * HMS_EEG_FS, "seconds * 200")
        data = self._eeg(eeg_id, split)
        n = data.shape[0]
        if offset_seconds is None:
            if n < width:
                raise TableError(self.eeg_path(eeg_id, split),
                                 f"EEG has {n} samples ({n / HMS_EEG_FS:g} s), shorter than the "
                                 f"{width}-sample window ({seconds:g} s) asked for")
            start = (n - width) // 2
        else:
            start = _window_start(offset_seconds * HMS_EEG_FS, "offset_seconds")
            if start + width > n:
                raise TableError(self.eeg_path(eeg_id, split),
                                 f"window {start}:{start + width} (offset {offset_seconds:g} s, "
                                 f"{seconds:g} s) runs past the end of the EEG, which has {n} "
                                 f"samples ({n / HMS_EEG_FS:g} s)")
        return data[start:start + width].copy()

    def nan_statistics(self, eeg_ids=None, split="train", window_seconds=HMS_EEG_WINDOW_SECONDS):
        """NaN statistics of EEG files, one row per eeg_id (in the order given).

        Args:
            eeg_ids: ids to scan; None scans every eeg_id of the split's csv (train: `labels`,
                test: `test_ids`).
            split: "train" or "test".
            window_seconds: length of the middle window whose NaN fraction is also reported.

        Columns: eeg_id, n_samples, nan_fraction (all 20 channels), middle_window_nan_fraction,
        nan_<channel> (fraction NaN per channel, one column per `HMS_EEG_COLUMNS` entry),
        n_all_nan_channels, all_nan_channels (comma-separated names, "" if none),
        longest_nan_run (samples, over all channels), longest_nan_run_channel ("" if no NaN).
        Files are read directly (the scan does not evict the EEG cache).
        """
        _check_split(split)
        if eeg_ids is None:
            eeg_ids = (self.labels if split == "train" else self.test_ids)["eeg_id"].tolist()
        width = _window_length(window_seconds * HMS_EEG_FS, "window_seconds * 200")
        records = []
        for eeg_id in eeg_ids:
            x = read_eeg_parquet(self.eeg_path(eeg_id, split))
            records.append(eeg_nan_statistics(x, width=width, eeg_id=int(eeg_id)))
        columns = ["eeg_id", "n_samples", "nan_fraction", "middle_window_nan_fraction",
                   *[f"nan_{c}" for c in HMS_EEG_COLUMNS], "n_all_nan_channels", "all_nan_channels",
                   "longest_nan_run", "longest_nan_run_channel"]
        return pd.DataFrame.from_records(records, columns=columns)

    # ------------------------------------------------------------------ spectrograms

    def spectrogram(self, spectrogram_id, split="train"):
        """A whole Kaggle spectrogram file as a `Spectrogram` (fresh arrays each call)."""
        spec = self._spectrogram(spectrogram_id, split)
        return dataclasses.replace(spec, time=spec.time.copy(), values=spec.values.copy())

    def _spectrogram(self, spectrogram_id, split):
        path = self.spectrogram_path(spectrogram_id, split)
        key = (split, int(spectrogram_id))
        cached = self._spectrogram_cache.get(key)
        if cached is None:
            cached = _read_spectrogram(path)
            cached.time.setflags(write=False)
            cached.values.setflags(write=False)
            self._spectrogram_cache.put(key, cached)
        return cached

    def spectrogram_window(self, spectrogram_id, offset_seconds, rows=HMS_SPECTROGRAM_WINDOW_ROWS,
                           split="train"):
        """`rows` rows of a spectrogram starting at row offset_seconds // 2 (the starter's rule).

        Args:
            spectrogram_id: the file's id.
            offset_seconds: train.csv's spectrogram_label_offset_seconds (or the mean over an
                eeg_id's sub-rows, `labels.spectrogram_label_offset_seconds_mean`); 0 for test files.
            rows: window length in rows (300 rows = 10 minutes).
            split: "train" or "test".
        """
        rows = _window_length(rows, "rows")
        start = _window_start(offset_seconds / HMS_SPECTROGRAM_ROW_SECONDS, "offset_seconds")
        spec = self._spectrogram(spectrogram_id, split)
        n = spec.values.shape[0]
        if start + rows > n:
            raise TableError(spec.path, f"window rows {start}:{start + rows} (offset {offset_seconds:g} s) "
                                        f"runs past the end of the spectrogram, which has {n} rows")
        return dataclasses.replace(spec, time=spec.time[start:start + rows].copy(),
                                   values=spec.values[start:start + rows].copy())


# ---------------------------------------------------------------------- helpers


def read_eeg_parquet(path):
    """float32 [samples, 20] of one HMS EEG parquet file: columns `HMS_EEG_COLUMNS` (Fp1 ... O2, EKG).

    Columns come in the competition's order whatever their order on disk; extra columns are
    ignored; NaNs are kept. Raises TableError naming the file on a missing column or bad file.
    """
    return _parquet_columns(path, _read_parquet_table(path, "EEG", HMS_EEG_COLUMNS), HMS_EEG_COLUMNS)


def _check_split(split):
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return split


def _check_id(value, name):
    try:
        as_int = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if as_int != value or as_int < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return as_int


def _window_length(value, name):
    if not np.isfinite(value) or value <= 0 or float(value) != int(value):
        raise ValueError(f"{name} must be a positive whole number of samples/rows, got {value!r}")
    return int(value)


def _window_start(value, name):
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return int(np.floor(value + 1e-9))


def _read_spectrogram(path):
    table = _read_parquet_table(path, "spectrogram")
    names = table.schema.names
    if not names or names[0] != "time":
        raise TableError(path, f"spectrogram parquet must start with a 'time' column, found "
                               f"{names[:3]}{' ...' if len(names) > 3 else ''}")
    value_columns = names[1:]
    expected = [r for r in HMS_SPECTROGRAM_REGIONS for _ in range(HMS_SPECTROGRAM_BINS)]
    found = [c.split("_", 1)[0] for c in value_columns]
    if found != expected:
        counts = {r: found.count(r) for r in HMS_SPECTROGRAM_REGIONS}
        raise TableError(path, f"spectrogram parquet must hold time then {HMS_SPECTROGRAM_BINS} columns "
                               f"per region in the order {'_, '.join(HMS_SPECTROGRAM_REGIONS)}_ "
                               f"({len(expected)} value columns); found {len(value_columns)} value "
                               f"columns, per region {counts}")
    try:
        frequencies = np.array([float(c.split("_", 1)[1]) for c in value_columns[:HMS_SPECTROGRAM_BINS]])
    except (IndexError, ValueError):
        raise TableError(path, "spectrogram column names must look like 'LL_0.59' (region_frequency)") from None
    values = _parquet_columns(path, table, ["time"] + value_columns)
    return Spectrogram(time=np.ascontiguousarray(values[:, 0]), values=np.ascontiguousarray(values[:, 1:]),
                       columns=tuple(value_columns), frequencies=frequencies, path=str(path))
