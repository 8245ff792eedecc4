"""Audit of a TUSZ or HMS copy before a long run: what is there, what is missing, what is damaged.

`audit(root)` recognises the corpus (a TUSZ release holding `edf/`, or the HMS competition folder
holding `train.csv`) and returns a `CorpusAudit`: release and layout, counts beside the published
ones, and one finding per damaged or missing file (path, kind, severity, detail). Findings come
from the readers themselves (`TUSZCorpus(skip_bad=True)`, `HMSDataset`), plus the checks those
readers do not make while indexing: binary annotation files, TCP20 electrode coverage, parquet
lengths against the label windows, and, with `signals=True`, flat electrodes (TUSZ) and NaN runs
(HMS), which need every signal read.

A finding of severity "problem" makes the copy unusable as it is (`CorpusAudit.usable` is False);
a "warning" is worth knowing but the pipelines cope with it. Counts that differ from the
published ones are information: a synthetic, partial or newer copy simply differs.
No TensorFlow here (docs/cli.md, section "check").
"""

import os
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kerasseizure.errors import CorpusError, EDFError, KerasSeizureError, TableError
from kerasseizure.io.channels import HMS_EEG_COLUMNS, TCP20
from kerasseizure.io.hms import (
    HMS_EEG_FS, HMS_EEG_WINDOW_SECONDS, HMS_SPECTROGRAM_ROW_SECONDS, HMS_SPECTROGRAM_WINDOW_ROWS, HMSDataset,
    read_eeg_parquet,
)
from kerasseizure.io.hms_files import _open_parquet
from kerasseizure.io.labels import HMS_CLASSES, SEIZURE_TYPES, TUSZ_COUNTS
from kerasseizure.io.missing import eeg_nan_statistics
from kerasseizure.io.tusz import TUSZCorpus


def _per_type(counts):
    return {f"{label} {what}": value for label, pair in counts.items()
            for what, value in zip(("seizures", "patients"), pair)}


# The published counts every audit compares against, one entry per release. The per-type
# (seizures, patients) pairs of the IBM benchmark live in `labels.TUSZ_COUNTS`, which the
# synthetic planner also uses; they are not repeated here.
PUBLISHED_COUNTS = {
    "TUSZ 1.5.2": {
        "source": "IBM seizure-type-classification-tuh / SeizureNet counts (train + dev, MYSZ excluded); "
                  "recordings listed by _DOCS/seizures_v36r.xlsx (DESIGN.md section 4)",
        "counts": {"recordings train": 4599, "recordings dev": 1013, **_per_type(TUSZ_COUNTS["1.5.2"]),
                   "benchmark seizures": 3047, "benchmark patients": 237, "mysz seizures (excluded)": 3},
    },
    "TUSZ 1.4.0": {
        "source": "IBM seizure-type-classification-tuh / SeizureNet counts (train + dev_test) "
                  "(DESIGN.md section 4)",
        "counts": {**_per_type(TUSZ_COUNTS["1.4.0"]), "benchmark seizures": 2009, "benchmark patients": 167},
    },
    "TUSZ 2.0.3": {
        "source": "TUSZ v2.0.3 release description (NEDC): 7,361 EDF files, 675 patients, "
                  "3,971 seizure events in the .csv_bi files (DESIGN.md section 4)",
        "counts": {"EDF files": 7361, "patients": 675, "csv_bi seizure events": 3971},
    },
    "HMS": {
        "source": "Kaggle 'HMS - Harmful Brain Activity Classification' train.csv (DESIGN.md section 6)",
        "counts": {"train.csv rows": 106_800, "eeg_ids": 17_089, "spectrogram_ids": 11_138, "patients": 1_950},
    },
}

FINDING_COLUMNS = ["path", "kind", "severity", "detail"]
COMPARISON_COLUMNS = ["item", "found", "published", "matches"]
SEVERITIES = ("problem", "warning")

# Electrodes the 20-channel TCP montage (IBM / SeizureNet) subtracts.
TCP20_ELECTRODES = tuple(sorted({name for pair in TCP20 for name in pair}))

