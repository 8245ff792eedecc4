"""Synthetic corpora: exact on-disk layouts, checked with plain pyedflib / pandas / openpyxl."""

import filecmp
import os
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyedflib
import pytest

from kerasseizure.io.channels import HMS_EEG_COLUMNS, SCALP_ELECTRODES, TCP20, TCP22, pair_names
from kerasseizure.io.labels import (HMS_CLASSES, HMS_TEST_COLUMNS, HMS_TRAIN_COLUMNS, HMS_VOTE_COLUMNS,
                                    PATIENT_WISE_TYPE_ORDER, SEIZURE_TYPES)
from kerasseizure.io.simulation import GENERALIZED_TYPES
from kerasseizure.io.synthetic import (HMS_SPECTROGRAM_COLUMNS, hms_spectrogram, load_truth, make_hms_corpus,
                                       make_tusz_corpus)
from kerasseizure.io.synthetic.tusz import _plan, _settings

from tests.corpora import SMALL_TUSZ as SMALL  # a smaller TUSZ than the "tests" preset

TINY_HMS = dict(n_eegs=2, n_test=0, eegs_per_spectrogram=(2, 2), extra_seconds=(0, 4), sub_rows=(1, 2))
V1_SIBLINGS = (".tse", ".tse_bi", ".lbl", ".lbl_bi")


# The shared session corpora of tests/corpora.py ("tests" preset, seed 0); read only here.
@pytest.fixture
def v2(tusz_v2_root):
    return tusz_v2_root


@pytest.fixture
def v152(tusz_v152_root):
    return tusz_v152_root


@pytest.fixture
def hms(hms_root):
    return hms_root


def edfs(root):
    return sorted(Path(root, "edf").rglob("*.edf"))


def read_tiles(lines, pattern):
    rows = []
    for line in lines:
        m = re.fullmatch(pattern, line)
        assert m, line
        rows.append(m.groups())
    return rows


def assert_tiles(intervals, duration):
    """Consecutive (start, stop) pairs cover [0, duration] without gaps or overlaps."""
    assert intervals[0][0] == 0.0 and intervals[-1][1] == pytest.approx(duration)
    for (a0, a1), (b0, b1) in zip(intervals, intervals[1:]):
        assert a0 < a1 and a1 == b0


# ----------------------------------------------------------------------------- TUSZ v2.0.3

V2_PATH = re.compile(r"edf/(train|dev|eval)/([a-z]{8})/(s\d{3})_(\d{4})/(01_tcp_ar|02_tcp_le|03_tcp_ar_a)/"
                     r"\2_\3_t\d{3}\.edf")


def test_v2_layout(v2):
    files = edfs(v2)
    assert len(files) >= 20
    splits = set()
    for f in files:
        rel = f.relative_to(v2).as_posix()
        m = V2_PATH.fullmatch(rel)
        assert m, rel
        splits.add(m.group(1))
        assert f.with_suffix(".csv").is_file() and f.with_suffix(".csv_bi").is_file()
    assert splits == {"train", "dev", "eval"}
    truth = load_truth(v2)
    # A patient lives in one split only.
    assert truth["recordings"].groupby("patient_id").split.nunique().max() == 1


def test_v2_edf_headers(v2):
    rates, kinds, extras, counts = set(), set(), set(), set()
    for f in edfs(v2):
        kind = f.parent.name
        kinds.add(kind)
        with pyedflib.EdfReader(str(f)) as r:
            labels = r.getSignalLabels()
            eeg = [i for i, lab in enumerate(labels) if re.fullmatch(r"EEG (FP|F|C|P|O|T|A)[0-9Z]+-(REF|LE)", lab)]
            suffix = "LE" if kind == "02_tcp_le" else "REF"
            assert all(labels[i].endswith("-" + suffix) for i in eeg)
            names = {labels[i][4:-len(suffix) - 1] for i in eeg}
            assert ("A1" in names) == (kind != "03_tcp_ar_a")
            assert {e for pair in TCP20 for e in pair} <= names           # TCP20 always possible
            counts.add((kind, len(names & set(SCALP_ELECTRODES))))      # 10-20 ones, T1/T2 aside
            extras |= {lab for i, lab in enumerate(labels) if i not in eeg}
            freqs = set(r.getSampleFrequencies())
            assert len(freqs) == 1
            rates |= freqs
            assert r.getPhysicalDimension(eeg[0]) == "uV"
            x = r.readSignal(eeg[0])
            assert 5 < x.std() < 300                              # tens of microvolts
            assert r.getFileDuration() * r.getSampleFrequency(0) == x.size
    assert rates <= {250, 256, 400, 512} and len(rates) >= 3
    assert kinds == {"01_tcp_ar", "02_tcp_le", "03_tcp_ar_a"}
    # 21 electrodes, 19 without A1/A2, and the rare header with only TCP20's 17.
    assert counts == {("01_tcp_ar", 21), ("02_tcp_le", 21), ("03_tcp_ar_a", 19), ("03_tcp_ar_a", 17)}
    assert any("EKG" in e for e in extras) and any(e in ("IBI", "BURSTS", "SUPPR") for e in extras)


