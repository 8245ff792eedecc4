"""kerasseizure.kaggle: competition folder discovery, submission validation, fold averaging, the
training-preprocessing contract and both example notebooks run on a fake /kaggle/input tree.

The notebooks are executed without Jupyter: their code cells are read from the .ipynb JSON and run
in order in a fresh Python process, with the test's paths assigned right after the first (paths)
cell, as papermill would inject parameters.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kerasseizure import kaggle
from kerasseizure.io.labels import HMS_VOTE_COLUMNS
from kerasseizure.evaluation.metrics import kaggle_kl_divergence

os.environ.setdefault("KERASSEIZURE_PROGRESS", "0")
REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "docs" / "notebooks"


# --------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def kaggle_tree(hms_kaggle_competition):
    """A fake Kaggle file system: input/<competition> (synthetic HMS corpus), working/, a cache."""
    competition = hms_kaggle_competition
    root = competition.parents[1]
    (root / "working").mkdir()
    return {"root": root, "input": root / "input", "competition": competition, "working": root / "working",
            "cache": root / "cache", "notebook_cache": root / "notebook-cache", "models": root / "input" / "kerasseizure-hms-models"}


def notebook_script(path, overrides):
    book = json.loads(Path(path).read_text(encoding="utf-8"))
    cells = ["".join(cell["source"]) for cell in book["cells"] if cell["cell_type"] == "code"]
    for cell in cells:
        magics = [line for line in cell.splitlines() if line.lstrip().startswith(("!", "%"))]
        assert not magics, f"{path.name}: IPython magics do not run as plain Python: {magics}"
    assert "tags" in book["cells"][1]["metadata"] and "parameters" in book["cells"][1]["metadata"]["tags"]
    injected = "\n".join(f"{name} = {value!r}" for name, value in overrides.items())
    return "\n\n".join([cells[0], "# -- injected by tests/test_kaggle.py\n" + injected, *cells[1:]])


def run_notebook(path, overrides, workdir, env=None):
    script = Path(workdir) / f"{Path(path).stem}.py"
    script.write_text(notebook_script(path, overrides), encoding="utf-8")
    full_env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2",
                "KERASSEIZURE_PROGRESS": "0", **(env or {})}
    done = subprocess.run([sys.executable, str(script)], cwd=workdir, env=full_env, capture_output=True,
                          text=True, timeout=400)
    assert done.returncode == 0, f"{path.name} failed:\n{done.stdout[-4000:]}\n{done.stderr[-6000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def notebooks_run(kaggle_tree):
    """Run the training notebook (fold 0 of 2, 1 epoch), then the inference notebook on its output."""
    tree = kaggle_tree
    training_out = run_notebook(NOTEBOOKS / "hms_training.ipynb", {
        "COMPETITION_DIR": str(tree["competition"]), "WHEELHOUSE": str(tree["input"] / "kerasseizure-wheelhouse"),
        "OUTPUT_DIR": str(tree["models"]), "RUN_DIR": str(tree["working"] / "runs" / "wavenet"),
        "CACHE_DIR": str(tree["notebook_cache"]), "FOLD": 0, "N_FOLDS": 2, "EPOCHS": 1, "BATCH_SIZE": 4, "SEED": 0,
        "WAVENET_BLOCKS": [(4, 3, 2), (8, 3, 1)],  # the starter's blocks take minutes to trace on 2 shared cores
    }, tree["working"])
    # The inference notebook finds the competition through the environment variable (COMPETITION_DIR = None).
    inference_out = run_notebook(NOTEBOOKS / "hms_inference.ipynb", {
        "MODELS_DIR": str(tree["models"]), "WHEELHOUSE": str(tree["input"] / "kerasseizure-wheelhouse"),
        "OUTPUT_DIR": str(tree["working"]), "CACHE_DIR": str(tree["notebook_cache"]), "BATCH_SIZE": 4,
    }, tree["working"], env={kaggle.ENV_COMPETITION_DIR: str(tree["competition"])})
    return {"training": training_out, "inference": inference_out}


def tiny_wavenet(seed):
    import keras

    from kerasseizure.models import WaveNet

    keras.utils.set_random_seed(seed)
    return WaveNet(blocks=[(4, 3, 1)], hidden_units=8)


@pytest.fixture(scope="module")
def train_features(kaggle_tree):
    from kerasseizure.pipelines import build_hms_features

    return build_hms_features(kaggle_tree["competition"], kaggle_tree["cache"], views=("eeg",), progress=False)


@pytest.fixture(scope="module")
def tiny_models(kaggle_tree, train_features):
    """Three tiny WaveNets saved for inference with the train features' config."""
    root = kaggle_tree["root"] / "tiny-models"
    models = {}
    for k in range(3):
        model = tiny_wavenet(k)
        kaggle.save_for_inference(root / f"fold-{k}", model, train_features, inputs="eeg", extra={"fold": k})
        models[root / f"fold-{k}"] = model
    return models


