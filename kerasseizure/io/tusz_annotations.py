"""Parsers for the TUSZ annotation formats: .tse/.tse_bi, .lbl/.lbl_bi, .csv/.csv_bi, seizure spreadsheets.

Each parser validates what it reads and raises `AnnotationError` naming the file, the line and the
problem; none of them reads a signal. Times are seconds from the start of the recording.
"""

import ast
import os
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kerasseizure.errors import AnnotationError
from kerasseizure.io.edf import TIME_TOLERANCE_S
from kerasseizure.io.labels import TUSZ_LABELS

TSE_VERSION = "version = tse_v1.0.0"
LBL_VERSION = "version = lbl_v1.0.0"
CSV_VERSION = "# version = csv_v1.0.0"
CSV_COLUMNS = ("channel", "start_time", "stop_time", "label", "confidence")
BINARY_LABELS = ("seiz", "bckg")
BACKGROUND = "bckg"

EVENT_COLUMNS = ["start", "stop", "label", "probability"]


def _read_lines(path):
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise AnnotationError(path, "annotation file not found")
    with open(path, encoding="utf-8", errors="replace") as handle:
        lines = handle.read().splitlines()
    if not any(line.strip() for line in lines):
        raise AnnotationError(path, "empty annotation file")
    return lines


def _parse_time(path, line_number, text, what):
    try:
        value = float(text)
    except ValueError:
        raise AnnotationError(path, f"line {line_number}: {what} {text!r} is not a number") from None
    if not np.isfinite(value) or value < 0:
        raise AnnotationError(path, f"line {line_number}: {what} {text!r} is not a time >= 0")
    return value


def _check_label(path, line_number, label, allowed):
    if label not in allowed:
        raise AnnotationError(path, f"line {line_number}: unknown label {label!r} "
                                    f"(expected one of {', '.join(allowed)})")


def _check_interval(path, line_number, start, stop):
    if stop <= start:
        raise AnnotationError(path, f"line {line_number}: event stops at {stop:g} s, "
                                    f"not after its start {start:g} s")


def check_within_duration(path, events, duration, edf_path=None):
    """Raise if any event ends after `duration` seconds (the EDF header's length).

    Args:
        path: the annotation file (named in the error).
        events: DataFrame with a `stop` column.
        duration: recording length in seconds; None skips the check.
        edf_path: the recording, named in the message when given.
    """
    if duration is None or len(events) == 0:
        return
    last = float(events["stop"].max())
    if last > duration + TIME_TOLERANCE_S:
        source = f" ({edf_path})" if edf_path else ""
        raise AnnotationError(path, f"annotation ends at {last:g} s, after the end of the recording"
                                    f"{source} at {duration:g} s")


def _check_tiling(path, events, line_numbers):
    """.tse events must cover the record from 0 without gaps or overlaps, in time order."""
    if abs(events[0][0]) > TIME_TOLERANCE_S:
        raise AnnotationError(path, f"line {line_numbers[0]}: first event starts at {events[0][0]:g} s, "
                                    "not 0 (a .tse file must tile the recording)")
    for i in range(1, len(events)):
        previous_stop, start = events[i - 1][1], events[i][0]
        if start < previous_stop - TIME_TOLERANCE_S:
            raise AnnotationError(path, f"line {line_numbers[i]}: event starting at {start:g} s overlaps "
                                        f"the previous event, which ends at {previous_stop:g} s")
        if start > previous_stop + TIME_TOLERANCE_S:
            raise AnnotationError(path, f"line {line_numbers[i]}: gap from {previous_stop:g} s to "
                                        f"{start:g} s (a .tse file must tile the recording)")


def read_tse(path, duration=None, labels=TUSZ_LABELS):
    """Read a .tse (or, with labels=BINARY_LABELS, a .tse_bi) file.

    Args:
        path: the file.
        duration: recording length in seconds from the EDF header; events past it are an error.
        labels: the labels allowed.

    Returns:
        DataFrame with columns start, stop, label, probability, in time order (bckg included).
    """
    path = os.fspath(path)
    lines = _read_lines(path)
    if lines[0].strip() != TSE_VERSION:
        raise AnnotationError(path, f"line 1 is {lines[0].strip()!r}, expected {TSE_VERSION!r}")
    events, line_numbers = [], []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 4:
            raise AnnotationError(path, f"line {number}: expected 'start stop label probability', "
                                        f"got {line.strip()!r}")
        start = _parse_time(path, number, fields[0], "start")
        stop = _parse_time(path, number, fields[1], "stop")
        _check_interval(path, number, start, stop)
        _check_label(path, number, fields[2], labels)
        probability = _parse_time(path, number, fields[3], "probability")
        events.append((start, stop, fields[2], probability))
        line_numbers.append(number)
    if not events:
        raise AnnotationError(path, "no events after the version line")
    _check_tiling(path, events, line_numbers)
    frame = pd.DataFrame(events, columns=EVENT_COLUMNS)
    check_within_duration(path, frame, duration)
    return frame


