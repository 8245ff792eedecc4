"""Conformance of the seizure-spreadsheet reader with the published layout of the TUSZ v1.x sheets.

The workbooks are written cell by cell from the published facts (docs/tusz.md, "The seizure
spreadsheet"): Legends / dev / train / Calibration sheets, two header rows, every recording
listed, seizure-free recordings with the path in L and M..O empty, continuation rows that leave
the patient and session empty, upper-case types with MYSZ, and older sheets with lower-case names
and a trailing TOTALS: block. The expected parse is written out by hand.
"""

import os

import openpyxl
import pandas as pd
import pytest

from kerasseizure.errors import AnnotationError
from kerasseizure.io.tusz_spreadsheet import read_seizure_spreadsheet, spreadsheet_edf_path

TITLES = ["Index", "File No.", "Patient", "Session", "File", "EEG Type", "EEG SubType", "LTM -or- Routine",
          "Normal/ Abnormal", "No. Seizures/ File", "No. Seizures/ Session", "Seizure Time", None, None,
          "Seizure Type"]
SUBTITLES = [None] * 11 + ["Filename", "Start", "Stop", None]

A = "./train/02_tcp_le/014/00001402/s003_2008_07_21/00001402_s003_t001.tse"
B = "./train/02_tcp_le/014/00001402/s003_2008_07_21/00001402_s003_t002.tse"
C = "./train/01_tcp_ar/077/00007797/s001_2011_03_02/00007797_s001_t000.tse"
D = "./dev/01_tcp_ar/002/00000258/s002_2003_07_21/00000258_s002_t000.tse"

# v1.5.2-like train sheet: A has two seizures (a continuation row), B none, C one MYSZ.
TRAIN_V152 = [
    [1, 1, 1402, 3, 1, "Outpatient", "General", "Routine", "Abnormal", 2, 2, A, 42.2786, 81.7656, "FNSZ"],
    [2, None, None, None, None, None, None, None, None, None, None, A, 150.0, 201.5, "FNSZ"],
    [3, 2, None, None, 2, "Outpatient", "General", "Routine", "Abnormal", 0, None, B, None, None, None],
    [4, 3, 7797, 1, 0, "Inpatient", "EMU", "LTM", "Abnormal", 1, 1, C, 10.0, 12.5, "MYSZ"],
]
DEV_V152 = [
    [1, 1, 258, 2, 0, "Inpatient", "ICU", "LTM", "Abnormal", 1, 1, D, 14.0, 30.0, "GNSZ"],
]