# --------------------------------------------------------------------------------------- discovery


def _fake_competition(folder, files=kaggle.COMPETITION_FILES):
    folder.mkdir(parents=True)
    for name in files:
        (folder / name).mkdir() if "." not in name else (folder / name).write_text("")
    return folder


def test_competition_dir_argument_env_and_default(tmp_path, monkeypatch):
    by_argument = _fake_competition(tmp_path / "a")
    by_env = _fake_competition(tmp_path / "b")
    by_default = _fake_competition(tmp_path / "input" / kaggle.COMPETITION)
    monkeypatch.setattr(kaggle, "DEFAULT_COMPETITION_DIR", by_default)
    monkeypatch.delenv(kaggle.ENV_COMPETITION_DIR, raising=False)
    assert kaggle.competition_dir() == by_default.resolve()
    monkeypatch.setenv(kaggle.ENV_COMPETITION_DIR, str(by_env))
    assert kaggle.competition_dir() == by_env.resolve()
    assert kaggle.competition_dir(by_argument) == by_argument.resolve()  # the argument wins
    assert kaggle.competition_dir(str(by_argument)) == by_argument.resolve()


def test_competition_dir_errors_list_what_was_looked_for(tmp_path, monkeypatch):
    monkeypatch.setattr(kaggle, "DEFAULT_COMPETITION_DIR", tmp_path / "nowhere" / kaggle.COMPETITION)
    monkeypatch.delenv(kaggle.ENV_COMPETITION_DIR, raising=False)
    with pytest.raises(kaggle.CompetitionDataNotFound) as error:
        kaggle.competition_dir()
    message = str(error.value)
    assert str(tmp_path / "nowhere" / kaggle.COMPETITION) in message and "does not exist" in message
    assert kaggle.ENV_COMPETITION_DIR in message and "not set" in message
    assert "test.csv" in message and "sample_submission.csv" in message
    assert isinstance(error.value, FileNotFoundError)
    # a competition folder mounted elsewhere under /kaggle/input is suggested, not silently used
    monkeypatch.setattr(kaggle, "KAGGLE_INPUT", tmp_path / "input")
    elsewhere = _fake_competition(tmp_path / "input" / "competitions" / "hms")
    with pytest.raises(kaggle.CompetitionDataNotFound, match=f"hold these files: {elsewhere}"):
        kaggle.competition_dir()

    partial = tmp_path / "partial"
    _fake_competition(partial, ("test.csv", "test_eegs"))
    monkeypatch.setenv(kaggle.ENV_COMPETITION_DIR, str(partial))
    with pytest.raises(kaggle.CompetitionDataNotFound) as error:
        kaggle.competition_dir()  # a wrong explicit setting never falls back to the default
    assert f"${kaggle.ENV_COMPETITION_DIR}" in str(error.value)
    assert "lacks sample_submission.csv, test_spectrograms" in str(error.value)
    with pytest.raises(kaggle.CompetitionDataNotFound, match="argument"):
        kaggle.competition_dir(tmp_path / "typo")
    # training needs the train files too
    with pytest.raises(kaggle.CompetitionDataNotFound, match="train.csv"):
        kaggle.competition_dir(_fake_competition(tmp_path / "test-only"),
                               require=kaggle.COMPETITION_FILES + kaggle.TRAINING_FILES)


# --------------------------------------------------------------------------------------- submission

IDS = [30, 10, 20]
COLUMNS = ["eeg_id", *HMS_VOTE_COLUMNS]


