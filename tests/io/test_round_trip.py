"""Synthetic corpora read back through the readers give exactly what was generated."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kerasseizure.errors import CorpusError
from kerasseizure.io.hms import HMSDataset
from kerasseizure.io.labels import HMS_CLASSES, HMS_VOTE_COLUMNS
from kerasseizure.io.synthetic import load_truth
from kerasseizure.io.tusz import TUSZCorpus


@pytest.fixture(scope="module", params=["2.0.3", "1.5.2", "1.4.0"])
def tusz(request):
    """The shared "tests" corpus of each layout version (tests/corpora.py), read back."""
    root = request.getfixturevalue({"2.0.3": "tusz_v2_root", "1.5.2": "tusz_v152_root",
                                    "1.4.0": "tusz_v140_root"}[request.param])
    return TUSZCorpus(root), load_truth(root)


def _relative(frame, root):
    return frame.assign(edf_path=[os.path.relpath(p, root) for p in frame["edf_path"]])


def test_tusz_seizures_round_trip_exactly(tusz):
    corpus, truth = tusz
    got = _relative(corpus.seizures, corpus.root)
    columns = ["edf_path", "patient_id", "session", "token", "split", "label"]
    got = got[columns + ["start", "stop"]].sort_values(["edf_path", "start"]).reset_index(drop=True)
    expected = truth["seizures"][columns + ["start", "stop"]].sort_values(["edf_path", "start"])
    expected = expected.reset_index(drop=True)
    pd.testing.assert_frame_equal(got[columns], expected[columns], check_dtype=False)
    # Annotation files carry 4 decimals.
    np.testing.assert_allclose(got[["start", "stop"]], expected[["start", "stop"]], atol=5e-5)


def test_tusz_recordings_round_trip_with_patients_rates_and_montage_folders(tusz):
    corpus, truth = tusz
    got = _relative(corpus.recordings, corpus.root).set_index("edf_path").sort_index()
    expected = truth["recordings"].set_index("edf_path").sort_index()
    assert got.index.tolist() == expected.index.tolist()
    assert (got["patient_id"] == expected["patient_id"]).all()
    assert (got["fs"].astype(float) == expected["fs"].astype(float)).all()
    np.testing.assert_allclose(got["duration"].astype(float), expected["duration"].astype(float))
    assert (("0" + got["montage_kind"].map({"tcp_ar": "1_tcp_ar", "tcp_le": "2_tcp_le",
                                            "tcp_ar_a": "3_tcp_ar_a"})) == expected["montage_kind"]).all()
    assert corpus.version.split(".")[:2] == truth["corpus"]["version"].split(".")[:2]


def test_tusz_read_gives_the_generated_rate_and_seizure_events(tusz):
    corpus, truth = tusz
    row = truth["recordings"].sort_values("n_seizures").iloc[-1]
    recording = corpus.read(Path(corpus.root) / row["edf_path"], montage="tcp20", fs=None)
    assert recording.fs == row["fs"] and recording.signals.shape == (20, row["n_samples"])
    assert recording.patient_id == row["patient_id"]
    expected = truth["seizures"][truth["seizures"]["edf_path"] == row["edf_path"]]
    assert sorted(recording.events["label"]) == sorted(expected["label"])



def test_tusz_recordings_with_17_19_and_21_electrodes_all_give_tcp20(tusz):
    corpus, truth = tusz
    recordings = truth["recordings"].drop_duplicates("n_eeg_channels")
    assert sorted(recordings.n_eeg_channels) == [17, 19, 21]
    for row in recordings.itertuples():
        recording = corpus.read(Path(corpus.root) / row.edf_path, montage="tcp20", fs=None)
        assert recording.signals.shape == (20, row.n_samples)

@pytest.fixture(scope="module")
def hms(hms_root):
    return HMSDataset(hms_root), load_truth(hms_root)


def test_hms_labels_round_trip_exactly(hms):
    dataset, truth = hms
    labels = dataset.labels.set_index("eeg_id").sort_index()
    eegs = truth["eegs"].set_index("eeg_id").sort_index()
    assert labels.index.tolist() == eegs.index.tolist()
    assert (labels["patient_id"] == eegs["patient_id"]).all()
    assert (labels["spectrogram_id"] == eegs["spectrogram_id"]).all()
    assert (labels["votes_per_annotation_max"] == eegs["n_votes"]).all()
    votes = eegs[list(HMS_VOTE_COLUMNS)].to_numpy(float)
    np.testing.assert_allclose(labels[list(HMS_CLASSES)].to_numpy(), votes / votes.sum(1, keepdims=True))


def test_hms_signals_have_the_generated_lengths(hms):
    dataset, truth = hms
    for row in truth["eegs"].itertuples():
        assert dataset.eeg(row.eeg_id).shape == (row.length * 200, 20)
    for row in truth["recordings"].itertuples():
        spectrogram = dataset.spectrogram(row.spectrogram_id, split=row.split)
        assert spectrogram.values.shape == (row.duration // 2, 400)


def test_tusz_partial_copy_reports_the_recordings_it_lacks(tusz_partial_root):
    root = tusz_partial_root
    with pytest.raises(CorpusError):
        TUSZCorpus(root)
    with pytest.warns(UserWarning, match="missing"):
        corpus = TUSZCorpus(root, skip_bad=True)
    truth = load_truth(root)
    recordings, seizures = truth["recordings"], truth["seizures"]
    assert sorted(_relative(corpus.missing, corpus.root).edf_path) == sorted(recordings[recordings.missing].edf_path)
    assert corpus.missing.n_seizures.sum() == seizures.missing.sum() > 0
    got = _relative(corpus.seizures, corpus.root)
    assert sorted(got.edf_path) == sorted(seizures[~seizures.missing].edf_path)
