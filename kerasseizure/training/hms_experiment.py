"""HMS experiments: one configuration -> resumable cross-validated out-of-fold predictions + KL.

This is the library layer under `python -m reproduce.table2` and the `kerasseizure train /
evaluate` commands. One `HMSExperimentConfig` (a dataclass, JSON round-trip through
`to_dict` / `from_dict`) describes one *variant*: which model (WaveNet, SpectrogramNet, the fused
model or the 3D CNN), its size, the training schedule (one stage, or "train twice" on the vote
populations), the augmentation (left/right swap, time shift), the seed. The features
(`pipelines.build_hms_features`) are built once and shared by every variant.

```python
from kerasseizure.io.hms import HMSDataset
from kerasseizure.training import hms_experiment as hx

config = hx.variant_config("temporal")                    # WaveNet, 0.1-20 Hz, WAVENET_LR, batch 32
features = hx.build_features(HMSDataset("hms/"), "cache/", [config])
result = hx.run_cv(config, features, run_dir="runs/temporal")   # GroupKFold(5) by patient
result.pooled          # {"kl_all": ..., "kl_high": ..., "n_all": ..., "n_high": ...}
result.oof             # one row per validated eeg_id: fold, position, eeg_id, population, probabilities
```

Every fold trains through `training.fit` (`fit_stages` for two stages) in
`<run_dir>/fold-<k>/fit`, and `training.runs.run_folds` stores each finished fold's result and
out-of-fold probabilities: calling `run_cv` again with the same `run_dir` loads the finished folds
and resumes an interrupted one from its last completed epoch. A run folder remembers what it was
made for (experiment config, feature cache key, fold membership); asking it for something else
raises `RunError` instead of mixing results.

Scores are the competition's (`metrics.kaggle_kl_divergence`, exact scorer semantics) on the
out-of-fold softmax probabilities (computed in float64 from the logits), on every validated
eeg_id ("all") and on the eeg_ids with >= 10 votes on every sub-row ("high", the population
that tracks the leaderboard): per fold, and pooled over the folds' out-of-fold predictions.
"""

import dataclasses
import hashlib
import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from kerasseizure.io.labels import HMS_CLASSES
from kerasseizure.training.runs import FoldResult, RunError

MODELS = ("wavenet", "spectrogram", "fused", "conv3d")
MODEL_INPUTS = {"wavenet": "eeg", "spectrogram": "image", "fused": "both", "conv3d": "image"}
POPULATIONS = ("all", "low", "high", "mixed")

#: The variants of table 2 (name -> config fields); `variant_config(name, **overrides)`.
VARIANTS = {
    "temporal": dict(model="wavenet"),
    "spatial": dict(model="spectrogram"),
    "fused": dict(model="fused"),
    "conv3d": dict(model="conv3d"),
    "temporal_swap": dict(model="wavenet", mirror=0.5),
    "spatial_swap": dict(model="spectrogram", mirror=0.5),
    "fused_swap": dict(model="fused", mirror=0.5),
    "temporal_two_stage": dict(model="wavenet", two_stage=True),
    "spatial_two_stage": dict(model="spectrogram", two_stage=True),
    "fused_two_stage": dict(model="fused", two_stage=True),
}


def _default_lr(model):
    from kerasseizure.training.schedules import EFFICIENTNET_LR, WAVENET_LR

    return list(WAVENET_LR) if model == "wavenet" else list(EFFICIENTNET_LR)