def parse_csv(path):
    lines = path.read_text().splitlines()
    return lines[:6], read_tiles(lines[6:], r"([A-Z0-9]+-[A-Z0-9]+|TERM),(\d+\.\d{4}),(\d+\.\d{4}),([a-z]+),1\.0000")


def test_v2_csv_files(v2):
    truth = load_truth(v2)
    seizures = truth["seizures"]
    jitter_seen = focal_seen = generalized_seen = False
    for f in edfs(v2):
        with pyedflib.EdfReader(str(f)) as r:
            duration = r.getFileDuration()
        head, rows = parse_csv(f.with_suffix(".csv"))
        assert head == ["# version = csv_v1.0.0", f"# bname = {f.stem}", f"# duration = {duration:.2f} secs",
                        "# montage_file = $NEDC_NFC/lib/nedc_eas_default_montage.txt", "#",
                        "channel,start_time,stop_time,label,confidence"]
        pairs = TCP20 if f.parent.name == "03_tcp_ar_a" else TCP22
        channels = list(dict.fromkeys(r[0] for r in rows))
        assert channels == pair_names(pairs)
        for ch in channels:
            assert_tiles([(float(a), float(b)) for c, a, b, _ in rows if c == ch], duration)
        head_bi, rows_bi = parse_csv(f.with_suffix(".csv_bi"))
        assert head_bi == head
        assert {r[0] for r in rows_bi} == {"TERM"} and {r[3] for r in rows_bi} <= {"seiz", "bckg"}
        assert_tiles([(float(a), float(b)) for _, a, b, _ in rows_bi], duration)
        expected = seizures[seizures.edf_path == f.relative_to(v2).as_posix()]
        term = [(float(a), float(b)) for _, a, b, lab in rows_bi if lab == "seiz"]
        assert term == list(zip(expected.start, expected.stop))
        for _, s in expected.iterrows():
            on = [float(a) for c, a, b, lab in rows if lab == s.label and float(a) < s.stop and float(b) > s.start]
            assert min(on) == pytest.approx(s.start)
            jitter_seen |= len(set(on)) > 1
            focal_seen |= 0 < len(on) < len(channels)
            if s.label in GENERALIZED_TYPES and s.stop - s.start > 5:
                assert len(on) == len(channels), s        # marked on every channel, as annotators do
                generalized_seen = True
    assert jitter_seen and focal_seen and generalized_seen


def test_v2_class_coverage(v2):
    truth = load_truth(v2)
    s = truth["seizures"]
    bench = s[s.split.isin(["train", "dev"])]
    # Patient-wise protocol: every benchmark type keeps >= 2 patients after rarest-first assignment.
    assigned = {}
    for kind in PATIENT_WISE_TYPE_ORDER:
        for pid in bench[bench.label == kind].patient_id.unique():
            assigned.setdefault(pid, kind)
    per_type = pd.Series(assigned).value_counts()
    assert all(per_type.get(k, 0) >= 2 for k in SEIZURE_TYPES)
    # Seizure-wise protocol: KFold(5) per type needs >= 5 seizures; totals otherwise follow v1.5.2.
    totals = bench.label.value_counts()
    assert all(totals.get(k, 0) >= 5 for k in SEIZURE_TYPES)
    assert totals.idxmax() == "fnsz" and totals.get("mysz", 0) <= 3
    assert set(s.label) <= set(SEIZURE_TYPES) | {"mysz"}
    rec = truth["recordings"]
    assert (rec.n_seizures == 0).any()                           # some seizure-free files
    durations = s.stop - s.start
    assert durations.min() < 10 and durations.max() > 15
    assert durations[s.label == "absz"].mean() < durations[s.label == "tcsz"].mean()


