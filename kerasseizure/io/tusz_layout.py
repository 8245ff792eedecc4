"""TUSZ tree layouts: which folder layout an EDF path follows, what its folders and name encode,
and which corpus version a tree is.

v1.x: edf/<split>/<montage>/<NNN>/<8-digit patient>/<sSSS_YYYY_MM_DD>/<patient>_sSSS_tTTT.edf;
v2.0.x: edf/<split>/<8-letter patient>/<sSSS_YYYY>/<montage>/<patient>_sSSS_tTTT.edf. The version
comes from the seizure spreadsheet in _DOCS, the splits or a README (docs/tusz.md).
"""

import os
import re

from kerasseizure.errors import CorpusError
from kerasseizure.io.tusz_spreadsheet import SPREADSHEETS

MONTAGE_DIRS = {"01_tcp_ar": "tcp_ar", "02_tcp_le": "tcp_le", "03_tcp_ar_a": "tcp_ar_a"}
SPLITS = ("train", "dev", "dev_test", "eval")

_V1_FILE = re.compile(r"^(\d{8})_(s\d{3})_(t\d{3})$")
_V2_FILE = re.compile(r"^([a-z]{8})_(s\d{3})_(t\d{3})$")
_SESSION_DIR = re.compile(r"^(s\d{3})_(\d{4}(?:_\d{2}_\d{2})?)$")


def _parse_v1(parts):
    """edf/<split>/<montage>/<NNN>/<patient>/<session>/<patient>_<sSSS>_<tTTT>.edf -> fields or problem."""
    split, montage_dir, group, patient, session_dir, file_name = parts
    match = _V1_FILE.match(file_name[:-4])
    if match is None:
        return None, f"file name {file_name!r} is not <8-digit patient>_sNNN_tNNN.edf"
    # v1 groups patients by digits 4-6 of the id: 00000492 -> 004/, 00008512 -> 085/.
    if match.group(1) != patient or group != patient[3:6]:
        return None, f"file name {file_name!r} does not match its folders {group}/{patient}"
    return _common_fields(split, montage_dir, patient, session_dir, match), None


def _parse_v2(parts):
    """edf/<split>/<patient>/<session>/<montage>/<patient>_<sNNN>_<tNNN>.edf -> fields or problem."""
    split, patient, session_dir, montage_dir, file_name = parts
    match = _V2_FILE.match(file_name[:-4])
    if match is None:
        return None, f"file name {file_name!r} is not <8-letter patient>_sNNN_tNNN.edf"
    if match.group(1) != patient:
        return None, f"file name {file_name!r} does not match its patient folder {patient}"
    return _common_fields(split, montage_dir, patient, session_dir, match), None


def _common_fields(split, montage_dir, patient, session_dir, file_match):
    session = _SESSION_DIR.match(session_dir)
    if session is None or session.group(1) != file_match.group(2):
        return None
    return {"patient_id": patient, "session": session.group(1), "date": session.group(2),
            "token": file_match.group(3), "split": split, "montage_kind": MONTAGE_DIRS[montage_dir]}


def classify_edf_path(edf_root, path):
    """Which layout an EDF path follows and the fields its folders and name encode.

    Args:
        edf_root: the corpus' 'edf' folder.
        path: an EDF file below it.

    Returns:
        (layout "v1" | "v2" | None, fields dict or None, problem string or None).
    """
    parts = os.path.relpath(path, edf_root).split(os.sep)
    if parts[0] not in SPLITS:
        return None, None, f"first folder {parts[0]!r} below edf/ is not one of {', '.join(SPLITS)}"
    if len(parts) == 6 and parts[1] in MONTAGE_DIRS:
        fields, problem = _parse_v1(parts)
        layout = "v1"
    elif len(parts) == 5 and parts[3] in MONTAGE_DIRS:
        fields, problem = _parse_v2(parts)
        layout = "v2"
    else:
        return None, None, ("path follows neither edf/<split>/<montage>/NNN/<patient>/<session>/<file> "
                            "(v1.x) nor edf/<split>/<patient>/<session>/<montage>/<file> (v2.0.x)")
    if fields is None and problem is None:
        problem = f"session folder {parts[-2] if layout == 'v1' else parts[2]!r} is not sNNN_YYYY[_MM_DD] " \
                  "matching the file's session"
    return (layout, fields, None) if problem is None else (layout, None, problem)


def _find_edfs(root):
    edf_root = os.path.join(root, "edf")
    if not os.path.isdir(edf_root):
        raise CorpusError(f"{root}: no recognised TUSZ layout: there is no 'edf' folder (expected "
                          "<root>/edf/{train,dev,eval,...}/...)")
    found = []
    for folder, subfolders, files in os.walk(edf_root):
        subfolders.sort()
        found.extend(os.path.join(folder, name) for name in sorted(files) if name.lower().endswith(".edf"))
    if not found:
        raise CorpusError(f"{root}: no recognised TUSZ layout: no .edf files below {edf_root}")
    return edf_root, found


def _readme_version(root, major):
    """A version like '2.0.3' stated in a README at the corpus root, if any."""
    pattern = re.compile(rf"\bv?({major}\.\d+\.\d+)\b")
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if "readme" in name.lower() and os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as handle:
                match = pattern.search(handle.read(8192))
            if match:
                return match.group(1)
    return None


def _detect_version(root, layout, splits):
    """(version string, spreadsheet path or None) from the files of the tree."""
    if layout == "v2":
        return _readme_version(root, 2) or "2.0.x", None
    for name, version in SPREADSHEETS.items():
        path = os.path.join(root, "_DOCS", name)
        if os.path.isfile(path):
            return version, path
    if "dev_test" in splits:
        return "1.4.0", None
    return _readme_version(root, 1) or "1.5.x", None
