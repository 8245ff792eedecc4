"""The on-disk formats of a synthetic TUSZ corpus: EDF files, .tse/.tse_bi/.lbl/.lbl_bi (v1.x)
and .csv/.csv_bi (v2.x) annotations and the folder layouts (the v1.x seizure spreadsheet is in
`tusz_sheet`). Each writer reproduces what the real release files look like, quirks included.
"""

from pathlib import Path

import numpy as np

from kerasseizure.files import atomic_path
from kerasseizure.io.channels import TCP20, TCP22

# The 28-entry .lbl symbol table of TUSZ v1.x (index = position in the one-hot probability vector).
LBL_SYMBOLS = (
    "(null)", "spsw", "gped", "pled", "eybl", "artf", "bckg", "seiz", "fnsz", "gnsz", "spsz", "cpsz",
    "absz", "tnsz", "cnsz", "tcsz", "atsz", "mysz", "nesz", "intr", "slow", "eyem", "chew", "shiv",
    "musc", "elpp", "elst", "calb",
)

_EDF_PHYSICAL = 4999.84   # uV, the range of most TUH EDF files (16-bit, ~0.15 uV resolution)
_DIGITAL = 32767


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


def _lbl_montage_lines(f):
    """`montage = i, FP1-F7: EEG FP1-REF --  EEG F7-REF` lines, padded into columns as in the real
    files (so the spaces around the names vary from line to line)."""
    suffix = "LE" if f.montage == "02_tcp_le" else "REF"
    pairs = _tcp_pairs(f.montage)
    width = max(len(f"EEG {a}-{suffix}") for a, _ in pairs)
    return [f"montage = {i}, {f'{a}-{b}:':<7} {f'EEG {a}-{suffix}':<{width}} --  EEG {b}-{suffix}"
            for i, (a, b) in enumerate(pairs)]


def _lbl_text(f, channel_rows):
    # Real v1.x .lbl files open with an empty line before the version line.
    lines = ["", "version = lbl_v1.0.0", ""] + _lbl_montage_lines(f)
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
