"""`kerasseizure train` / `evaluate` on tiny synthetic corpora (one fold, tiny models, one epoch)."""

import json

import pytest

from kerasseizure.cli import main


@pytest.fixture(scope="module")
def tusz_root(tmp_path_factory):
    from kerasseizure.io.synthetic import make_tusz_corpus

    return make_tusz_corpus(tmp_path_factory.mktemp("cli_tusz") / "corpus", version="1.5.2", size="tests",
                            n_patients=14, files_per_session=1, minutes_per_file=0.1, max_seizure_seconds=6.0,
                            seed=0)


@pytest.fixture(scope="module")
def hms_root(tmp_path_factory):
    from kerasseizure.io.synthetic import make_hms_corpus

    return make_hms_corpus(tmp_path_factory.mktemp("cli_hms") / "corpus", size="tests", seed=0)


TUSZ_EXPERIMENT = {"kind": "student", "model": {"size": "tiny"}, "epochs": 1, "batch_size": 32,
                   "train_window_stride": 4, "eval_window_stride": 4, "plot": False}
HMS_EXPERIMENT = {"model": "wavenet", "wavenet_blocks": [[4, 3, 2]], "head_units": 8, "epochs": 1, "lr": 1e-3,
                  "batch_size": 8}


def _write_yaml(path, values):
    import yaml

    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return path


def test_train_tusz_resumes_and_evaluate_writes_metrics(tusz_root, tmp_path, capsys):
    config = _write_yaml(tmp_path / "tusz.yaml", {
        "task": "tusz", "data_dir": str(tusz_root), "cache_dir": str(tmp_path / "cache"),
        "protocol": "seizure-wise", "n_folds": 2, "folds": [0], "experiment": TUSZ_EXPERIMENT})
    run_dir = tmp_path / "run"
    argv = ["train", "--config", str(config), "--run-dir", str(run_dir), "--seed", "1"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "out-of-fold weighted F1" in out
    resolved = json.loads((run_dir / "run_config.json").read_text())
    assert resolved["task"] == "tusz" and resolved["folds"] == [0] and resolved["experiment"]["seed"] == 1
    assert (run_dir / "environment.json").is_file() and (run_dir / "fold-0" / "predictions.npz").is_file()
    marker = run_dir / "fold-0" / "result.json"
    stamp = marker.stat().st_mtime_ns

    assert main(argv) == 0  # resumes: the completed fold is loaded, not retrained
    err = capsys.readouterr().err
    assert "fold 0: completed earlier" in err and "training" not in err
    assert marker.stat().st_mtime_ns == stamp

    (run_dir / "metrics.json").unlink()
    assert main(["evaluate", str(run_dir)]) == 0
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["folds"] == [0] and 0.0 <= metrics["pooled"]["window_f1"] <= 1.0
    assert 0.0 <= metrics["pooled"]["seizure_f1"] <= 1.0
    assert "seizure" in capsys.readouterr().out

    # Another experiment into the same folder is refused, naming what differs.
    assert main(argv[:-1] + ["2"]) == 2
    assert "experiment" in capsys.readouterr().err


def test_train_hms_one_fold_and_evaluate(hms_root, tmp_path, capsys):
    config = tmp_path / "hms.json"
    config.write_text(json.dumps({"task": "hms", "data_dir": str(hms_root), "cache_dir": str(tmp_path / "cache"),
                                  "protocol": "group-kfold", "n_folds": 2, "experiment": HMS_EXPERIMENT}))
    run_dir = tmp_path / "run"
    assert main(["train", "--config", str(config), "--run-dir", str(run_dir), "--fold", "0", "--quiet"]) == 0
    assert "Kaggle KL" in capsys.readouterr().out
    assert json.loads((run_dir / "run_config.json").read_text())["folds"] == [0]
    assert main(["evaluate", str(run_dir), "--data-dir", str(hms_root)]) == 0
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["task"] == "hms" and metrics["pooled"]["n_all"] > 0 and metrics["pooled"]["kl_all"] >= 0


@pytest.mark.parametrize("values, key", [
    ({"task": "eeg"}, "task"),
    ({"task": "tusz", "protocol": "group-kfold"}, "protocol"),
    ({"task": "tusz", "experiment": {"kind": "student", "epoch": 1}}, "experiment"),
    ({"task": "hms", "folds": [7]}, "folds"),
    ({"task": "tusz", "experiment": {"kind": "student"}, "colour": 1}, "colour"),
])
def test_bad_config_exits_2_naming_the_file_and_the_key(tmp_path, capsys, values, key):
    values = {"data_dir": str(tmp_path), "experiment": {"kind": "student"} if values.get("task") == "tusz" else {},
              **values}
    config = _write_yaml(tmp_path / "bad.yaml", values)
    assert main(["train", "--config", str(config), "--run-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert str(config) in err and f"'{key}'" in err
    assert not (tmp_path / "run").exists()


def test_unparsable_config_and_evaluate_without_a_run(tmp_path, capsys):
    config = tmp_path / "broken.yaml"
    config.write_text("task: [tusz\n")
    assert main(["train", "--config", str(config)]) == 2
    assert str(config) in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path)]) == 2
    assert "run_config.json" in capsys.readouterr().err
