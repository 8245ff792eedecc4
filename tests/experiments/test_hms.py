"""hms_experiment: every variant trains and scores on one fold of a tiny synthetic corpus.

Tiny models (one small wave block, the compact image CNN at 32 x 32, one epoch, eager) keep the
module within about a minute on 2 cores; the corpus (tests/corpora.py) and the feature cache are
built once per session. Training with an EfficientNetV2B0 image trunk (spatial: ~20 s, fused:
~35 s) is `slow`; the default suite builds those two models (test_efficientnet_variants_build) and
trains both variants with the compact trunk.
"""

import json
import os

import numpy as np
import pytest

os.environ.setdefault("KERASSEIZURE_PROGRESS", "0")

from kerasseizure.experiments import hms as hx  # noqa: E402
from kerasseizure.experiments.runs import RunIdentityError  # noqa: E402

TINY = dict(wavenet_blocks=[[4, 3, 1]], backbone="compact", image_size=[32, 32],
            batch_size=8, eval_batch_size=32, lr=[1e-3], conv3d_filters=[4], run_eagerly=True)


@pytest.fixture(scope="module")
def hms_small(hms_experiment_root):
    from kerasseizure.io.hms import HMSDataset

    return HMSDataset(hms_experiment_root)


@pytest.fixture(scope="module")
def features(hms_small, tmp_path_factory):
    configs = [hx.variant_config(v, **TINY) for v in ("temporal", "spatial")]
    return hx.build_features(hms_small, tmp_path_factory.mktemp("hms_exp_cache"), configs, progress=False)


@pytest.fixture(scope="module")
def folds(features):
    from kerasseizure.evaluation.folds import group_kfold_by_patient

    return group_kfold_by_patient(features.table, 5)


def test_config_round_trip_and_validation():
    config = hx.variant_config("spatial_two_stage", **TINY)
    again = hx.HMSExperimentConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config and again.fingerprint() == config.fingerprint()
    assert config.inputs == "image" and config.two_stage and config.total_epochs == 2
    assert hx.variant_config("temporal").lr == [1e-3, 1e-3, 1e-4, 1e-4, 1e-5]      # WAVENET_LR, 5 epochs
    assert hx.variant_config("spatial").epochs == 4 and hx.variant_config("spatial").backbone == "EfficientNetV2B2"
    assert hx.variant_config("temporal").low_hz == 0.1                                # the paper's band-pass
    with pytest.raises(ValueError, match="unknown HMSExperimentConfig fields"):
        hx.HMSExperimentConfig.from_dict({"modell": "wavenet"})
    with pytest.raises(ValueError):
        hx.HMSExperimentConfig(model="transformer")
    with pytest.raises(ValueError):
        hx.HMSExperimentConfig(mirror=1.5)
    assert "left/right swap" in hx.variant_config("temporal_swap").describe()
    compact = hx.variant_config("spatial", backbone="compact", recompute_batchnorm=50)
    assert "CompactSpectrogramNet" in compact.describe() and "recomputed from 50 batches" in compact.describe()
    with pytest.raises(ValueError, match="no pretrained weights"):
        hx.variant_config("spatial", backbone="compact", backbone_weights="notop.h5")
    with pytest.raises(ValueError, match="recompute_batchnorm"):
        hx.variant_config("spatial", recompute_batchnorm=0)


def test_scoring_helpers_follow_the_kaggle_scorer(features):
    table = features.table
    positions = np.arange(len(table))
    targets = hx.targets_of(table, positions)
    assert hx.kl_metrics(table, positions, targets)["kl_all"] == pytest.approx(0.0, abs=1e-12)
    uniform = np.full_like(targets, 1 / 6)
    metrics = hx.kl_metrics(table, positions, uniform)
    assert metrics["n_all"] == len(table) and metrics["n_high"] == int((table["population"] == "high").sum())
    assert hx.per_class_kl(table, positions, uniform).sum() == pytest.approx(metrics["kl_all"])
    averaged = hx.average_probabilities(targets, uniform)
    assert np.allclose(averaged.sum(axis=1), 1) and np.allclose(averaged, (targets + uniform) / 2)
    assert np.allclose(hx.softmax(np.array([[0.0, np.log(3.0)]])), [[0.25, 0.75]])


