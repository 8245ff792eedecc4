"""HMS experiments: one configuration -> resumable cross-validated out-of-fold predictions + KL.

This is the library layer under `python -m reproduce.table2` and the `kerasseizure train /
evaluate` commands. One `HMSExperimentConfig` (a dataclass, JSON round-trip through
`to_dict` / `from_dict`) describes one *variant*: which model (WaveNet, SpectrogramNet, the fused
model or the 3D CNN), its size, the training schedule (one stage, or "train twice" on the vote
populations), the augmentation (left/right swap, time shift), the seed. The features
(`pipelines.build_hms_features`) are built once and shared by every variant.

```python
from kerasseizure.io.hms import HMSDataset
from kerasseizure.experiments import hms as hx

config = hx.variant_config("temporal")                    # WaveNet, 0.1-20 Hz, WAVENET_LR, batch 32
features = hx.build_features(HMSDataset("hms/"), "cache/", [config])
result = hx.run_cv(config, features, run_dir="runs/temporal")   # GroupKFold(5) by patient
result.pooled          # {"kl_all": ..., "kl_high": ..., "n_all": ..., "n_high": ...}
result.oof             # one row per validated eeg_id: fold, position, eeg_id, population, probabilities
```

Every fold trains through `training.fit` (`fit_stages` for two stages) in
`<run_dir>/fold-<k>/fit`, and `experiments.runs.run_folds` stores each finished fold's result and
out-of-fold probabilities: calling `run_cv` again with the same `run_dir` loads the finished folds
and resumes an interrupted one from its last completed epoch. A run folder remembers what it was
made for (experiment config, feature cache key, fold membership); asking it for something else
raises `RunIdentityError` instead of mixing results (`overwrite=True` replaces it).

Scores are the competition's (`metrics.kaggle_kl_divergence`, exact scorer semantics) on the
out-of-fold softmax probabilities (computed in float64 from the logits), on every validated
eeg_id ("all") and on the eeg_ids with >= 10 votes on every sub-row ("high", the population
that tracks the leaderboard): per fold, and pooled over the folds' out-of-fold predictions.

The configuration (`HMSExperimentConfig`, `VARIANTS`, `variant_config`, `as_config`) lives in
`kerasseizure.experiments.hms_config` and the scoring helpers (`kl_metrics`, `score_oof`,
`average_results`, ...) in `kerasseizure.evaluation.hms_scoring`; both are re-exported here.
"""

import dataclasses
import time
from pathlib import Path

import numpy as np
import pandas as pd

from kerasseizure.io.labels import HMS_CLASSES
from kerasseizure.experiments.hms_config import (
    COMPACT_BACKBONE, MODEL_INPUTS, MODELS, POPULATIONS, VARIANTS, HMSExperimentConfig, _plain, as_config, variant_config,
)
from kerasseizure.probabilities import average_probabilities, renormalise, softmax
from kerasseizure.evaluation.hms_scoring import (
    average_results, finite_or_none, kl_metrics, oof_frame, per_class_kl, prior_probabilities,
    reference_predictions, score_oof, targets_of,
)
from kerasseizure.experiments.runs import FoldResult, RunError



# ---------------------------------------------------------------------- features


def build_features(dataset, cache_dir, configs, **kwargs):
    """The features every config of `configs` needs, built (or loaded) once.

    Args:
        dataset: HMSDataset or the competition folder.
        cache_dir: feature cache folder (None: the package default).
        configs: HMSExperimentConfig / dicts / variant names; their feature settings must agree.
        **kwargs: further `build_hms_features` arguments (eeg_ids, progress, skip_bad, ...).
    """
    from kerasseizure.pipelines import build_hms_features

    configs = [as_config(c) for c in configs]
    if not configs:
        raise ValueError("build_features needs at least one config")
    settings = configs[0].feature_kwargs()
    for config in configs[1:]:
        if config.feature_kwargs() != settings:
            raise ValueError(f"configs {configs[0].name!r} and {config.name!r} need different features: "
                             f"{settings} vs {config.feature_kwargs()}")
    views = tuple(v for v in ("eeg", "image") if any(v in c.views for c in configs))
    return build_hms_features(dataset, cache_dir, views=views, **settings, **kwargs)