def _workbook(path, sheets):
    """Write `sheets` ({name: rows or None for a sheet with filler}) in order."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        worksheet = workbook.create_sheet(name)
        for row in rows:
            worksheet.append(row)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    workbook.save(path)
    return path


def _v152(tmp_path, train=TRAIN_V152, dev=DEV_V152):
    return _workbook(os.fspath(tmp_path / "_DOCS" / "seizures_v36r.xlsx"), {
        "Legends": [["Seizure Type", "Description"], ["FNSZ", "Focal Non-Specific Seizure"]],
        "dev": [TITLES, SUBTITLES] + dev,
        "train": [TITLES, SUBTITLES] + train,
        "Calibration": [["train", None, None, None, "dev"], [], ["Filename", "Start", "Stop"], [A, 0.0, 30.0]],
    })


def test_v152_layout_parses_every_recording_and_seizure(tmp_path):
    sheet = read_seizure_spreadsheet(_v152(tmp_path))
    expected_recordings = pd.DataFrame([
        ("train", 3, A, 2), ("train", 5, B, 0), ("train", 6, C, 1), ("dev", 3, D, 1),
    ], columns=["sheet", "excel_row", "file", "n_seizures"])
    expected_seizures = pd.DataFrame([
        ("train", 3, A, 42.2786, 81.7656, "fnsz"),
        ("train", 4, A, 150.0, 201.5, "fnsz"),
        ("train", 6, C, 10.0, 12.5, "mysz"),
        ("dev", 3, D, 14.0, 30.0, "gnsz"),
    ], columns=["sheet", "excel_row", "file", "start", "stop", "label"])
    pd.testing.assert_frame_equal(sheet.recordings, expected_recordings)
    pd.testing.assert_frame_equal(sheet.seizures, expected_seizures)


def test_older_sheet_lower_case_names_and_totals_block(tmp_path):
    old = "./edf/train/01_tcp_ar/000/00000077/s003_2010_01_21/00000077_s003_t000.tse"
    rows = [
        [1, 1, 77, 3, 0, "Inpatient", "General", "Routine", "Abnormal", 1, 1, old, 5.0, 9.0, "CPSZ"],
        [2, 2, None, None, 1, "Inpatient", "General", "Routine", "Abnormal", 0, None,
         old.replace("t000", "t001"), None, None, None],
        [],
        [None] * 10 + ["TOTALS:", "No. Sessions With Seizures", 1],
        [None] * 11 + ["No. Files With Seizures", 1, 4.0, "x"],
        [None] * 11 + ["No. Seizures", 1],
        [None] * 11 + ["Seizure Duration (secs)", 4.0],
    ]
    path = _workbook(os.fspath(tmp_path / "_DOCS" / "seizures_v31r.xlsx"), {
        "legends": [["x"]], "dev_test": [TITLES, SUBTITLES], "train": [TITLES, SUBTITLES] + rows,
        "calibration": [["train"]],
    })
    sheet = read_seizure_spreadsheet(path)
    assert sheet.recordings.values.tolist() == [["train", 3, old, 1],
                                                ["train", 4, old.replace("t000", "t001"), 0]]
    assert sheet.seizures.values.tolist() == [["train", 3, old, 5.0, 9.0, "cpsz"]]


def test_paths_of_both_generations_name_the_edf_beside_the_tse(tmp_path):
    root = os.fspath(tmp_path)
    assert spreadsheet_edf_path(root, A) == os.path.join(
        root, "edf", "train", "02_tcp_le", "014", "00001402", "s003_2008_07_21", "00001402_s003_t001.edf")
    old = "./edf/train/01_tcp_ar/000/00000077/s003_2010_01_21/00000077_s003_t000.tse"
    assert spreadsheet_edf_path(root, old) == os.path.join(
        root, "edf", "train", "01_tcp_ar", "000", "00000077", "s003_2010_01_21", "00000077_s003_t000.edf")


@pytest.mark.parametrize("train, fragment", [
    ([TRAIN_V152[0][:12] + [42.0, None, "FNSZ"]], "row 3: columns M..O (start, stop, type) are partly empty"),
    ([TRAIN_V152[0][:11] + [None, 1.0, 2.0, "FNSZ"]], "row 3: column L (file) is empty"),
    ([TRAIN_V152[0][:11] + ["No. Seizures", 1.0, 2.0, "FNSZ"]], "row 3: column L holds 'No. Seizures'"),
    ([TRAIN_V152[0][:12] + [9.0, 3.0, "FNSZ"]], "row 3: seizure from 9 s to 3 s is not a valid interval"),
    ([TRAIN_V152[0][:12] + ["x", 3.0, "FNSZ"]], "row 3: start 'x' / stop 3 are not numbers"),
    ([TRAIN_V152[0][:14] + ["WXYZ"]], "row 3: unknown seizure type 'WXYZ'"),
    ([TRAIN_V152[0][:14] + ["BCKG"]], "row 3: unknown seizure type 'BCKG'"),
    (TRAIN_V152[:1] + [TRAIN_V152[1][:12] + [80.0, 90.0, "GNSZ"]], "rows 3 and 4: seizures of"),
])
def test_broken_rows_name_sheet_and_row(tmp_path, train, fragment):
    path = _v152(tmp_path, train=train)
    with pytest.raises(AnnotationError) as caught:
        read_seizure_spreadsheet(path)
    assert str(caught.value).startswith(path) and "sheet 'train'" in str(caught.value)
    assert fragment in str(caught.value)


def test_one_header_row_is_refused(tmp_path):
    path = _workbook(os.fspath(tmp_path / "x.xlsx"), {"train": [TITLES] + TRAIN_V152})
    with pytest.raises(AnnotationError, match="row 2: expected the sub-header 'Start', 'Stop'"):
        read_seizure_spreadsheet(path)


def test_recording_in_two_sheets_and_missing_sheets(tmp_path):
    with pytest.raises(AnnotationError, match="is also listed in sheet 'train'"):
        read_seizure_spreadsheet(_v152(tmp_path, dev=[DEV_V152[0][:11] + [B, None, None, None]]))
    path = _workbook(os.fspath(tmp_path / "y.xlsx"), {"Legends": [["x"]], "Calibration": [["y"]]})
    with pytest.raises(AnnotationError, match=r"no data sheet .* \['Legends', 'Calibration'\]"):
        read_seizure_spreadsheet(path)
    not_xlsx = tmp_path / "z.xlsx"
    not_xlsx.write_text("not a workbook")
    with pytest.raises(AnnotationError, match="not a readable .xlsx file"):
        read_seizure_spreadsheet(not_xlsx)
