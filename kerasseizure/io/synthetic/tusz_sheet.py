"""The v1.x seizure spreadsheet, laid out like the released `_DOCS/seizures_v36r.xlsx` (v1.5.2) and
`_DOCS/seizures_v31r.xlsx` (v1.4.0).

What the release files do and a reader must cope with: a legend sheet and a calibration sheet
around the two data sheets (dev first); two header rows; every recording of the split listed, a
seizure-free one on a row with empty Start/Stop/Type, a recording with k seizures on k rows;
patient, session and recording columns filled on the first row of each only; v1.4.0 sheets end
with a 4-row TOTALS block. Byte-deterministic: fixed document and zip timestamps.
"""

import datetime
import io as _io
import re
import zipfile
from collections import Counter
from pathlib import Path

from kerasseizure.files import atomic_path

SPREADSHEET_NAMES = {"1.5.2": "seizures_v36r.xlsx", "1.4.0": "seizures_v31r.xlsx"}
# Sheet order of the release files; v1.4.0 names them in lower case and calls dev "dev_test".
SHEET_NAMES = {"1.5.2": ("Legends", "dev", "train", "Calibration"),
               "1.4.0": ("legends", "dev_test", "train", "calibration")}

# Row 1 holds group titles (Seizure Time spans L..N), row 2 the sub-titles under it.
_TITLES = ("Index", "File No.", "Patient", "Session", "File", "EEG Type", "EEG SubType", "LTM -or- Routine",
           "Normal/ Abnormal", "No. Seizures/ File", "No. Seizures/ Session", "Seizure Time", None, None,
           "Seizure Type")
_SUBTITLES = (None,) * 11 + ("Filename", "Start", "Stop", None)

_TYPE_NAMES = (
    ("FNSZ", "Focal Non-Specific Seizure"), ("GNSZ", "Generalized Non-Specific Seizure"),
    ("SPSZ", "Simple Partial Seizure"), ("CPSZ", "Complex Partial Seizure"), ("ABSZ", "Absence Seizure"),
    ("TNSZ", "Tonic Seizure"), ("CNSZ", "Clonic Seizure"), ("TCSZ", "Tonic Clonic Seizure"),
    ("ATSZ", "Atonic Seizure"), ("MYSZ", "Myoclonic Seizure"), ("NESZ", "Non-Epileptic Seizure"),
)
_COLUMN_MEANINGS = (
    ("Index", "row number within the sheet"),
    ("File No.", "recording number within the sheet (first row of a recording)"),
    ("Patient", "patient id (first row of a patient)"),
    ("Session", "session number (first row of a session)"),
    ("File", "recording token"),
    ("EEG Type", "where the EEG was recorded"),
    ("EEG SubType", "unit of the hospital"),
    ("LTM -or- Routine", "long-term monitoring or routine EEG"),
    ("Normal/ Abnormal", "clinical impression of the EEG"),
    ("No. Seizures/ File", "seizures annotated in the recording"),
    ("No. Seizures/ Session", "seizures annotated in the session"),
    ("Filename", "the recording's .tse annotation file"),
    ("Start", "seizure start (s from the start of the recording)"),
    ("Stop", "seizure stop (s from the start of the recording)"),
    ("Seizure Type", "one of the codes above"),
)
_CALIBRATION_BLOCK = 4          # columns per split block: path, start, stop, spacer
_FIXED_TIME = datetime.datetime(2020, 1, 1)


def _legend_rows():
    rows = [["Seizure Types"], ["Code", "Description"]] + [list(t) for t in _TYPE_NAMES]
    return rows + [[], ["Columns"], ["Column", "Meaning"]] + [list(c) for c in _COLUMN_MEANINGS]


def _sheet_path(prefix, rel):
    """Column L: the .tse path, relative to `edf/` (v1.5.2, prefix "./") or to the root ("./edf/")."""
    return prefix + rel.with_suffix(".tse").relative_to("edf").as_posix()


def _data_rows(files, seizure_rows, prefix):
    """One data sheet: every recording of the split, one row per seizure or one empty-seizure row."""
    per_session = Counter()
    for f, _ in files:
        per_session[f.patient.pid, f.session] += len(seizure_rows[f.stem])
    rows, seen_patients, seen_sessions = [], set(), set()
    for file_no, (f, rel) in enumerate(files, start=1):
        p, session = f.patient, (f.patient.pid, f.session)
        unit = ("EMU", "EMU") if p.primary == "absz" else ("Inpatient", "General")
        first = [file_no, None if p.pid in seen_patients else p.pid,
                 None if session in seen_sessions else f"s{f.session:03d}", f"t{f.token:03d}", *unit,
                 "LTM" if f.duration > 3600 else "Routine", "Abnormal", len(seizure_rows[f.stem]),
                 None if session in seen_sessions else per_session[session]]
        seen_patients.add(p.pid)
        seen_sessions.add(session)
        for k, s in enumerate(seizure_rows[f.stem] or [None]):
            seizure = [s["start"], s["stop"], s["label"].upper()] if s else [None, None, None]
            meta = first if k == 0 else [None] * len(first)
            rows.append([len(rows) + 1] + meta + [_sheet_path(prefix, rel)] + seizure)
    return rows