# How the readers' own errors map to finding kinds: (error class name, words of its message, kind),
# first match wins; an error matching no phrase gets its class's default kind below.
_MESSAGE_KINDS = (
    ("EDFError", "different sampling rates", "mixed_rates"),
    ("AnnotationError", "after the end of", "label_past_end"),
    ("AnnotationError", "unknown label", "unknown_label"),
    ("AnnotationError", "unknown seizure type", "unknown_label"),
    ("AnnotationError", "overlap", "overlapping_events"),
    ("AnnotationError", "annotation file not found", "missing_annotation"),
)
_ERROR_KINDS = {"EDFError": "unreadable_edf", "AnnotationError": "bad_annotation", "CorpusError": "bad_layout",
                "TableError": "unreadable_parquet"}


@dataclass
class CorpusAudit:
    """What `audit` found in one corpus copy.

    Attributes:
        root: the corpus folder.
        corpus: "TUSZ" or "HMS".
        release: "1.4.0", "1.5.2", "1.5.x", "2.0.3", "2.0.x"... (TUSZ) or "Kaggle 2024" (HMS).
        layout: "v1" or "v2" (TUSZ), "competition" (HMS).
        seizure_list: where the seizures come from (the spreadsheet path, ".tse", ".csv"), or
            train.csv (HMS).
        summary: counts of the copy (recordings per split, rates, electrode sets...), JSON-ready.
        comparison: DataFrame item, found, published, matches; empty when nothing was published
            for this release.
        published_source: where the published counts come from, or None.
        findings: DataFrame path, kind, severity ("problem" or "warning"), detail.
        signals_read: whether the signals were scanned (flat electrodes, NaN runs).
    """

    root: str
    corpus: str
    release: str
    layout: str
    seizure_list: str
    summary: dict
    comparison: pd.DataFrame
    published_source: object
    findings: pd.DataFrame
    signals_read: bool = False

    @property
    def problems(self):
        """The findings that make the copy unusable as it is."""
        return self.findings[self.findings["severity"] == "problem"]

    @property
    def warnings(self):
        return self.findings[self.findings["severity"] == "warning"]

    @property
    def usable(self):
        return len(self.problems) == 0

    def published_status(self):
        """'matches the published counts', 'differs from the published counts (k of n items)', or
        'no published counts', naming the release compared with when the copy's own is not exact."""
        key = published_release(self.corpus, self.release)
        if not len(self.comparison):
            return f"no published counts for {self.corpus} {self.release}"
        of = "" if key in (f"TUSZ {self.release}", "HMS") else f" of TUSZ v{key.split()[1]}"
        differ = int((~self.comparison["matches"]).sum())
        if differ == 0:
            return f"matches the published counts{of}"
        return f"differs from the published counts{of} ({differ} of {len(self.comparison)} items)"

    def summary_line(self):
        """One line: corpus, size, problems and warnings, published counts."""
        name = f"TUSZ v{self.release} ({self.layout} layout)" if self.corpus == "TUSZ" else f"HMS ({self.release})"
        counts = self.summary["headline"]
        return (f"audit: {name} at {self.root}: {counts}; {len(self.problems)} problem(s), "
                f"{len(self.warnings)} warning(s); {self.published_status()}")

    def to_dict(self):
        """The whole audit as JSON-ready data."""
        return {
            "root": self.root, "corpus": self.corpus, "release": self.release, "layout": self.layout,
            "seizure_list": self.seizure_list, "signals_read": self.signals_read, "usable": self.usable,
            "summary_line": self.summary_line(), "summary": self.summary,
            "published": {"source": self.published_source, "status": self.published_status(),
                          "items": _records(self.comparison)},
            "findings": _records(self.findings),
            "findings_per_kind": _kind_counts(self.findings),
        }


def _records(frame):
    return [{key: _plain(value) for key, value in row.items()} for row in frame.to_dict("records")]


def _plain(value):
    """NumPy scalars and NaN as JSON values."""
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else float(value)
    return value


def _kind_counts(findings):
    return {f"{severity} {kind}": int(n) for (severity, kind), n in
            findings.groupby(["severity", "kind"]).size().items()}


def _finding(path, kind, severity, detail):
    return {"path": os.fspath(path), "kind": kind, "severity": severity, "detail": detail}


def error_kind(error_name, problem):
    """The finding kind of a reader error, from its class name and message."""
    text = problem.lower()
    for name, phrase, kind in _MESSAGE_KINDS:
        if name == error_name and phrase in text:
            return kind
    return _ERROR_KINDS.get(error_name, "unreadable")


