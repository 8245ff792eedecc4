"""Tiny hand-made EDF files and TUSZ trees (v1.x and v2.0.x) written with pyedflib and edfio.

Every recording is a few tens of seconds at a TUSZ rate; each scalp electrode carries a sine of
its own frequency so spectra and montage differences can be checked exactly. The corpus
specifications below are the ground truth the tests compare the index against.
"""

import os
import shutil

import edfio
import numpy as np
import pyedflib
import pytest

from kerasseizure.io.channels import SCALP_ELECTRODES, TCP22, TCP20, pair_names

NON_EEG_LABELS = ("EKG1", "PHOTIC PH", "IBI", "BURSTS", "SUPPR", "EEG 26-REF")
PHYSICAL_RANGE_UV = 1000.0


def electrode_frequency(electrode):
    """Frequency (Hz) of the sine written on an electrode: 3 Hz for FP1, one Hz more per electrode."""
    return 3.0 + SCALP_ELECTRODES.index(electrode)


def electrode_wave(electrode, fs, duration, offset=0.0):
    """The microvolt signal written for an electrode."""
    t = np.arange(int(round(duration * fs))) / fs
    return 40.0 * np.sin(2 * np.pi * electrode_frequency(electrode) * t) + offset


def tusz_labels(suffix, montage_dir):
    """EDF labels of a TUSZ file: 'EEG FP1-REF'... (A1/A2 absent for 03_tcp_ar_a) then non-EEG."""
    electrodes = [e for e in SCALP_ELECTRODES if not (montage_dir == "03_tcp_ar_a" and e in ("A1", "A2"))]
    return {f"EEG {e}-{suffix}": e for e in electrodes}


def write_edf(path, channels, duration, file_type=pyedflib.FILETYPE_EDF):
    """Write an EDF with pyedflib.

    Args:
        path: output file.
        channels: list of (label, fs, unit, microvolt signal or None for a slow ramp).
        duration: seconds (whole 1 s data records).
        file_type: pyedflib file type (EDF by default, as TUSZ files are).
    """
    os.makedirs(os.path.dirname(path), exist_ok=True)
    scale = {"uV": 1.0, "mV": 1e-3, "V": 1e-6}
    headers, data = [], []
    for label, fs, unit, signal in channels:
        n = int(round(duration * fs))
        values = np.linspace(-10, 10, n) if signal is None else np.asarray(signal, dtype=np.float64)
        bound = PHYSICAL_RANGE_UV * scale.get(unit, 1.0)
        headers.append(dict(label=label, dimension=unit, sample_frequency=fs, physical_max=bound,
                            physical_min=-bound, digital_max=32767, digital_min=-32768))
        data.append(values * scale.get(unit, 1.0))
    writer = pyedflib.EdfWriter(os.fspath(path), len(channels), file_type=file_type)
    try:
        writer.setSignalHeaders(headers)
        writer.writeSamples(data)
    finally:
        writer.close()
    return path