def check_features(config, features):
    """Raise ValueError when `features` were built with other settings than `config` asks for."""
    missing = [v for v in config.views if v not in features.views]
    if missing:
        raise ValueError(f"{config.name}: needs views {missing}; the features hold {features.views}")
    built = features.config
    expected = config.feature_kwargs()
    problems = []
    wavenet = (built.get("params") or {}).get("wavenet")
    if "eeg" in config.views and wavenet is not None:
        for key, name in (("low_hz", "low_hz"), ("high_hz", "high_hz"), ("order", "filter_order"),
                          ("zero_phase", "zero_phase")):
            want = expected[name]
            want = None if want is None else (bool(want) if key == "zero_phase" else float(want))
            have = wavenet.get(key)
            have = None if have is None else (bool(have) if key == "zero_phase" else float(have))
            if want != have:
                problems.append(f"{name}: features {have}, config {want}")
    if config.time_shift and features.time_shift_views < 1:
        problems.append("time_shift needs features built with time_shift_views >= 1")
    if "image" in config.views and built.get("spectrogram_offset") not in (None, config.spectrogram_offset):
        problems.append(f"spectrogram_offset: features {built.get('spectrogram_offset')}, config "
                        f"{config.spectrogram_offset}")
    if problems:
        raise ValueError(f"{config.name}: the features do not match the config: " + "; ".join(problems))


# ---------------------------------------------------------------------- models and data


def _conv3d_shape():
    from kerasseizure.signal.reference import HMS_PANEL_FRAMES

    return (int(HMS_PANEL_FRAMES), 4, 128, 1)


def build_model(config, features=None):
    """The variant's keras.Model (float32 logits), input shapes from `features` when given."""
    from kerasseizure.models import CompactSpectrogramNet, SpectroTemporal3D, SpectrogramNet, WaveNet, fused

    config = as_config(config)
    eeg_shape = tuple(features.arrays["wavenet"].shape[2:]) if features is not None and \
        "wavenet" in features.arrays else (2000, 8)
    image_shape = (*image_hw(config, features), 3)
    if config.model == "wavenet":
        return WaveNet(eeg_shape, blocks=config.wavenet_blocks, hidden_units=config.head_units)
    compact = config.backbone == COMPACT_BACKBONE
    if config.model == "spectrogram":
        if compact:
            return CompactSpectrogramNet(image_shape, dropout=config.dropout)
        return SpectrogramNet(image_shape, backbone=config.backbone, dropout=config.dropout,
                              backbone_weights=config.backbone_weights)
    if config.model == "fused":
        return fused(eeg_shape=eeg_shape, image_shape=image_shape, wavenet_blocks=config.wavenet_blocks,
                     spectrogram_net=CompactSpectrogramNet(image_shape, dropout=0.0) if compact else None,
                     backbone=config.backbone, backbone_weights=config.backbone_weights,
                     head_units=config.head_units, dropout=config.dropout)
    return SpectroTemporal3D(_conv3d_shape(), filters=config.conv3d_filters, dropout=config.dropout)


def image_hw(config, features=None):
    """(height, width) of the image the variant sees."""
    if config.image_size is not None:
        return tuple(config.image_size)
    kaggle = config.include_kaggle and config.kaggle_spectrogram and (
        features is None or "kaggle_panels" in features.arrays)
    return (512, 512) if kaggle else (512, 256)


def _to_conv3d(element):
    """(b, 512, 256, 3) EEG-only image -> (b, 256 frames, 4 chains, 128 mels, 1)."""
    import tensorflow as tf

    def convert(image):
        panels = tf.reshape(image[..., 0], (-1, 4, 128, tf.shape(image)[2]))   # chain, mel, frame
        return tf.transpose(panels, (0, 3, 1, 2))[..., None]

    if isinstance(element, tuple):
        return (convert(element[0]),) + element[1:]
    return convert(element)


