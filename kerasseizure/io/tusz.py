"""The TUH EEG Seizure Corpus (TUSZ) on disk: index, read recordings, cut benchmark seizures.

`TUSZCorpus(root)` indexes a v1.x (v1.4.0, v1.5.2: .tse/.lbl beside each EDF, optional seizure
spreadsheet in _DOCS) or v2.0.x (.csv/.csv_bi beside each EDF) tree from the file names, the EDF
headers and the annotation files, without reading any signal. `read` returns a montage at a
chosen rate; `seizure_segments` follows IBM's seizure-type-classification-tuh protocol (the one
SeizureNet used). Layouts and the protocol are described in docs/tusz.md.
"""

import logging
import os
import warnings
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.signal import resample

from kerasseizure.errors import AnnotationError, CorpusError, EDFError
from kerasseizure.io.channels import montage_pairs, pair_names
from kerasseizure.io.edf import TIME_TOLERANCE_S, read_electrodes, read_header
from kerasseizure.io.labels import SEIZURE_TYPES, TUSZ_LABELS
from kerasseizure.io.tusz_annotations import (
    BACKGROUND,
    merge_channel_seizures,
    read_lbl,
    read_tse,
    read_tse_bi,
    read_tusz_csv,
)
from kerasseizure.io.tusz_spreadsheet import read_seizure_spreadsheet, spreadsheet_edf_path
from kerasseizure.io.tusz_layout import MONTAGE_DIRS, SPLITS, _detect_version, _find_edfs, classify_edf_path

logger = logging.getLogger(__name__)

# IBM's benchmark pools train and dev (dev_test in v1.4.0); eval is never used.
BENCHMARK_SPLITS = ("train", "dev", "dev_test")

RECORDING_COLUMNS = [
    "patient_id", "session", "date", "token", "edf_path", "split", "montage_kind", "version",
    "duration", "fs", "n_electrodes", "annotation_path", "binary_annotation_path", "lbl_path",
    "n_seizures",
]
SEIZURE_COLUMNS = [
    "patient_id", "session", "token", "edf_path", "start", "stop", "label", "split",
    "montage_kind", "version", "source", "annotation_path",
]
MISSING_COLUMNS = ["sheet", "file", "edf_path", "n_seizures"]
MISMATCH_COLUMNS = ["path", "kind", "problem"]


@dataclass(frozen=True)
class Recording:
    """Signals of one TUSZ recording (or a time range of it) in one montage at one rate.

    Args:
        signals: float32 [channels, time] in microvolts.
        fs: sampling rate in Hz.
        channel_names: 'FP1-F7'... for a bipolar montage, electrode names for montage=None.
        patient_id: the patient.
        events: seizures of this file from the corpus table (start, stop, label), in seconds
            from the start of the recording (not of the range read).
        path: the EDF file.
        start: start of the range read, seconds.
        stop: end of the range read, seconds.
        montage: montage name or None (referential electrodes).
        flat_electrodes: electrodes whose samples are constant over the range read (a
            disconnected electrode); the montage channels built from them carry no EEG.
    """

    signals: np.ndarray
    fs: float
    channel_names: list
    patient_id: str
    events: pd.DataFrame
    path: str
    start: float
    stop: float
    montage: object
    flat_electrodes: tuple = ()


class _Problems:
    """Collects bad files when skipping them, raises the first one otherwise."""

    def __init__(self, skip_bad):
        self.skip_bad = skip_bad
        self.rows = []

    def report(self, error, path=None):
        """Raise `error`, or record it; `path` names the file for errors that carry no path."""
        if not self.skip_bad:
            raise error
        path = os.fspath(getattr(error, "path", path))
        problem = getattr(error, "problem", None) or str(error).removeprefix(f"{path}: ")
        self.rows.append({"path": path, "problem": problem, "error": type(error).__name__})

    def frame(self):
        return pd.DataFrame(self.rows, columns=["path", "problem", "error"])