def write_edf_with_edfio(path, channels, duration):
    """Write an EDF with edfio ("another writer"); same arguments as `write_edf`."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    signals = []
    for label, fs, unit, signal in channels:
        values = np.linspace(-10, 10, int(round(duration * fs))) if signal is None else signal
        signals.append(edfio.EdfSignal(np.asarray(values, dtype=np.float64), sampling_frequency=fs,
                                       label=label, physical_dimension=unit,
                                       physical_range=(-PHYSICAL_RANGE_UV, PHYSICAL_RANGE_UV)))
    edfio.Edf(signals, data_record_duration=1.0).write(os.fspath(path))
    return path


def tusz_channels(spec):
    """(label, fs, unit, signal) of a TUSZ-like recording: scalp electrodes, then non-EEG channels."""
    suffix = "LE" if spec["montage_dir"] == "02_tcp_le" else "REF"
    fs, duration = spec["fs"], spec["duration"]
    channels = [(label, fs, "uV", electrode_wave(e, fs, duration, offset=spec.get("offset", 0.0)))
                for label, e in tusz_labels(suffix, spec["montage_dir"]).items()]
    channels += [(label, fs // 2 if label == "EKG1" else fs, "uV", None) for label in NON_EEG_LABELS]
    return channels


def _fmt(value):
    return f"{value:.4f}"


def write_tse(path, events, labels_map=None):
    lines = ["version = tse_v1.0.0", ""]
    for start, stop, label in events:
        label = labels_map(label) if labels_map else label
        lines.append(f"{_fmt(start)} {_fmt(stop)} {label} 1.0000")
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


# The 28-symbol table of real TUSZ v1.x .lbl / .lbl_bi files.
LBL_SYMBOLS = {0: "(null)", 1: "spsw", 2: "gped", 3: "pled", 4: "eybl", 5: "artf", 6: "bckg",
               7: "seiz", 8: "fnsz", 9: "gnsz", 10: "spsz", 11: "cpsz", 12: "absz", 13: "tnsz",
               14: "cnsz", 15: "tcsz", 16: "atsz", 17: "mysz", 18: "nesz", 19: "intr", 20: "slow",
               21: "eyem", 22: "chew", 23: "shiv", 24: "musc", 25: "elpp", 26: "elst", 27: "calb"}


def lbl_montage_line(index, name, anode, cathode):
    """A montage line spaced as in the release ('montage =  5, F8-T4 : EEG F8-REF  --  EEG T4-REF')."""
    colon = " :" if name == "F8-T4" else ":"  # the release writes this one name with a space
    return f"{f'montage = {index:2d}, {name}{colon}':<22}{anode:<11} --  {cathode}"


def write_lbl(path, events, montage_dir, suffix, seizure_channels=(0, 3)):
    """A .lbl laid out as released: a leading empty line, the version, the montage block with its
    irregular spacing, one level, the 28-symbol table, then one-hot labels per channel."""
    pairs = TCP20 if montage_dir == "03_tcp_ar_a" else TCP22
    lines = ["", "version = lbl_v1.0.0", ""]
    for index, (name, (a, b)) in enumerate(zip(pair_names(pairs), pairs)):
        lines.append(lbl_montage_line(index, name, f"EEG {a}-{suffix}", f"EEG {b}-{suffix}"))
    lines += ["", "number_of_levels = 1", "", "level[0] = 1", "",
              "symbols[0] = " + repr(LBL_SYMBOLS), ""]
    code = {label: index for index, label in LBL_SYMBOLS.items()}
    for start, stop, label in events:
        channels = seizure_channels if label != "bckg" else range(len(pairs))
        for channel in channels:
            vector = [0.0] * len(LBL_SYMBOLS)
            vector[code[label]] = 1.0
            lines.append(f"label = {{0, 0, {_fmt(start)}, {_fmt(stop)}, {channel}, {vector}}}")
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


# Ground truth of the v1.x tree: events tile each record (bckg included).
V1_SPEC = [
    dict(split="train", montage_dir="01_tcp_ar", patient="00000001", session="s001_2010_01_01",
         token="t000", fs=250, duration=60,
         events=[(0, 10, "bckg"), (10, 20, "fnsz"), (20, 60, "bckg")]),
    dict(split="train", montage_dir="01_tcp_ar", patient="00000001", session="s001_2010_01_01",
         token="t001", fs=250, duration=20, events=[(0, 20, "bckg")]),
    dict(split="train", montage_dir="02_tcp_le", patient="00000002", session="s002_2011_02_02",
         token="t001", fs=256, duration=40, offset=5.0,
         events=[(0, 5, "bckg"), (5, 12.5, "gnsz"), (12.5, 20, "bckg"), (20, 30, "cpsz"),
                 (30, 40, "bckg")]),
    dict(split="dev", montage_dir="03_tcp_ar_a", patient="10000003", session="s001_2012_03_03",
         token="t000", fs=400, duration=30,
         events=[(0, 3, "bckg"), (3, 8, "mysz"), (8, 10, "bckg"), (10, 14.25, "absz"),
                 (14.25, 30, "bckg")]),
]

V2_SPEC = [
    dict(split="train", montage_dir="01_tcp_ar", patient="aaaaaaaa", session="s001_2015", token="t000",
         fs=512, duration=30, events=[(5, 15, "fnsz")]),
    dict(split="dev", montage_dir="02_tcp_le", patient="aaaaaaab", session="s002_2016_05_05",
         token="t000", fs=250, duration=40, events=[(2, 6, "gnsz"), (20, 30, "tcsz")]),
    dict(split="eval", montage_dir="03_tcp_ar_a", patient="aaaaaaac", session="s001_2017",
         token="t002", fs=256, duration=20, events=[(4, 9, "cpsz")], writer="edfio"),
]


def v1_stem(root, spec):
    return os.path.join(root, "edf", spec["split"], spec["montage_dir"], spec["patient"][3:6],
                        spec["patient"], spec["session"],
                        f"{spec['patient']}_{spec['session'][:4]}_{spec['token']}")


def v2_stem(root, spec):
    return os.path.join(root, "edf", spec["split"], spec["patient"], spec["session"], spec["montage_dir"],
                        f"{spec['patient']}_{spec['session'][:4]}_{spec['token']}")


def _write_recording(stem, spec):
    channels = tusz_channels(spec)
    if spec.get("writer") == "edfio":
        write_edf_with_edfio(stem + ".edf", channels, spec["duration"])
    else:
        write_edf(stem + ".edf", channels, spec["duration"])


def build_v1_corpus(root, spec=V1_SPEC):
    """Write a v1.x tree (.edf, .tse, .tse_bi, .lbl, .lbl_bi) without a spreadsheet."""
    for recording in spec:
        stem = v1_stem(root, recording)
        _write_recording(stem, recording)
        suffix = "LE" if recording["montage_dir"] == "02_tcp_le" else "REF"
        write_tse(stem + ".tse", recording["events"])
        write_tse(stem + ".tse_bi", recording["events"], lambda label: "bckg" if label == "bckg" else "seiz")
        write_lbl(stem + ".lbl", recording["events"], recording["montage_dir"], suffix)
        write_lbl(stem + ".lbl_bi", [(s, e, "bckg" if lab == "bckg" else "seiz")
                                     for s, e, lab in recording["events"]], recording["montage_dir"], suffix)
    return root


SHEET_TITLES = ["Index", "File No.", "Patient", "Session", "File", "EEG Type", "EEG SubType",
                "LTM -or- Routine", "Normal/ Abnormal", "No. Seizures/ File", "No. Seizures/ Session",
                "Seizure Time", None, None, "Seizure Type"]
SHEET_SUBTITLES = [None] * 11 + ["Filename", "Start", "Stop", None]


def sheet_rows(root, spec, version):
    """{data sheet: rows A..O} of a seizure spreadsheet listing every recording of `spec`.

    As published: one row per seizure, one row with M..O empty for a seizure-free recording,
    patient and session numbers only on their first row, column L the .tse path.
    """
    dev = "dev" if version == "1.5.2" else "dev_test"
    sheets, last = {"train": [], dev: []}, {}
    for recording in spec:
        sheet = "train" if recording["split"] == "train" else dev
        rows = sheets[sheet]
        relative = os.path.relpath(v1_stem(root, recording) + ".tse", os.path.join(root, "edf"))
        file_name = ("./" if version == "1.5.2" else "./edf/") + relative.replace(os.sep, "/")
        seizures = [event for event in recording["events"] if event[2] != "bckg"] or [(None, None, None)]
        patient, session = recording["patient"], recording["session"][:4]
        first_of_patient = last.get(sheet, (None, None))[0] != patient
        first_of_session = first_of_patient or last[sheet][1] != session
        last[sheet] = (patient, session)
        file_no = sum(1 for row in rows if row[1] is not None) + 1
        for k, (start, stop, label) in enumerate(seizures):
            first = k == 0
            rows.append([len(rows) + 1, file_no if first else None,
                         int(patient) if first and first_of_patient else None,
                         int(session[1:]) if first and first_of_session else None,
                         int(recording["token"][1:]) if first else None, "Inpatient", "General", "Routine",
                         "Abnormal", (len(seizures) if start is not None else 0) if first else None, None,
                         file_name, start, stop, label.upper() if label else None])
    return sheets


def write_spreadsheet(root, spec=V1_SPEC, version="1.5.2", extra_rows=()):
    """Write _DOCS/seizures_v36r.xlsx (1.5.2) or seizures_v31r.xlsx (1.4.0) in the published layout.

    Sheets Legends, dev (dev_test), train, Calibration (lower case for 1.4.0); two header rows;
    every recording listed; 1.4.0 sheets end with a TOTALS: block. `extra_rows` appends
    (sheet, [L, M, N, O]) rows to a data sheet.
    """
    import openpyxl

    name = "seizures_v36r.xlsx" if version == "1.5.2" else "seizures_v31r.xlsx"
    sheets = sheet_rows(root, spec, version)
    for sheet, cells in extra_rows:
        sheets[sheet].append([len(sheets[sheet]) + 1] + [None] * 10 + list(cells))
    workbook = openpyxl.Workbook()
    legends = workbook.active
    legends.title = "Legends" if version == "1.5.2" else "legends"
    legends.append(["Seizure Type", "Description"])
    legends.append(["FNSZ", "Focal Non-Specific Seizure"])
    for sheet in (s for s in ("dev", "dev_test", "train") if s in sheets):
        worksheet = workbook.create_sheet(sheet)
        worksheet.append(SHEET_TITLES)
        worksheet.append(SHEET_SUBTITLES)
        for row in sheets[sheet]:
            worksheet.append(row)
        if version == "1.4.0":
            n_seizures = sum(1 for row in sheets[sheet] if row[12] is not None)
            worksheet.append([None] * 10 + ["TOTALS:", "No. Sessions With Seizures", 1])
            worksheet.append([None] * 11 + ["No. Files With Seizures", 1])
            worksheet.append([None] * 11 + ["No. Seizures", n_seizures])
            worksheet.append([None] * 11 + ["Seizure Duration (secs)", 10.0])
    calibration = workbook.create_sheet("Calibration" if version == "1.5.2" else "calibration")
    calibration.append(["train", None, None, None, "dev", None, None, None, "eval"])
    path = os.path.join(root, "_DOCS", name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    workbook.save(path)
    return path


def _csv_rows(spec, binary):
    """Rows of a v2 .csv (per channel, times jittered per channel) or .csv_bi (TERM)."""
    if binary:
        cuts = [0.0]
        rows = []
        for start, stop, _ in spec["events"]:
            rows += [("TERM", cuts[-1], start, "bckg"), ("TERM", start, stop, "seiz")]
            cuts.append(stop)
        return rows + [("TERM", cuts[-1], spec["duration"], "bckg")]
    pairs = TCP20 if spec["montage_dir"] == "03_tcp_ar_a" else TCP22
    rows = []
    for channel_index, name in enumerate(pair_names(pairs)):
        cursor = 0.0
        for start, stop, label in spec["events"]:
            if channel_index < 4:  # seizure seen on four channels, the first one the widest
                jitter_start, jitter_stop = start + 0.25 * channel_index, stop - 0.5 * channel_index
                rows += [(name, cursor, jitter_start, "bckg"), (name, jitter_start, jitter_stop, label)]
                cursor = jitter_stop
        rows.append((name, cursor, spec["duration"], "bckg"))
    return rows


def write_tusz_csv(path, spec, binary=False):
    bname = os.path.basename(path).rsplit(".", 1)[0]
    lines = ["# version = csv_v1.0.0", f"# bname = {bname}", f"# duration = {spec['duration']:.2f} secs",
             "# montage_file = $NEDC_NFC/lib/nedc_eas_default_montage.txt", "#",
             "channel,start_time,stop_time,label,confidence"]
    lines += [f"{c},{_fmt(s)},{_fmt(e)},{lab},1.0000" for c, s, e, lab in _csv_rows(spec, binary)]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def build_v2_corpus(root, spec=V2_SPEC, readme_version="2.0.3"):
    """Write a v2.0.x tree (.edf, .csv, .csv_bi) and a README stating the version."""
    for recording in spec:
        stem = v2_stem(root, recording)
        _write_recording(stem, recording)
        write_tusz_csv(stem + ".csv", recording)
        write_tusz_csv(stem + ".csv_bi", recording, binary=True)
    if readme_version:
        with open(os.path.join(root, "AAREADME.txt"), "w") as handle:
            handle.write(f"File: AAREADME.txt\nDatabase: TUH EEG Seizure Corpus\nVersion: v{readme_version}\n")
    return root


@pytest.fixture(scope="session")
def v1_corpus(tmp_path_factory):
    """A v1.x tree without a spreadsheet (seizures from .tse)."""
    return build_v1_corpus(os.fspath(tmp_path_factory.mktemp("tusz_v1")))


@pytest.fixture(scope="session")
def v1_spreadsheet_corpus(tmp_path_factory, v1_corpus):
    """The v1.x tree plus _DOCS/seizures_v36r.xlsx (v1.5.2)."""
    root = os.fspath(tmp_path_factory.mktemp("tusz_v152") / "corpus")
    shutil.copytree(v1_corpus, root)
    write_spreadsheet(root)
    return root


@pytest.fixture(scope="session")
def v2_corpus(tmp_path_factory):
    """A v2.0.3 tree (seizures from per-channel .csv rows)."""
    return build_v2_corpus(os.fspath(tmp_path_factory.mktemp("tusz_v2")))


def write_annotation(path, text, newline="\n"):
    """Write an annotation file with the given line ends (released files may use CRLF)."""
    path.write_bytes(text.replace("\n", newline).encode())
    return path


def assert_refused(read, path, line, fragment, **kwargs):
    """`read(path, **kwargs)` raises an AnnotationError that starts with the path and names the line."""
    from kerasseizure.errors import AnnotationError

    with pytest.raises(AnnotationError) as caught:
        read(path, **kwargs)
    message = str(caught.value)
    assert message.startswith(str(path)) and f"line {line}:" in message and fragment in message, message


# `copy_corpus` (copy a session corpus before damaging it) is in tests/corpora.py.