def published_release(corpus, release):
    """The key of PUBLISHED_COUNTS a copy is compared with, or None.

    A TUSZ copy that does not state its minor version ('1.5.x', '2.0.x') is compared with the
    release of its series that was counted (1.5.2, 2.0.3); so is another 1.5 or 2.0 release.
    """
    if corpus == "HMS":
        return "HMS"
    series = {"1.4": "1.4.0", "1.5": "1.5.2", "2.0": "2.0.3"}.get(release[:3])
    return None if series is None else f"TUSZ {series}"


def _published(key, found):
    """(comparison DataFrame, source or None) of the found counts against PUBLISHED_COUNTS[key]."""
    entry = PUBLISHED_COUNTS.get(key)
    if entry is None:
        return pd.DataFrame(columns=COMPARISON_COLUMNS), None
    rows = [{"item": item, "found": found.get(item), "published": value, "matches": found.get(item) == value}
            for item, value in entry["counts"].items()]
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS), entry["source"]


def _histogram(values, key=str):
    return {key(value): int(n) for value, n in sorted(Counter(values).items())}


# ---------------------------------------------------------------------------------- TUSZ


def audit_tusz(corpus, signals=False, progress=None):
    """Audit a TUSZ copy.

    Args:
        corpus: the release folder, or a `TUSZCorpus` already built (its findings are reused:
            nothing is indexed again).
        signals: also read every EDF's samples to find flat (constant) electrodes; slow on a
            full release (it reads every byte).
        progress: optional callable(done, total) told after each file of the signal scan.

    Returns:
        CorpusAudit.
    """
    if not isinstance(corpus, TUSZCorpus):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the audit lists what the index skipped itself
            corpus = TUSZCorpus(corpus, skip_bad=True)
    recordings = corpus.recordings
    findings = _tusz_index_findings(corpus)
    findings += _montage_findings(corpus)
    binary_seizures, binary_findings = _binary_annotation_findings(corpus)
    findings += binary_findings
    if signals:
        findings += _flat_electrode_findings(corpus, progress)
    kept, excluded = corpus.benchmark_seizures()
    found = {f"recordings {split}": int(n) for split, n in recordings["split"].value_counts().items()}
    found.update({"EDF files": len(recordings), "patients": int(recordings["patient_id"].nunique()),
                  "csv_bi seizure events": binary_seizures,
                  "benchmark seizures": len(kept), "benchmark patients": int(kept["patient_id"].nunique()),
                  "mysz seizures (excluded)": int(excluded.get("mysz", 0))})
    for label in SEIZURE_TYPES:
        of_type = kept[kept["label"] == label]
        found[f"{label} seizures"] = len(of_type)
        found[f"{label} patients"] = int(of_type["patient_id"].nunique())
    comparison, source = _published(published_release("TUSZ", corpus.version), found)
    seizure_list = corpus.spreadsheet or (".tse" if corpus.layout == "v1" else ".csv")
    summary = _tusz_summary(corpus, kept, binary_seizures)
    return CorpusAudit(root=corpus.root, corpus="TUSZ", release=corpus.version, layout=corpus.layout,
                       seizure_list=seizure_list, summary=summary, comparison=comparison,
                       published_source=source, findings=pd.DataFrame(findings, columns=FINDING_COLUMNS),
                       signals_read=signals)


def _tusz_summary(corpus, kept, binary_seizures):
    recordings = corpus.recordings
    splits = [split for split in ("train", "dev", "dev_test", "eval") if split in set(recordings["split"])]
    return {
        "headline": (f"{len(recordings):,} recordings, {len(corpus.seizures):,} seizures, "
                     f"{len(kept):,} benchmark seizures of {kept['patient_id'].nunique():,} patients"),
        "recordings_per_split": {split: int((recordings["split"] == split).sum()) for split in splits},
        "patients": int(recordings["patient_id"].nunique()),
        "sessions": int(len(recordings[["patient_id", "session"]].drop_duplicates())),
        "hours": round(float(recordings["duration"].sum()) / 3600, 2),
        "seizures_per_label": _histogram(corpus.seizures["label"]),
        "binary_seizure_events": binary_seizures,
        "files_per_sampling_rate": _histogram(recordings["fs"], key=lambda fs: f"{fs:g} Hz"),
        "files_per_eeg_electrode_count": _histogram(recordings["n_electrodes"], key=lambda n: f"{n} electrodes"),
        "montages": _histogram(recordings["montage_kind"]),
        "listed_but_missing": int(len(corpus.missing)),
        "skipped_files": int(len(corpus.skipped)),
    }


