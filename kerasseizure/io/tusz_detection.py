"""Seizure detection on whole TUSZ recordings: labelled segments of background and seizure.

The type benchmark (`TUSZCorpus.benchmark_seizures`) cuts seizures only. A detector learns from
whole recordings, so `detection_segments` tiles each recording of the chosen splits into
labelled pieces: every seizure of a kept type as its own segment (label = its type, from the
.csv / .tse), and background ("bckg") wherever the term-level annotation (.csv_bi / .tse_bi) and
the typed events both say there is no seizure. Time that one annotation marks as seizure and the
other does not (a seizure of a type left out, or the two files disagreeing by a fraction of a
second) belongs to neither class and is left out. `recording_segments` gives one segment per
whole recording, for scoring a detector on the recording's own window grid.

Both return tables in the layout of `TUSZCorpus.seizures` (patient_id, session, token,
edf_path, start, stop, label, split), which `pipelines.build_tusz_features(..., segments=...)`
windows like benchmark seizures. See docs/detection.md ("Detection data").
"""

import numpy as np
import pandas as pd

from kerasseizure.io.labels import SEIZURE_TYPES
from kerasseizure.io.tusz_annotations import BACKGROUND

__all__ = ["DETECTION_SPLITS", "SEGMENT_COLUMNS", "detection_segments", "recording_segments"]

# The v2.0.x release's patient-disjoint splits (v1.x: train and dev / dev_test).
DETECTION_SPLITS = ("train", "dev", "dev_test", "eval")
SEGMENT_COLUMNS = ["patient_id", "session", "token", "edf_path", "start", "stop", "label", "split"]


def _complement(duration, spans):
    """[start, stop) pieces of [0, duration) outside every span of `spans`."""
    pieces, position = [], 0.0
    for start, stop in sorted(spans):
        if start > position:
            pieces.append((position, min(start, duration)))
        position = max(position, stop)
    if position < duration:
        pieces.append((position, duration))
    return [(a, b) for a, b in pieces if b > a]


def _selected_recordings(corpus, splits):
    splits = tuple(splits)
    unknown = sorted(set(splits) - set(DETECTION_SPLITS))
    if unknown:
        raise ValueError(f"unknown splits {unknown}; expected some of {DETECTION_SPLITS}")
    return corpus.recordings[corpus.recordings["split"].isin(splits)]


def detection_segments(corpus, splits=("train",), types=SEIZURE_TYPES, min_background_s=2.0):
    """Background and seizure segments tiling the recordings of `splits` (see the module docstring).

    Args:
        corpus: a `TUSZCorpus`.
        splits: release splits whose recordings are used. Defaults to ("train",).
        types: seizure types kept as their own class; the time of any other seizure is left out.
            Defaults to the seven benchmark types.
        min_background_s: background pieces shorter than this are dropped (they hold no whole
            window, or only windows next to a seizure boundary). Defaults to 2.0.

    Returns:
        DataFrame of SEGMENT_COLUMNS, in recording order then time order; label is "bckg" or a type.
    """
    types = tuple(t.lower() for t in types)
    recordings = _selected_recordings(corpus, splits)
    seizures = corpus.seizures.groupby("edf_path")
    rows = []
    for _, recording in recordings.iterrows():
        path = recording["edf_path"]
        typed = seizures.get_group(path) if path in seizures.groups else corpus.seizures.iloc[:0]
        term = corpus.binary_events(recording)
        seizure_spans = [(float(a), float(b)) for a, b in zip(typed["start"], typed["stop"])]
        seizure_spans += [(float(a), float(b)) for a, b, label in zip(term["start"], term["stop"], term["label"])
                          if label != BACKGROUND]
        pieces = [(a, b, BACKGROUND) for a, b in _complement(float(recording["duration"]), seizure_spans)
                  if b - a >= min_background_s]
        pieces += [(float(a), float(b), label) for a, b, label in zip(typed["start"], typed["stop"], typed["label"])
                   if label in types]
        for start, stop, label in sorted(pieces):
            rows.append({**{key: recording[key] for key in ("patient_id", "session", "token", "edf_path", "split")},
                         "start": start, "stop": stop, "label": label})
    return pd.DataFrame(rows, columns=SEGMENT_COLUMNS)


def recording_segments(corpus, splits=("eval",)):
    """One segment [0, duration) per recording of `splits`, labelled "bckg" (a placeholder: the
    windows of a whole recording are scored against its event files, not against this label).

    Args:
        corpus: a `TUSZCorpus`.
        splits: release splits. Defaults to ("eval",).

    Returns:
        DataFrame of SEGMENT_COLUMNS, one row per recording.
    """
    recordings = _selected_recordings(corpus, splits)
    out = recordings[["patient_id", "session", "token", "edf_path", "split"]].copy()
    out["start"] = 0.0
    out["stop"] = recordings["duration"].to_numpy(np.float64)
    out["label"] = BACKGROUND
    return out[SEGMENT_COLUMNS].reset_index(drop=True)
