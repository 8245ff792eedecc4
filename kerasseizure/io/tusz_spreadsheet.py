"""The IBM seizure spreadsheet of the TUSZ v1.x releases (_DOCS/seizures_v36r.xlsx, seizures_v31r.xlsx).

The layout, as published (docs/tusz.md lists the sources): sheets `Legends`, `dev` (`dev_test` in
v1.4.0), `train` and `Calibration`, names in either case; the data sheets have two header rows
(group titles, then `Filename` / `Start` / `Stop` in L..N) and list EVERY recording of the split.
A recording without seizures has one row with its `.tse` path in column L and Start, Stop and
Type (M..O) empty; a recording with k seizures has k rows repeating the path. Patient and session
numbers stand only on the first row of a patient or session, so they are taken from the path.
Older sheets end with a `TOTALS:` block whose column L holds text.
"""

import contextlib
import os
from dataclasses import dataclass

import pandas as pd

from kerasseizure.errors import AnnotationError
from kerasseizure.io.labels import TUSZ_LABELS

SPREADSHEETS = {"seizures_v36r.xlsx": "1.5.2", "seizures_v31r.xlsx": "1.4.0"}
DATA_SHEETS = ("train", "dev", "dev_test")
SEIZURE_LABELS = tuple(label for label in TUSZ_LABELS if label not in ("bckg", "seiz"))

# Column positions (0-based) of L..O, the columns IBM's build_data.py reads.
_FILE, _START, _STOP, _TYPE = 11, 12, 13, 14
_HEADER_ROWS = 2
_SUMMARY_MARKER = "TOTALS"

RECORDING_COLUMNS = ["sheet", "excel_row", "file", "n_seizures"]
SEIZURE_COLUMNS = ["sheet", "excel_row", "file", "start", "stop", "label"]


@dataclass(frozen=True)
class SeizureSheet:
    """Contents of a v1.x seizure spreadsheet.

    Args:
        path: the .xlsx file.
        recordings: one row per recording listed (sheet, excel_row of its first row, file as
            written in column L, n_seizures), in sheet order; seizure-free recordings included.
        seizures: one row per seizure (sheet, excel_row, file, start, stop, label in lower case,
            MYSZ kept), in sheet order.
    """

    path: str
    recordings: pd.DataFrame
    seizures: pd.DataFrame


def _blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def _is_summary(values):
    return any(isinstance(value, str) and value.strip().upper().startswith(_SUMMARY_MARKER) for value in values)


def _check_subheader(path, sheet, row):
    """Row 2 must name Start / Stop in M..N, or every data row would be read one row off."""
    found = [str(row[i]).strip().lower() if i < len(row) and not _blank(row[i]) else "" for i in (_START, _STOP)]
    if found != ["start", "stop"]:
        raise AnnotationError(path, f"sheet {sheet!r} row 2: expected the sub-header 'Start', 'Stop' in "
                                    f"columns M..N (two header rows), found {found}")


def _seizure(path, where, start, stop, label):
    try:
        start, stop = float(start), float(stop)
    except (TypeError, ValueError):
        raise AnnotationError(path, f"{where}: start {start!r} / stop {stop!r} are not numbers") from None
    if not 0 <= start < stop:
        raise AnnotationError(path, f"{where}: seizure from {start:g} s to {stop:g} s is not a valid interval")
    label = str(label).strip().lower()
    if label not in SEIZURE_LABELS:
        raise AnnotationError(path, f"{where}: unknown seizure type {label.upper()!r} "
                                    f"(expected one of {', '.join(t.upper() for t in SEIZURE_LABELS)})")
    return start, stop, label


