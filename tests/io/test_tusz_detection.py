"""Detection segments: background and typed seizures tiling whole recordings, on v2.0.x and v1.x layouts."""

import numpy as np
import pytest

from kerasseizure.io.labels import SEIZURE_TYPES
from kerasseizure.io.tusz import TUSZCorpus
from kerasseizure.io.tusz_detection import SEGMENT_COLUMNS, detection_segments, recording_segments


def _overlap(a, b):
    return min(a[1], b[1]) - max(a[0], b[0]) > 1e-9


@pytest.mark.parametrize("root_fixture, splits", [("tusz_v2_root", ("train", "dev", "eval")),
                                                  ("tusz_v152_root", ("train", "dev"))])
def test_segments_tile_each_recording_without_touching_a_seizure(root_fixture, splits, request):
    corpus = TUSZCorpus(request.getfixturevalue(root_fixture))
    segments = detection_segments(corpus, splits, min_background_s=2.0)
    assert list(segments.columns) == SEGMENT_COLUMNS
    recordings = corpus.recordings[corpus.recordings["split"].isin(splits)]
    assert set(segments["edf_path"]) == set(recordings["edf_path"])
    assert set(segments["label"]) <= {"bckg", *SEIZURE_TYPES} and "bckg" in set(segments["label"])
    for _, recording in recordings.iterrows():
        mine = segments[segments["edf_path"] == recording["edf_path"]]
        spans = list(zip(mine["start"], mine["stop"]))
        assert all(0 <= a < b <= recording["duration"] + 1e-9 for a, b in spans)
        assert all(not _overlap(x, y) for i, x in enumerate(spans) for y in spans[i + 1:])  # disjoint
        term = corpus.binary_events(recording)
        seizure_spans = [(a, b) for a, b, label in zip(term["start"], term["stop"], term["label"]) if label == "seiz"]
        typed = corpus.seizures[corpus.seizures["edf_path"] == recording["edf_path"]]
        seizure_spans += list(zip(typed["start"], typed["stop"]))
        background = mine[mine["label"] == "bckg"]
        for span in zip(background["start"], background["stop"]):
            assert span[1] - span[0] >= 2.0
            assert not any(_overlap(span, s) for s in seizure_spans)
        # Every seizure of a kept type is its own segment, with its type.
        kept = typed[typed["label"].isin(SEIZURE_TYPES)]
        got = mine[mine["label"] != "bckg"]
        np.testing.assert_allclose(sorted(zip(got["start"], got["stop"])), sorted(zip(kept["start"], kept["stop"])))
        # What is left out is seizure time of another type or shorter than 2 s of background.
        covered = float((mine["stop"] - mine["start"]).sum())
        assert covered <= recording["duration"] + 1e-6


def test_other_types_are_left_out_not_called_background(tusz_v2_root):
    corpus = TUSZCorpus(tusz_v2_root)
    only_fnsz = detection_segments(corpus, ("train", "dev", "eval"), types=("fnsz",))
    assert set(only_fnsz["label"]) <= {"bckg", "fnsz"}
    others = corpus.seizures[corpus.seizures["label"] != "fnsz"]
    assert len(others)  # the corpus has seizures of other types
    background = only_fnsz[only_fnsz["label"] == "bckg"]
    for path, start, stop in zip(others["edf_path"], others["start"], others["stop"]):
        mine = background[background["edf_path"] == path]
        assert not any(_overlap((start, stop), span) for span in zip(mine["start"], mine["stop"]))


def test_recording_segments_and_bad_splits(tusz_v2_root):
    corpus = TUSZCorpus(tusz_v2_root)
    whole = recording_segments(corpus, ("eval",))
    recordings = corpus.recordings[corpus.recordings["split"] == "eval"]
    assert len(whole) == len(recordings) > 0
    assert (whole["start"] == 0).all()
    np.testing.assert_allclose(whole["stop"], recordings["duration"])
    with pytest.raises(ValueError, match="unknown splits"):
        detection_segments(corpus, ("test",))
