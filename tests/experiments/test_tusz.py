"""Each table-1 row type trains and evaluates on one fold of a tiny synthetic TUSZ corpus.

One session-scoped corpus and feature caches; tiny models, one epoch.
"""

import os

import numpy as np
import pytest

os.environ.setdefault("KERASSEIZURE_PROGRESS", "0")

TINY = {"stem_filters": 4, "growth_rate": 3, "layers_per_block": [1], "bottleneck_factor": 1, "embedding_dim": 8}
NEURAL = {"epochs": 1, "batch_size": 32, "train_window_stride": 4, "eval_window_stride": 2, "bn_momentum": 0.5,
          "plot": False}


@pytest.fixture(scope="session")
def experiment_features(tusz_experiment_root, tmp_path_factory):
    from kerasseizure.io.tusz import TUSZCorpus
    from kerasseizure.pipelines import build_tusz_features

    corpus = TUSZCorpus(tusz_experiment_root)
    cache = tmp_path_factory.mktemp("tusz_exp_cache")
    return {rep: build_tusz_features(corpus, rep, cache, progress=False) for rep in ("fft", "ses")}


@pytest.fixture(scope="session")
def fold(experiment_features):
    from kerasseizure.evaluation.folds import seizure_wise_folds

    return seizure_wise_folds(experiment_features["fft"].seizures)


@pytest.fixture(scope="session")
def ensemble_config():
    from kerasseizure.experiments.tusz import TUSZExperimentConfig

    return TUSZExperimentConfig(kind="ensemble", model=TINY, **NEURAL)


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


def test_member_and_student_rows_resume(experiment_features, fold, tmp_path):
    from kerasseizure.experiments.tusz import TUSZExperimentConfig, run_tusz_fold

    ses = experiment_features["ses"]
    train, valid = fold[0]
    for config in (TUSZExperimentConfig(kind="member", model=TINY, **NEURAL),
                   TUSZExperimentConfig(kind="student", model={"size": "tiny"}, **NEURAL)):
        result = run_tusz_fold(ses, train, valid, config, tmp_path / config.kind)
        _check(result, ses, valid)
        assert result.extra["epochs_run"] == 1
        assert (tmp_path / config.kind / "fit" / "final.keras").is_file()
        again = run_tusz_fold(ses, train, valid, config, tmp_path / config.kind)
        assert again.extra["epochs_run"] == 0  # loaded, not retrained
        np.testing.assert_allclose(again.predictions["probs"], result.predictions["probs"], atol=1e-6)


def test_ensemble_then_distilled_student(experiment_features, fold, tmp_path, ensemble_config):
    from kerasseizure.experiments.tusz import TUSZExperimentConfig, load_history, run_tusz_fold

    ses = experiment_features["ses"]
    train, valid = fold[0]
    ensemble = run_tusz_fold(ses, train, valid, ensemble_config, tmp_path / "ensemble")
    _check(ensemble, ses, valid)
    assert ensemble.predictions["member_probs"].shape[1:] == (3, len(ses.classes))
    assert {"member0_window_f1", "member2_seizure_f1"} <= set(ensemble.metrics)
    history = load_history(tmp_path / "ensemble" / "fit")
    assert {"loss", "val_loss"} <= set(history.columns)

    logs = []
    config = TUSZExperimentConfig(kind="distilled", model={"size": "tiny"}, teacher=ensemble_config,
                                  feature_distillation=True, **NEURAL)
    distilled = run_tusz_fold(ses, train, valid, config, tmp_path / "distilled", teacher_dir=tmp_path / "ensemble",
                              log=logs.append)
    _check(distilled, ses, valid)
    assert distilled.extra["teacher_run"] == str(tmp_path / "ensemble" / "fit")
    assert not any(line.startswith("ensemble:") for line in logs)  # the teacher was loaded, not retrained
    assert any(line.startswith("distilled: epoch 1/1") for line in logs)
    assert (tmp_path / "distilled" / "fit" / "final.keras").is_file()


def test_distilled_with_alpha_one_is_the_student_alone(experiment_features, fold, tmp_path, ensemble_config):
    """alpha = 1 leaves only the label loss: the distilled row must then BE the student row.

    This pins what makes the two rows comparable: the distilled student starts from the weights
    the student row starts from, sees the same batches, and is evaluated the same way.
    """
    from kerasseizure.experiments.tusz import TUSZExperimentConfig, run_tusz_fold

    ses = experiment_features["ses"]
    train, valid = fold[0]
    settings = {**NEURAL, "epochs": 2, "seed": 5}
    alone = run_tusz_fold(ses, train, valid, TUSZExperimentConfig(kind="student", model={"size": "tiny"}, **settings),
                          tmp_path / "alone")
    config = TUSZExperimentConfig(kind="distilled", model={"size": "tiny"}, teacher=ensemble_config, alpha=1.0,
                                  **settings)
    distilled = run_tusz_fold(ses, train, valid, config, tmp_path / "distilled", teacher_dir=tmp_path / "teacher")
    np.testing.assert_allclose(distilled.predictions["probs"], alone.predictions["probs"], atol=1e-5)


def test_pooled_model_does_not_depend_on_earlier_folds(experiment_features, fold, tmp_path):
    """A fold trained after another one (pooled model reset) equals the fold trained first in a fresh pool."""
    from kerasseizure.experiments.tusz import ModelPool, TUSZExperimentConfig, run_tusz_fold

    ses = experiment_features["ses"]
    config = TUSZExperimentConfig(kind="student", model={"size": "tiny"}, seed=3, **NEURAL)
    pool = ModelPool()
    run_tusz_fold(ses, *fold[0], config, tmp_path / "a0", pool=pool)
    after = run_tusz_fold(ses, *fold[1], config, tmp_path / "a1", pool=pool)
    fresh = run_tusz_fold(ses, *fold[1], config, tmp_path / "b1", pool=ModelPool())
    np.testing.assert_array_equal(after.predictions["probs"], fresh.predictions["probs"])
