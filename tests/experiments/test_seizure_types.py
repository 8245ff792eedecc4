"""SeizureTypeExperiment's data preparation: features built when a row first needs them."""

import numpy as np
import pytest

from kerasseizure.experiments.seizure_types import Representations, SeizureTypeExperiment

# Shares `tusz_test_dirs` (tests/corpora.py): the same pytest-xdist worker builds it once.
pytestmark = pytest.mark.xdist_group("tusz_test_dirs")


def test_representations_build_each_once_on_first_use():
    built = []
    features = Representations(lambda rep: built.append(rep) or f"{rep} windows")
    assert built == [] and list(features) == ["fft", "ses"] and len(features) == 2
    assert features["ses"] == "ses windows" and features["ses"] == "ses windows"
    assert built == ["ses"]
    with pytest.raises(KeyError):
        features["ses_single"]
    assert dict(features) == {"fft": "fft windows", "ses": "ses windows"} and built == ["ses", "fft"]


def test_a_baseline_row_never_builds_the_ses_features(tusz_test_dirs, tmp_path, monkeypatch):
    import kerasseizure.pipelines as pipelines
    from kerasseizure.experiments.presets import load_preset
    from kerasseizure.experiments.seizure_types import tusz_roots

    real, built = pipelines.build_tusz_features, []

    def recording(corpus, representation, *args, **kwargs):
        built.append(representation)
        return real(corpus, representation, *args, **kwargs)

    monkeypatch.setattr(pipelines, "build_tusz_features", recording)
    settings = load_preset("test").table1
    roots, _ = tusz_roots(settings, 0, synthetic_dir=tusz_test_dirs["synthetic"], log=lambda message: None)
    experiment = SeizureTypeExperiment(settings, {"1.5.2": roots["1.5.2"]}, 0, tmp_path / "results").prepare()
    results = experiment.run_row("k-NN")
    assert built == ["fft"] and set(results) == {"seizure-wise-v1.5.2", "patient-wise-v1.5.2"}


def test_truth_gives_each_window_its_type_where_the_simulated_seizure_shows():
    from types import SimpleNamespace

    import pandas as pd

    from kerasseizure.experiments.tusz import truth_probabilities

    seizures = pd.DataFrame({"edf_path": ["/c/a.edf", "/c/a.edf"], "start": [10.0, 50.00004]})
    # seizure 0: annotated from 10 s, simulated 11.2-14 s; seizure 1: annotated from 50 s, simulated 50-52 s
    activity = pd.DataFrame({"edf_path": ["/c/a.edf", "/c/a.edf"], "start": [10.0, 50.0], "stop": [15.0, 53.0],
                             "label": ["fnsz", "gnsz"], "signal_onset": [11.2, 50.0], "signal_offset": [14.0, 52.0]})
    starts = [10.0, 10.5, 10.75, 13.25, 13.5, 50.0, 51.5]
    windows = pd.DataFrame({"seizure": [0, 0, 0, 0, 0, 1, 1], "start_seconds": starts,
                            "label_index": [1, 1, 1, 1, 1, 2, 2]})
    features = SimpleNamespace(windows=windows, seizures=seizures, classes=["a", "b", "c"],
                               config={"params": {"wl": 1.0}})
    probs = truth_probabilities(features, np.arange(7), activity, fallback=0)
    # a 1-s window counts when at least half of it lies inside the simulated activity
    assert probs.argmax(axis=1).tolist() == [0, 0, 1, 1, 1, 2, 2] and (probs.sum(axis=1) == 1).all()
    with pytest.raises(ValueError, match="no simulated activity"):
        truth_probabilities(features, np.arange(7), activity.iloc[:1], fallback=0)


def test_the_corpus_truth_covers_every_benchmark_seizure(tusz_v152_root):
    from kerasseizure.io.synthetic import simulated_seizure_activity
    from kerasseizure.io.tusz import TUSZCorpus

    activity = simulated_seizure_activity(tusz_v152_root)
    seizures = TUSZCorpus(tusz_v152_root).seizures
    known = {(path, round(start, 2)) for path, start in zip(activity["edf_path"], activity["start"])}
    assert {(str(path), round(float(start), 2)) for path, start in zip(seizures["edf_path"], seizures["start"])} <= known
    # the activity and its annotation overlap, but neither need contain the other
    assert ((activity["signal_onset"] < activity["stop"]) & (activity["signal_offset"] > activity["start"])).all()
    with pytest.raises(FileNotFoundError):
        simulated_seizure_activity(tusz_v152_root / "edf")