def _solution(ids):
    frame = pd.DataFrame({"eeg_id": ids})
    rng = np.random.default_rng(0)
    values = rng.random((len(ids), 6))
    values[:, 2] = 0.0
    for column, v in zip(HMS_VOTE_COLUMNS, (values / values.sum(1, keepdims=True)).T):
        frame[column] = v
    return frame


def test_submission_order_columns_and_sums_pass_the_scorer(tmp_path):
    rng = np.random.default_rng(1)
    raw = rng.random((3, 6)).astype(np.float32) * 3  # unnormalised, float32, another row order
    frame = kaggle.submission_frame(raw, [20, 30, 10], columns=COLUMNS, order=IDS)
    assert list(frame.columns) == COLUMNS
    assert frame["eeg_id"].tolist() == IDS
    np.testing.assert_allclose(frame.iloc[0, 1:].to_numpy(float), raw[1] / raw[1].sum(), rtol=1e-6)
    path = kaggle.write_submission(frame, tmp_path / "submission.csv", expected_ids=IDS, columns=COLUMNS)
    written = pd.read_csv(path)
    assert list(written.columns) == COLUMNS and written["eeg_id"].tolist() == IDS
    np.testing.assert_allclose(written.iloc[:, 1:].sum(axis=1), 1.0, rtol=0, atol=1e-12)
    score = kaggle_kl_divergence(_solution(IDS), written)  # the scorer's validation accepts it
    assert np.isfinite(score) and score > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["submission.csv"]  # no temporary left behind


@pytest.mark.parametrize("corrupt, match", [
    (lambda f: f.__setitem__("lpd_vote", f["lpd_vote"] + np.array([0.0, 0.1, 0.0])), "add to one"),
    (lambda f: f.loc.__setitem__((2, "gpd_vote"), np.nan), "NaN"),
    (lambda f: f.loc.__setitem__((0, "grda_vote"), -0.01), "at least zero"),
    (lambda f: f.loc.__setitem__((0, "other_vote"), 1.5), "no greater than one"),
])
def test_bad_row_is_refused_before_writing(tmp_path, corrupt, match):
    good = kaggle.submission_frame(np.full((3, 6), 1 / 6), IDS, columns=COLUMNS)
    path = tmp_path / "submission.csv"
    kaggle.write_submission(good, path, expected_ids=IDS, columns=COLUMNS)
    before = path.read_bytes()
    bad = good.copy()
    corrupt(bad)
    with pytest.raises(kaggle.SubmissionError, match=match):
        kaggle.write_submission(bad, path, expected_ids=IDS, columns=COLUMNS)
    assert path.read_bytes() == before  # the previous good file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["submission.csv"]
    fresh = tmp_path / "new" / "submission.csv"
    with pytest.raises(kaggle.SubmissionError):
        kaggle.write_submission(bad, fresh, expected_ids=IDS, columns=COLUMNS)
    assert not fresh.exists()


def test_layout_errors_are_refused(tmp_path):
    good = kaggle.submission_frame(np.full((3, 6), 1 / 6), IDS, columns=COLUMNS)
    with pytest.raises(kaggle.SubmissionError, match="columns"):
        kaggle.validate_submission(good[["eeg_id", *reversed(HMS_VOTE_COLUMNS)]], IDS, COLUMNS)
    with pytest.raises(kaggle.SubmissionError, match="order"):
        kaggle.validate_submission(good.iloc[::-1].reset_index(drop=True), IDS, COLUMNS)
    with pytest.raises(kaggle.SubmissionError, match="missing"):
        kaggle.validate_submission(good.iloc[:2], IDS, COLUMNS)
    with pytest.raises(kaggle.SubmissionError, match=r"eeg_ids \[20\]"):  # NaN model output names the eeg_id
        kaggle.submission_frame(np.array([[1.0] * 6, [np.nan] * 6, [1.0] * 6]), [10, 20, 30], columns=COLUMNS)
    with pytest.raises(kaggle.SubmissionError, match="all zero"):
        kaggle.submission_frame(np.zeros((3, 6)), IDS, columns=COLUMNS)


# --------------------------------------------------------------------------------------- averaging