# ----------------------------------------------------------------------------- TUSZ v1.x

V1_PATH = re.compile(r"edf/(train|dev|dev_test)/(01_tcp_ar|02_tcp_le|03_tcp_ar_a)/(\d{3})/(\d{8})/"
                     r"(s\d{3})_\d{4}_\d{2}_\d{2}/\4_\5_t\d{3}\.edf")


def test_v152_layout_and_tse(v152):
    files = edfs(v152)
    assert {V1_PATH.fullmatch(f.relative_to(v152).as_posix()).group(1) for f in files} == {"train", "dev"}
    for f in files:
        m = V1_PATH.fullmatch(f.relative_to(v152).as_posix())
        assert m.group(3) == m.group(4)[3:6]
        assert all(f.with_suffix(ext).is_file() for ext in V1_SIBLINGS)
        with pyedflib.EdfReader(str(f)) as r:
            duration = r.getFileDuration()
        for ext, labels in ((".tse", set(SEIZURE_TYPES) | {"mysz", "bckg"}), (".tse_bi", {"seiz", "bckg"})):
            lines = f.with_suffix(ext).read_text().splitlines()
            assert lines[:2] == ["version = tse_v1.0.0", ""]
            rows = read_tiles(lines[2:], r"(\d+\.\d{4}) (\d+\.\d{4}) ([a-z]+) 1\.0000")
            assert_tiles([(float(a), float(b)) for a, b, _ in rows], duration)
            assert {lab for _, _, lab in rows} <= labels


LBL_SYMBOL_TABLE = ("{0: '(null)', 1: 'spsw', 2: 'gped', 3: 'pled', 4: 'eybl', 5: 'artf', 6: 'bckg', 7: 'seiz', "
                    "8: 'fnsz', 9: 'gnsz', 10: 'spsz', 11: 'cpsz', 12: 'absz', 13: 'tnsz', 14: 'cnsz', 15: 'tcsz', "
                    "16: 'atsz', 17: 'mysz', 18: 'nesz', 19: 'intr', 20: 'slow', 21: 'eyem', 22: 'chew', 23: 'shiv', "
                    "24: 'musc', 25: 'elpp', 26: 'elst', 27: 'calb'}")


def test_v152_lbl(v152):
    f = next(f for f in edfs(v152) if f.parent.parent.parent.parent.name == "03_tcp_ar_a")
    g = next(f for f in edfs(v152) if f.parent.parent.parent.parent.name == "02_tcp_le")
    for path, pairs, suffix in ((f, TCP20, "REF"), (g, TCP22, "LE")):
        lines = path.with_suffix(".lbl").read_text().splitlines()
        assert lines[:3] == ["", "version = lbl_v1.0.0", ""]              # the real files' leading empty line
        montage = [re.fullmatch(r"montage = (\d+), ([A-Z0-9]+)-([A-Z0-9]+):( +)EEG \2-(\w+)( +)--( +)EEG \3-\5", ln)
                   for ln in lines if ln.startswith("montage = ")]
        assert all(montage) and [(int(m[1]), m[2], m[3], m[5]) for m in montage] == [
            (i, a, b, suffix) for i, (a, b) in enumerate(pairs)]
        assert {len(m[7]) for m in montage} == {2}                        # two spaces after "--"
        assert len({(m[4], m[6]) for m in montage}) > 1                   # column padding varies
        i = lines.index("number_of_levels = 1")
        assert lines[i:i + 6] == ["number_of_levels = 1", "", "level[0] = 1", "",
                                  "symbols[0] = " + LBL_SYMBOL_TABLE, ""]
        labels = [re.fullmatch(r"label = \{0, 0, (\d+\.\d{4}), (\d+\.\d{4}), (\d+), \[([0-9., ]+)\]\}", ln)
                  for ln in lines if ln.startswith("label = ")]
        assert labels and all(labels) and len(labels) == len(lines) - i - 6
        for m in labels:
            probs = [float(p) for p in m.group(4).split(", ")]
            assert len(probs) == 28 and sorted(probs)[-1] == 1.0 and sum(probs) == 1.0
            assert 0 <= int(m.group(3)) < len(pairs)
        with pyedflib.EdfReader(str(path)) as r:
            duration = r.getFileDuration()
        for c in range(len(pairs)):
            assert_tiles([(float(m.group(1)), float(m.group(2))) for m in labels if int(m.group(3)) == c], duration)


