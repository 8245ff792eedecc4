"""Each table-1 row type trains and evaluates on one fold of a tiny synthetic TUSZ corpus.

The corpus, its feature caches and the four neural rows trained on fold 0 (member, student,
ensemble, distilled: tiny models, one epoch) are session fixtures (tests/corpora.py), shared
with tests/export/test_run_artefacts.py; the tests here check those runs, resume them and train
what only they need.
"""

import os

import numpy as np
import pytest

from tests.corpora import TUSZ_NEURAL as NEURAL
from tests.corpora import TUSZ_TINY as TINY

# Shares `tusz_trained_rows` (tests/corpora.py): the same pytest-xdist worker builds it once.
pytestmark = pytest.mark.xdist_group("tusz_trained_rows")

os.environ.setdefault("KERASSEIZURE_PROGRESS", "0")


@pytest.fixture(scope="session")
def experiment_features(tusz_experiment_features):
    return tusz_experiment_features


@pytest.fixture(scope="session")
def fold(experiment_features):
    from kerasseizure.evaluation.folds import seizure_wise_folds

    return seizure_wise_folds(experiment_features["fft"].seizures)


@pytest.fixture(scope="session")
def ensemble_config():
    from kerasseizure.experiments.tusz import TUSZExperimentConfig

    return TUSZExperimentConfig(kind="ensemble", model=TINY, **NEURAL)  # the session's trained ensemble


def _check(result, features, valid, stride=2):
    rows = features.window_positions(valid, stride)
    probs = result.predictions["probs"]
    assert probs.shape == (len(rows), len(features.classes))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(result.predictions["window"], rows)
    assert 0.0 <= result.metrics["window_f1"] <= 1.0 and 0.0 <= result.metrics["seizure_f1"] <= 1.0
    assert result.metrics["n_seizures"] == len(valid)


def test_config_round_trip_and_refusals(ensemble_config):
    from kerasseizure.experiments.tusz import ExperimentConfigError, TUSZExperimentConfig

    distilled = TUSZExperimentConfig(kind="distilled", model={"size": "tiny"}, teacher=ensemble_config, lr=[1e-3, 1e-4])
    again = TUSZExperimentConfig.from_dict(distilled.to_dict())
    assert again == distilled and again.teacher.kind == "ensemble" and again.representation == "ses"
    assert TUSZExperimentConfig(kind="baseline", baseline="sgd").name == "sgd"
    with pytest.raises(ExperimentConfigError, match="unknown TUSZ experiment settings"):
        TUSZExperimentConfig.from_dict({"kind": "member", "epoch": 3})
    with pytest.raises(ExperimentConfigError, match="teacher"):
        TUSZExperimentConfig(kind="distilled")
    with pytest.raises(ExperimentConfigError, match="kind"):
        TUSZExperimentConfig(kind="resnet")
    with pytest.raises(ExperimentConfigError, match="baseline"):
        TUSZExperimentConfig(kind="baseline", baseline="xgboost")
    with pytest.raises(ExperimentConfigError, match="recompute_batchnorm"):
        TUSZExperimentConfig(kind="member", recompute_batchnorm=0)


@pytest.mark.parametrize("baseline", ["knn", "gradient_boosting"])
def test_baseline_row(experiment_features, fold, tmp_path, baseline):
    from kerasseizure.experiments.tusz import TUSZExperimentConfig, run_tusz_fold

    train, valid = fold[0]
    config = TUSZExperimentConfig(kind="baseline", baseline=baseline, train_window_stride=4, eval_window_stride=2,
                                  baseline_params={"max_iter": 5} if baseline == "gradient_boosting" else {})
    result = run_tusz_fold(experiment_features["fft"], train, valid, config, tmp_path / "fold")
    _check(result, experiment_features["fft"], valid)
    # Deterministic: the same fold again gives the same probabilities.
    again = run_tusz_fold(experiment_features["fft"], train, valid, config, tmp_path / "again")
    np.testing.assert_array_equal(again.predictions["probs"], result.predictions["probs"])


def test_baseline_needs_fft_features(experiment_features, fold, tmp_path):
    from kerasseizure.experiments.tusz import ExperimentConfigError, run_tusz_fold

    with pytest.raises(ExperimentConfigError, match="FFT"):
        run_tusz_fold(experiment_features["ses"], *fold[0], {"kind": "baseline"}, tmp_path)


