"""The on-disk formats of a synthetic TUSZ corpus: EDF files, .tse/.tse_bi/.lbl/.lbl_bi (v1.x)
and .csv/.csv_bi (v2.x) annotations, the folder layouts and the v1.x seizure spreadsheet.

Everything written here is byte-deterministic (the spreadsheet's zip timestamps included).
"""

import datetime
import io as _io
import re
import zipfile
from pathlib import Path

import numpy as np

from kerasseizure.files import atomic_path
from kerasseizure.io.channels import SCALP_ELECTRODES, TCP20, TCP22

# .lbl symbol table of TUSZ v1.x (index = position in the one-hot probability vector).
LBL_SYMBOLS = (
    "(null)", "spsw", "gped", "pled", "eybl", "artf", "bckg", "seiz", "fnsz", "gnsz", "spsz", "cpsz",
    "absz", "tnsz", "cnsz", "tcsz", "atsz", "mysz", "nesz", "intr", "slow", "eyem", "chew", "shiv",
    "musc", "elpp", "elst", "calb", "hphs", "trip", "elec",
)

_EDF_PHYSICAL = 4999.84   # uV, the range of most TUH EDF files (16-bit, ~0.15 uV resolution)
_DIGITAL = 32767
_FIXED_ZIP_TIME = (2020, 1, 1, 0, 0, 0)
_SPREADSHEET_HEADER = ("No.", "File No.", "Patient", "Session", "File", "EEG Type", "EEG SubType",
                       "LTM -or- Routine", "Gender", "Age", "Location", "Filename", "Seizure Time",
                       None, "Seizure Type")


def _eeg_electrodes(montage):
    return tuple(e for e in SCALP_ELECTRODES if montage != "03_tcp_ar_a" or e not in ("A1", "A2"))


def _tcp_pairs(montage):
    return TCP20 if montage == "03_tcp_ar_a" else TCP22


def _write_edf(path, f, channels, start):
    import pyedflib  # deferred: pyedflib is only needed to write or read EDF

    headers = [dict(label=label, dimension=dim, sample_frequency=f.fs, physical_min=pmin,
                    physical_max=pmax, digital_min=-_DIGITAL, digital_max=_DIGITAL, transducer="",
                    prefilter="") for label, dim, _, pmin, pmax in channels]
    data = []
    for label, _, values, pmin, pmax in channels:
        v = np.clip(values, pmin, pmax)
        data.append(np.round((v - pmin) / (pmax - pmin) * (2 * _DIGITAL) - _DIGITAL).astype(np.int32))
    with atomic_path(path) as tmp:
        writer = pyedflib.EdfWriter(str(tmp), len(channels), file_type=pyedflib.FILETYPE_EDF)
        try:
            writer.setSignalHeaders(headers)
            writer.setStartdatetime(start)
            writer.setPatientCode(f.patient.pid)
            writer.setSex(f.patient.sex == "M")
            writer.setPatientName("synthetic")
            writer.setEquipment("kerasseizure")
            writer.writeSamples(data, digital=True)
        finally:
            writer.close()


def _tile(events, duration, seiz_label=None):
    """Events [(start, stop, label)] tiled with bckg over [0, duration]; seizure labels replaced by
    `seiz_label` when given (the _bi files)."""
    rows, t = [], 0.0
    for on, off, label in sorted(events):
        if on > t:
            rows.append((t, on, "bckg"))
        rows.append((on, off, seiz_label or label))
        t = off
    if t < duration:
        rows.append((t, float(duration), "bckg"))
    return rows


def _merge(events):
    """Union of overlapping same-label intervals (term-level events from channel events)."""
    out = []
    for on, off, label in sorted(events):
        if out and on <= out[-1][1] and label == out[-1][2]:
            out[-1] = (out[-1][0], max(out[-1][1], off), label)
        else:
            out.append((on, off, label))
    return out


def _tse_text(rows):
    return "version = tse_v1.0.0\n\n" + "".join(f"{a:.4f} {b:.4f} {lab} 1.0000\n" for a, b, lab in rows)


