"""Parsers for the TUSZ annotation formats: .tse/.tse_bi, .lbl/.lbl_bi (v1.x), .csv/.csv_bi (v2.0.x).

The readers follow the files as released (see docs/tusz.md, "Annotation files as published"):
blank lines, CRLF line ends and irregular spacing are accepted, and the blocks of a .lbl file may
come in any order, as NEDC's own parser allows. Whatever the format cannot mean (a wrong version
line, an unparsable number, an unknown label, two labels on one channel at the same time...)
raises `AnnotationError` naming the file, the line and the problem. No parser reads a signal;
times are seconds from the start of the recording.
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
LBL_COLUMNS = ["channel_index", "channel", "level", "sublevel", "start", "stop", "label", "probability"]

# The csv header prints the EDF's duration (whole 1 s data records) with 2 decimals in v2.0.x and
# 4 in files of newer NEDC tools, so an honest header is off by at most 0.005 s; 0.01 s adds room
# for float rounding and still catches any real disagreement (the smallest is one record, 1 s).
CSV_DURATION_TOLERANCE_S = 0.01


def _read_lines(path):
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise AnnotationError(path, "annotation file not found")
    with open(path, encoding="utf-8", errors="replace") as handle:
        lines = handle.read().splitlines()  # also splits CRLF
    if not any(line.strip() for line in lines):
        raise AnnotationError(path, "empty annotation file")
    return lines


def _squeeze(text):
    return "".join(text.split())


def _version_line(path, lines, expected):
    """Index of the first non-blank line, which must be `expected` up to spacing.

    Real .lbl files begin with an empty line, so blank lines before the version are skipped.
    """
    index = next(i for i, line in enumerate(lines) if line.strip())
    if _squeeze(lines[index]) != _squeeze(expected):
        raise AnnotationError(path, f"line {index + 1}: found {lines[index].strip()!r}, expected {expected!r}")
    return index


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


def _check_channel_conflicts(path, events, line_numbers, group_columns):
    """Refuse two different labels on one channel at the same time.

    A channel carries one label at a time: consecutive events touch exactly at a boundary, and
    TUSZ v2.0.1 corrected the few same-channel overlaps left by the annotation tool. Two labels
    (two seizure types, or a seizure and bckg) overlapping by more than TIME_TOLERANCE_S are
    therefore a damaged file. Overlapping rows with the same label are harmless and left alone.
    """
    frame = events.assign(line_number=line_numbers)
    for _, group in frame.groupby(group_columns, sort=False):
        active = []
        for row in group.sort_values(["start", "stop"], kind="stable").itertuples(index=False):
            active = [other for other in active if other.stop > row.start + TIME_TOLERANCE_S]
            for other in active:
                if other.label != row.label:
                    raise AnnotationError(
                        path, f"line {row.line_number}: {row.label!r} on channel {row.channel} from "
                              f"{row.start:g} s to {row.stop:g} s overlaps {other.label!r} of line "
                              f"{other.line_number} ({other.start:g} s to {other.stop:g} s); a channel "
                              "carries one label at a time")
            active.append(row)


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
    first = _version_line(path, lines, TSE_VERSION)
    events, line_numbers = [], []
    for number, line in enumerate(lines[first + 1:], start=first + 2):
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

    def seizures(self):
        """Term-level seizures: the union over channels, as the matching .tse lists them.

        Returns:
            DataFrame start, stop, label, n_channels (see `merge_channel_seizures`).
        """
        return merge_channel_seizures(self.events)


# Spacing varies in real files ('montage =  5, F8-T4 : EEG F8-REF  --  EEG T4-REF').
_LBL_MONTAGE = re.compile(r"^montage\s*=\s*(\d+)\s*,\s*([^:]+?)\s*:\s*(.+?)\s*--\s*(.+?)\s*$")
_LBL_SYMBOLS = re.compile(r"^symbols\s*\[\s*(\d+)\s*\]\s*=\s*(\{.*\})\s*$")
# NEDC's parser drops braces before splitting, and its newer writer omits the opening one.
_LBL_LABEL = re.compile(r"^label\s*=\s*\{?(.*?)\[(.*)\]\s*\}?\s*$")
_LBL_LEVELS = re.compile(r"^(number_of_levels|level\s*\[\s*\d+\s*\])\s*=\s*\d+\s*$")


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


def _parse_lbl_label(path, number, head, vector, symbols, montage, allowed):
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
    table = list(symbols[level].values())  # probabilities follow the table's order, as in NEDC's parser
    if len(probabilities) != len(table):
        raise AnnotationError(path, f"line {number}: {len(probabilities)} probabilities for "
                                    f"{len(table)} symbols")
    named = [(table[i], p) for i, p in enumerate(probabilities) if p > 0]
    if len(named) != 1:
        found = ", ".join(label for label, _ in named) or "none"
        raise AnnotationError(path, f"line {number}: expected one label with a positive probability, "
                                    f"found {found}")
    label, probability = named[0]
    _check_label(path, number, label, allowed)
    return (channel_index, montage[channel_index][0], level, sublevel, start, stop, label, probability)


def read_lbl(path, duration=None, labels=TUSZ_LABELS):
    """Read a .lbl or .lbl_bi file into per-channel events.

    Blocks may come in any order and blank lines anywhere; label lines are resolved once the
    whole file has been read.

    Args:
        path: the file.
        duration: recording length in seconds; events past it are an error.
        labels: the labels an event may carry (the symbol table itself names 28, most unused).

    Returns:
        LabelFile (montage block, symbol tables, per-channel events with bckg included).
    """
    path = os.fspath(path)
    lines = _read_lines(path)
    first = _version_line(path, lines, LBL_VERSION)
    montage, symbols, label_lines = {}, {}, []
    for number, raw in enumerate(lines[first + 1:], start=first + 2):
        line = raw.strip()
        if not line or _LBL_LEVELS.match(line):
            continue
        if match := _LBL_MONTAGE.match(line):
            index = int(match.group(1))
            if index in montage:
                raise AnnotationError(path, f"line {number}: channel {index} is defined twice in the "
                                            "montage block")
            montage[index] = (match.group(2).upper(), match.group(3), match.group(4))
        elif match := _LBL_SYMBOLS.match(line):
            symbols[int(match.group(1))] = _parse_lbl_symbols(path, number, match.group(2))
        elif match := _LBL_LABEL.match(line):
            label_lines.append((number, match.group(1), match.group(2)))
        else:
            raise AnnotationError(path, f"line {number}: unrecognised line {line[:80]!r}")
    if not label_lines:
        raise AnnotationError(path, "no label lines")
    rows = [_parse_lbl_label(path, number, head, vector, symbols, montage, labels)
            for number, head, vector in label_lines]
    events = pd.DataFrame(rows, columns=LBL_COLUMNS)
    check_within_duration(path, events, duration)
    _check_channel_conflicts(path, events, [number for number, _, _ in label_lines],
                             ["level", "sublevel", "channel_index"])
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
    """Header {key: value}, its '# duration' in seconds (or None) and line, and the first line after it."""
    index = _version_line(path, lines, CSV_VERSION)
    header, duration_line = {}, None
    while index < len(lines) and (lines[index].lstrip().startswith("#") or not lines[index].strip()):
        key, _, value = lines[index].strip()[1:].partition("=")
        if value:
            header[key.strip()] = value.strip()
            if key.strip() == "duration":
                duration_line = index + 1
        index += 1
    duration = None
    if duration_line is not None:
        text = header["duration"].split()[0]  # '301.00 secs'
        duration = _parse_time(path, duration_line, text, "duration")
    return header, duration, duration_line, index


def read_tusz_csv(path, duration=None, binary=False):
    """Read a v2 .csv (per-channel events) or .csv_bi (TERM events, seiz/bckg) file.

    Args:
        path: the file.
        duration: recording length in seconds from the EDF header; a '# duration' that disagrees
            with it, or events past it, are an error.
        binary: True for .csv_bi (labels seiz/bckg, channel TERM).

    Returns:
        CSVAnnotation.
    """
    path = os.fspath(path)
    lines = _read_lines(path)
    header, header_duration, duration_line, index = _parse_csv_header(path, lines)
    if (duration is not None and header_duration is not None
            and abs(header_duration - duration) > CSV_DURATION_TOLERANCE_S):
        raise AnnotationError(path, f"line {duration_line}: '# duration' is {header_duration:g} s but the "
                                    f"recording's EDF header gives {duration:g} s")
    if index >= len(lines) or tuple(f.strip() for f in lines[index].split(",")) != CSV_COLUMNS:
        found = lines[index].strip() if index < len(lines) else "end of file"
        raise AnnotationError(path, f"line {index + 1}: expected the header {','.join(CSV_COLUMNS)!r}, "
                                    f"found {found!r}")
    allowed = BINARY_LABELS if binary else TUSZ_LABELS
    rows, line_numbers = [], []
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
        line_numbers.append(number)
    if not rows:
        raise AnnotationError(path, "no events after the column header")
    events = pd.DataFrame(rows, columns=["channel"] + EVENT_COLUMNS)
    check_within_duration(path, events, header_duration)
    check_within_duration(path, events, duration)
    _check_channel_conflicts(path, events, line_numbers, ["channel"])
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