SHEET_TITLES = ("Index", "File No.", "Patient", "Session", "File", "EEG Type", "EEG SubType", "LTM -or- Routine",
                "Normal/ Abnormal", "No. Seizures/ File", "No. Seizures/ Session", "Seizure Time", None, None,
                "Seizure Type")


def check_data_sheet(ws, base, recordings, seizures):
    """The layout of the release sheets, on data rows (below the 2 header rows, TOTALS excluded):
    every recording listed, one row per seizure or one with empty M..O, and patient/session/
    recording columns only on the first row of each. `base`: what column L is relative to, "edf"
    (v1.5.2) or "." (v1.4.0). Returns the number of continuation rows."""
    header = [tuple(r) for r in ws.iter_rows(max_row=2, max_col=15, values_only=True)]
    assert header[0] == SHEET_TITLES and header[1] == (None,) * 11 + ("Filename", "Start", "Stop", None)
    assert "L1:N1" in {str(r) for r in ws.merged_cells.ranges}
    rows = [r[:15] for r in ws.iter_rows(min_row=3, values_only=True)]
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    listed = list(dict.fromkeys(r[11] for r in rows))
    expected = {"./" + Path(os.path.relpath(p, base)).with_suffix(".tse").as_posix(): p for p in recordings.edf_path}
    assert sorted(listed) == sorted(expected)
    continuation = 0
    for file_no, path in enumerate(listed, start=1):
        group = [r for r in rows if r[11] == path]
        rec = recordings[recordings.edf_path == expected[path]].iloc[0]
        assert group[0][1] == file_no and group[0][9] == rec.n_seizures and len(group) == max(1, rec.n_seizures)
        assert all(r[1:11] == (None,) * 10 for r in group[1:])
        continuation += len(group) - 1
        truth = seizures[seizures.edf_path == expected[path]].sort_values("start")
        if rec.n_seizures == 0:
            assert group[0][12:15] == (None, None, None)
        else:
            assert [r[14] for r in group] == [k.upper() for k in truth.label]
            np.testing.assert_allclose([r[12:14] for r in group], truth[["start", "stop"]], atol=5e-5)
    assert [r[2] for r in rows if r[2] is not None] == list(dict.fromkeys(recordings.patient_id))
    assert sum(r[3] is not None for r in rows) == len(recordings.groupby(["patient_id", "session"]))
    return continuation


def ibm_seizure_rows(path, sheet, drop_last):
    """Seizure rows as IBM's build_data.py reads them: pandas, drop row 2 (and v1.4.0's last 4)."""
    data = pd.read_excel(path, sheet_name=sheet)
    data = data.iloc[1:len(data) - drop_last]
    return data[data.columns[11:15]].dropna()


def check_calibration(ws, base, names, recordings, seizures):
    """Split blocks 4 columns apart: name, two header rows, then recordings of the split with a
    calibration interval before their first seizure."""
    rows = list(ws.iter_rows(values_only=True))
    for b, name in enumerate(names):
        block = [r[4 * b:4 * b + 3] for r in rows]
        assert all(r[4 * b + 3] is None for r in rows if len(r) > 4 * b + 3)     # the spacer column
        assert block[0] == (name, None, None) and block[1] == ("Filename", "Calibration", None)
        assert block[2] == (None, "Start", "Stop")
        entries = [r for r in block[3:] if r[0] is not None]
        assert bool(entries) == (name != "eval")                # our v1.x corpora have no eval split
        for path, start, stop in entries:
            edf = os.path.normpath(os.path.join(base, path[:-len(".tse")] + ".edf"))
            rec = recordings[recordings.edf_path == edf]
            assert path.endswith(".tse") and rec.split.tolist() == [name] and 0 <= start < stop
            assert stop < min(seizures[seizures.edf_path == edf].start, default=rec.duration.iloc[0])


