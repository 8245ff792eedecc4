"""Table 4 (seizure detection on whole recordings): end to end on the test preset, resumed, scored again.

The test preset trains a tiny teacher and student for one epoch on a small synthetic v2.0.3
corpus; the checks are about the pipeline (artefacts, the int8 student streamed from the EDF
files, detections that `kerasseizure score` scores to the table's numbers, resumption), not about
how well such short runs detect.
"""

import json

import numpy as np
import pandas as pd
import pytest

from kerasseizure.io.events import find_event_files
from reproduce import table4
from tests.reproduce.conftest import check_run_identity


def _run(tmp, results, extra=()):
    return table4.main(["--preset", "test", "--results-dir", str(results), "--synthetic-dir", str(tmp / "syn"),
                        "--quiet", *extra])


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("table4")
    results = tmp / "results"
    return tmp, results, _run(tmp, results)


def test_test_preset_end_to_end(finished):
    tmp, results, table = finished
    assert list(table["model"]) == [*table4.MODELS.values(), table4.TRUTH[1]]
    # the synthetic corpus's truth: its simulated activity finds every annotated seizure, with no false alarm
    truth = table.iloc[3]
    assert truth["szcore/sensitivity"] == 1.0 and truth["szcore/false_alarms"] == 0 and truth["ovlp/f1"] == 1.0
    assert truth["taes/f1"] <= 1.0 and np.isnan(truth["threshold"])
    markdown = (results / "table.md").read_text()
    assert markdown.startswith("**Data: SYNTHETIC corpus**")
    assert "best published detector" in markdown and "0.410" in markdown
    record = json.loads((results / "record.json").read_text())
    assert set(record["thresholds"]) == {"teacher", "student", "student_int8"}
    for chosen in record["thresholds"].values():
        assert chosen["chosen"] in (0.3, 0.5, 0.7) and set(chosen["dev_szcore_f1"]) == {"0.3", "0.5", "0.7"}
    assert record["export"]["passed"] and set(record["realtime_factor"]) == {"whole recording", "1 s chunks"}
    assert all(v > 1 for v in record["realtime_factor"].values())
    assert (results / "figures" / "threshold_choice.png").stat().st_size > 1000
    report = json.loads((results / "export" / "student_int8.tflite.json").read_text())
    assert report["class_names"][0] == "bckg" and report["preprocessing"]["ws"] == 1.0
    # every scorer's pooled counts, and the int8 student has the Keras student's parameters
    csv = pd.read_csv(results / "table.csv")
    for scorer in ("szcore", "szcore_sample", "ovlp", "taes", "epoch"):
        assert csv[f"{scorer}/targets"].notna().all()
    assert csv["parameters"].iloc[1] == csv["parameters"].iloc[2] < csv["parameters"].iloc[0]


def test_detections_are_files_that_kerasseizure_score_scores_the_same(finished, capsys):
    from kerasseizure.cli import main as cli

    tmp, results, table = finished
    corpus = next((tmp / "syn").glob("tusz-2.0.3-*"))
    reference = find_event_files(corpus / "edf" / "eval")
    for key in table4.MODELS:
        hypotheses = find_event_files(results / "events" / key)
        assert set(hypotheses) == set(reference)  # one file per eval recording, empty ones too
    out = tmp / "scores.json"
    assert cli(["score", str(corpus / "edf" / "eval"), str(results / "events" / "student_int8"),
                "--json", str(out)]) == 0
    scores = json.loads(out.read_text())
    row = table.iloc[2]
    for scorer in ("szcore", "ovlp", "taes"):
        assert scores[scorer]["targets"] == row[f"{scorer}/targets"]
        assert scores[scorer]["false_alarms"] == pytest.approx(row[f"{scorer}/false_alarms"])
        assert scores[scorer]["f1"] == pytest.approx(row[f"{scorer}/f1"], nan_ok=True)


def test_a_second_run_retrains_nothing_and_gives_the_same_scores(finished):
    tmp, results, table = finished
    fits = sorted((results / "runs").glob("*/fold-0/fit/final.keras"))
    stamps = {p: p.stat().st_mtime_ns for p in fits}
    again = _run(tmp, results)
    assert len(fits) == 2 and {p: p.stat().st_mtime_ns for p in fits} == stamps
    columns = [c for c in table.columns if c != "realtime_factor"]
    pd.testing.assert_frame_equal(again[columns], table[columns])


@pytest.mark.slow
def test_run_identity_is_checked(tmp_path, capsys):
    results = tmp_path / "results"
    _run(tmp_path, results)
    check_run_identity(lambda extra: _run(tmp_path, results, extra), "table4", results,
                       results / "runs" / "teacher", capsys)


def test_plan_counts_one_epoch_of_subsampled_windows(finished):
    from kerasseizure.experiments.detection import DetectionExperiment, tusz_v2_root
    from kerasseizure.experiments.presets import load_preset
    from kerasseizure.experiments.tusz import training_rows

    tmp, _, _ = finished
    results = tmp / "plan"
    _run(tmp, results, ["--plan"])
    plan = json.loads((results / "plan.json").read_text())
    assert not (results / "runs").exists()  # nothing trained
    settings = load_preset("test").table4
    root, _ = tusz_v2_root(settings, synthetic_dir=tmp / "syn")
    experiment = DetectionExperiment(settings, root, 0, results).prepare(plan_only=True)
    train = experiment.folds()["release-split-v2.0.3"][0][1][0]
    expected = len(training_rows(experiment.configs["teacher"], experiment.ses, train))
    assert expected < len(experiment.ses.window_positions(train))  # background was subsampled
    assert {row["train_windows_per_epoch"] for row in plan["rows"]} == {expected}
