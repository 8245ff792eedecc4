"""Seizure event files for detection scoring: SzCORE's `*_events.tsv` and TUSZ's `.csv_bi` / `.tse_bi`.

A detector's output and its reference are lists of seizure events per recording plus the
recording's duration (`RecordingEvents`); `kerasseizure.evaluation.events` scores them.

- `*_events.tsv` is the BIDS / HED-SCORE events file that SzCORE uses (esl-epfl `epilepsy2bids`
  `Annotations.saveTsv` / `loadTsv`): tab-separated columns onset, duration, eventType,
  confidence, channels, dateTime, recordingDuration, in this order. eventType is `bckg` or a
  seizure type of the HED-SCORE vocabulary (`sz`, or `sz_` followed by the type: `sz_foc_ia`,
  `sz_gen_m_tonicClonic`, ...); dateTime is `%Y-%m-%d %H:%M:%S`; `n/a` stands for a missing
  confidence, channel list or dateTime. A recording without seizures is one `bckg` row spanning
  it, since recordingDuration only travels on rows. epilepsy2bids writes times with 2 decimals;
  we write 4, as TUSZ times have 4 (both read back the same way).
- `.csv_bi` (TUSZ v2.0.x) and `.tse_bi` (v1.x) are read with the TUSZ parsers of
  `kerasseizure.io.tusz_annotations`; their rows tile the recording, so the `# duration` header
  (or the last row's stop) is the recording's duration. `write_csv_bi` writes the v2.0.x layout
  (DESIGN.md section 4) with 4-decimal times and duration, so the last row ends exactly at the
  header's duration.

Folders of such files are paired by recording name (`event_file_key`: the file name without
`.csv_bi`, `.tse_bi` or `_events.tsv`), so a TUSZ reference may be scored against `_events.tsv`
hypotheses. Malformed files raise `AnnotationError` naming the file and the line; bad arguments
raise `ScoringError`. Writers are atomic.
"""

import datetime
import math
import os
from dataclasses import dataclass
from pathlib import Path

from kerasseizure.errors import AnnotationError, CorpusError, ScoringError
from kerasseizure.files import atomic_write_text
from kerasseizure.io.edf import TIME_TOLERANCE_S
from kerasseizure.io.tusz_annotations import (
    BACKGROUND,
    CSV_COLUMNS,
    CSV_DURATION_TOLERANCE_S,
    CSV_VERSION,
    _parse_time,
    _read_lines,
    read_tse_bi,
    read_tusz_csv,
)

EVENTS_TSV_COLUMNS = ("onset", "duration", "eventType", "confidence", "channels", "dateTime",
                      "recordingDuration")
TSV_BACKGROUND = "bckg"
TSV_SEIZURE = "sz"  # HED-SCORE "Unclassified-epileptic-seizure"
TSV_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
NOT_AVAILABLE = "n/a"
TUSZ_SEIZURE = "seiz"
# TUSZ seizure labels as HED-SCORE eventTypes, as epilepsy2bids converts TUSZ (load_annotations/tuh.py).
HED_SCORE_TYPES = {"seiz": "sz", "fnsz": "sz_foc", "gnsz": "sz_gen", "spsz": "sz_foc_a", "cpsz": "sz_foc_ia",
                   "absz": "sz_gen_nm", "tnsz": "sz_gen_m_tonic", "cnsz": "sz_gen_m_clonic",
                   "tcsz": "sz_gen_m_tonicClonic", "atsz": "sz_gen_m_atonic", "mysz": "sz_gen_nm_myoclonic"}
# The montage line of real v2.0.x files (a .csv_bi names it although TERM rows use no channel).
CSV_MONTAGE_FILE = "$NEDC_NFC/lib/nedc_eas_default_montage.txt"
EVENT_FILE_SUFFIXES = (".csv_bi", ".tse_bi", "_events.tsv")
TIME_DECIMALS = 4