def _scalp_rate(path, header):
    """The one sampling rate of the scalp electrodes; TUSZ records every EEG electrode at one rate,
    so differing rates mean a damaged header (samples per record changed)."""
    rates = {name: channel.fs for name, channel in header.electrodes().items()}
    if len(set(rates.values())) > 1:
        by_rate = {}
        for name, fs in rates.items():
            by_rate.setdefault(fs, []).append(name)
        listing = "; ".join(f"{fs:g} Hz: {', '.join(names)}" for fs, names in sorted(by_rate.items()))
        raise EDFError(path, f"scalp electrodes at different sampling rates ({listing}); every EEG "
                             "electrode of a TUSZ recording shares one rate (damaged header?)")
    return next(iter(rates.values())) if rates else float("nan")


def _resample_to(signals, fs, start, stop):
    """Each electrode resampled (FFT) to floor((stop - start) * fs) samples; [electrodes, n] float64."""
    n_out = int(np.floor((stop - start) * fs))
    if n_out < 1:
        raise EDFError(signals.path, f"range [{start:g}, {stop:g}) s is shorter than one sample at {fs:g} Hz")
    out = np.empty((len(signals.signals), n_out), dtype=np.float64)
    by_rate = {}
    for index, rate in enumerate(signals.rates):
        by_rate.setdefault(rate, []).append(index)
    # Electrodes sharing a rate share one batched FFT; the result equals per-electrode resampling.
    for indices in by_rate.values():
        block = np.stack([signals.signals[i] for i in indices])
        out[indices] = block if block.shape[1] == n_out else resample(block, n_out, axis=1)
    return out


def _event_list(rows):
    return sorted((round(row["start"], 3), round(row["stop"], 3), row["label"]) for row in rows)


def _bipolar(referential, electrodes, pairs):
    position = {name: i for i, name in enumerate(electrodes)}
    return np.stack([referential[position[a]] - referential[position[b]] for a, b in pairs])


