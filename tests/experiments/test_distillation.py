"""Table 3's experiment: its rows follow the preset's student sizes and share one teacher."""

import pytest

from kerasseizure.experiments.distillation import TEACHER, DistillationExperiment, row_configs, rows_for
from kerasseizure.experiments.presets import load_preset


def test_rows_follow_the_student_sizes_teacher_first():
    rows = rows_for(["tiny", "base"])
    assert [(r.key, r.kind) for r in rows] == [
        ("teacher", "ensemble"), ("tiny-alone", "student"), ("tiny-distilled", "distilled"),
        ("base-alone", "student"), ("base-distilled", "distilled")]
    assert rows[0] == TEACHER and rows[4].label == "student base (distilled)"


def test_every_distilled_row_learns_from_the_teacher_row_and_all_train_in_float32():
    settings = load_preset("quick").table3
    configs = row_configs(settings, seed=7)
    assert list(configs) == [r.key for r in rows_for(settings["students"]["sizes"])]
    distilled = [c for c in configs.values() if c["kind"] == "distilled"]
    assert distilled and all(c["teacher"] == configs["teacher"] for c in distilled)
    assert {c["precision"] for c in configs.values()} == {"float32"}
    assert {c["seed"] for c in configs.values()} == {7}


def test_rows_are_found_by_label_or_key_and_an_unknown_row_lists_them(tmp_path):
    experiment = DistillationExperiment(load_preset("test").table3, tmp_path, 0, tmp_path / "results")
    assert experiment.row("TINY-DISTILLED").label == "student tiny (distilled)"
    assert experiment.run_dir("student tiny (alone)") == tmp_path / "results" / "runs" / "tiny-alone"
    with pytest.raises(ValueError, match="'student tiny \\(alone\\)'"):
        experiment.row("student huge (alone)")