@dataclass(frozen=True)
class Event:
    """One annotated event of a recording, in seconds from the recording's start.

    Args:
        onset: start time in seconds, >= 0.
        duration: length in seconds, > 0.
        label: what the event is (`seiz` in TUSZ binary files, `sz` or `sz_*` in SzCORE files).
        confidence: in [0, 1], or None when the file gives none (`n/a`).
    """

    onset: float
    duration: float
    label: str = TUSZ_SEIZURE
    confidence: object = 1.0

    def __post_init__(self):
        object.__setattr__(self, "onset", _finite(self.onset, "onset"))
        object.__setattr__(self, "duration", _finite(self.duration, "duration"))
        if self.onset < 0:
            raise ScoringError(f"event onset {self.onset:g} s is negative")
        if self.duration <= 0:
            raise ScoringError(f"event duration {self.duration:g} s is not positive (onset {self.onset:g} s)")
        if self.confidence is not None:
            confidence = _finite(self.confidence, "confidence")
            if not 0 <= confidence <= 1:
                raise ScoringError(f"event confidence {confidence:g} is not in [0, 1]")
            object.__setattr__(self, "confidence", confidence)

    @property
    def stop(self):
        """End time in seconds (onset + duration)."""
        return self.onset + self.duration


def _finite(value, what):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ScoringError(f"event {what} {value!r} is not a number") from None
    if not math.isfinite(number):
        raise ScoringError(f"event {what} {value!r} is not finite")
    return number


@dataclass(frozen=True)
class RecordingEvents:
    """The seizure events of one recording and the recording's duration.

    Args:
        events: Event objects (stored as a tuple in onset order); background is what they leave.
        duration: recording length in seconds; no event may end after it.
        path: the file read, if any.
        date_time: start of the recording (events.tsv `dateTime`), if known.
    """

    events: tuple
    duration: float
    path: object = None
    date_time: object = None

    def __post_init__(self):
        duration = _finite(self.duration, "recording duration")
        if duration <= 0:
            raise ScoringError(f"recording duration {duration:g} s is not positive")
        events = tuple(self.events)
        for event in events:
            if not isinstance(event, Event):
                raise ScoringError(f"expected Event objects, got {type(event).__name__}")
            if event.stop > duration + TIME_TOLERANCE_S:
                raise ScoringError(f"event {event.onset:g}-{event.stop:g} s ends after the end of the "
                                   f"recording at {duration:g} s")
        object.__setattr__(self, "duration", duration)
        object.__setattr__(self, "events", tuple(sorted(events, key=lambda e: (e.onset, e.stop))))
        if self.path is not None:
            object.__setattr__(self, "path", os.fspath(self.path))


def is_seizure_event_type(event_type):
    """True for an events.tsv seizure eventType: `sz` or `sz_<type>` of the HED-SCORE vocabulary."""
    return event_type == TSV_SEIZURE or event_type.startswith(TSV_SEIZURE + "_")


# ------------------------------------------------------------------------------------ events.tsv