def _read_sheet(path, sheet, rows):
    """(recordings {file: row dict}, seizure row dicts) of one data sheet."""
    recordings, seizures = {}, []
    for excel_row, row in enumerate(rows, start=1):
        if excel_row == _HEADER_ROWS:
            _check_subheader(path, sheet, row)
        if excel_row <= _HEADER_ROWS or all(_blank(value) for value in row):
            continue
        if _is_summary(row):
            break  # the TOTALS block closes the data
        where = f"sheet {sheet!r} row {excel_row}"
        cells = tuple(row[i] if i < len(row) else None for i in (_FILE, _START, _STOP, _TYPE))
        file_name, event = cells[0], cells[1:]
        if _blank(file_name):
            raise AnnotationError(path, f"{where}: column L (file) is empty but the row is not "
                                        f"(columns L..O: {list(cells)})")
        file_name = str(file_name).strip()
        if not file_name.lower().endswith(".tse"):
            raise AnnotationError(path, f"{where}: column L holds {file_name!r}, not the .tse path of a recording")
        recording = recordings.setdefault(file_name, {"sheet": sheet, "excel_row": excel_row,
                                                      "file": file_name, "n_seizures": 0})
        present = [not _blank(value) for value in event]
        if not any(present):
            continue  # a recording without seizures
        if not all(present):
            raise AnnotationError(path, f"{where}: columns M..O (start, stop, type) are partly empty: {list(event)}")
        start, stop, label = _seizure(path, where, *event)
        recording["n_seizures"] += 1
        seizures.append({"sheet": sheet, "excel_row": excel_row, "file": file_name, "start": start,
                         "stop": stop, "label": label})
    return recordings, seizures


def _check_overlaps(path, seizures):
    """Seizures of one recording come from its .tse, which cannot hold overlapping events."""
    for file_name, group in seizures.groupby("file", sort=False):
        group = group.sort_values("start")
        previous = None
        for row in group.itertuples():
            if previous is not None and row.start < previous.stop:
                raise AnnotationError(path, f"sheet {row.sheet!r} rows {previous.excel_row} and {row.excel_row}: "
                                            f"seizures of {file_name} overlap ({previous.start:g}-{previous.stop:g} s "
                                            f"and {row.start:g}-{row.stop:g} s)")
            previous = row


def read_seizure_spreadsheet(path):
    """Read the recordings and seizures listed by a v1.x seizure spreadsheet.

    Args:
        path: `_DOCS/seizures_v36r.xlsx` (v1.5.2), `seizures_v31r.xlsx` (v1.4.0) or an older one.

    Returns:
        SeizureSheet. Only the data sheets (train, dev, dev_test, in any case) are read, train
        first whatever the workbook's order.

    Raises:
        AnnotationError naming the file, sheet and row: not an .xlsx, no data sheet, a row with
        columns L..O partly filled, a bad time or type, the same recording in two sheets,
        overlapping seizures of one recording.
    """
    import openpyxl  # deferred: only v1.x corpora with a spreadsheet need it

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise AnnotationError(path, "seizure spreadsheet not found")
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises several types for non-xlsx content
        raise AnnotationError(path, f"not a readable .xlsx file ({type(error).__name__}: {error})") from None
    try:
        # Train first, then dev: IBM's protocol appends the dev seizures after the train ones,
        # and the seizure-wise folds depend on that order (the workbook puts dev first).
        names = sorted((name for name in workbook.sheetnames if name.strip().lower() in DATA_SHEETS),
                       key=lambda name: DATA_SHEETS.index(name.strip().lower()))
        if not names:
            raise AnnotationError(path, f"no data sheet ({', '.join(DATA_SHEETS)}) among the sheets "
                                        f"{workbook.sheetnames}")
        recordings, seizures, sheet_of = [], [], {}
        for name in names:
            # Closing the row generator closes its stream too, when a sheet ends early or raises.
            with contextlib.closing(workbook[name].iter_rows(values_only=True)) as sheet_rows:
                listed, rows = _read_sheet(path, name, sheet_rows)
            for file_name, row in listed.items():
                if file_name in sheet_of:
                    raise AnnotationError(path, f"sheet {name!r} row {row['excel_row']}: {file_name} is also "
                                                f"listed in sheet {sheet_of[file_name]!r}")
                sheet_of[file_name] = name
            recordings.extend(listed.values())
            seizures.extend(rows)
    finally:
        workbook.close()
    if not recordings:
        raise AnnotationError(path, f"no recording listed in column L of the sheets {names}")
    seizures = pd.DataFrame(seizures, columns=SEIZURE_COLUMNS)
    _check_overlaps(path, seizures)
    return SeizureSheet(path=path, recordings=pd.DataFrame(recordings, columns=RECORDING_COLUMNS),
                        seizures=seizures)


def spreadsheet_edf_path(root, file_name):
    """The EDF path a spreadsheet file name refers to.

    v1.5.2 names files relative to <root>/edf ('./train/...'), older sheets relative to the root
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