def _tusz_index_findings(corpus):
    """What the index itself reported: skipped files, recordings listed but absent, sheet/.tse disagreements."""
    findings = [_finding(row["path"], error_kind(row["error"], row["problem"]), "problem", row["problem"])
                for row in corpus.skipped.to_dict("records")]
    findings += [_finding(row["edf_path"], "missing_recording", "problem",
                          f"listed in sheet {row['sheet']!r} of {os.path.basename(corpus.spreadsheet)} as "
                          f"{row['file']} ({row['n_seizures']} seizure(s)) but not in this copy")
                 for row in corpus.missing.to_dict("records")]
    # The spreadsheet is the seizure list of IBM's protocol: a .tse that disagrees with it, or a
    # recording it does not list, does not stop a run.
    findings += [_finding(row["path"], row["kind"], "warning", row["problem"])
                 for row in corpus.mismatches.to_dict("records")]
    return findings


def _montage_findings(corpus):
    """Recordings lacking an electrode of the 20-channel TCP montage (their segments cannot be built)."""
    findings = []
    for path in corpus.recordings["edf_path"]:
        header = corpus.header(path)
        lacking = [name for name in TCP20_ELECTRODES if name not in header.electrodes()]
        if lacking:
            findings.append(_finding(path, "montage_incomplete", "problem",
                                     f"lacks {', '.join(lacking)}, needed by the 20-channel TCP montage "
                                     f"(has {', '.join(header.electrodes()) or 'no EEG electrode'})"))
    return findings


def _binary_annotation_findings(corpus):
    """(seizure events counted, findings) of the .tse_bi / .csv_bi files, which indexing does not read."""
    events, findings = 0, []
    for path in corpus.recordings["edf_path"]:
        try:
            binary = corpus.binary_events(path)
        except KerasSeizureError as error:
            problem = getattr(error, "problem", str(error))
            findings.append(_finding(getattr(error, "path", path), error_kind(type(error).__name__, problem),
                                     "problem", problem))
            continue
        events += int((binary["label"] == "seiz").sum())
    return events, findings


def _flat_electrode_findings(corpus, progress=None):
    """Electrodes whose samples are constant over the whole recording (disconnected): one warning per file."""
    findings = []
    paths = list(corpus.recordings["edf_path"])
    for done, path in enumerate(paths, start=1):
        try:
            recording = corpus.read(path, montage=None, fs=None)
        except EDFError as error:
            findings.append(_finding(error.path, error_kind("EDFError", error.problem), "problem", error.problem))
        else:
            flat = recording.flat_electrodes
            if flat:
                in_montage = [name for name in flat if name in TCP20_ELECTRODES]
                findings.append(_finding(path, "flat_channel", "warning",
                                         f"constant over the whole recording: {', '.join(flat)}"
                                         + (f" ({len(in_montage)} used by TCP20)" if in_montage else "")))
        if progress is not None:
            progress(done, len(paths))
    return findings


# ---------------------------------------------------------------------------------- HMS


def audit_hms(dataset, signals=False, progress=None):
    """Audit an HMS competition folder.

    Args:
        dataset: the folder holding train.csv, or an `HMSDataset` (its tables are reused).
        signals: also read every EEG parquet for NaN runs (`missing.eeg_nan_statistics`).
        progress: optional callable(done, total) told after each EEG of the NaN scan.

    Returns:
        CorpusAudit. A train.csv that fails validation raises `TableError` (the copy is unreadable).
    """
    if not isinstance(dataset, HMSDataset):
        dataset = HMSDataset(os.path.abspath(dataset))
    annotations, labels = dataset.annotations, dataset.labels
    has_test = dataset.test_csv.is_file()
    test = dataset.test_ids if has_test else None
    findings = _missing_parquet_findings(dataset, "train")
    lengths, length_findings = _eeg_length_findings(dataset, "train", labels)
    findings += length_findings
    spectrogram_rows, spectrogram_findings = _spectrogram_length_findings(dataset, "train", annotations)
    findings += spectrogram_findings
    if has_test:
        findings += _missing_parquet_findings(dataset, "test")
        findings += _eeg_length_findings(dataset, "test", test)[1]
        findings += _spectrogram_length_findings(dataset, "test", test)[1]
    nan_summary = {}
    if signals:
        nan_findings, nan_summary = _nan_findings(dataset, labels, test, progress)
        findings += nan_findings
    found = {"train.csv rows": len(annotations), "eeg_ids": len(labels),
             "spectrogram_ids": int(labels["spectrogram_id"].nunique()),
             "patients": int(labels["patient_id"].nunique())}
    comparison, source = _published("HMS", found)
    summary = _hms_summary(annotations, labels, test, lengths, spectrogram_rows, nan_summary)
    return CorpusAudit(root=os.path.abspath(dataset.root), corpus="HMS", release="Kaggle 2024", layout="competition",
                       seizure_list=str(dataset.train_csv), summary=summary, comparison=comparison,
                       published_source=source, findings=pd.DataFrame(findings, columns=FINDING_COLUMNS),
                       signals_read=signals)