def _totals_rows(files, seizure_rows):
    """The 4 rows closing a v1.4.0 data sheet: "TOTALS:" in K, labels in L, numbers in M."""
    seized = [(f, seizure_rows[f.stem]) for f, _ in files if seizure_rows[f.stem]]
    seizures = [s for _, rows in seized for s in rows]
    totals = (("No. Sessions With Seizures", len({(f.patient.pid, f.session) for f, _ in seized})),
              ("No. Files With Seizures", len(seized)),
              ("No. Seizures", len(seizures)),
              ("Seizure Duration (secs)", round(sum(s["stop"] - s["start"] for s in seizures), 4)))
    return [[None] * 10 + ["TOTALS:" if i == 0 else None, label, value] for i, (label, value) in enumerate(totals)]


def _calibration_rows(blocks):
    """Split blocks side by side: the split name, two header rows, then (.tse path, start, stop)."""
    height = 3 + max(len(entries) for _, entries in blocks)
    rows = [[None] * (_CALIBRATION_BLOCK * len(blocks) - 1) for _ in range(height)]
    for b, (split, entries) in enumerate(blocks):
        c = _CALIBRATION_BLOCK * b
        rows[0][c] = split
        rows[1][c:c + 3] = ["Filename", "Calibration", None]
        rows[2][c:c + 3] = [None, "Start", "Stop"]
        for r, entry in enumerate(entries, start=3):
            rows[r][c:c + 3] = list(entry)
    return rows


def _calibration_entries(rng, files, prefix, count=3):
    """A few recordings of the split with a calibration interval at their start (before the
    first seizure, which never starts before 7.5 s)."""
    picks = sorted(rng.choice(len(files), size=min(count, len(files)), replace=False)) if files else []
    return [(_sheet_path(prefix, files[i][1]), 0.0, round(float(rng.uniform(2.0, 6.0)), 4)) for i in picks]


def write_spreadsheet(root, version, files, seizure_rows, rng):
    """Write `<root>/_DOCS/<name>.xlsx` listing `files` ([(plan file, edf path relative to root)]);
    `seizure_rows[stem]` are the recording's seizures (dicts with start, stop, label)."""
    import openpyxl  # deferred: only the v1.x spreadsheets need it

    legends, dev, train, calibration = SHEET_NAMES[version]
    prefix = "./edf/" if version == "1.4.0" else "./"
    by_split = {split: [(f, rel) for f, rel in files if f.patient.split == split] for split in (dev, train)}
    wb = openpyxl.Workbook()
    wb.properties.creator = "kerasseizure"
    wb.properties.created = wb.properties.modified = _FIXED_TIME
    wb.remove(wb.active)
    _append(wb.create_sheet(legends), _legend_rows())
    for split in (dev, train):
        ws = wb.create_sheet(split)
        _append(ws, [_TITLES, _SUBTITLES] + _data_rows(by_split[split], seizure_rows, prefix))
        ws.merge_cells("L1:N1")
        if version == "1.4.0":
            _append(ws, _totals_rows(by_split[split], seizure_rows))
    blocks = [(split, _calibration_entries(rng, by_split.get(split, []), prefix)) for split in ("train", dev, "eval")]
    _append(wb.create_sheet(calibration), _calibration_rows(blocks))
    path = root / "_DOCS" / SPREADSHEET_NAMES[version]
    with atomic_path(path) as tmp:
        wb.save(tmp)
        _normalise_xlsx(tmp)
    return path


def _append(ws, rows):
    for row in rows:
        ws.append(list(row))


def _normalise_xlsx(path):
    """Rewrite an .xlsx with fixed zip timestamps so that the file is byte-identical across runs."""
    with zipfile.ZipFile(path) as src:
        items = [(info.filename, src.read(info.filename)) for info in src.infolist()]
    # openpyxl stamps the save time into the document properties.
    items = [(name, re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                           rb"\g<1>2020-01-01T00:00:00Z\g<2>", data) if name == "docProps/core.xml" else data)
             for name, data in items]
    buffer = _io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for name, data in items:
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, data)
    Path(path).write_bytes(buffer.getvalue())