def _lbl_text(f, channel_rows):
    suffix = "LE" if f.montage == "02_tcp_le" else "REF"
    pairs = _tcp_pairs(f.montage)
    lines = ["version = lbl_v1.0.0", ""]
    lines += [f"montage = {i}, {a}-{b}: EEG {a}-{suffix} -- EEG {b}-{suffix}" for i, (a, b) in enumerate(pairs)]
    symbols = ", ".join(f"{i}: '{s}'" for i, s in enumerate(LBL_SYMBOLS))
    lines += ["", "number_of_levels = 1", "", "level[0] = 1", "", f"symbols[0] = {{{symbols}}}", ""]
    for c, rows in enumerate(channel_rows):
        for a, b, label in rows:
            probs = ", ".join("1.0" if s == label else "0.0" for s in LBL_SYMBOLS)
            lines.append(f"label = {{0, 0, {a:.4f}, {b:.4f}, {c}, [{probs}]}}")
    return "\n".join(lines) + "\n"


def _csv_text(stem, duration, named_rows):
    head = (f"# version = csv_v1.0.0\n# bname = {stem}\n# duration = {duration:.2f} secs\n"
            "# montage_file = $NEDC_NFC/lib/nedc_eas_default_montage.txt\n#\n"
            "channel,start_time,stop_time,label,confidence\n")
    return head + "".join(f"{ch},{a:.4f},{b:.4f},{lab},1.0000\n" for ch, rows in named_rows for a, b, lab in rows)


def _relative_dir(version, f):
    p = f.patient
    if version.startswith("2."):
        return Path("edf", p.split, p.pid, f"s{f.session:03d}_{f.date.year}", f.montage)
    return Path("edf", p.split, f.montage, p.pid[3:6], p.pid,
                f"s{f.session:03d}_{f.date.year}_{f.date.month:02d}_{f.date.day:02d}")


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
            info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, data)
    Path(path).write_bytes(buffer.getvalue())


def _write_spreadsheet(root, version, files, seizure_rows):
    import openpyxl  # deferred: only the v1.x spreadsheets need it

    fixed = datetime.datetime(2020, 1, 1)
    wb = openpyxl.Workbook()
    wb.properties.creator = "kerasseizure"
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.remove(wb.active)
    splits = ("train", "dev_test") if version == "1.4.0" else ("train", "dev")
    prefix = "./edf/" if version == "1.4.0" else "./"
    for split in splits:
        ws = wb.create_sheet(split)
        ws.append(list(_SPREADSHEET_HEADER))
        ws.append([None] * 12 + ["Start", "Stop", None])
        row_no, file_no, total, total_dur, with_seiz = 0, 0, 0, 0.0, 0
        for f, rel in files:
            if f.patient.split != split:
                continue
            file_no += 1
            p = f.patient
            meta = [file_no, p.pid, f"s{f.session:03d}", f"t{f.token:03d}",
                    "EMU" if p.types[0] in ("absz", "mysz") else "Inpatient",
                    "EMU" if p.types[0] in ("absz", "mysz") else "General",
                    "LTM" if f.duration > 3600 else "Routine", p.sex, p.age, "Temple University Hospital"]
            rows = seizure_rows.get(f.stem, [])
            if not rows:
                row_no += 1
                ws.append([row_no] + meta + [None, None, None, None])
            else:
                with_seiz += 1
            for r in rows:
                row_no += 1
                total += 1
                total_dur += r["stop"] - r["start"]
                ws.append([row_no] + meta + [prefix + rel.with_suffix(".tse").relative_to("edf").as_posix(),
                                             r["start"], r["stop"], r["label"].upper()])
        if version == "1.4.0":  # v31r closes each sheet with summary rows
            ws.append(["Total number of seizures:", total])
            ws.append(["Total duration of seizures (secs):", round(total_dur, 4)])
            ws.append(["Total number of files:", file_no])
            ws.append(["Total number of files with seizures:", with_seiz])
    name = "seizures_v31r.xlsx" if version == "1.4.0" else "seizures_v36r.xlsx"
    path = root / "_DOCS" / name
    with atomic_path(path) as tmp:
        wb.save(tmp)
        _normalise_xlsx(tmp)
    return path
