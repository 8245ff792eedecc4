"""`kerasseizure train --row`, `evaluate` and `config show`, on the test preset's synthetic corpora."""

import json

import pytest
import yaml

from kerasseizure.cli import main

# Shares `tusz_test_dirs` (tests/corpora.py): the same pytest-xdist worker builds it once.
pytestmark = pytest.mark.xdist_group("tusz_test_dirs")


@pytest.fixture(scope="module")
def dirs(tmp_path_factory, tusz_test_dirs):
    """A results folder; the test preset's synthetic corpora and their feature cache are the session's
    (`tusz_test_dirs`, tests/corpora.py)."""
    return {**tusz_test_dirs, "results": tmp_path_factory.mktemp("cli_train") / "results"}


def _train(dirs, row, *extra, table="table1", data=None):
    where = ["--data-dir", str(data)] if data else ["--synthetic-dir", str(dirs["synthetic"])]
    return main(["train", "--preset", "test", "--row", row, "--table", table, "--quiet", *where,
                 "--results-dir", str(dirs["results"] / table), "--cache-dir", str(dirs["cache"]), *extra])


@pytest.fixture(scope="module")
def data_dir(dirs):
    """The test preset's seed-0 v1.5.2 corpus as a corpus folder given by --data-dir (v1.5.2/ linked).

    A run on given corpora never generates one, so `--seed 1` on it costs no corpus of its own
    and no features (their cache is keyed by the corpus, not by the seed); one version halves
    the features to build.
    """
    from kerasseizure.experiments.presets import load_preset
    from kerasseizure.experiments.seizure_types import tusz_roots

    roots, synthetic = tusz_roots(load_preset("test").table1, 0, synthetic_dir=dirs["synthetic"], log=lambda m: None)
    assert synthetic and sorted(roots) == ["1.4.0", "1.5.2"]
    folder = dirs["results"].parent / "given"
    folder.mkdir()
    (folder / "v1.5.2").symlink_to(roots["1.5.2"], target_is_directory=True)
    return folder


def test_a_row_trains_once_then_is_reused_and_evaluates(dirs, capsys):
    assert _train(dirs, "k-NN") == 0
    out = capsys.readouterr().out
    assert "table1, k-NN (preset test, seed 0)" in out and out.count("window F1") == 3
    row_dir = dirs["results"] / "table1" / "runs" / "seizure-wise-v1.5.2" / "knn"
    marker = row_dir / "fold-0" / "result.json"
    stamp = marker.stat().st_mtime_ns
    assert _train(dirs, "knn") == 0  # the run key names the row too; the fold is loaded, not refitted
    assert marker.stat().st_mtime_ns == stamp
    capsys.readouterr()
    assert main(["evaluate", str(row_dir)]) == 0
    metrics = json.loads((row_dir / "metrics.json").read_text())
    assert metrics["folds"] == [0] and 0.0 <= metrics["pooled"]["window_f1"] <= 1.0
    assert metrics["identity"]["config"]["row"] == "k-NN"


def test_other_settings_into_the_same_folder_are_refused_in_one_line(dirs, tmp_path, capsys):
    from kerasseizure.experiments.presets import load_preset

    assert _train(dirs, "k-NN") == 0
    mine = load_preset("test").to_dict()
    mine["table1"]["baselines"]["params"]["knn"] = {"n_neighbors": 3}
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(mine))
    capsys.readouterr()
    assert _train(dirs, "k-NN", "--preset", str(tmp_path / "mine.yaml")) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "baseline_params.n_neighbors" in err and "--overwrite" in err
    assert _train(dirs, "k-NN", "--preset", str(tmp_path / "mine.yaml"), "--overwrite") == 0
    row_dir = dirs["results"] / "table1" / "runs" / "seizure-wise-v1.4.0" / "knn"
    stored = json.loads((row_dir / "run.json").read_text())["identity"]["config"]["experiment"]
    assert stored["baseline_params"] == {"n_neighbors": 3}


def test_an_unknown_row_lists_the_rows(capsys):
    assert main(["train", "--preset", "test", "--row", "nonsense", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "'SeizureNet ensemble'" in err and "'temporal (WaveNet)'" in err


def test_config_show_round_trips_and_a_users_preset_is_validated(tmp_path, capsys):
    from kerasseizure.experiments.presets import load_preset

    assert main(["config", "show", "quick"]) == 0
    text = capsys.readouterr().out
    mine = tmp_path / "mine.yaml"
    mine.write_text(text)
    assert load_preset(mine).to_dict() == load_preset("quick").to_dict()

    values = yaml.safe_load(text)
    values["table1"]["neural"]["epochs"] = "three"
    mine.write_text(yaml.safe_dump(values))
    assert main(["config", "show", str(mine)]) == 2
    assert "table1.neural.epochs: expected an integer, got 'three'" in capsys.readouterr().err


def test_another_seed_a_damaged_fingerprint_and_a_killed_write(dirs, data_dir, capsys):
    """The run-identity cases of the tables, through `kerasseizure train` (a cheap baseline row).

    On given corpora (`data_dir`): with synthetic ones, `--seed 1` would first generate the
    seed-1 corpora and their features (~20 s) before it is refused.
    """
    assert _train(dirs, "SGD", data=data_dir) == 0
    row_dir = dirs["results"] / "table1" / "runs" / "seizure-wise-v1.5.2" / "sgd"
    marker = row_dir / "run.json"
    saved = marker.read_text()
    capsys.readouterr()
    assert _train(dirs, "SGD", "--seed", "1", data=data_dir) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "seed: 0 -> 1" in err[0] and "--overwrite" in err[0], err
    assert marker.read_text() == saved

    marker.write_text(saved[: len(saved) // 2])
    assert _train(dirs, "SGD", data=data_dir) == 2
    assert "damaged run.json" in capsys.readouterr().err
    marker.write_text(saved)

    stale = row_dir / "fold-0" / ".result.json.0123456789ab.partial.json"
    stale.write_text('{"metr')
    stamp = (row_dir / "fold-0" / "result.json").stat().st_mtime_ns
    assert _train(dirs, "SGD", data=data_dir) == 0
    assert not stale.exists() and (row_dir / "fold-0" / "result.json").stat().st_mtime_ns == stamp