def read_tse_bi(path, duration=None):
    """Read a .tse_bi file (seiz / bckg only); see `read_tse`."""
    return read_tse(path, duration=duration, labels=BINARY_LABELS)


@dataclass(frozen=True)
class LabelFile:
    """Contents of a .lbl / .lbl_bi file.

    Args:
        path: the file.
        montage: {channel index: (channel name 'FP1-F7', anode label, cathode label)}.
        symbols: {level: {index: label}}.
        events: DataFrame channel_index, channel, level, sublevel, start, stop, label, probability.
    """

    path: str
    montage: dict
    symbols: dict
    events: pd.DataFrame


_LBL_MONTAGE = re.compile(r"^montage\s*=\s*(\d+)\s*,\s*([^:]+?)\s*:\s*(.+?)\s*--\s*(.+?)\s*$")
_LBL_SYMBOLS = re.compile(r"^symbols\[(\d+)\]\s*=\s*(\{.*\})\s*$")
_LBL_LABEL = re.compile(r"^label\s*=\s*\{(.*)\[(.*)\]\s*\}\s*$")
_LBL_KEY_VALUE = re.compile(r"^(number_of_levels|level\[\d+\])\s*=\s*\d+\s*$")


def _parse_lbl_symbols(path, number, text):
    try:
        table = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise AnnotationError(path, f"line {number}: symbol table {text[:60]!r} "
                                    "is not a dictionary") from None
    if not isinstance(table, dict) or not all(isinstance(k, int) and isinstance(v, str)
                                              for k, v in table.items()):
        raise AnnotationError(path, f"line {number}: symbol table must map integers to labels")
    return table


def _parse_lbl_label(path, number, head, vector, symbols, montage):
    fields = [field.strip() for field in head.split(",") if field.strip()]
    if len(fields) != 5:
        raise AnnotationError(path, f"line {number}: expected 'label = {{level, sublevel, start, stop, "
                                    "channel, [probabilities]}'")
    try:
        level, sublevel, channel_index = int(fields[0]), int(fields[1]), int(fields[4])
        probabilities = [float(value) for value in vector.split(",") if value.strip()]
    except ValueError:
        raise AnnotationError(path, f"line {number}: level, sublevel and channel must be integers and "
                                    "probabilities numbers") from None
    start = _parse_time(path, number, fields[2], "start")
    stop = _parse_time(path, number, fields[3], "stop")
    _check_interval(path, number, start, stop)
    if level not in symbols:
        raise AnnotationError(path, f"line {number}: level {level} has no symbol table")
    if channel_index not in montage:
        raise AnnotationError(path, f"line {number}: channel {channel_index} is not in the montage block")
    if len(probabilities) != len(symbols[level]) or max(probabilities, default=0.0) <= 0:
        raise AnnotationError(path, f"line {number}: {len(probabilities)} probabilities for "
                                    f"{len(symbols[level])} symbols, or none positive")
    best = int(np.argmax(probabilities))
    if best not in symbols[level]:
        raise AnnotationError(path, f"line {number}: probability peak at index {best}, which the "
                                    "symbol table does not name")
    return (channel_index, montage[channel_index][0], level, sublevel, start, stop,
            symbols[level][best], probabilities[best])


def read_lbl(path, duration=None):
    """Read a .lbl or .lbl_bi file into per-channel events.

    Args:
        path: the file.
        duration: recording length in seconds; events past it are an error.

    Returns:
        LabelFile (montage block, symbol tables, per-channel events with bckg included).
    """
    path = os.fspath(path)
    lines = _read_lines(path)
    if lines[0].strip() != LBL_VERSION:
        raise AnnotationError(path, f"line 1 is {lines[0].strip()!r}, expected {LBL_VERSION!r}")
    montage, symbols, rows = {}, {}, []
    for number, raw in enumerate(lines[1:], start=2):
        line = raw.strip()
        if not line or _LBL_KEY_VALUE.match(line):
            continue
        if match := _LBL_MONTAGE.match(line):
            montage[int(match.group(1))] = (match.group(2).upper(), match.group(3), match.group(4))
        elif match := _LBL_SYMBOLS.match(line):
            symbols[int(match.group(1))] = _parse_lbl_symbols(path, number, match.group(2))
        elif match := _LBL_LABEL.match(line):
            rows.append(_parse_lbl_label(path, number, match.group(1), match.group(2), symbols, montage))
        else:
            raise AnnotationError(path, f"line {number}: unrecognised line {line[:80]!r}")
    if not rows:
        raise AnnotationError(path, "no label lines")
    events = pd.DataFrame(rows, columns=["channel_index", "channel", "level", "sublevel",
                                         "start", "stop", "label", "probability"])
    check_within_duration(path, events, duration)
    return LabelFile(path=path, montage=montage, symbols=symbols, events=events)


