"""HMS experiment configuration: `HMSExperimentConfig` and the named variants of table 2.

One `HMSExperimentConfig` (a dataclass, JSON round-trip through `to_dict` / `from_dict`) describes
one variant: model, size, training schedule, augmentation, seed, and the feature settings it needs.
`VARIANTS` names the table-2 variants; `variant_config(name, **overrides)` builds one and
`as_config` accepts a config, a dict or a variant name. Re-exported by
`kerasseizure.experiments.hms`.
"""

import dataclasses
import hashlib
import json

from kerasseizure.experiments.config_fields import from_known_fields

MODELS = ("wavenet", "spectrogram", "fused", "conv3d")
MODEL_INPUTS = {"wavenet": "eeg", "spectrogram": "image", "fused": "both", "conv3d": "image"}
POPULATIONS = ("all", "low", "high", "mixed")
#: `backbone` value selecting `models.CompactSpectrogramNet` (no ImageNet weights) for the image.
COMPACT_BACKBONE = "compact"

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
        backbone: SpectrogramNet / fused backbone (paper: "EfficientNetV2B2"), or "compact" for
            `CompactSpectrogramNet`, the small CNN that learns from random weights on a CPU.
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
        recompute_batchnorm: None, or a number of training batches from which every
            BatchNormalization layer's statistics are recomputed at the end of each stage
            (`fit(recompute_batchnorm=...)`): short runs, whose moving averages trail the weights.
        seed: the one seed (initialisation, data order, augmentation).
        precision: "auto" (float32 on CPU, mixed_float16 on CUDA), "float32", ...
        run_eagerly: train eagerly (no tf.function). On a small CPU the first traced step of an
            EfficientNet costs one to two minutes, more than a short eager run; use it for smoke
            runs and tiny presets.
        jit_compile: Keras' `compile(jit_compile=...)` ("auto" = XLA where supported).
        max_steps_per_epoch: None, or at most this many batches per epoch in every fit (a smoke
            run of a configuration: `--max-steps` of the table commands).
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
    recompute_batchnorm: object = None
    seed: int = 0
    precision: str = "auto"
    run_eagerly: bool = False
    jit_compile: object = "auto"
    max_steps_per_epoch: int = None

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
        if self.max_steps_per_epoch is not None and int(self.max_steps_per_epoch) < 1:
            raise ValueError(f"max_steps_per_epoch must be None or >= 1, got {self.max_steps_per_epoch!r}")
        self.mirror = 0.5 if self.mirror is True else float(self.mirror)
        if not 0.0 <= self.mirror <= 1.0:
            raise ValueError(f"mirror must be a probability, got {self.mirror}")
        if self.sample_weight not in (None, "votes", "ones"):
            raise ValueError(f"sample_weight must be None, 'votes' or 'ones', got {self.sample_weight!r}")
        if self.backbone == COMPACT_BACKBONE and self.backbone_weights is not None:
            raise ValueError("backbone 'compact' has no pretrained weights: leave backbone_weights None")
        if self.recompute_batchnorm is not None:
            self.recompute_batchnorm = int(self.recompute_batchnorm)
            if self.recompute_batchnorm < 1:
                raise ValueError(f"recompute_batchnorm must be None or >= 1, got {self.recompute_batchnorm}")
        if self.time_shift and self.time_shift_views < 1:
            raise ValueError("time_shift needs time_shift_views >= 1")

    # ------------------------------------------------------------------ serialisation

    def to_dict(self):
        """The JSON form (tuples as lists)."""
        return _plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, values):
        """Build from a dict (e.g. parsed JSON/YAML); unknown keys are refused with their names."""
        return from_known_fields(cls, values, ValueError, "HMSExperimentConfig fields")

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
            what = f"{self._image_model()} (image {self._image_text()})"
        elif self.model == "fused":
            what = f"fused WaveNet (blocks {self.wavenet_blocks}) + {self._image_model()} (image {self._image_text()})"
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
        if self.recompute_batchnorm:
            extras.append(f"BatchNorm statistics recomputed from {self.recompute_batchnorm} batches")
        return f"{what}; {schedule}; batch {self.batch_size}" + (f"; {', '.join(extras)}" if extras else "")

    def _image_model(self):
        return "CompactSpectrogramNet" if self.backbone == COMPACT_BACKBONE else f"SpectrogramNet ({self.backbone})"

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
