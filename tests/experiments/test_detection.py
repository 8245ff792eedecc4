"""The detection experiment's pieces: configs, events from probabilities, threshold choice, scoring."""

import numpy as np
import pytest

from kerasseizure.experiments.detection import (
    CLASSES, choose_threshold, detect_from_probabilities, row_configs, score_detections,
)
from kerasseizure.experiments.presets import load_preset
from kerasseizure.experiments.tusz_config import TUSZExperimentConfig
from kerasseizure.io.events import Event, RecordingEvents

SETTINGS = {"window": {"wl": 1.0, "ws": 1.0}, "detector": {"smooth_windows": 1, "min_duration_s": 3.0,
                                                            "thresholds": [0.3, 0.5, 0.7, 0.9]}}


def probabilities(seizure, n_windows):
    """(n, 8) probabilities: p(seizure) in [start, stop) windows as given, on fnsz, else background."""
    p = np.zeros((n_windows, len(CLASSES)))
    p[:, 0] = 1.0
    for (start, stop), value in seizure.items():
        p[start:stop, 0], p[start:stop, 1] = 1.0 - value, value
    return p


def test_row_configs_train_a_detector_teacher_and_student():
    configs = row_configs(load_preset("test").table4, seed=3)
    teacher, student = (TUSZExperimentConfig.from_dict(configs[k]) for k in ("teacher", "student"))
    assert teacher.kind == "ensemble" and student.kind == "distilled" and student.teacher.to_dict() == teacher.to_dict()
    assert teacher.background_ratio == student.background_ratio == 1.0 and teacher.seed == 3
    assert student.model == {"size": "tiny"}


def test_events_from_probabilities_and_scores():
    # 100 s recording, 1 s windows every 1 s: a seizure detected over windows 20-39 at p=0.8, a
    # blip at 60-61 (too short) and a weak one 70-79 at p=0.6.
    probs = probabilities({(20, 40): 0.8, (60, 62): 0.95, (70, 80): 0.6}, 99)
    events = detect_from_probabilities({"rec": probs}, {"rec": 100.0}, SETTINGS, 0.7)["rec"]
    assert len(events) == 1
    assert events[0].onset == pytest.approx(20.5) and events[0].duration == pytest.approx(20.0)
    assert events[0].confidence == pytest.approx(0.8)
    lower = detect_from_probabilities({"rec": probs}, {"rec": 100.0}, SETTINGS, 0.5)["rec"]
    assert len(lower) == 2

    reference = {"aaaaaaaa_s001_t000": RecordingEvents([Event(20.0, 20.0)], 100.0)}
    hypothesis = {"aaaaaaaa_s001_t000": lower}
    scores = score_detections(reference, hypothesis)
    assert set(scores) == {"szcore", "szcore_sample", "ovlp", "taes", "epoch"}
    ovlp = scores["ovlp"]["pooled"]
    assert (ovlp.targets, ovlp.hits, ovlp.false_alarms) == (1, 1, 1)
    assert scores["szcore"]["subject_mean"]["subjects"] == 1
    assert "subject_mean" not in scores["ovlp"]


def test_threshold_is_the_best_dev_f1_with_ties_to_the_higher():
    # SzCORE merges events < 90 s apart: the false alarm at 0.6 lies 260 s after the seizure.
    probs = probabilities({(20, 40): 0.8, (300, 310): 0.6}, 399)
    reference = {"aaaaaaaa_s001_t000": RecordingEvents([Event(20.0, 20.0)], 400.0)}
    threshold, f1 = choose_threshold({"aaaaaaaa_s001_t000": probs}, reference, SETTINGS)
    assert f1[0.3] == f1[0.5] == pytest.approx(2 / 3) and f1[0.7] == 1.0 and f1[0.9] == 0.0
    assert threshold == 0.7
    nothing = {"aaaaaaaa_s001_t000": probabilities({}, 399)}
    assert choose_threshold(nothing, reference, SETTINGS)[0] == 0.9  # F1 0 everywhere: the highest