def test_v152_spreadsheet(v152):
    path = v152 / "_DOCS" / "seizures_v36r.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Legends", "dev", "train", "Calibration"]
    truth = load_truth(v152)
    recordings, seizures = truth["recordings"], truth["seizures"]
    continuation = 0
    for sheet in ("dev", "train"):
        continuation += check_data_sheet(wb[sheet], "edf", recordings[recordings.split == sheet], seizures)
        ibm = ibm_seizure_rows(path, sheet, drop_last=0)
        assert len(ibm) == (seizures.split == sheet).sum()
        assert {f.split("/")[4] for f in ibm.iloc[:, 0]} == set(seizures[seizures.split == sheet].patient_id)
    # The preset carries the cases a reader must handle: continuation rows, seizure-free
    # recordings, MYSZ rows.
    assert continuation and (recordings.n_seizures == 0).any() and (seizures.label == "mysz").any()
    legend = {r[0]: r[1] for r in wb["Legends"].iter_rows(values_only=True)}
    assert legend["FNSZ"] == "Focal Non-Specific Seizure" and legend["MYSZ"] == "Myoclonic Seizure"
    check_calibration(wb["Calibration"], "edf", ("train", "dev", "eval"), recordings, seizures)


@pytest.fixture
def v140_partial(tusz_v140_partial_root):
    """A v1.4.0 copy that lacks 3 of the recordings its spreadsheet lists."""
    return tusz_v140_partial_root


def test_v140_layout_and_spreadsheet(v140_partial):
    root = v140_partial
    assert {f.relative_to(root).parts[1] for f in edfs(root)} == {"train", "dev_test"}
    assert not (root / "_DOCS" / "seizures_v36r.xlsx").exists()
    path = root / "_DOCS" / "seizures_v31r.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["legends", "dev_test", "train", "calibration"]
    truth = load_truth(root)
    recordings, seizures = truth["recordings"], truth["seizures"]
    for sheet in ("dev_test", "train"):
        ws = wb[sheet]
        # The TOTALS block: the last 4 rows, "TOTALS:" in K, labels in L, numbers in M.
        totals = [r[10:15] for r in ws.iter_rows(min_row=ws.max_row - 3, max_col=15, values_only=True)]
        ws.delete_rows(ws.max_row - 3, 4)
        check_data_sheet(ws, ".", recordings[recordings.split == sheet], seizures)
        split = seizures[seizures.split == sheet]
        assert totals == [
            ("TOTALS:", "No. Sessions With Seizures", len(split.groupby(["patient_id", "session"])), None, None),
            (None, "No. Files With Seizures", split.edf_path.nunique(), None, None),
            (None, "No. Seizures", len(split), None, None),
            (None, "Seizure Duration (secs)", pytest.approx((split.stop - split.start).sum(), abs=1e-3), None, None)]
        ibm = ibm_seizure_rows(path, sheet, drop_last=4)
        assert len(ibm) == len(split) and all(f.startswith(f"./edf/{sheet}/") for f in ibm.iloc[:, 0])
        assert {f.split("/")[5] for f in ibm.iloc[:, 0]} == set(split.patient_id)
    check_calibration(wb["calibration"], ".", ("train", "dev_test", "eval"), recordings, seizures)


def test_missing_recordings_stay_listed_but_leave_no_file(v140_partial, tmp_path):
    root = v140_partial
    truth = load_truth(root)
    recordings, seizures = truth["recordings"], truth["seizures"]
    missing = recordings[recordings.missing]
    assert len(missing) == 3 and (missing.n_seizures > 0).any()
    for rel in recordings.edf_path:
        on_disk = [(root / rel).with_suffix(ext).exists() for ext in (".edf",) + V1_SIBLINGS]
        assert on_disk == [rel not in set(missing.edf_path)] * 5
    assert set(seizures[seizures.missing].edf_path) == set(missing[missing.n_seizures > 0].edf_path)
    with pytest.raises(ValueError):
        make_tusz_corpus(tmp_path / "v2", version="2.0.3", missing_recordings=1, **SMALL)


@pytest.mark.parametrize("version", ["1.5.2", "1.4.0", "2.0.3"])
@pytest.mark.parametrize("size", ["tests", "demo"])
def test_default_presets_carry_the_real_quirks(version, size):
    """The plans of the default corpora (cheap: no signal) hold every case the readers must meet."""
    params, rates, montages = _settings(version, size, *[None] * 8)
    files = [f for p in _plan(version, 0, size, params, 2, 6, rates, montages, True) for f in p.files]
    assert {len(f.electrodes) for f in files} == {17, 19, 21}
    assert all({e for pair in TCP20 for e in pair} <= set(f.electrodes) for f in files)
    assert {f.montage for f in files} == {"01_tcp_ar", "02_tcp_le", "03_tcp_ar_a"} and len({f.fs for f in files}) >= 3
    assert any(s.kind == "mysz" for f in files for s in f.seizures)
    assert any(not f.seizures for f in files) and any(len(f.seizures) > 1 for f in files)