def read_events_tsv(path):
    """Read a BIDS / HED-SCORE `*_events.tsv` file (the SzCORE format).

    Columns are found by name; every row must give the same recordingDuration. `bckg` rows are
    dropped; `n/a` confidence or dateTime become None.

    Args:
        path: the file.

    Returns:
        RecordingEvents with the seizure rows as Events (label = eventType).
    """
    path = os.fspath(path)
    lines = _read_lines(path)
    header = [name.strip() for name in lines[0].split("\t")]
    missing = [name for name in EVENTS_TSV_COLUMNS if name not in header]
    if missing:
        raise AnnotationError(path, f"line 1: missing column(s) {', '.join(missing)} (expected the "
                                    f"tab-separated columns {', '.join(EVENTS_TSV_COLUMNS)})")
    events, duration, date_time, duration_line = [], None, None, None
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != len(header):
            raise AnnotationError(path, f"line {number}: {len(fields)} tab-separated fields, the header "
                                        f"has {len(header)}")
        row = dict(zip(header, (field.strip() for field in fields)))
        event, row_duration, row_date_time = _parse_tsv_row(path, number, row)
        if duration is None:
            duration, duration_line, date_time = row_duration, number, row_date_time
        elif abs(row_duration - duration) > TIME_TOLERANCE_S:
            raise AnnotationError(path, f"line {number}: recordingDuration {row_duration:g} s differs from "
                                        f"{duration:g} s on line {duration_line}")
        if event.stop > row_duration + TIME_TOLERANCE_S:
            raise AnnotationError(path, f"line {number}: event ends at {event.stop:g} s, after the end of "
                                        f"the recording at {row_duration:g} s")
        if is_seizure_event_type(event.label):
            events.append(event)
    if duration is None:
        raise AnnotationError(path, "no rows after the header, so the recording's duration is unknown "
                                    "(a recording without seizures has one bckg row)")
    return RecordingEvents(events, duration, path=path, date_time=date_time)


def _parse_tsv_row(path, number, row):
    """(Event, recordingDuration, dateTime or None) of one events.tsv row."""
    event_type = row["eventType"]
    if event_type != TSV_BACKGROUND and not is_seizure_event_type(event_type):
        raise AnnotationError(path, f"line {number}: unknown eventType {event_type!r} (expected "
                                    f"{TSV_BACKGROUND!r}, {TSV_SEIZURE!r} or a HED-SCORE seizure type "
                                    f"'{TSV_SEIZURE}_...')")
    onset = _parse_time(path, number, row["onset"], "onset")
    duration = _parse_time(path, number, row["duration"], "duration")
    if duration <= 0:
        raise AnnotationError(path, f"line {number}: duration {row['duration']!r} is not positive")
    recording_duration = _parse_time(path, number, row["recordingDuration"], "recordingDuration")
    if recording_duration <= 0:
        raise AnnotationError(path, f"line {number}: recordingDuration {row['recordingDuration']!r} "
                                    "is not positive")
    confidence = None
    if row["confidence"] != NOT_AVAILABLE:
        confidence = _parse_time(path, number, row["confidence"], "confidence")
        if confidence > 1:
            raise AnnotationError(path, f"line {number}: confidence {row['confidence']!r} is not in [0, 1]")
    date_time = None
    if row["dateTime"] != NOT_AVAILABLE:
        try:
            date_time = datetime.datetime.strptime(row["dateTime"], TSV_DATETIME_FORMAT)
        except ValueError:
            raise AnnotationError(path, f"line {number}: dateTime {row['dateTime']!r} is not "
                                        "'YYYY-MM-DD hh:mm:ss' or 'n/a'") from None
    return Event(onset, duration, event_type, confidence), recording_duration, date_time


def write_events_tsv(path, events, duration, date_time=None, event_type=None):
    """Write seizure events as a BIDS / HED-SCORE `*_events.tsv` file (atomically).

    Args:
        path: the file to write (name it `<recording>_events.tsv` to be found by `find_event_files`).
        events: Event objects (seizures).
        duration: recording length in seconds (the recordingDuration column).
        date_time: recording start (datetime) or None (`n/a`).
        event_type: eventType of every row; None keeps each event's label when it is a HED-SCORE
            seizure type (`sz`, `sz_*`) and writes `sz` otherwise (e.g. for TUSZ `seiz`).

    Returns:
        The RecordingEvents written.
    """
    if event_type is not None and not is_seizure_event_type(event_type):
        raise ScoringError(f"event_type {event_type!r} is not a HED-SCORE seizure type ('sz' or 'sz_...')")
    recording = RecordingEvents(events, duration, path=path, date_time=date_time)
    stamp = date_time.strftime(TSV_DATETIME_FORMAT) if date_time is not None else NOT_AVAILABLE
    rows = [(event.onset, event.duration, event_type or _tsv_type(event.label), event.confidence)
            for event in recording.events] or [(0.0, recording.duration, TSV_BACKGROUND, None)]
    lines = ["\t".join(EVENTS_TSV_COLUMNS)]
    for onset, length, kind, confidence in rows:
        confidence_text = NOT_AVAILABLE if confidence is None else f"{confidence:.{TIME_DECIMALS}f}"
        lines.append("\t".join((_time(onset), _time(length), kind, confidence_text, NOT_AVAILABLE, stamp,
                                _time(recording.duration))))
    atomic_write_text(path, "\n".join(lines) + "\n")
    return recording