def test_average_probabilities_is_the_renormalised_mean():
    rng = np.random.default_rng(2)
    members = [p / p.sum(1, keepdims=True) for p in rng.random((3, 5, 6))]
    np.testing.assert_allclose(kaggle.average_probabilities(members), np.mean(members, axis=0), rtol=1e-12)
    weighted = kaggle.average_probabilities(members, weights=[2, 1, 1])
    np.testing.assert_allclose(weighted, (2 * members[0] + members[1] + members[2]) / 4, rtol=1e-12)
    float32 = [m.astype(np.float32) for m in members]  # softmax rows off by float32 rounding
    np.testing.assert_allclose(kaggle.average_probabilities(float32).sum(1), 1.0, rtol=0, atol=1e-15)


def test_fold_averaging_equals_the_mean_of_the_models_probabilities(kaggle_tree, tiny_models, tmp_path):
    from kerasseizure.models import with_probabilities

    out = tmp_path / "submission.csv"
    result = kaggle.make_submission(kaggle_tree["root"] / "tiny-models", competition=kaggle_tree["competition"],
                                    out=out, cache_dir=kaggle_tree["cache"], progress=False, jit_compile=False)
    columns, order = kaggle.submission_template(kaggle_tree["competition"])
    assert result.path == out and pd.read_csv(out)["eeg_id"].tolist() == order.tolist()
    assert len(result.per_model) == 3 and len({id(f) for f in result.test_features.values()}) == 1  # one cache
    features = next(iter(result.test_features.values()))
    position = {int(e): i for i, e in enumerate(features.table["eeg_id"])}
    rows = features.table["row"].to_numpy()[[position[int(e)] for e in order]]
    x = np.asarray(features.arrays["wavenet"][rows, 0], dtype=np.float32)
    expected = []
    for path, model in tiny_models.items():
        # A direct call, not predict(): each predict() traces a new graph (seconds on a CPU).
        p = np.asarray(with_probabilities(model)(x, training=False), dtype=np.float64)
        np.testing.assert_allclose(result.per_model[str(path)], p, rtol=1e-5, atol=1e-7)
        expected.append(p)
    mean = np.mean(expected, axis=0)
    mean /= mean.sum(1, keepdims=True)
    np.testing.assert_allclose(result.frame[list(HMS_VOTE_COLUMNS)].to_numpy(), mean, rtol=1e-5, atol=1e-7)
    assert not np.allclose(expected[0], expected[1])  # the members differ, so the mean is informative


# --------------------------------------------------------------------------------------- preprocessing


def _copy_model(src, dst, edit):
    shutil.copytree(src, dst)
    spec_path = dst / kaggle.INFERENCE_FILE
    spec = json.loads(spec_path.read_text())
    edit(spec)
    spec_path.write_text(json.dumps(spec))
    return dst


def test_test_views_are_built_with_the_training_runs_preprocessing(kaggle_tree, train_features, tiny_models,
                                                                   tmp_path):
    from kerasseizure.pipelines import build_hms_features

    data = kaggle.competition_dataset(kaggle_tree["competition"])
    original = next(iter(tiny_models))
    spec = kaggle.read_inference_spec(original)
    assert spec["features_config"] == json.loads(json.dumps(train_features.config))
    test = kaggle.build_test_features(data, spec, kaggle_tree["cache"], progress=False)
    assert test.split == "test"
    assert kaggle.preprocessing_signature(test.config, "eeg") == kaggle.preprocessing_signature(spec["features_config"], "eeg")

    # A run trained with other settings (the paper's 0.1 Hz high-pass): the test views follow the RUN.
    paper = build_hms_features(data, kaggle_tree["cache"], views=("eeg",), low_hz=0.1, progress=False)
    paper_dir = tmp_path / "paper"
    kaggle.save_for_inference(paper_dir, tiny_models[original], paper, inputs="eeg")
    paper_test = kaggle.build_test_features(data, kaggle.read_inference_spec(paper_dir), kaggle_tree["cache"],
                                            progress=False)
    assert paper_test.config["params"]["wavenet"]["low_hz"] == 0.1
    assert not np.allclose(np.asarray(paper_test.arrays["wavenet"]), np.asarray(test.arrays["wavenet"]))

    # Test views computed another way are refused, naming the parameter.
    with pytest.raises(kaggle.PreprocessingMismatchError, match=r"params\.wavenet\.low_hz: training None, test 0.1"):
        kaggle.check_preprocessing(spec["features_config"], paper_test.config, "eeg")