def _plain(value):
    """Tuples -> lists, recursively (the JSON form of a config)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


@dataclasses.dataclass
class HMSExperimentConfig:
    """One HMS variant: features, model, training schedule, augmentation, seed.

    Feature settings (must match the features a run is given; `feature_kwargs()` gives the
    `build_hms_features` arguments):
        low_hz, high_hz, filter_order, zero_phase: WaveNet input filter (paper: 0.1-20 Hz band-pass,
            order 4; starter: low_hz=None, a 20 Hz low-pass), causal unless zero_phase.
        spectrogram_offset: Kaggle window rule ("midpoint" as Deotte's code, or "mean").
        kaggle_spectrogram: cache the Kaggle panels (the image's left half).
        time_shift_views: label-aligned sub-row views cached per eeg_id (for `time_shift`).
        feature_dtype: cache storage dtype.

    Model:
        name: the run's label (default: the model name).
        model: "wavenet" (temporal), "spectrogram" (spatial), "fused" (both trunks, one head,
            trained end to end) or "conv3d" (SpectroTemporal3D on the EEG mel panels, see below).
        wavenet_blocks: WaveNet block preset name or list of (filters, kernel, n_dilations).
        backbone: SpectrogramNet / fused backbone (paper: "EfficientNetV2B2").
        backbone_weights: local path of ImageNet "notop" weights, or None (random init).
        image_size: (height, width) of the image, None = native 512 x 512 (512 x 256 EEG-only).
        include_kaggle: put the Kaggle panels in the image.
        dropout: dropout before the logits (SpectrogramNet, fused, conv3d).
        head_units: hidden units of the WaveNet / fused head.
        conv3d_filters: filters of the 3D CNN blocks.

    Training:
        lr: per-epoch list, float, or None (WAVENET_LR for the WaveNet, EFFICIENTNET_LR otherwise).
        epochs: epochs (of stage 1 when two_stage); None = len(lr) for a list, else 1.
        batch_size: per replica (starters: 32). eval_batch_size: for validation / prediction.
        train_population: eeg_ids of a one-stage run ("all", "low", "high").
        two_stage: "train twice": stage 1 on `stage1_population` (1-7 votes), stage 2 continues
            from its weights with a fresh optimizer on `stage2_population` (>= 10 votes).
        stage2_epochs, stage2_lr: stage 2 schedule (None = as stage 1).
        mirror: probability of the left/right swap per training element (0.5 = the proposal).
        time_shift: draw each training element among its cached sub-row views.
        sample_weight: None, "votes" (weight = total votes) or "ones".
        seed: the one seed (initialisation, data order, augmentation).
        precision: "auto" (float32 on CPU, mixed_float16 on CUDA), "float32", ...
        run_eagerly: train eagerly (no tf.function). On a small CPU the first traced step of an
            EfficientNet costs one to two minutes, more than a short eager run; use it for smoke
            runs and tiny presets.
        jit_compile: Keras' `compile(jit_compile=...)` ("auto" = XLA where supported).
    """

    name: str = ""
    model: str = "wavenet"
    # features
    low_hz: object = 0.1
    high_hz: float = 20.0
    filter_order: int = 4
    zero_phase: bool = False
    spectrogram_offset: str = "midpoint"
    kaggle_spectrogram: bool = True
    time_shift_views: int = 0
    feature_dtype: str = "float32"
    # model
    wavenet_blocks: object = "starter"
    backbone: str = "EfficientNetV2B2"
    backbone_weights: object = None
    image_size: object = None
    include_kaggle: bool = True
    dropout: float = 0.0
    head_units: int = 64
    conv3d_filters: object = (16, 32, 64, 128)
    # training
    lr: object = None
    epochs: object = None
    batch_size: int = 32
    eval_batch_size: int = 64
    train_population: str = "all"
    two_stage: bool = False
    stage1_population: str = "low"
    stage2_population: str = "high"
    stage2_epochs: object = None
    stage2_lr: object = None
    mirror: float = 0.0
    time_shift: bool = False
    sample_weight: object = None
    seed: int = 0
    precision: str = "auto"
    run_eagerly: bool = False
    jit_compile: object = "auto"

    def __post_init__(self):
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {self.model!r}")
        if not self.name:
            self.name = self.model
        if self.lr is None:
            self.lr = _default_lr(self.model)
        if isinstance(self.lr, (list, tuple)):
            self.lr = [float(r) for r in self.lr]
            if not self.lr:
                raise ValueError("lr must not be empty")
        if self.epochs is None:
            self.epochs = len(self.lr) if isinstance(self.lr, list) else 1
        self.epochs = int(self.epochs)
        if self.stage2_lr is None:
            self.stage2_lr = self.lr
        if isinstance(self.stage2_lr, (list, tuple)):
            self.stage2_lr = [float(r) for r in self.stage2_lr]
        if self.stage2_epochs is None:
            self.stage2_epochs = len(self.stage2_lr) if isinstance(self.stage2_lr, list) else self.epochs
        self.stage2_epochs = int(self.stage2_epochs)
        if self.image_size is not None:
            self.image_size = [int(s) for s in self.image_size]
            if len(self.image_size) != 2 or min(self.image_size) < 1:
                raise ValueError(f"image_size must be (height, width), got {self.image_size!r}")
        if not isinstance(self.wavenet_blocks, str):
            self.wavenet_blocks = [[int(v) for v in block] for block in self.wavenet_blocks]
        self.conv3d_filters = [int(f) for f in self.conv3d_filters]
        for field in ("train_population", "stage1_population", "stage2_population"):
            if getattr(self, field) not in POPULATIONS:
                raise ValueError(f"{field} must be one of {POPULATIONS}, got {getattr(self, field)!r}")
        if self.epochs < 1 or self.stage2_epochs < 1 or int(self.batch_size) < 1:
            raise ValueError("epochs, stage2_epochs and batch_size must be >= 1")
        self.mirror = 0.5 if self.mirror is True else float(self.mirror)
        if not 0.0 <= self.mirror <= 1.0:
            raise ValueError(f"mirror must be a probability, got {self.mirror}")
        if self.sample_weight not in (None, "votes", "ones"):
            raise ValueError(f"sample_weight must be None, 'votes' or 'ones', got {self.sample_weight!r}")
        if self.time_shift and self.time_shift_views < 1:
            raise ValueError("time_shift needs time_shift_views >= 1")

    # ------------------------------------------------------------------ serialisation

    def to_dict(self):
        """The JSON form (tuples as lists)."""
        return _plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, values):
        """Build from a dict (e.g. parsed JSON/YAML); unknown keys are refused with their names."""
        values = dict(values)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown HMSExperimentConfig fields {unknown}; known: {sorted(known)}")
        return cls(**values)

    def replace(self, **changes):
        """A copy with some fields changed (validated again)."""
        return type(self).from_dict({**self.to_dict(), **changes})

    def fingerprint(self):
        """Short SHA-256 of the canonical JSON form."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    # ------------------------------------------------------------------ derived

    @property
    def inputs(self):
        """The `hms_dataset` inputs the model takes ("eeg", "image" or "both")."""
        return MODEL_INPUTS[self.model]

    @property
    def views(self):
        """The cached views this variant needs."""
        return {"eeg": ("eeg",), "image": ("image",), "both": ("eeg", "image")}[self.inputs]

    @property
    def total_epochs(self):
        """Epochs over all stages."""
        return self.epochs + (self.stage2_epochs if self.two_stage else 0)

    def feature_kwargs(self):
        """The `build_hms_features` keyword arguments these settings imply (views excluded)."""
        return dict(low_hz=self.low_hz, high_hz=self.high_hz, filter_order=self.filter_order,
                    zero_phase=self.zero_phase, spectrogram_offset=self.spectrogram_offset,
                    kaggle_spectrogram=self.kaggle_spectrogram, time_shift_views=self.time_shift_views,
                    dtype=self.feature_dtype)

    def describe(self):
        """One line: model, size, schedule, augmentation."""
        if self.model == "wavenet":
            what = f"WaveNet (blocks {self.wavenet_blocks})"
        elif self.model == "spectrogram":
            what = f"SpectrogramNet ({self.backbone}, image {self._image_text()})"
        elif self.model == "fused":
            what = f"fused WaveNet (blocks {self.wavenet_blocks}) + {self.backbone} (image {self._image_text()})"
        else:
            what = f"SpectroTemporal3D (filters {self.conv3d_filters}) on the 4 EEG chain mel panels"
        lr = self.lr if not isinstance(self.lr, list) else "[" + ", ".join(f"{r:g}" for r in self.lr) + "]"
        if self.two_stage:
            schedule = (f"stage 1 on '{self.stage1_population}' {self.epochs} epochs, stage 2 on "
                        f"'{self.stage2_population}' {self.stage2_epochs} epochs, lr {lr}")
        else:
            schedule = f"{self.epochs} epochs on '{self.train_population}', lr {lr}"
        extras = []
        if self.mirror:
            extras.append(f"left/right swap p={self.mirror:g}")
        if self.time_shift:
            extras.append("time shift")
        return f"{what}; {schedule}; batch {self.batch_size}" + (f"; {', '.join(extras)}" if extras else "")

    def _image_text(self):
        if self.image_size is not None:
            return f"{self.image_size[0]}x{self.image_size[1]}"
        return "512x512" if self.include_kaggle and self.kaggle_spectrogram else "512x256"


def variant_config(variant, **overrides):
    """The config of a named variant (`VARIANTS`) with field overrides (e.g. a preset's sizes).

    Args:
        variant: a key of VARIANTS ("temporal", "spatial", "fused", "temporal_swap", ...).
        **overrides: HMSExperimentConfig fields; `name` defaults to the variant name.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; known: {sorted(VARIANTS)}")
    values = {"name": variant, **VARIANTS[variant], **overrides}
    return HMSExperimentConfig.from_dict(values)


def as_config(config):
    """An HMSExperimentConfig from a config, a dict, or a variant name."""
    if isinstance(config, HMSExperimentConfig):
        return config
    if isinstance(config, str):
        return variant_config(config)
    if isinstance(config, dict):
        return HMSExperimentConfig.from_dict(config)
    raise TypeError(f"expected HMSExperimentConfig, dict or variant name, got {type(config).__name__}")


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
    from kerasseizure.models import SpectroTemporal3D, SpectrogramNet, WaveNet, fused

    config = as_config(config)
    eeg_shape = tuple(features.arrays["wavenet"].shape[2:]) if features is not None and \
        "wavenet" in features.arrays else (2000, 8)
    image_shape = (*image_hw(config, features), 3)
    if config.model == "wavenet":
        return WaveNet(eeg_shape, blocks=config.wavenet_blocks, hidden_units=config.head_units)
    if config.model == "spectrogram":
        return SpectrogramNet(image_shape, backbone=config.backbone, dropout=config.dropout,
                              backbone_weights=config.backbone_weights)
    if config.model == "fused":
        return fused(eeg_shape=eeg_shape, image_shape=image_shape, wavenet_blocks=config.wavenet_blocks,
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


# ---------------------------------------------------------------------- scoring


def softmax(logits):
    """Row softmax in float64 (rows sum to 1 to ~1e-16, as the Kaggle scorer checks)."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def renormalise(probabilities):
    """Rows divided by their sums (float64)."""
    p = np.asarray(probabilities, dtype=np.float64)
    return p / p.sum(axis=1, keepdims=True)


def average_probabilities(*probabilities):
    """The paper's "both": mean of several models' probabilities, rows renormalised."""
    if not probabilities:
        raise ValueError("average_probabilities needs at least one array")
    stack = np.stack([np.asarray(p, dtype=np.float64) for p in probabilities])
    return renormalise(stack.mean(axis=0))


def targets_of(table, positions):
    """The vote probabilities (float64, class order HMS_CLASSES) of table rows `positions`."""
    return table.iloc[np.asarray(positions, dtype=np.int64)][list(HMS_CLASSES)].to_numpy(np.float64)


def kl_metrics(table, positions, probabilities):
    """Kaggle KL on every eeg_id of `positions` and on its >= 10-vote ("high") eeg_ids.

    Returns:
        {"kl_all", "kl_high" (NaN when no high eeg_id), "n_all", "n_high"}.
    """
    from kerasseizure.training.metrics import kaggle_kl_divergence

    positions = np.asarray(positions, dtype=np.int64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if len(positions) != len(probabilities):
        raise ValueError(f"{len(positions)} positions but {len(probabilities)} probability rows")
    y = targets_of(table, positions)
    high = (table["population"].to_numpy()[positions] == "high")
    out = {"kl_all": float(kaggle_kl_divergence(y, probabilities)) if len(y) else float("nan"),
           "n_all": int(len(y)), "n_high": int(high.sum())}
    out["kl_high"] = float(kaggle_kl_divergence(y[high], probabilities[high])) if high.any() else float("nan")
    return out


def per_class_kl(table, positions, probabilities):
    """Each class's share of the KL: mean over rows of y_c log(y_c / p_c) (sums to the KL)."""
    from kerasseizure.training.metrics import KAGGLE_EPSILON, kl_terms

    y = targets_of(table, positions)
    p = np.clip(np.asarray(probabilities, dtype=np.float64), KAGGLE_EPSILON, 1 - KAGGLE_EPSILON)
    return np.asarray(kl_terms(y, p)).mean(axis=0)


def prior_probabilities(table, train_positions, n_rows):
    """The training fold's mean vote distribution repeated `n_rows` times (a reference)."""
    prior = targets_of(table, train_positions).mean(axis=0)
    return np.tile(renormalise(prior[None]), (int(n_rows), 1))


# ---------------------------------------------------------------------- one fold


def _epoch_reporter(report, config, fold, stage, epochs):
    import keras

    class _Reporter(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            report({"experiment": config.name, "fold": fold, "stage": stage, "epoch": int(epoch) + 1,
                    "epochs": epochs, "logs": {k: float(v) for k, v in (logs or {}).items()}})

    return _Reporter()


def _stage_plan(config, features, train_positions):
    if not config.two_stage:
        return [("train", config.train_population, config.epochs, config.lr)]
    plan = []
    for name, population, epochs, lr in (("low-votes", config.stage1_population, config.epochs, config.lr),
                                         ("high-votes", config.stage2_population, config.stage2_epochs,
                                          config.stage2_lr)):
        if len(features.positions(train_positions, population)):
            plan.append((name, population, epochs, lr))
    return plan


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
    from kerasseizure.training.fit import fit

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
    common = dict(loss="kl", batch_size=config.batch_size, seed=config.seed, precision=config.precision,
                  verbose=verbose, config={"experiment": config.to_dict(), "fold": int(fold)})

    def callbacks(stage_name, epochs):
        return [_epoch_reporter(report, config, fold, stage_name, epochs)] if report else []

    def compiled(model, lr):
        import keras

        from kerasseizure.training import losses as losses_lib
        from kerasseizure.training.schedules import rate_for_epoch

        initial = rate_for_epoch(lr, 0) if isinstance(lr, list) else lr
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=initial), loss=losses_lib.get_loss("kl"),
                      run_eagerly=bool(config.run_eagerly), jit_compile=config.jit_compile)
        return model

    # fit() with compile=False and our own compile: fit_stages' layout (stage-<i>-<name>), each
    # stage a fresh optimizer starting from the previous stage's weights.
    histories = {}
    previous = None
    fit_root = fold_dir / "fit"
    for index, (stage_name, population, epochs, lr) in enumerate(plan):
        if previous is None:
            builder = (lambda lr=lr: compiled(build_model(config, features), lr))
        else:
            builder = (lambda lr=lr, model=previous: compiled(model, lr))
        run_dir = fit_root / f"stage-{index + 1}-{stage_name}" if config.two_stage else fit_root
        result = fit(builder, train_data(population), valid_ds, run_dir=run_dir, epochs=epochs, lr=lr,
                     compile=False, tensorboard=tensorboard, callbacks=callbacks(stage_name, epochs), **common)
        previous = result.model
        histories[stage_name] = result.history
    trained = previous

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


def oof_frame(table, fold_results):
    """The out-of-fold table of `{fold: FoldResult}` (see HMSCVResult.oof)."""
    parts = []
    for fold, result in fold_results.items():
        positions = np.asarray(result.predictions["position"], dtype=np.int64)
        part = pd.DataFrame(np.asarray(result.predictions["probabilities"], dtype=np.float64),
                            columns=list(HMS_CLASSES))
        part.insert(0, "population", table["population"].to_numpy()[positions])
        part.insert(0, "eeg_id", np.asarray(result.predictions["eeg_id"], dtype=np.int64))
        part.insert(0, "position", positions)
        part.insert(0, "fold", int(fold))
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _fold_fingerprint(folds):
    digest = hashlib.sha256()
    for train, valid in folds:
        digest.update(np.asarray(train, dtype=np.int64).tobytes() + b"|" + np.asarray(valid, dtype=np.int64).tobytes())
    return digest.hexdigest()[:16]


def run_identity(config, features, folds):
    """What a run folder is for: experiment config, feature cache, fold membership."""
    return _plain({"experiment": as_config(config).to_dict(), "features": Path(features.path).name,
                   "n_eeg_ids": int(len(features.table)), "folds": _fold_fingerprint(folds),
                   "n_folds": len(folds)})


def _check_run_dir(run_dir, identity):
    existing = Path(run_dir) / "config.json"
    if not existing.exists():
        return
    try:
        found = json.loads(existing.read_text(encoding="utf-8"))
    except ValueError:
        return
    if found != identity:
        diffs = sorted(k for k in set(found) | set(identity) if found.get(k) != identity.get(k))
        raise RunError(f"{run_dir} holds another experiment (differs in {diffs}); use another run_dir or remove it")


def run_cv(config, features, *, run_dir, folds=None, n_folds=5, fold_indices=None, report=None, log=None,
           verbose=0):
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

    Returns:
        HMSCVResult.
    """
    from kerasseizure.training.folds import group_kfold_by_patient
    from kerasseizure.training.runs import run_folds

    config = as_config(config)
    check_features(config, features)
    folds = list(folds) if folds is not None else group_kfold_by_patient(features.table, n_folds)
    indices = list(range(len(folds))) if fold_indices is None else [int(i) for i in fold_indices]
    identity = run_identity(config, features, folds)
    _check_run_dir(run_dir, identity)
    selected = {i: folds[i] for i in indices}
    cv = run_folds(selected,
                   lambda spec, fold_dir: train_fold(config, features, spec[0], spec[1], fold_dir,
                                                     fold=int(fold_dir.name.split("-")[-1]), report=report,
                                                     verbose=verbose),
                   run_dir, config=identity, log=log)
    by_fold = dict(zip(indices, cv.folds))
    oof = oof_frame(features.table, by_fold)
    positions = oof["position"].to_numpy(np.int64)
    pooled = kl_metrics(features.table, positions, oof[list(HMS_CLASSES)].to_numpy(np.float64))
    reused = [int(name) for name in cv.reused]
    return HMSCVResult(config, by_fold, oof, pooled, cv.summary, reused, Path(run_dir))


def score_oof(table, oof, name, members=()):
    """Per-fold and pooled KL of an out-of-fold table (HMSCVResult.oof layout)."""
    from kerasseizure.training.runs import summarise

    per_fold = {}
    for fold, part in oof.groupby("fold", sort=True):
        per_fold[int(fold)] = kl_metrics(table, part["position"].to_numpy(np.int64),
                                         part[list(HMS_CLASSES)].to_numpy(np.float64))
    pooled = kl_metrics(table, oof["position"].to_numpy(np.int64), oof[list(HMS_CLASSES)].to_numpy(np.float64))
    summary = summarise([FoldResult(m) for m in per_fold.values()])
    return {"name": name, "members": list(members), "oof": oof, "pooled": pooled, "per_fold": per_fold,
            "summary": summary}


def average_results(table, results, name="both"):
    """The paper's "both": mean of the members' out-of-fold probabilities, rows renormalised.

    Args:
        table: features.table (for the targets and populations).
        results: HMSCVResult list validated on the same eeg_ids.
        name: the ensemble's label.

    Returns:
        `score_oof` dict (name, members, oof, pooled, per_fold, summary).
    """
    if not results:
        raise ValueError("average_results needs at least one result")
    base = results[0].oof
    for other in results[1:]:
        if not np.array_equal(other.oof["position"].to_numpy(), base["position"].to_numpy()):
            raise ValueError(f"{other.config.name} was validated on other eeg_ids than {results[0].config.name}")
    oof = base[["fold", "position", "eeg_id", "population"]].copy()
    oof[list(HMS_CLASSES)] = average_probabilities(*[r.oof[list(HMS_CLASSES)].to_numpy(np.float64)
                                                     for r in results])
    return score_oof(table, oof, name, [r.config.name for r in results])


def reference_predictions(table, folds, fold_indices=None):
    """Out-of-fold tables of two references: uniform 1/6 and the training fold's class prior.

    Returns:
        {"uniform": oof DataFrame, "train prior": oof DataFrame}.
    """
    indices = list(range(len(folds))) if fold_indices is None else list(fold_indices)
    out = {}
    for label in ("uniform", "train prior"):
        parts = []
        for k in indices:
            train, valid = folds[k]
            valid = np.asarray(valid, dtype=np.int64)
            p = (np.full((len(valid), len(HMS_CLASSES)), 1.0 / len(HMS_CLASSES)) if label == "uniform"
                 else prior_probabilities(table, train, len(valid)))
            part = pd.DataFrame(p, columns=list(HMS_CLASSES))
            part.insert(0, "population", table["population"].to_numpy()[valid])
            part.insert(0, "eeg_id", table["eeg_id"].to_numpy(np.int64)[valid])
            part.insert(0, "position", valid)
            part.insert(0, "fold", int(k))
            parts.append(part)
        out[label] = pd.concat(parts, ignore_index=True)
    return out


def finite_or_none(value):
    """A float, or None for NaN / inf (JSON-friendly)."""
    value = float(value)
    return value if math.isfinite(value) else None