def _hms_summary(annotations, labels, test, eeg_lengths, spectrogram_rows, nan_summary):
    seconds = np.array(list(eeg_lengths.values()), dtype=np.float64) / HMS_EEG_FS
    rows = np.array(list(spectrogram_rows.values()), dtype=np.float64)
    summary = {
        "headline": (f"{len(annotations):,} train.csv rows, {len(labels):,} eeg_ids of "
                     f"{labels['patient_id'].nunique():,} patients"),
        "train_csv_rows": len(annotations),
        "eeg_ids": len(labels),
        "patients": int(labels["patient_id"].nunique()),
        "spectrogram_ids": int(labels["spectrogram_id"].nunique()),
        "populations": _histogram(labels["population"]),
        "expert_consensus": {name: int((labels["expert_consensus"] == name).sum()) for name in HMS_CLASSES},
        "test_eeg_ids": 0 if test is None else len(test),
        "eeg_seconds": _range(seconds),
        "spectrogram_rows": _range(rows),
    }
    summary.update(nan_summary)
    return summary


def _range(values):
    if not len(values):
        return {}
    return {"min": float(values.min()), "median": float(np.median(values)), "max": float(values.max())}


def _missing_parquet_findings(dataset, split):
    """Ids of the split's csv whose parquet file is absent (a partial download)."""
    missing = dataset.missing_files(split)
    findings = [_finding(dataset.eeg_path(i, split), "missing_eeg", "problem",
                         f"eeg_id {i} of {split}.csv has no parquet file")
                for i in missing["eeg_id"]]
    findings += [_finding(dataset.spectrogram_path(i, split), "missing_spectrogram", "problem",
                          f"spectrogram_id {i} of {split}.csv has no parquet file")
                 for i in missing["spectrogram_id"]]
    return findings


def _parquet_rows(path, what, columns):
    """Rows of a parquet file from its footer (no data read), checking that `columns` are present."""
    handle = _open_parquet(path, what)
    absent = [name for name in columns if name not in handle.schema_arrow.names]
    if absent:
        raise TableError(path, f"{what} parquet lacks columns {absent}")
    return handle.metadata.num_rows


def _eeg_length_findings(dataset, split, table):
    """({eeg_id: samples}, findings): each present EEG must hold every 50 s window its rows label.

    Train: the window at the largest eeg_label_offset_seconds; test: the whole file is the window.
    """
    width = HMS_EEG_WINDOW_SECONDS * HMS_EEG_FS
    offsets = table["eeg_label_offset_seconds_max"] if "eeg_label_offset_seconds_max" in table else \
        pd.Series(0.0, index=table.index)
    lengths, findings = {}, []
    for eeg_id, offset in zip(table["eeg_id"], offsets):
        path = dataset.eeg_path(eeg_id, split)
        if not path.is_file():
            continue  # counted as missing
        try:
            n = _parquet_rows(path, "EEG", HMS_EEG_COLUMNS)
        except TableError as error:
            findings.append(_finding(path, "unreadable_parquet", "problem", error.problem))
            continue
        lengths[int(eeg_id)] = n
        needed = int(np.floor(offset * HMS_EEG_FS + 1e-9)) + width
        if n < needed:
            findings.append(_finding(path, "eeg_too_short", "problem",
                                     f"{n:,} samples ({n / HMS_EEG_FS:g} s); the 50 s window at offset "
                                     f"{offset:g} s needs {needed:,} ({needed / HMS_EEG_FS:g} s)"))
    return lengths, findings