def test_tampered_or_foreign_preprocessing_is_a_clear_error(kaggle_tree, tiny_models, tmp_path):
    data = kaggle.competition_dataset(kaggle_tree["competition"])
    original = next(iter(tiny_models))

    def edit_code(spec):
        spec["features_config"]["code"]["source_sha256"] = "0" * 16

    other_code = _copy_model(original, tmp_path / "other-code", edit_code)
    with pytest.raises(kaggle.PreprocessingMismatchError, match="transform code differs") as error:
        kaggle.make_submission([other_code], competition=data, out=tmp_path / "s.csv", cache_dir=kaggle_tree["cache"],
                               progress=False)
    assert "source_sha256" in str(error.value) and not (tmp_path / "s.csv").exists()
    with pytest.warns(UserWarning, match="transform code differs"):
        kaggle.make_submission([other_code], competition=data, out=tmp_path / "s.csv",
                               cache_dir=kaggle_tree["cache"], allow_code_change=True, progress=False)
    assert (tmp_path / "s.csv").exists()

    def add_unknown(spec):
        spec["features_config"]["params"]["wavenet"]["notch_hz"] = 50.0

    unknown = _copy_model(original, tmp_path / "unknown", add_unknown)
    with pytest.raises(kaggle.PreprocessingMismatchError, match="notch_hz"):
        kaggle.build_test_features(data, kaggle.read_inference_spec(unknown), kaggle_tree["cache"], progress=False)

    def image_inputs(spec):
        spec["inputs"] = "image"

    wrong_view = _copy_model(original, tmp_path / "wrong-view", image_inputs)
    with pytest.raises(kaggle.PreprocessingMismatchError, match="views"):
        kaggle.build_test_features(data, kaggle.read_inference_spec(wrong_view), kaggle_tree["cache"],
                                   progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(kaggle.InferenceSpecError):
        kaggle.find_model_dirs(tmp_path / "empty")


# --------------------------------------------------------------------------------------- notebooks


def test_notebooks_run_in_process_on_a_fake_kaggle_tree(kaggle_tree, tmp_path, capsys):
    """The fast smoke of the two slow tests below: both notebooks' code, as papermill would inject
    it, executed in this interpreter (no fresh kernels: no TensorFlow import), then checked the same
    way. The module's feature cache is shared, so the notebooks find their train and test views."""
    models, run_dir = tmp_path / "models", tmp_path / "runs" / "wavenet"
    training = notebook_script(NOTEBOOKS / "hms_training.ipynb", {
        "COMPETITION_DIR": str(kaggle_tree["competition"]), "WHEELHOUSE": str(tmp_path / "no-wheelhouse"),
        "OUTPUT_DIR": str(models), "RUN_DIR": str(run_dir), "CACHE_DIR": str(kaggle_tree["cache"]),
        "FOLD": 0, "N_FOLDS": 2, "EPOCHS": 1, "BATCH_SIZE": 4, "SEED": 0, "WAVENET_BLOCKS": [(4, 3, 1)],
    })
    exec(compile(training, "hms_training.ipynb", "exec"), {"__name__": "__notebook__"})
    inference = notebook_script(NOTEBOOKS / "hms_inference.ipynb", {
        "COMPETITION_DIR": str(kaggle_tree["competition"]), "MODELS_DIR": str(models),
        "WHEELHOUSE": str(tmp_path / "no-wheelhouse"), "OUTPUT_DIR": str(tmp_path), "CACHE_DIR": str(kaggle_tree["cache"]),
        "BATCH_SIZE": 4,
    })
    exec(compile(inference, "hms_inference.ipynb", "exec"), {"__name__": "__notebook__"})
    out = capsys.readouterr().out
    assert "fold 0 KL divergence" in out and "all required dependencies import" in out

    spec = kaggle.read_inference_spec(models / "fold-0")
    assert spec["inputs"] == "eeg" and spec["extra"]["fold"] == 0 and "all" in spec["extra"]["cv"]
    assert kaggle.read_inference_spec(run_dir / "fold-0")["model"] == "final.keras"
    submission = pd.read_csv(tmp_path / "submission.csv")
    columns, order = kaggle.submission_template(kaggle_tree["competition"])
    assert list(submission.columns) == columns and submission["eeg_id"].tolist() == order.tolist()
    assert np.isfinite(kaggle_kl_divergence(pd.read_csv(kaggle_tree["competition"] / "sample_submission.csv"),
                                            submission))


@pytest.mark.slow  # ~45 s: two fresh interpreters; fast smoke: test_notebooks_run_in_process_on_a_fake_kaggle_tree
def test_notebooks_run_end_to_end_on_a_fake_kaggle_tree(kaggle_tree, notebooks_run):
    tree = kaggle_tree
    fold = tree["models"] / "fold-0"
    assert (fold / kaggle.MODEL_FILE).is_file() and (fold / kaggle.INFERENCE_FILE).is_file()
    spec = kaggle.read_inference_spec(fold)
    assert spec["inputs"] == "eeg" and spec["features_config"]["split"] == "train"
    assert spec["extra"]["fold"] == 0 and "all" in spec["extra"]["cv"]
    run_config = json.loads((tree["working"] / "runs" / "wavenet" / "fold-0" / "config.json").read_text())
    assert run_config["user"]["inference"]["features_config"] == spec["features_config"]  # fit's record agrees

    submission = pd.read_csv(tree["working"] / "submission.csv")
    columns, order = kaggle.submission_template(tree["competition"])
    assert list(submission.columns) == columns and submission["eeg_id"].tolist() == order.tolist()
    truth = pd.read_csv(tree["competition"] / "sample_submission.csv")
    score = kaggle_kl_divergence(truth, submission)  # the scorer's validation accepts the notebook's file
    assert np.isfinite(score)
    assert "all required dependencies import" in notebooks_run["inference"]

    # The inference notebook used the training run's preprocessing: the one test cache it built
    # has the configuration recorded by the training notebook (split and corpus aside).
    from kerasseizure.pipelines import list_caches

    caches = list_caches(tree["notebook_cache"])
    test_caches = caches[caches["kind"] == "hms-test"]
    assert len(test_caches) == 1 and test_caches["complete"].all()
    test_config = test_caches["config"].iloc[0]
    kaggle.check_preprocessing(spec["features_config"], test_config, "eeg")
    assert (kaggle.preprocessing_signature(test_config, "eeg")
            == kaggle.preprocessing_signature(spec["features_config"], "eeg"))


@pytest.mark.slow  # shares the notebooks' run; the in-process smoke checks the same folder
def test_fit_run_folder_is_accepted_as_a_model_folder(kaggle_tree, notebooks_run):
    run_dir = kaggle_tree["working"] / "runs" / "wavenet" / "fold-0"
    spec = kaggle.read_inference_spec(run_dir)  # from config.json["user"]["inference"]
    assert spec["model"] == "final.keras" and (run_dir / "final.keras").is_file()
    assert kaggle.load_fold_model(run_dir).model is not None


# --------------------------------------------------------------------------------------- install check


def test_offline_install_check_reports_versions_without_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("offline_install_check touched the network")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    packages = [("numpy", "numpy", "arrays", True), ("pandas", "pandas", "tables", True),
                ("no-such-dist-kz", "no_such_module_kz", "nothing", False),
                ("also-missing-kz", "also_missing_module_kz", "nothing", True)]
    report = kaggle.offline_install_check(packages)
    rows = {r["package"]: r for r in report.rows}
    assert rows["numpy"]["imported"] and rows["numpy"]["version"] == np.__version__
    assert rows["numpy"]["installed"] == np.__version__
    assert not rows["no-such-dist-kz"]["imported"] and "ModuleNotFoundError" in rows["no-such-dist-kz"]["error"]
    assert report.problems == ["also-missing-kz"] and not report.ok
    assert report.missing == ["no-such-dist-kz", "also-missing-kz"]
    text = str(report)
    assert "MISSING" in text and "missing (optional)" in text and np.__version__ in text
    with pytest.raises(kaggle.KaggleError, match="also-missing-kz"):
        report.raise_for_problems()

    quick = kaggle.offline_install_check(import_modules=False)  # metadata only: fast
    by_name = {r["package"]: r for r in quick.rows}
    import kerasseizure

    assert by_name["kerasseizure"]["installed"] == kerasseizure.__version__
    assert by_name["numpy"]["requirement"] in (None, ">=1.26")
    assert by_name["numpy"]["satisfies"] in (None, True)
    assert isinstance(quick.to_frame(), pd.DataFrame)