@dataclass(frozen=True)
class CSVAnnotation:
    """Contents of a TUSZ v2 .csv / .csv_bi file.

    Args:
        path: the file.
        header: {key: value} of the '# key = value' lines (bname, duration, montage_file...).
        duration: the '# duration' in seconds, or None if absent.
        events: DataFrame channel, start, stop, label, probability (bckg rows included).
    """

    path: str
    header: dict
    duration: object
    events: pd.DataFrame


def _parse_csv_header(path, lines):
    if lines[0].strip() != CSV_VERSION:
        raise AnnotationError(path, f"line 1 is {lines[0].strip()!r}, expected {CSV_VERSION!r}")
    header, index = {}, 0
    while index < len(lines) and lines[index].startswith("#"):
        key, _, value = lines[index][1:].partition("=")
        if value:
            header[key.strip()] = value.strip()
        index += 1
    duration = None
    if "duration" in header:
        text = header["duration"].split()[0]
        duration = _parse_time(path, 3, text, "duration")
    return header, duration, index


def read_tusz_csv(path, duration=None, binary=False):
    """Read a v2 .csv (per-channel events) or .csv_bi (TERM events, seiz/bckg) file.

    Args:
        path: the file.
        duration: recording length in seconds from the EDF header; events past it are an error.
        binary: True for .csv_bi (labels seiz/bckg, channel TERM).

    Returns:
        CSVAnnotation.
    """
    path = os.fspath(path)
    lines = _read_lines(path)
    header, header_duration, index = _parse_csv_header(path, lines)
    if index >= len(lines) or tuple(f.strip() for f in lines[index].split(",")) != CSV_COLUMNS:
        found = lines[index].strip() if index < len(lines) else "end of file"
        raise AnnotationError(path, f"line {index + 1}: expected the header {','.join(CSV_COLUMNS)!r}, "
                                    f"found {found!r}")
    allowed = BINARY_LABELS if binary else TUSZ_LABELS
    rows = []
    for number, line in enumerate(lines[index + 1:], start=index + 2):
        if not line.strip():
            continue
        fields = [field.strip() for field in line.split(",")]
        if len(fields) != 5 or not fields[0]:
            raise AnnotationError(path, f"line {number}: expected 5 comma-separated fields "
                                        f"({','.join(CSV_COLUMNS)}), got {line.strip()!r}")
        if binary and fields[0] != "TERM":
            raise AnnotationError(path, f"line {number}: channel {fields[0]!r} in a .csv_bi file "
                                        "(expected TERM)")
        start = _parse_time(path, number, fields[1], "start_time")
        stop = _parse_time(path, number, fields[2], "stop_time")
        _check_interval(path, number, start, stop)
        _check_label(path, number, fields[3], allowed)
        confidence = _parse_time(path, number, fields[4], "confidence")
        rows.append((fields[0].upper(), start, stop, fields[3], confidence))
    if not rows:
        raise AnnotationError(path, "no events after the column header")
    events = pd.DataFrame(rows, columns=["channel"] + EVENT_COLUMNS)
    check_within_duration(path, events, header_duration)
    check_within_duration(path, events, duration)
    return CSVAnnotation(path=path, header=header, duration=header_duration, events=events)


def merge_channel_seizures(events):
    """Merge per-channel seizure rows into seizures: overlapping same-label rows become one.

    Channels of one seizure start and stop at slightly different times; rows that overlap (or
    touch) in time and carry the same label are one seizure spanning min(start) .. max(stop).

    Args:
        events: DataFrame with channel, start, stop, label (background rows are ignored).

    Returns:
        DataFrame start, stop, label, n_channels in time order.
    """
    seizures = []
    rows = events[events["label"] != BACKGROUND]
    for label, group in rows.groupby("label", sort=False):
        group = group.sort_values(["start", "stop"])
        current = None
        for start, stop, channel in zip(group["start"], group["stop"], group["channel"]):
            if current is not None and start <= current[1] + TIME_TOLERANCE_S:
                current[1] = max(current[1], stop)
                current[3].add(channel)
                continue
            if current is not None:
                seizures.append(current)
            current = [start, stop, label, {channel}]
        seizures.append(current)
    frame = pd.DataFrame([(s, e, lab, len(ch)) for s, e, lab, ch in seizures],
                         columns=["start", "stop", "label", "n_channels"])
    return frame.sort_values(["start", "label"], kind="stable").reset_index(drop=True)