def _tsv_type(label):
    return label if is_seizure_event_type(label) else TSV_SEIZURE


def _time(seconds):
    return f"{seconds:.{TIME_DECIMALS}f}"


# ------------------------------------------------------------------------------- TUSZ files

def write_csv_bi(path, events, duration, bname=None):
    """Write seizure events as a TUSZ v2.0.x `.csv_bi` file (atomically).

    TERM rows tile the recording: `seiz` for the events (overlapping or touching ones merged,
    as NEDC's loader merges consecutive same-label rows, keeping the first confidence), `bckg`
    between them. Times and the `# duration` header have 4 decimals.

    Args:
        path: the file to write.
        events: Event objects (seizures; their labels are written as `seiz`).
        duration: recording length in seconds.
        bname: the `# bname` header (default: the file name without its suffix).

    Returns:
        The RecordingEvents written.
    """
    recording = RecordingEvents(events, duration, path=path)
    end = round(recording.duration, TIME_DECIMALS)
    seizures = []
    for event in recording.events:
        onset, stop = round(event.onset, TIME_DECIMALS), min(round(event.stop, TIME_DECIMALS), end)
        if seizures and onset <= seizures[-1][1]:
            seizures[-1][1] = max(seizures[-1][1], stop)
        elif stop > onset:
            seizures.append([onset, stop, 1.0 if event.confidence is None else event.confidence])
        else:
            raise ScoringError(f"event {event.onset:g}-{event.stop:g} s is shorter than the "
                               f"{10.0 ** -TIME_DECIMALS:g} s precision of a .csv_bi file")
    rows, time = [], 0.0
    for onset, stop, confidence in seizures:
        if onset > time:
            rows.append((time, onset, BACKGROUND, 1.0))
        rows.append((onset, stop, TUSZ_SEIZURE, confidence))
        time = stop
    if time < end:
        rows.append((time, end, BACKGROUND, 1.0))
    name = bname if bname is not None else Path(path).name.split(".")[0]
    header = [CSV_VERSION, f"# bname = {name}", f"# duration = {_time(end)} secs",
              f"# montage_file = {CSV_MONTAGE_FILE}", "#", ",".join(CSV_COLUMNS)]
    body = [f"TERM,{_time(a)},{_time(b)},{label},{p:.{TIME_DECIMALS}f}" for a, b, label, p in rows]
    atomic_write_text(path, "\n".join(header + body) + "\n")
    return recording


def _seizures_of(frame):
    """Events of the `seiz` rows of a binary TUSZ table (start, stop, label, probability)."""
    rows = frame[frame["label"] == TUSZ_SEIZURE]
    return [Event(start, stop - start, TUSZ_SEIZURE, probability)
            for start, stop, probability in zip(rows["start"], rows["stop"], rows["probability"])]