def make_dataset(config, features, positions, *, batch_size=None, population="all", shuffle=False, epoch=0,
                 augment=False, targets=True):
    """The tf.data batches of one variant: training (shuffle/augment) or evaluation order.

    Args:
        config: HMSExperimentConfig.
        features: HMSFeatures.
        positions: positions in `features.table`.
        batch_size: default config.batch_size.
        population: eeg_ids kept among `positions`.
        shuffle, epoch: the (seed, epoch) order of `hms_dataset`.
        augment: apply the config's swap / time-shift augmentation.
        targets: yield (x, y[, w]) (False: x only).
    """
    from kerasseizure.pipelines import hms_dataset

    conv3d = config.model == "conv3d"
    ds = hms_dataset(
        features, positions, int(batch_size or config.batch_size), inputs=config.inputs, population=population,
        targets=targets, sample_weight=config.sample_weight if (targets and augment) else None,
        shuffle=shuffle, seed=config.seed, epoch=epoch,
        mirror=config.mirror if augment else 0.0, time_shift=config.time_shift if augment else False,
        image_size=None if conv3d else (tuple(config.image_size) if config.image_size else None),
        include_kaggle=False if conv3d else config.include_kaggle, prefetch=not conv3d)
    if conv3d:
        import tensorflow as tf

        ds = ds.map(lambda *element: _to_conv3d(element if len(element) > 1 else element[0]),
                    num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(tf.data.AUTOTUNE)
    return ds


# ---------------------------------------------------------------------- run plans


def build_seconds_per_eeg(dataset, configs, sample=4, **kwargs):
    """Measured seconds to build one eeg_id's views (reading included) with `build_features`.

    One eeg_id is built first (untimed: XLA compilation), then `sample` more are built and timed,
    each in a temporary folder.
    """
    import tempfile

    ids = dataset.labels["eeg_id"].to_numpy()
    if len(ids) < 2:
        raise ValueError(f"{dataset.root}: too few eeg_ids to time the feature build")
    timed = ids[1 : sample + 1]
    with tempfile.TemporaryDirectory() as warm, tempfile.TemporaryDirectory() as folder:
        build_features(dataset, warm, configs, eeg_ids=ids[:1], progress=False, **kwargs)
        start = time.perf_counter()
        build_features(dataset, folder, configs, eeg_ids=timed, progress=False, **kwargs)
        return (time.perf_counter() - start) / len(timed)


def time_variant(config, features, *, steps=3, warmup=1):
    """Size and measured step times of a variant's model, compiled as `train_fold` compiles it
    (KL loss, Adam at its first rate), on random inputs of the features' shapes and random
    vote distributions (`experiments.plan.time_model`)."""
    from kerasseizure.experiments import plan as plan_lib
    from kerasseizure.training import losses as losses_lib
    from kerasseizure.training.fit import make_optimizer, seed_everything
    from kerasseizure.training.precision import precision_scope

    config = as_config(config)
    seed_everything(config.seed)
    with precision_scope(config.precision):
        model = build_model(config, features)
        model.compile(optimizer=make_optimizer("adam", config.lr), loss=losses_lib.get_loss("kl"),
                      jit_compile=config.jit_compile)
    targets = softmax(np.random.default_rng(config.seed).standard_normal((config.batch_size, len(HMS_CLASSES))))
    timing = plan_lib.time_model(model, plan_lib.random_batch(model, config.batch_size), targets.astype(np.float32),
                                 plan_lib.random_batch(model, config.eval_batch_size), steps=steps, warmup=warmup)
    return plan_lib.model_size(model), timing


# ---------------------------------------------------------------------- one fold


def _epoch_reporter(report, config, fold, stage, epochs):
    import keras

    class _Reporter(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            report({"experiment": config.name, "fold": fold, "stage": stage, "epoch": int(epoch) + 1,
                    "epochs": epochs, "logs": {k: float(v) for k, v in (logs or {}).items()}})

    return _Reporter()


def _stage_plan(config, features, train_positions):
    """(name, population, epochs, lr) of each stage to run; a two-stage stage without eeg_ids is left out."""
    if not config.two_stage:
        return [("train", config.train_population, config.epochs, config.lr)]
    plan = []
    for name, population, epochs, lr in (("low-votes", config.stage1_population, config.epochs, config.lr),
                                         ("high-votes", config.stage2_population, config.stage2_epochs,
                                          config.stage2_lr)):
        if len(features.positions(train_positions, population)):
            plan.append((name, population, epochs, lr))
    return plan


def _train(builder, stages, run_dir, two_stage, **common):
    """The stages' FitResults: "train twice" through `fit_stages` (in `run_dir/stage-<i>-<name>`), one stage
    through `fit` in `run_dir` itself."""
    from kerasseizure.training.fit import fit, fit_stages

    if two_stage:
        return fit_stages(builder, stages, run_dir=run_dir, **common)
    (stage,) = stages
    return [fit(builder, stage.train_data, stage.validation_data, run_dir=run_dir, epochs=stage.epochs, lr=stage.lr,
                **stage.options, **common)]


def train_fold(config, features, train_positions, valid_positions, fold_dir, *, fold=0, report=None,
               verbose=0, tensorboard=False):
    """Train one variant on one fold (resumably) and score its out-of-fold probabilities.

    Args:
        config: HMSExperimentConfig (or dict / variant name).
        features: HMSFeatures holding the views the variant needs.
        train_positions, valid_positions: positions in `features.table`.
        fold_dir: the fold's folder; training runs in `fold_dir/fit` (resumes when re-called).
        fold: the fold's index (for reports).
        report: optional callable(dict) called after every epoch with experiment, fold, stage,
            epoch, epochs and the epoch's logs (progress lines, ETA).
        verbose: Keras verbosity.
        tensorboard: write TensorBoard logs in the fit folders (needs the tensorboard package).

    Returns:
        FoldResult: metrics (kl_all, kl_high, n_all, n_high, n_train, seconds), predictions
        (position, eeg_id, probabilities float64 in HMS_CLASSES order), extra (history per
        stage, stages run, skipped stages).
    """
    from kerasseizure.training import precision as precision_lib
    from kerasseizure.training.fit import Stage

    config = as_config(config)
    check_features(config, features)
    train_positions = np.asarray(train_positions, dtype=np.int64)
    valid_positions = features.positions(valid_positions)
    fold_dir = Path(fold_dir)
    started = time.monotonic()
    precision_lib.clear_session()

    plan = _stage_plan(config, features, train_positions)
    if not plan:
        raise RunError(f"{config.name} fold {fold}: no training eeg_id in populations "
                       f"{config.stage1_population!r} / {config.stage2_population!r}")
    skipped = []
    if config.two_stage and len(plan) < 2:
        skipped = [n for n in ("low-votes", "high-votes") if n not in [p[0] for p in plan]]

    def train_data(population):
        def factory(epoch, seed, global_batch):
            return make_dataset(config, features, train_positions, batch_size=global_batch, population=population,
                                shuffle=True, epoch=epoch, augment=True)
        return factory

    valid_ds = make_dataset(config, features, valid_positions, batch_size=config.eval_batch_size)
    stages = [Stage(name, train_data(population), valid_ds, epochs=epochs, lr=lr,
                    options={"callbacks": [_epoch_reporter(report, config, fold, name, epochs)] if report else []})
              for name, population, epochs, lr in plan]
    # Each stage: a fresh Adam (fit compiles) from the previous stage's weights.
    results = _train(lambda: build_model(config, features), stages, fold_dir / "fit", config.two_stage,
                     loss="kl", optimizer="adam", batch_size=config.batch_size, seed=config.seed,
                     precision=config.precision, run_eagerly=bool(config.run_eagerly), jit_compile=config.jit_compile,
                     recompute_batchnorm=config.recompute_batchnorm, max_steps_per_epoch=config.max_steps_per_epoch,
                     tensorboard=tensorboard, verbose=verbose, config={"experiment": config.to_dict(), "fold": int(fold)})
    histories = {stage.name: result.history for stage, result in zip(stages, results)}
    trained = results[-1].model

    logits = trained.predict(make_dataset(config, features, valid_positions, batch_size=config.eval_batch_size,
                                          targets=False), verbose=0)
    probabilities = softmax(logits)
    metrics = kl_metrics(features.table, valid_positions, probabilities)
    metrics["n_train"] = int(sum(len(features.positions(train_positions, p[1])) for p in plan))
    metrics["seconds"] = float(time.monotonic() - started)
    eeg_ids = features.table["eeg_id"].to_numpy(np.int64)[valid_positions]
    return FoldResult(
        metrics=metrics,
        predictions={"position": valid_positions, "eeg_id": eeg_ids, "probabilities": probabilities},
        extra={"history": _plain(histories), "stages": [p[0] for p in plan], "skipped_stages": skipped,
               "n_train_by_stage": {p[0]: int(len(features.positions(train_positions, p[1]))) for p in plan}},
    )


# ---------------------------------------------------------------------- cross-validation


@dataclasses.dataclass
class HMSCVResult:
    """A cross-validated variant.

    Attributes:
        config: the HMSExperimentConfig.
        folds: {fold index: FoldResult}.
        oof: one row per validated eeg_id: fold, position, eeg_id, population and the six
            probabilities (HMS_CLASSES), in fold then table order.
        pooled: kl_metrics of the pooled out-of-fold predictions.
        summary: per-metric mean / std / per_fold over the folds (runs.summarise).
        reused: folds loaded from an earlier run.
        run_dir: the run folder.
    """

    config: HMSExperimentConfig
    folds: dict
    oof: pd.DataFrame
    pooled: dict
    summary: dict
    reused: list
    run_dir: Path

    def probabilities(self):
        """(positions, probabilities) of the out-of-fold rows."""
        return self.oof["position"].to_numpy(np.int64), self.oof[list(HMS_CLASSES)].to_numpy(np.float64)

    def histories(self):
        """{fold: {stage: history dict}}."""
        return {k: r.extra.get("history", {}) for k, r in self.folds.items()}


def cv_identity(config, features, folds):
    """What a run folder is for (`runs.run_identity`): experiment config, feature cache, fold membership."""
    from kerasseizure.experiments.runs import fold_digest, run_identity

    return run_identity({"task": "hms", "experiment": as_config(config).to_dict()},
                        {"features": Path(features.path).name, "n_eeg_ids": int(len(features.table)),
                         "folds": fold_digest(list(folds)), "n_folds": len(folds)})


def run_cv(config, features, *, run_dir, folds=None, n_folds=5, fold_indices=None, report=None, log=None,
           verbose=0, overwrite=False):
    """Cross-validate one variant, resumably; returns its out-of-fold predictions and scores.

    Args:
        config: HMSExperimentConfig, dict or variant name.
        features: HMSFeatures (train split) with the views the variant needs.
        run_dir: the run folder (`fold-<k>/` per fold); re-running loads the finished folds.
        folds: list of (train_positions, valid_positions); default GroupKFold(n_folds) by patient
            on `features.table` (the starters' protocol).
        n_folds: folds of the default split.
        fold_indices: run only these folds (e.g. [0, 1] for a smoke run); default all.
        report: per-epoch callable(dict), see `train_fold`.
        log: callable(str) for fold-level messages.
        verbose: Keras verbosity.
        overwrite: replace a run folder made for other settings (else `RunIdentityError`).

    Returns:
        HMSCVResult.
    """
    from kerasseizure.evaluation.folds import group_kfold_by_patient
    from kerasseizure.experiments.runs import run_folds

    config = as_config(config)
    check_features(config, features)
    folds = list(folds) if folds is not None else group_kfold_by_patient(features.table, n_folds)
    indices = list(range(len(folds))) if fold_indices is None else [int(i) for i in fold_indices]
    identity = cv_identity(config, features, folds)
    selected = {i: folds[i] for i in indices}
    cv = run_folds(selected,
                   lambda spec, fold_dir: train_fold(config, features, spec[0], spec[1], fold_dir,
                                                     fold=int(fold_dir.name.split("-")[-1]), report=report,
                                                     verbose=verbose),
                   run_dir, identity=identity, overwrite=overwrite, log=log)
    by_fold = dict(zip(indices, cv.folds))
    oof = oof_frame(features.table, by_fold)
    positions = oof["position"].to_numpy(np.int64)
    pooled = kl_metrics(features.table, positions, oof[list(HMS_CLASSES)].to_numpy(np.float64))
    reused = [int(name) for name in cv.reused]
    return HMSCVResult(config, by_fold, oof, pooled, cv.summary, reused, Path(run_dir))


__all__ = [
    "COMPACT_BACKBONE", "HMS_CLASSES", "MODELS", "MODEL_INPUTS", "POPULATIONS", "VARIANTS", "HMSExperimentConfig",
    "variant_config",
    "as_config", "build_features", "check_features", "build_model", "image_hw", "make_dataset", "train_fold",
    "HMSCVResult", "cv_identity", "run_cv", "softmax", "renormalise", "average_probabilities", "targets_of",
    "kl_metrics", "per_class_kl", "prior_probabilities", "oof_frame", "score_oof", "average_results",
    "reference_predictions", "finite_or_none", "FoldResult", "RunError",
]