# Spreadsheet columns by position (L, M, N, O) as IBM's build_data.py reads them.
_SHEET_COLUMNS = {11: "file", 12: "start", 13: "stop", 14: "label"}
SPREADSHEETS = {"seizures_v36r.xlsx": "1.5.2", "seizures_v31r.xlsx": "1.4.0"}
SPREADSHEET_SHEETS = {"1.5.2": ("train", "dev"), "1.4.0": ("train", "dev_test")}
# v1.4.0 sheets end with 4 summary rows below the seizure rows.
_TRAILING_SUMMARY_ROWS = {"1.5.2": 0, "1.4.0": 4}


def _spreadsheet_row(path, sheet, excel_row, values):
    """One seizure of the sheet as a dict, or None for a file without seizures (L..O empty)."""
    present = [not pd.isna(value) and str(value).strip() != "" for value in values]
    if not any(present):
        return None
    where = f"sheet {sheet!r} row {excel_row}"
    if not all(present):
        raise AnnotationError(path, f"{where}: columns L..O (file, start, stop, type) are partly empty: "
                                    f"{list(values)}")
    file_name, start, stop, label = values
    try:
        start, stop = float(start), float(stop)
    except (TypeError, ValueError):
        raise AnnotationError(path, f"{where}: start {start!r} / stop {stop!r} are not numbers") from None
    if not (0 <= start < stop):
        raise AnnotationError(path, f"{where}: seizure from {start:g} s to {stop:g} s is not a "
                                    "valid interval")
    label = str(label).strip().lower()
    if label not in TUSZ_LABELS or label in BINARY_LABELS:
        raise AnnotationError(path, f"{where}: unknown seizure type {label.upper()!r}")
    return {"sheet": sheet, "excel_row": excel_row, "file": str(file_name).strip(),
            "start": start, "stop": stop, "label": label}


def read_seizure_spreadsheet(path, version):
    """Read the seizure list of a v1.x release (_DOCS/seizures_v36r.xlsx or seizures_v31r.xlsx).

    Args:
        path: the spreadsheet.
        version: "1.5.2" (sheets train, dev) or "1.4.0" (sheets train, dev_test).

    Returns:
        DataFrame sheet, excel_row, file (as written, e.g. './train/01_tcp_ar/.../x.tse'), start,
        stop, label (lower case), in sheet order; rows of files without seizures are dropped.
    """
    path = os.fspath(path)
    if version not in SPREADSHEET_SHEETS:
        raise ValueError(f"no spreadsheet layout for TUSZ version {version!r}")
    try:
        sheets = pd.read_excel(path, sheet_name=list(SPREADSHEET_SHEETS[version]), header=0)
    except ValueError as error:  # missing sheet
        raise AnnotationError(path, f"cannot read sheets {SPREADSHEET_SHEETS[version]}: {error}") from None
    except Exception as error:  # openpyxl raises several types for non-xlsx content
        raise AnnotationError(path, f"not a readable .xlsx file ({type(error).__name__}: {error})") from None
    rows = []
    for sheet, frame in sheets.items():
        if frame.shape[1] <= max(_SHEET_COLUMNS):
            raise AnnotationError(path, f"sheet {sheet!r} has {frame.shape[1]} columns; the seizure "
                                        "list needs columns L..O")
        trailing = _TRAILING_SUMMARY_ROWS[version]
        # Drop the sub-header row below the header (and v1.4.0's summary rows at the bottom).
        body = frame.iloc[1:len(frame) - trailing, sorted(_SHEET_COLUMNS)]
        # Excel row = data index + 2 (1-based, after the header row).
        for index, values in zip(body.index, body.itertuples(index=False)):
            row = _spreadsheet_row(path, sheet, int(index) + 2, tuple(values))
            if row is not None:
                rows.append(row)
    if not rows:
        raise AnnotationError(path, "no seizure rows in columns L..O")
    return pd.DataFrame(rows)


def spreadsheet_edf_path(root, file_name):
    """The EDF path a spreadsheet file name refers to.

    v1.5.2 names files relative to <root>/edf ('./train/...'), v1.4.0 relative to the root
    ('./edf/train/...'); both name the .tse beside the EDF.

    Args:
        root: corpus root.
        file_name: column L of the spreadsheet.
    """
    relative = file_name.replace("\\", "/")
    relative = relative[2:] if relative.startswith("./") else relative.lstrip("/")
    if not relative.startswith("edf/"):
        relative = "edf/" + relative
    stem = os.path.splitext(relative)[0]
    return os.path.join(os.fspath(root), *(stem + ".edf").split("/"))