def test_deterministic_for_a_seed(tusz_partial_root, tmp_path):
    # `a` is the session's partial v1.5.2 copy (seed 3); `b` the same arguments again, `c` another seed.
    a = tusz_partial_root
    b = make_tusz_corpus(tmp_path / "b", version="1.5.2", seed=3, missing_recordings=1, **SMALL)
    c = make_tusz_corpus(tmp_path / "c", version="1.5.2", seed=4, missing_recordings=1, **SMALL)
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files_a == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for rel in files_a:
        assert filecmp.cmp(a / rel, b / rel, shallow=False), rel
    first_a, first_c = edfs(a)[0], edfs(c)[0]
    assert first_a.relative_to(a) != first_c.relative_to(c) or not filecmp.cmp(first_a, first_c, shallow=False)
    with pytest.raises(FileExistsError):
        make_tusz_corpus(b, version="1.5.2", seed=3, missing_recordings=1, **SMALL)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        make_tusz_corpus(tmp_path / "x", version="3.0.0")
    with pytest.raises(ValueError):
        make_tusz_corpus(tmp_path / "x", n_patients=5)
    with pytest.raises(ValueError):
        make_tusz_corpus(tmp_path / "x", size="huge")


# ----------------------------------------------------------------------------- HMS

def test_hms_train_csv(hms):
    train = pd.read_csv(hms / "train.csv")
    assert tuple(train.columns) == HMS_TRAIN_COLUMNS
    ints = [c for c in HMS_TRAIN_COLUMNS if c not in ("expert_consensus", "eeg_label_offset_seconds",
                                                      "spectrogram_label_offset_seconds")]
    assert all(train[c].dtype.kind == "i" for c in ints)
    votes = train[list(HMS_VOTE_COLUMNS)].to_numpy()
    totals = votes.sum(axis=1)
    assert set(totals) <= set(range(1, 8)) | set(range(10, 29))
    assert (train.expert_consensus == [HMS_CLASSES[i] for i in votes.argmax(axis=1)]).all()
    assert train.label_id.is_unique
    for _, g in train.groupby("eeg_id"):
        assert (g[list(HMS_VOTE_COLUMNS)].nunique() == 1).all()    # sub-rows share the votes
        assert g.eeg_sub_id.tolist() == list(range(len(g)))
        assert (g.spectrogram_label_offset_seconds - g.eeg_label_offset_seconds).nunique() == 1
    assert (train.groupby("spectrogram_id").eeg_id.nunique() > 1).any()
    assert (train.groupby("eeg_id").size() > 1).any()


def test_hms_files_and_offsets(hms):
    train = pd.read_csv(hms / "train.csv")
    any_nan = False
    for eeg_id, g in train.groupby("eeg_id"):
        eeg = pd.read_parquet(hms / "train_eegs" / f"{eeg_id}.parquet")
        assert tuple(eeg.columns) == HMS_EEG_COLUMNS and (eeg.dtypes == np.float32).all()
        assert len(eeg) >= 50 * 200
        assert (g.eeg_label_offset_seconds + 50).max() * 200 <= len(eeg)
        std = eeg.std()
        assert 600 < std.drop("EKG").median() < 1400 and std["EKG"] > 2 * std.drop("EKG").max()
        any_nan |= bool(eeg.isna().any().any())
        spec = pd.read_parquet(hms / "train_spectrograms" / f"{g.spectrogram_id.iloc[0]}.parquet")
        assert g.spectrogram_label_offset_seconds.min() >= 0
        assert (g.spectrogram_label_offset_seconds + 600).max() <= 2 * len(spec)
    assert any_nan