@pytest.fixture(scope="module")
def trained(features, folds, tmp_path_factory):
    """temporal and spatial on fold 0, shared by the tests below."""
    root = tmp_path_factory.mktemp("hms_exp_runs")
    return {v: hx.run_cv(hx.variant_config(v, **TINY), features, run_dir=root / v, folds=folds, fold_indices=[0])
            for v in ("temporal", "spatial")}


def _check_result(result, config, valid):
    assert list(result.folds) == [0]
    assert result.oof["position"].tolist() == sorted(valid.tolist())
    probabilities = result.oof[list(hx.HMS_CLASSES)].to_numpy()
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-12) and np.all(probabilities > 0)
    assert np.isfinite(result.pooled["kl_all"]) and result.pooled["n_all"] == len(valid)
    fold = result.folds[0]
    assert fold.metrics["kl_all"] == pytest.approx(result.pooled["kl_all"])
    assert all("loss" in h and "val_loss" in h for h in fold.extra["history"].values())
    return probabilities


@pytest.mark.parametrize("variant", ["temporal", "spatial"])
def test_temporal_and_spatial_train_score_and_resume(variant, trained, features, folds):
    result = trained[variant]
    probabilities = _check_result(result, result.config, folds[0][1])
    # a re-run loads the fold instead of training it
    again = hx.run_cv(result.config, features, run_dir=result.run_dir, folds=folds, fold_indices=[0])
    assert again.reused == [0]
    assert np.array_equal(again.oof[list(hx.HMS_CLASSES)].to_numpy(), probabilities)


EFFICIENTNET = dict(TINY, backbone="EfficientNetV2B0")


def test_efficientnet_variants_build(features):
    """The fast smoke of the slow EfficientNet trainings below: the models the configs ask for."""
    spatial = hx.build_model(hx.variant_config("spatial", **EFFICIENTNET), features)
    assert spatial.get_layer("efficientnetv2-b0") is not None and tuple(spatial.output.shape) == (None, 6)
    assert spatial.input.shape[1:] == (32, 32, 3)
    fused = hx.build_model(hx.variant_config("fused", **EFFICIENTNET), features)
    assert fused.get_layer("spatial_trunk").output.shape[1:] == (1280,)  # EfficientNetV2B0's pooled features
    assert tuple(fused.output.shape) == (None, 6)


@pytest.mark.parametrize("variant, settings", [
    pytest.param("spatial", EFFICIENTNET, marks=pytest.mark.slow, id="spatial-efficientnet"),
    pytest.param("fused", EFFICIENTNET, marks=pytest.mark.slow, id="fused-efficientnet"),
    pytest.param("temporal_swap", TINY, id="temporal_swap"),
    pytest.param("temporal_two_stage", TINY, id="temporal_two_stage"),
    pytest.param("conv3d", TINY, id="conv3d")])
def test_each_proposal_trains_and_scores_one_fold(variant, settings, features, folds, tmp_path):
    config = hx.variant_config(variant, **settings)
    result = hx.run_cv(config, features, run_dir=tmp_path / variant, folds=folds, fold_indices=[0])
    _check_result(result, config, folds[0][1])
    if config.two_stage:
        assert result.folds[0].extra["stages"] == ["low-votes", "high-votes"]
        assert (tmp_path / variant / "fold-0" / "fit" / "stage-2-high-votes" / "final.npz").exists()


@pytest.mark.parametrize("variant", ["spatial", "fused"])
def test_compact_image_model_with_recomputed_batchnorm(variant, features, folds, tmp_path):
    config = hx.variant_config(variant, **dict(TINY, backbone="compact", include_kaggle=False, recompute_batchnorm=2))
    model = hx.build_model(config, features)
    assert model.get_layer("spatial_trunk" if variant == "fused" else "time_pooling") is not None
    result = hx.run_cv(config, features, run_dir=tmp_path / variant, folds=folds, fold_indices=[0])
    _check_result(result, config, folds[0][1])
    record = json.loads((tmp_path / variant / "fold-0" / "fit" / "result.json").read_text())
    assert 0 < record["batchnorm_samples"] <= 2 * config.batch_size