def _spectrogram_length_findings(dataset, split, table):
    """({spectrogram_id: rows}, findings): each present spectrogram must hold its 10-minute windows."""
    offsets = table["spectrogram_label_offset_seconds"] if "spectrogram_label_offset_seconds" in table else \
        pd.Series(0.0, index=table.index)
    largest = offsets.groupby(table["spectrogram_id"]).max()
    rows, findings = {}, []
    for spectrogram_id, offset in largest.items():
        path = dataset.spectrogram_path(spectrogram_id, split)
        if not path.is_file():
            continue
        try:
            n = _parquet_rows(path, "spectrogram", ["time"])
        except TableError as error:
            findings.append(_finding(path, "unreadable_parquet", "problem", error.problem))
            continue
        rows[int(spectrogram_id)] = n
        needed = int(np.floor(offset / HMS_SPECTROGRAM_ROW_SECONDS + 1e-9)) + HMS_SPECTROGRAM_WINDOW_ROWS
        if n < needed:
            findings.append(_finding(path, "spectrogram_too_short", "problem",
                                     f"{n} rows; the 10-minute window at offset {offset:g} s needs {needed}"))
    return rows, findings


def _nan_findings(dataset, labels, test, progress=None):
    """(findings, summary) of the NaN runs of every present EEG parquet."""
    width = HMS_EEG_WINDOW_SECONDS * HMS_EEG_FS
    ids = [("train", int(i)) for i in labels["eeg_id"]]
    ids += [] if test is None else [("test", int(i)) for i in test["eeg_id"]]
    findings, with_nan, in_window, all_nan = [], 0, 0, 0
    for done, (split, eeg_id) in enumerate(ids, start=1):
        path = dataset.eeg_path(eeg_id, split)
        if path.is_file():
            try:
                stats = eeg_nan_statistics(read_eeg_parquet(path), width=width, eeg_id=eeg_id)
            except KerasSeizureError as error:
                findings.append(_finding(path, "unreadable_parquet", "problem", getattr(error, "problem", str(error))))
            else:
                if stats["nan_fraction"] > 0:
                    with_nan += 1
                    in_window += stats["middle_window_nan_fraction"] > 0
                    all_nan += stats["n_all_nan_channels"] > 0
                    findings.append(_finding(path, "nan_run", "warning", _nan_detail(stats)))
        if progress is not None:
            progress(done, len(ids))
    summary = {"eegs_with_nan": with_nan, "eegs_with_nan_in_middle_50s": int(in_window),
               "eegs_with_all_nan_channel": int(all_nan)}
    return findings, summary


def _nan_detail(stats):
    run = stats["longest_nan_run"]
    detail = (f"longest NaN run {run:,} samples ({run / HMS_EEG_FS:g} s) in {stats['longest_nan_run_channel']}; "
              f"{100 * stats['nan_fraction']:.1f}% NaN, {100 * stats['middle_window_nan_fraction']:.1f}% "
              "of the middle 50 s")
    if stats["all_nan_channels"]:
        detail += f"; entirely NaN: {stats['all_nan_channels']}"
    return detail


# ---------------------------------------------------------------------------------- entry points


def corpus_kind(root):
    """'HMS' for a folder holding train.csv, 'TUSZ' for one holding edf/; CorpusError otherwise."""
    root = Path(root)
    if not root.is_dir():
        raise CorpusError(f"{root}: no such folder")
    if (root / "train.csv").is_file():
        return "HMS"
    if (root / "edf").is_dir():
        return "TUSZ"
    raise CorpusError(f"{root}: no recognised layout: neither edf/ (a TUSZ release) nor train.csv "
                      "(the HMS competition folder) is there")


def audit(corpus, signals=False, progress=None):
    """Audit a TUSZ or HMS copy: a folder (its kind recognised), a `TUSZCorpus` or an `HMSDataset`.

    Raises the readers' errors (CorpusError, TableError, AnnotationError for an unreadable
    spreadsheet) when the copy cannot be read at all.
    """
    if isinstance(corpus, TUSZCorpus):
        return audit_tusz(corpus, signals, progress)
    if isinstance(corpus, HMSDataset):
        return audit_hms(corpus, signals, progress)
    if corpus_kind(corpus) == "HMS":
        return audit_hms(corpus, signals, progress)
    return audit_tusz(corpus, signals, progress)


__all__ = ["CorpusAudit", "PUBLISHED_COUNTS", "FINDING_COLUMNS", "TCP20_ELECTRODES", "audit", "audit_tusz",
           "audit_hms", "corpus_kind", "error_kind", "published_release"]
