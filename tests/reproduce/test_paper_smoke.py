"""The paper preset, proven end to end before a user spends days on it (slow).

Each table runs the `paper` preset on the test-size synthetic corpus with `--max-steps 2`: every
paper-size model (full SeizureNet and its students, the starter WaveNet, EfficientNetV2-B2 at
512 px, the 3D CNN) is built, trained one epoch of two batches, evaluated, exported (table 3) and
reported. Only the corpus and the number of folds come from the test preset, so that a
configuration error of the paper settings shows here, not at the end of a long run.
"""

import json

import pandas as pd
import pytest
import yaml

from kerasseizure.experiments.presets import load_preset

pytestmark = pytest.mark.slow


def _paper_on_test_corpora(tmp_path, folds):
    """The paper preset with the test preset's corpora and `folds(values)` applied, as a preset file."""
    values, test = load_preset("paper").to_dict(), load_preset("test").to_dict()
    values["table1"]["corpus"] = test["table1"]["corpus"]
    values["table2"]["corpus"] = test["table2"]["corpus"]
    values["table3"]["corpus_size"] = test["table3"]["corpus_size"]
    values["table4"]["corpus"] = test["table4"]["corpus"]
    folds(values)
    path = tmp_path / "paper-on-test-corpora.yaml"
    path.write_text(yaml.safe_dump(values))
    return str(path)


def _run(module, tmp_path, preset):
    results = tmp_path / "results"
    module.main(["--preset", preset, "--max-steps", "2", "--results-dir", str(results),
                 "--synthetic-dir", str(tmp_path / "syn"), "--quiet"])
    return results, json.loads((results / "record.json").read_text())


def _fit_configs(results):
    return [json.loads(p.read_text()) for p in results.glob("runs/**/fit/**/config.json")]


def test_table1_paper_preset_builds_trains_and_reports_every_row(tmp_path):
    from reproduce import table1

    preset = _paper_on_test_corpora(tmp_path, lambda v: v["table1"].update(max_folds=1))
    results, record = _run(table1, tmp_path, preset)
    table = pd.read_csv(results / "table.csv")
    assert table["model"].nunique() == 8 and len(table) == 8 * 3  # every row under the three protocols
    assert table[["window_f1_mean", "seizure_f1_mean"]].notna().all().all()
    assert record["config"]["rows"]["ensemble"]["model"] == {}  # the default (paper) SeizureNet
    configs = _fit_configs(results)
    assert configs and {c["max_steps_per_epoch"] for c in configs} == {2} and {c["epochs"] for c in configs} == {1}


def test_table2_paper_preset_builds_trains_and_reports_every_variant(tmp_path):
    from reproduce import table2

    preset = _paper_on_test_corpora(tmp_path, lambda v: v["table2"].update(fold_indices=[0]))
    results, record = _run(table2, tmp_path, preset)
    table = pd.read_csv(results / "table.csv")
    assert table["kl_all_oof"].notna().all()
    experiments = [c["user"]["experiment"] for c in _fit_configs(results)]
    assert {e["max_steps_per_epoch"] for e in experiments} == {2}
    images = [e for e in experiments if e["model"] in ("spectrogram", "fused")]
    assert images and all(e["backbone"] == "EfficientNetV2B2" and e["image_size"] is None for e in images)
    assert {e["name"] for e in experiments} >= {"conv3d", "temporal", "spatial"}


def test_table3_paper_preset_trains_exports_and_times_every_model(tmp_path):
    from reproduce import table3

    preset = _paper_on_test_corpora(tmp_path, lambda v: v["table3"].update(folds=[0]))
    results, record = _run(table3, tmp_path, preset)
    table = pd.read_csv(results / "table.csv")
    assert list(table["key"]) == ["teacher"] + [f"{s}-{t}" for s in ("tiny", "small", "base")
                                                 for t in ("alone", "distilled")]
    assert (table[[f"tflite_kb_{q}" for q in ("none", "dynamic", "int8")]] > 0).all().all()
    assert table["p50_ms_int8"].gt(0).all()


def test_table4_paper_preset_trains_exports_streams_and_scores(tmp_path):
    from reproduce import table4

    preset = _paper_on_test_corpora(tmp_path, lambda v: None)
    results, record = _run(table4, tmp_path, preset)
    table = pd.read_csv(results / "table.csv")
    assert list(table["model"]) == list(table4.MODELS.values())
    assert table["szcore/targets"].notna().all() and record["export"]["passed"] is not None
    configs = _fit_configs(results)
    assert configs and {c["max_steps_per_epoch"] for c in configs} == {2}
    assert record["config"]["experiments"]["teacher"]["model"] == {}  # the default (paper) SeizureNet