def test_same_seed_same_predictions_and_run_dir_guard(trained, features, folds, tmp_path):
    first = trained["temporal"]
    second = hx.run_cv(first.config, features, run_dir=tmp_path / "b", folds=folds, fold_indices=[0])
    assert second.reused == []
    assert np.array_equal(first.oof[list(hx.HMS_CLASSES)].to_numpy(), second.oof[list(hx.HMS_CLASSES)].to_numpy())
    with pytest.raises(RunIdentityError, match=r"seed: 0 -> 1.*--overwrite"):
        hx.run_cv(first.config.replace(seed=1), features, run_dir=tmp_path / "b", folds=folds, fold_indices=[0])


def test_interrupted_fold_resumes_from_its_checkpoint(features, folds, tmp_path):
    config = hx.variant_config("temporal", **dict(TINY, lr=[1e-3, 1e-3]))
    full = hx.run_cv(config, features, run_dir=tmp_path, folds=folds, fold_indices=[2])
    expected = full.oof[list(hx.HMS_CLASSES)].to_numpy()
    # simulate a kill after epoch 1: drop the fold result, the final state and the epoch-2 checkpoint
    for name in ("result.json", "predictions.npz", "fit/final.npz", "fit/result.json",
                 "fit/checkpoints/epoch-0002.npz"):
        (tmp_path / "fold-2" / name).unlink()
    epochs = []
    resumed = hx.run_cv(config, features, run_dir=tmp_path, folds=folds, fold_indices=[2],
                        report=lambda info: epochs.append(info["epoch"]))
    assert epochs == [2]
    assert np.allclose(resumed.oof[list(hx.HMS_CLASSES)].to_numpy(), expected, atol=1e-6)


def test_average_and_references(trained, features, folds):
    both = hx.average_results(features.table, [trained["temporal"], trained["spatial"]])
    assert both["members"] == ["temporal", "spatial"] and np.isfinite(both["pooled"]["kl_all"])
    references = hx.reference_predictions(features.table, folds, [0])
    uniform = hx.score_oof(features.table, references["uniform"], "uniform")
    assert uniform["pooled"]["kl_all"] > 0 and uniform["per_fold"][0]["n_all"] == len(folds[0][1])


def test_truth_reference_and_the_gap_closed(features, folds, hms_experiment_root):
    from kerasseizure.evaluation.reports import gap_closed
    from kerasseizure.io.synthetic import generating_vote_distributions

    distributions = generating_vote_distributions(hms_experiment_root)
    references = hx.reference_predictions(features.table, folds, [0, 1], truth=distributions)
    truth = references["truth"]
    expected = distributions.set_index("eeg_id").loc[truth["eeg_id"]].to_numpy()
    np.testing.assert_array_equal(truth[list(hx.HMS_CLASSES)].to_numpy(), expected)
    assert truth[["fold", "position"]].equals(references["uniform"][["fold", "position"]])
    kl = {name: hx.score_oof(features.table, oof, name)["pooled"]["kl_all"] for name, oof in references.items()}
    assert kl["truth"] < kl["train prior"] and kl["truth"] < kl["uniform"]
    assert gap_closed(kl["truth"], kl["uniform"], kl["truth"]) == 1.0
    assert gap_closed(kl["uniform"], kl["uniform"], kl["truth"]) == 0.0
    assert gap_closed(kl["uniform"] + 1, kl["uniform"], kl["truth"]) < 0
    assert np.isnan(gap_closed(0.5, 0.5, 0.5)) and np.isnan(gap_closed(None, 1.0, 0.2))
    with pytest.raises(ValueError, match="the truth lacks 1 eeg_ids"):
        hx.reference_predictions(features.table, folds, [0], truth=distributions.iloc[1:])