def read_seizure_events(path):
    """Read the seizure events of one recording from a `.csv_bi`, `.tse_bi` or `*_events.tsv` file.

    The TUSZ files are parsed by `read_tusz_csv` / `read_tse_bi`; their duration is the csv's
    `# duration` header (else the last row's stop) or the .tse_bi's last stop, since the rows tile
    the recording.

    Args:
        path: the file; its suffix picks the format.

    Returns:
        RecordingEvents.
    """
    path = os.fspath(path)
    name = os.path.basename(path)
    if name.endswith(".csv_bi"):
        annotation = read_tusz_csv(path, binary=True)
        frame = annotation.events
        duration = annotation.duration if annotation.duration is not None else float(frame["stop"].max())
    elif name.endswith(".tse_bi"):
        frame = read_tse_bi(path)
        duration = float(frame["stop"].max())
    elif name.endswith(".tsv"):
        return read_events_tsv(path)
    else:
        raise AnnotationError(path, "not a seizure event file (expected .csv_bi, .tse_bi or *_events.tsv)")
    return RecordingEvents(_seizures_of(frame), duration, path=path)


def hypothesis_events(reference, hypothesis, tolerance=CSV_DURATION_TOLERANCE_S):
    """The hypothesis's events on its reference's time line, once both are checked to be one recording.

    The two files must give the same recording duration within `tolerance` (a `.csv_bi` header has
    2 or 4 decimals, an events.tsv any); hypothesis events are clipped to the reference's end.

    Args:
        reference: RecordingEvents of the reference.
        hypothesis: RecordingEvents of the hypothesis.
        tolerance: largest duration difference accepted, in seconds.

    Returns:
        tuple of Event.
    """
    if abs(hypothesis.duration - reference.duration) > tolerance:
        raise AnnotationError(hypothesis.path or "hypothesis",
                              f"the recording lasts {hypothesis.duration:g} s here but "
                              f"{reference.duration:g} s in its reference {reference.path or ''}".rstrip())
    return tuple(Event(event.onset, min(event.stop, reference.duration) - event.onset, event.label,
                       event.confidence)
                 for event in hypothesis.events if event.onset < reference.duration)


# --------------------------------------------------------------------------- folders of files

def event_file_key(path):
    """The recording name of an event file: its name without `.csv_bi`, `.tse_bi` or `_events.tsv`.

    Returns:
        The name, or None if the file is not an event file.
    """
    name = os.path.basename(os.fspath(path))
    for suffix in EVENT_FILE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[:-len(suffix)]
    return None


def recording_subject(key):
    """The subject of a recording name: its first '_' field (TUSZ patient id, BIDS `sub-<label>`)."""
    return key.split("_", 1)[0]


def find_event_files(folder):
    """Event files under `folder` (searched recursively), keyed by recording name.

    Args:
        folder: the folder.

    Returns:
        {recording name: Path}, sorted by name.
    """
    found = {}
    for path in sorted(Path(folder).rglob("*")):
        key = event_file_key(path)
        if key is None or not path.is_file():
            continue
        if key in found:
            raise CorpusError(f"{folder}: two event files for recording {key!r}: {found[key]} and {path}")
        found[key] = path
    return dict(sorted(found.items()))


def pair_event_files(reference_dir, hypothesis_dir):
    """Pair the event files of a reference and a hypothesis folder by recording name.

    A reference without a hypothesis file is paired with None (an empty hypothesis); a hypothesis
    without a reference is an error, as it cannot be scored.

    Args:
        reference_dir: folder of reference files.
        hypothesis_dir: folder of hypothesis files.

    Returns:
        [(recording name, reference Path, hypothesis Path or None)] sorted by name.
    """
    references, hypotheses = find_event_files(reference_dir), find_event_files(hypothesis_dir)
    if not references:
        raise CorpusError(f"{reference_dir}: no event files (.csv_bi, .tse_bi or *_events.tsv)")
    orphans = [path for key, path in hypotheses.items() if key not in references]
    if orphans:
        more = f" ({len(orphans) - 1} more hypothesis files have none)" if len(orphans) > 1 else ""
        raise AnnotationError(orphans[0], f"no reference file for this recording in {reference_dir}{more}")
    return [(key, path, hypotheses.get(key)) for key, path in references.items()]