def test_hms_spectrogram_files(hms):
    train = pd.read_csv(hms / "train.csv")
    any_nan = False
    for spec_id in train.spectrogram_id.unique():
        spec = pd.read_parquet(hms / "train_spectrograms" / f"{spec_id}.parquet")
        assert tuple(spec.columns) == HMS_SPECTROGRAM_COLUMNS
        assert spec.columns[1] == "LL_0.59" and spec.columns[100] == "LL_19.92" and spec.columns[101] == "RL_0.59"
        assert spec.columns[-1] == "RP_19.92"
        assert (spec.time.to_numpy() == np.arange(len(spec)) * 2 + 1).all()
        assert (spec.dtypes.iloc[1:] == np.float32).all()
        values = spec.iloc[:, 1:].to_numpy()
        any_nan |= bool(np.isnan(values).any())
        assert np.nanmin(values) > 0
    assert any_nan


def test_hms_spectrogram_matches_its_eeg(hms):
    """The spectrogram rows inside an EEG file equal the Kaggle-style spectrogram of that EEG."""
    train = pd.read_csv(hms / "train.csv")
    checked = 0
    for eeg_id, g in train.groupby("eeg_id"):
        eeg = pd.read_parquet(hms / "train_eegs" / f"{eeg_id}.parquet").to_numpy(np.float64)
        if np.isnan(eeg).any():
            continue
        start = int(g.spectrogram_label_offset_seconds.iloc[0] - g.eeg_label_offset_seconds.iloc[0] + 275)
        shift = start % 2                      # align the EEG to the spectrogram's odd-second grid
        local = hms_spectrogram(eeg[shift * 200:, :19])
        spec = pd.read_parquet(hms / "train_spectrograms" / f"{g.spectrogram_id.iloc[0]}.parquet").to_numpy()[:, 1:]
        first = (start + shift) // 2
        # windows fully inside the EEG file, less the rows the writer blanked (signal lost)
        rows = [r for r in range(2, local.shape[0] - 2) if not np.isnan(spec[first + r]).any()]
        np.testing.assert_allclose(local[rows], spec[[first + r for r in rows]], rtol=2e-2, atol=1e-3)
        checked += len(rows) > 0
    assert checked


def test_hms_lateralized_patterns_show_on_their_side(hms):
    eegs = load_truth(hms)["eegs"]
    lateral = eegs[eegs.side != "both"]             # LPD, LRDA and focal seizures
    assert len(lateral)
    for _, e in lateral.iterrows():
        frame = pd.read_parquet(hms / "train_eegs" / f"{e.eeg_id}.parquet").astype(np.float64)
        eeg = frame.fillna(frame.mean()).fillna(0.0).to_numpy()   # the starters' NaN rule
        spec = hms_spectrogram(eeg[:, :19])           # regions LL, RL, LP, RP
        left = spec[:, :100].mean() + spec[:, 200:300].mean()
        right = spec[:, 100:200].mean() + spec[:, 300:].mean()
        assert (left > right) == (e.side == "left")


def test_hms_test_files_and_submission(hms):
    test = pd.read_csv(hms / "test.csv")
    assert tuple(test.columns) == HMS_TEST_COLUMNS and len(test) == 2
    for _, row in test.iterrows():
        eeg = pd.read_parquet(hms / "test_eegs" / f"{row.eeg_id}.parquet")
        assert tuple(eeg.columns) == HMS_EEG_COLUMNS and len(eeg) == 50 * 200
        spec = pd.read_parquet(hms / "test_spectrograms" / f"{row.spectrogram_id}.parquet")
        assert len(spec) == 300
    sub = pd.read_csv(hms / "sample_submission.csv")
    assert tuple(sub.columns) == ("eeg_id",) + HMS_VOTE_COLUMNS
    assert sub.eeg_id.tolist() == test.eeg_id.tolist()
    assert np.allclose(sub[list(HMS_VOTE_COLUMNS)].sum(axis=1), 1.0)
    labels = load_truth(hms)["test_labels"]
    assert labels.eeg_id.tolist() == test.eeg_id.tolist() and (labels.n_votes >= 10).all()


def test_hms_deterministic(tmp_path):
    a = make_hms_corpus(tmp_path / "a", seed=1, **TINY_HMS)
    b = make_hms_corpus(tmp_path / "b", seed=1, **TINY_HMS)
    c = make_hms_corpus(tmp_path / "c", seed=2, **TINY_HMS)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert all(filecmp.cmp(a / f, b / f, shallow=False) for f in files)
    assert not filecmp.cmp(a / "train.csv", c / "train.csv", shallow=False)