def test_member_and_student_rows_resume(experiment_features, fold, tusz_trained_rows):
    from kerasseizure.experiments.tusz import run_tusz_fold

    ses = experiment_features["ses"]
    train, valid = fold[0]
    for trained_on, positions in zip(tusz_trained_rows["fold"], fold[0]):
        np.testing.assert_array_equal(trained_on, positions)
    for kind in ("member", "student"):
        config, result = tusz_trained_rows["configs"][kind], tusz_trained_rows["results"][kind]
        run_dir = tusz_trained_rows["root"] / kind
        _check(result, ses, valid)
        assert result.extra["epochs_run"] == 1
        assert (run_dir / "fit" / "final.keras").is_file()
        again = run_tusz_fold(ses, train, valid, config, run_dir)
        assert again.extra["epochs_run"] == 0  # loaded, not retrained
        np.testing.assert_allclose(again.predictions["probs"], result.predictions["probs"], atol=1e-6)


def test_ensemble_then_distilled_student(experiment_features, fold, tusz_trained_rows):
    from kerasseizure.experiments.tusz import load_history

    ses = experiment_features["ses"]
    train, valid = fold[0]
    root = tusz_trained_rows["root"]
    ensemble = tusz_trained_rows["results"]["ensemble"]
    _check(ensemble, ses, valid)
    assert ensemble.predictions["member_probs"].shape[1:] == (3, len(ses.classes))
    assert {"member0_window_f1", "member2_seizure_f1"} <= set(ensemble.metrics)
    history = load_history(root / "ensemble" / "fit")
    assert {"loss", "val_loss"} <= set(history.columns)

    # trained after the ensemble, with the ensemble's run folder as its teacher
    config, logs = tusz_trained_rows["configs"]["distilled"], tusz_trained_rows["logs"]["distilled"]
    assert config.teacher == tusz_trained_rows["configs"]["ensemble"] and config.feature_distillation
    distilled = tusz_trained_rows["results"]["distilled"]
    _check(distilled, ses, valid)
    assert distilled.extra["teacher_run"] == str(root / "ensemble" / "fit")
    assert not any(line.startswith("ensemble:") for line in logs)  # the teacher was loaded, not retrained
    assert any(line.startswith("distilled: epoch 1/1") for line in logs)
    assert (root / "distilled" / "fit" / "final.keras").is_file()


def test_distilled_with_alpha_one_is_the_student_alone(experiment_features, fold, tmp_path, tusz_trained_rows):
    """alpha = 1 leaves only the label loss: the distilled row must then BE the student row.

    This pins what makes the two rows comparable: the distilled student starts from the weights
    the student row starts from, sees the same batches, and is evaluated the same way. The student
    row is the session's (`tusz_trained_rows`); the teacher, which alpha = 1 ignores, is the
    session's trained ensemble, loaded, not retrained.
    """
    from kerasseizure.experiments.tusz import run_tusz_fold

    ses = experiment_features["ses"]
    train, valid = fold[0]
    alone = tusz_trained_rows["configs"]["student"]
    config = tusz_trained_rows["configs"]["distilled"].replace(alpha=1.0, feature_distillation=False)
    distillation_only = ("kind", "name", "teacher", "alpha", "feature_distillation")
    assert {k: v for k, v in config.to_dict().items() if k not in distillation_only} == {
        k: v for k, v in alone.to_dict().items() if k not in distillation_only}
    logs = []
    distilled = run_tusz_fold(ses, train, valid, config, tmp_path / "distilled",
                              teacher_dir=tusz_trained_rows["root"] / "ensemble", log=logs.append)
    assert not any(line.startswith("ensemble:") for line in logs)
    assert any(line.startswith("distilled: epoch 1/1") for line in logs)
    np.testing.assert_allclose(distilled.predictions["probs"], tusz_trained_rows["results"]["student"].predictions["probs"],
                               atol=1e-5)


def test_pooled_model_does_not_depend_on_earlier_folds(experiment_features, fold, tmp_path, tusz_trained_rows):
    """A fold trained after another one (pooled model reset) equals the fold trained first in a fresh pool.

    The session's pool has trained the student row on fold 0 (and the other rows after it).
    """
    from kerasseizure.experiments.tusz import ModelPool, run_tusz_fold

    ses = experiment_features["ses"]
    config = tusz_trained_rows["configs"]["student"]
    after = run_tusz_fold(ses, *fold[1], config, tmp_path / "a1", pool=tusz_trained_rows["pool"])
    fresh = run_tusz_fold(ses, *fold[1], config, tmp_path / "b1", pool=ModelPool())
    np.testing.assert_array_equal(after.predictions["probs"], fresh.predictions["probs"])