class TUSZCorpus:
    """Index of a TUSZ tree (v1.4.0, v1.5.x, v2.0.x), built without reading signals.

    Args:
        root: the corpus root, the folder holding `edf/` (and `_DOCS/` for v1.x).
        skip_bad: skip unreadable or inconsistent files and list them in `.skipped` (with a
            warning) instead of raising on the first one.

    Attributes:
        version: '1.4.0', '1.5.2', '1.5.x', '2.0.N' or '2.0.x' (x: not stated by the files).
        layout: 'v1' or 'v2'.
        recordings: one row per EDF (see RECORDING_COLUMNS).
        seizures: one row per seizure (see SEIZURE_COLUMNS); from the spreadsheet when a v1.x
            tree has one, else from .tse (v1.x) or merged per-channel .csv rows (v2.0.x).
        skipped: DataFrame path, problem, error of what skip_bad skipped (empty otherwise).
        missing: DataFrame sheet, file, edf_path, n_seizures of the recordings the spreadsheet
            lists but this copy lacks (a partial download). Without skip_bad they are an error.
        mismatches: DataFrame path, kind, problem of annotation disagreements that do not stop
            the index: a v1.x recording whose .tse seizures differ from the spreadsheet's
            ("sheet_tse_mismatch"; the spreadsheet is used, as in IBM's protocol), or that the
            spreadsheet does not list ("unlisted_recording").
        spreadsheet: path of the seizure spreadsheet used, or None.
    """

    def __init__(self, root, skip_bad=False):
        self.root = os.path.abspath(os.fspath(root))
        self.skip_bad = skip_bad
        problems = _Problems(skip_bad)
        self._headers = {}  # EDF headers read while indexing, reused by every read
        edf_root, edf_paths = _find_edfs(self.root)
        self.layout, entries = self._classify(edf_root, edf_paths, problems)
        splits = {entry["split"] for entry in entries}
        self.version, self.spreadsheet = _detect_version(self.root, self.layout, splits)
        self.recordings, self.seizures, self.missing, self.mismatches = self._index(entries, problems)
        self.skipped = problems.frame()
        # Plain dicts: seizure_segments looks a recording up per seizure, pandas .iloc costs ~1 ms.
        self._by_path = {row["edf_path"]: row for row in self.recordings.to_dict("records")}
        self._events_by_path = {path: group[["start", "stop", "label"]].reset_index(drop=True)
                                for path, group in self.seizures.groupby("edf_path", sort=False)}
        if len(self.skipped):
            warnings.warn(f"TUSZCorpus({self.root}): skipped {len(self.skipped)} bad file(s) or "
                          "spreadsheet row(s); see the .skipped table for each path and problem",
                          stacklevel=2)
        if len(self.missing):
            warnings.warn(f"TUSZCorpus({self.root}): {len(self.missing)} recording(s) listed in "
                          f"{self.spreadsheet} are missing ({int(self.missing['n_seizures'].sum())} seizures); "
                          "going on with those present (see .missing)", stacklevel=2)

    # ---- indexing -------------------------------------------------------------------------

    def _classify(self, edf_root, edf_paths, problems):
        layouts, entries = Counter(), []
        for path in edf_paths:
            layout, fields, problem = classify_edf_path(edf_root, path)
            if problem is not None:
                problems.report(CorpusError(f"{path}: {problem}"), path)
                continue
            layouts[layout] += 1
            entries.append(dict(fields, edf_path=path, layout=layout))
        if not layouts:
            raise CorpusError(f"{self.root}: no recognised TUSZ layout among {len(edf_paths)} .edf files "
                              f"(first: {edf_paths[0]})")
        if len(layouts) > 1:
            raise CorpusError(f"{self.root}: mixes v1.x ({layouts['v1']} files) and v2.0.x "
                              f"({layouts['v2']} files) layouts below edf/")
        return next(iter(layouts)), entries

    def _annotation_paths(self, edf_path):
        base = edf_path[:-4]
        if self.layout == "v1":
            return base + ".tse", base + ".tse_bi", base + ".lbl"
        return base + ".csv", base + ".csv_bi", None

    def _index(self, entries, problems):
        recordings, file_seizures = [], {}
        for entry in entries:
            row = self._recording_row(entry, problems)
            if row is None:
                continue
            # Read even beside a spreadsheet: a damaged .tse must not pass unseen.
            found = self._file_seizures(row, problems)
            if found is None:
                continue
            recordings.append(row)
            file_seizures[row["edf_path"]] = found
        recordings = pd.DataFrame(recordings, columns=RECORDING_COLUMNS[:-1])
        if self.spreadsheet is None:
            seizures = [row for rows in file_seizures.values() for row in rows]
            missing, mismatches = [], []
        else:
            seizures, missing, mismatches = self._spreadsheet_seizures(recordings, file_seizures, problems)
        seizures = pd.DataFrame(seizures, columns=SEIZURE_COLUMNS)
        counts = seizures.groupby("edf_path").size()
        recordings["n_seizures"] = recordings["edf_path"].map(counts).fillna(0).astype(int)
        return (recordings, seizures, pd.DataFrame(missing, columns=MISSING_COLUMNS),
                pd.DataFrame(mismatches, columns=MISMATCH_COLUMNS))

    def _recording_row(self, entry, problems):
        try:
            header = read_header(entry["edf_path"])
            fs = _scalp_rate(entry["edf_path"], header)
            self._headers[entry["edf_path"]] = header
            n_electrodes = len(header.electrodes())
        except EDFError as error:
            problems.report(error)
            return None
        annotation, binary, lbl = self._annotation_paths(entry["edf_path"])
        return {
            "patient_id": entry["patient_id"], "session": entry["session"], "date": entry["date"],
            "token": entry["token"], "edf_path": entry["edf_path"], "split": entry["split"],
            "montage_kind": entry["montage_kind"], "version": self.version,
            "duration": header.duration, "fs": fs, "n_electrodes": n_electrodes,
            "annotation_path": annotation, "binary_annotation_path": binary, "lbl_path": lbl,
        }

    def _file_seizures(self, recording, problems):
        """Seizure rows of one recording from its .tse (v1) or .csv (v2); None if the file is bad."""
        path = recording["annotation_path"]
        try:
            if self.layout == "v1":
                events = read_tse(path, duration=recording["duration"])
                events = events[events["label"] != BACKGROUND]
                source = "tse"
            else:
                events = merge_channel_seizures(read_tusz_csv(path, duration=recording["duration"]).events)
                source = "csv"
        except AnnotationError as error:
            problems.report(error)
            return None
        return [self._seizure_row(recording, start, stop, label, source, path)
                for start, stop, label in zip(events["start"], events["stop"], events["label"])]

    def _seizure_row(self, recording, start, stop, label, source, annotation_path):
        return {
            "patient_id": recording["patient_id"], "session": recording["session"],
            "token": recording["token"], "edf_path": recording["edf_path"], "start": float(start),
            "stop": float(stop), "label": label, "split": recording["split"],
            "montage_kind": recording["montage_kind"], "version": self.version, "source": source,
            "annotation_path": annotation_path,
        }

    def _spreadsheet_seizures(self, recordings, file_seizures, problems):
        """(seizure rows, missing rows, mismatch rows) with the spreadsheet as the seizure list.

        The sheet lists every recording of its splits (train and dev / dev_test), so a recording
        it lists that is not on disk is missing from this copy; recordings of the other splits
        (eval) keep their .tse seizures.
        """
        sheet = read_seizure_spreadsheet(self.spreadsheet)
        by_path = {os.path.normpath(path): row for path, row in
                   zip(recordings["edf_path"], recordings.to_dict("records"))}
        # A recording skipped for its EDF or its annotation file (same stem) is not missing.
        skipped = {os.path.normpath(os.path.splitext(row["path"])[0] + ".edf") for row in problems.rows}
        edf_of = {name: os.path.normpath(spreadsheet_edf_path(self.root, name)) for name in sheet.recordings["file"]}
        missing = [{"sheet": row["sheet"], "file": row["file"], "edf_path": edf_of[row["file"]],
                    "n_seizures": row["n_seizures"]} for row in sheet.recordings.to_dict("records")
                   if edf_of[row["file"]] not in by_path and edf_of[row["file"]] not in skipped]
        if missing and not self.skip_bad:
            raise CorpusError(f"{self.spreadsheet}: {len(missing)} of the {len(sheet.recordings)} recordings it "
                              f"lists are not in {self.root} (first: {missing[0]['edf_path']}); a partial copy? "
                              "Pass skip_bad=True (--skip-bad) to go on with the recordings present")
        rows = []
        for entry in sheet.seizures.to_dict("records"):
            recording = by_path.get(edf_of[entry["file"]])
            if recording is None:
                continue  # missing or skipped: counted above or in .skipped
            if entry["stop"] > recording["duration"] + TIME_TOLERANCE_S:
                problems.report(AnnotationError(
                    self.spreadsheet, f"sheet {entry['sheet']!r} row {entry['excel_row']}: seizure "
                                      f"{entry['start']:g}-{entry['stop']:g} s ends after the end of "
                                      f"{recording['edf_path']} ({recording['duration']:g} s)"))
                continue
            rows.append(self._seizure_row(recording, entry["start"], entry["stop"], entry["label"],
                                          "spreadsheet", self.spreadsheet))
        sheet_splits = {name.strip().lower() for name in sheet.recordings["sheet"]}
        listed = set(edf_of.values())
        from_sheet = {}
        for row in rows:
            from_sheet.setdefault(os.path.normpath(row["edf_path"]), []).append(row)
        mismatches = []
        for path, found in file_seizures.items():
            key = os.path.normpath(path)
            if by_path[key]["split"] not in sheet_splits:
                rows.extend(found)  # eval: the sheet does not cover it
            elif key not in listed:
                mismatches.append({"path": path, "kind": "unlisted_recording",
                                   "problem": f"not listed in the spreadsheet; its {len(found)} .tse seizure(s) "
                                              "are not used"})
            elif _event_list(found) != _event_list(from_sheet.get(key, [])):
                mismatches.append({"path": by_path[key]["annotation_path"], "kind": "sheet_tse_mismatch",
                                   "problem": f"{len(found)} seizure(s) in the .tse, {len(from_sheet.get(key, []))} "
                                              "in the spreadsheet, or other times or types (the spreadsheet is used)"})
        return rows, missing, mismatches

    # ---- reading --------------------------------------------------------------------------

    def _recording(self, edf_path_or_row):
        path = edf_path_or_row["edf_path"] if isinstance(edf_path_or_row, (pd.Series, dict)) \
            else edf_path_or_row
        path = os.path.abspath(os.fspath(path))
        if path not in self._by_path:
            raise ValueError(f"{path} is not a recording of the corpus at {self.root} "
                             "(bad files skipped at indexing are listed in .skipped)")
        return self._by_path[path]

    def header(self, edf_path_or_row):
        """The EDF header of a recording, as parsed while indexing (no file is read).

        Args:
            edf_path_or_row: EDF path or a row of `.recordings` / `.seizures`.
        """
        return self._headers[self._recording(edf_path_or_row)["edf_path"]]

    def _montage_electrodes(self, recording, montage):
        """(electrodes to read, bipolar pairs or None) for a montage name or None (referential)."""
        if montage is None:
            return None, None
        pairs = montage_pairs(montage)
        electrodes = list(dict.fromkeys(name for pair in pairs for name in pair))
        if recording["montage_kind"] == "tcp_ar_a" and {"A1", "A2"} & set(electrodes):
            raise EDFError(recording["edf_path"], f"montage {montage!r} needs A1 and A2, which "
                                                  "03_tcp_ar_a recordings lack; use montage='tcp20'")
        return electrodes, pairs

    def _read_montage(self, recording, montage, fs, start, stop):
        """(float64 [channels, n], channel names, rate, ElectrodeSignals) of a recording's range."""
        electrodes, pairs = self._montage_electrodes(recording, montage)
        path = recording["edf_path"]
        signals = read_electrodes(path, electrodes, start, stop, header=self._headers[path], dtype=np.float64)
        if fs is None:
            referential, rate = signals.stack(), signals.rates[0]
        else:
            referential, rate = _resample_to(signals, fs, signals.start, signals.stop), float(fs)
        if pairs is None:
            return referential, list(signals.electrodes), rate, signals
        return _bipolar(referential, signals.electrodes, pairs), pair_names(pairs), rate, signals

    def read(self, edf_path_or_row, montage="tcp20", fs=250, start=None, stop=None):
        """Read one recording (or [start, stop) seconds of it) in a montage at a sampling rate.

        Only the samples of the range are read from disk. Each electrode is cut at
        [floor(start * fs_file), floor(stop * fs_file)) and FFT-resampled (scipy.signal.resample)
        to floor((stop - start) * fs) samples before the bipolar differences, as IBM's pipeline does.

        Args:
            edf_path_or_row: EDF path, or a row of `.recordings` / `.seizures` (only its edf_path
                is used; pass start/stop explicitly to read a seizure).
            montage: 'tcp20', 'tcp22', or None for the referential scalp electrodes.
            fs: output rate in Hz, or None to keep the file's rate (electrodes must share it).
            start: seconds from the start of the recording (None = 0).
            stop: seconds (None = end of the recording).

        Returns:
            Recording with float32 signals [channels, time].
        """
        recording = self._recording(edf_path_or_row)
        data, names, rate, signals = self._read_montage(recording, montage, fs, start, stop)
        path = recording["edf_path"]
        events = self._events_by_path.get(path)
        events = pd.DataFrame(columns=["start", "stop", "label"]) if events is None else events.copy()
        # On the file's own samples: resampling a constant signal leaves ripples at its edges.
        flat = tuple(name for name, x in zip(signals.electrodes, signals.signals) if x.size and np.ptp(x) == 0)
        return Recording(signals=data.astype(np.float32), fs=rate, channel_names=names,
                         patient_id=recording["patient_id"], events=events, path=path,
                         start=signals.start, stop=signals.stop, montage=montage, flat_electrodes=flat)

    def channel_events(self, edf_path_or_row):
        """Per-channel events of a recording: its .lbl (v1.x) or .csv (v2.0.x), bckg included.

        Args:
            edf_path_or_row: EDF path or a row of `.recordings` / `.seizures`.
        """
        recording = self._recording(edf_path_or_row)
        if self.layout == "v1":
            return read_lbl(recording["lbl_path"], duration=recording["duration"]).events
        return read_tusz_csv(recording["annotation_path"], duration=recording["duration"]).events

    def binary_events(self, edf_path_or_row):
        """Term-level seiz/bckg events of a recording from its .tse_bi (v1.x) or .csv_bi (v2.0.x).

        Args:
            edf_path_or_row: EDF path or a row of `.recordings` / `.seizures`.
        """
        recording = self._recording(edf_path_or_row)
        path, duration = recording["binary_annotation_path"], recording["duration"]
        if self.layout == "v1":
            return read_tse_bi(path, duration=duration)
        return read_tusz_csv(path, duration=duration, binary=True).events.drop(columns="channel")

    # ---- the IBM / SeizureNet benchmark ---------------------------------------------------

    def benchmark_seizures(self, types=SEIZURE_TYPES, splits=BENCHMARK_SPLITS):
        """The seizures the benchmark uses and the count of those it leaves out, by label.

        Args:
            types: seizure labels to keep (lower case; MYSZ is not among the defaults).
            splits: splits pooled (train + dev by default; eval is never used).

        Returns:
            (DataFrame of kept seizure rows, {label: count excluded} within those splits).
        """
        types = tuple(label.lower() for label in types)
        unknown = [label for label in types if label not in TUSZ_LABELS]
        if unknown:
            raise ValueError(f"unknown seizure types {unknown}; expected labels of {TUSZ_LABELS}")
        pooled = self.seizures[self.seizures["split"].isin(splits)]
        keep = pooled["label"].isin(types)
        excluded = dict(Counter(pooled.loc[~keep, "label"]))
        return pooled[keep].reset_index(drop=True), excluded

    def seizure_segments(self, fs=250, montage="tcp20", types=SEIZURE_TYPES, splits=BENCHMARK_SPLITS):
        """Yield (seizure row, float32 [channels, n]) for every benchmark seizure, IBM's protocol.

        Per seizure: electrodes cut at [floor(start * fs_file), floor(stop * fs_file)) (only that
        range is read), each resampled with scipy.signal.resample to floor((stop - start) * fs)
        samples, then the bipolar differences. Seizures of other types are skipped and counted
        (logged at INFO; `benchmark_seizures` returns the counts).

        Args:
            fs: output rate in Hz (250 in the benchmark).
            montage: 'tcp20' (the benchmark's 20 channels) or 'tcp22'.
            types: seizure labels kept.
            splits: splits pooled.
        """
        selected, excluded = self.benchmark_seizures(types, splits)
        if excluded:
            logger.info("seizure_segments: skipping %d seizures of other types: %s",
                        sum(excluded.values()), excluded)
        for _, row in selected.iterrows():
            data, _, _, _ = self._read_montage(self._recording(row["edf_path"]), montage, fs,
                                               row["start"], row["stop"])
            yield row, data.astype(np.float32)

    # ---- statistics -----------------------------------------------------------------------

    def describe(self):
        """Corpus statistics per split, like the TUSZ README tables.

        Returns:
            DataFrame indexed by (split, label) with columns files, sessions, patients, seizures,
            seconds. Label '(all)' rows count every recording (seconds = recorded time, seizures =
            all seizures); the other rows count, per seizure type, the files, sessions and patients
            with that type, its seizures and its seconds of seizure. A 'total' split pools all.
        """
        rows = []
        splits = [split for split in SPLITS if split in set(self.recordings["split"])] + ["total"]
        for split in splits:
            recordings = self.recordings if split == "total" else \
                self.recordings[self.recordings["split"] == split]
            seizures = self.seizures if split == "total" else self.seizures[self.seizures["split"] == split]
            rows.append(self._stats_row(split, "(all)", recordings, seizures, recordings["duration"].sum()))
            for label in sorted(seizures["label"].unique()):
                of_type = seizures[seizures["label"] == label]
                rows.append(self._stats_row(split, label, of_type, of_type,
                                            (of_type["stop"] - of_type["start"]).sum()))
        return pd.DataFrame(rows).set_index(["split", "label"])

    @staticmethod
    def _stats_row(split, label, files, seizures, seconds):
        return {
            "split": split, "label": label,
            "files": files["edf_path"].nunique(),
            "sessions": len(files[["patient_id", "session"]].drop_duplicates()),
            "patients": files["patient_id"].nunique(),
            "seizures": len(seizures),
            "seconds": float(seconds),
        }

    def __repr__(self):
        return (f"TUSZCorpus({self.root!r}, version={self.version!r}, recordings={len(self.recordings)}, "
                f"seizures={len(self.seizures)}, skipped={len(self.skipped)}, missing={len(self.missing)})")


__all__ = ["TUSZCorpus", "Recording", "BENCHMARK_SPLITS", "MONTAGE_DIRS", "SPLITS", "classify_edf_path"]
