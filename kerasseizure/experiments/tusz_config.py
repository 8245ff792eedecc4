"""TUSZ experiment configuration: `TUSZExperimentConfig`, its kinds and `ExperimentConfigError`.

A `TUSZExperimentConfig` (a dataclass, JSON round-trip through `to_dict` / `from_dict`) describes one
row of table 1 (`KINDS`: baseline, member, ensemble, student, distilled); `_model_inputs` resolves
which feature arrays a row's model reads. Re-exported by `kerasseizure.experiments.tusz`.
"""

import dataclasses

from kerasseizure.errors import KerasSeizureError
from kerasseizure.experiments.config_fields import from_known_fields

KINDS = ("baseline", "member", "ensemble", "student", "distilled")
NEURAL_KINDS = ("member", "ensemble", "student", "distilled")


class ExperimentConfigError(KerasSeizureError, ValueError):
    """A TUSZ experiment configuration is inconsistent or does not fit the features."""


@dataclasses.dataclass
class TUSZExperimentConfig:
    """Everything that defines one row of table 1 on one fold (JSON round trip: to_dict/from_dict).

    Args:
        kind: "baseline", "member", "ensemble", "student" or "distilled".
        name: display / run name (default: the kind, or the baseline's name).
        baseline: baseline name of `experiments.baselines.BASELINES` (kind "baseline").
        baseline_params: classifier parameters overriding sklearn's defaults.
        model: keyword arguments of the model builder (`seizurenet_member`, `SeizureNet` or
            `student`; input shapes and the number of classes come from the features).
        input_name: the SES input of a member / student ("ses_0": fmax 24 Hz).
        epochs, batch_size, lr, optimizer: training (lr: float or per-epoch list).
        train_window_stride: keep every k-th window of each training seizure.
        eval_window_stride: keep every k-th window of each validation seizure.
        background_ratio: None, or (a detector on whole recordings, classes "bckg" + types) the
            background windows drawn afresh each epoch per seizure window of the training fold
            (`pipelines.subsample_background`); None trains on every window.
        temperature, alpha: distillation (alpha = weight of the ground-truth loss).
        feature_distillation: also match the teacher's `embedding` with a projection of the
            student's pooled features (`FeatureDistillation`, weight `feature_weight`).
        teacher: the teacher's config (kind "ensemble" or "member") for kind "distilled".
        bn_momentum: momentum of every BatchNormalization layer of the network (None: Keras'
            0.99). Short runs (a few hundred steps) need a lower value (e.g. 0.9) for the
            moving statistics used at inference to converge.
        recompute_batchnorm: None, or a number of training batches from which the BatchNorm
            statistics are recomputed at the end of training (`fit(recompute_batchnorm=...)`,
            "precise BN"); the alternative to a low `bn_momentum` for short runs.
        seed: initialisation, data order, dropout, classifier randomness.
        precision: "auto", "float32", "mixed_float16", "mixed_bfloat16".
        track_validation: compute the validation loss each epoch (learning curves only: the
            validation fold is the test fold, so it never selects weights or stops training).
        eval_batch_size: batch size of prediction.
        sklearn_threads: thread limit of the sklearn baselines (threadpoolctl).
        plot, tensorboard: `fit`'s learning_curves.png and TensorBoard logs.
        max_steps_per_epoch: None, or at most this many batches per epoch in every fit (a smoke
            run of a configuration: `--max-steps` of the table commands).
    """

    kind: str
    name: str = None
    baseline: str = "knn"
    baseline_params: dict = dataclasses.field(default_factory=dict)
    model: dict = dataclasses.field(default_factory=dict)
    input_name: str = "ses_0"
    epochs: int = 10
    batch_size: int = 64
    lr: object = 1e-3
    optimizer: str = "adam"
    train_window_stride: int = 1
    eval_window_stride: int = 1
    background_ratio: float = None
    temperature: float = 4.0
    alpha: float = 0.5
    feature_distillation: bool = False
    feature_weight: float = 1.0
    teacher: "TUSZExperimentConfig" = None
    bn_momentum: float = None
    recompute_batchnorm: int = None
    seed: int = 0
    precision: str = "auto"
    track_validation: bool = True
    eval_batch_size: int = 256
    sklearn_threads: int = 1
    plot: bool = True
    tensorboard: bool = False
    max_steps_per_epoch: int = None

    def __post_init__(self):
        if isinstance(self.teacher, dict):
            self.teacher = TUSZExperimentConfig.from_dict(self.teacher)
        if self.kind not in KINDS:
            raise ExperimentConfigError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind == "baseline":
            from kerasseizure.experiments.baselines import BASELINES

            if self.baseline not in BASELINES:
                raise ExperimentConfigError(f"unknown baseline {self.baseline!r}; choose one of {sorted(BASELINES)}")
        if self.kind == "distilled":
            if self.teacher is None:
                raise ExperimentConfigError("kind 'distilled' needs a teacher config")
            if self.teacher.kind not in ("ensemble", "member"):
                raise ExperimentConfigError(f"a teacher must be an 'ensemble' or a 'member', got {self.teacher.kind!r}")
        for key in ("epochs", "batch_size", "train_window_stride", "eval_window_stride", "eval_batch_size",
                    "sklearn_threads"):
            if int(getattr(self, key)) < 1:
                raise ExperimentConfigError(f"{key} must be >= 1, got {getattr(self, key)!r}")
        for key in ("recompute_batchnorm", "max_steps_per_epoch"):
            if getattr(self, key) is not None and int(getattr(self, key)) < 1:
                raise ExperimentConfigError(f"{key} must be None or >= 1, got {getattr(self, key)!r}")
        if self.background_ratio is not None and not float(self.background_ratio) > 0:
            raise ExperimentConfigError(f"background_ratio must be None or > 0, got {self.background_ratio!r}")
        if not 0.0 <= float(self.alpha) <= 1.0:
            raise ExperimentConfigError(f"alpha must lie in [0, 1], got {self.alpha}")
        if float(self.temperature) <= 0:
            raise ExperimentConfigError(f"temperature must be positive, got {self.temperature}")
        if self.name is None:
            self.name = self.baseline if self.kind == "baseline" else self.kind

    @property
    def representation(self):
        """The features this row needs: "fft" (baselines) or "ses" (every neural row)."""
        return "fft" if self.kind == "baseline" else "ses"

    def to_dict(self):
        """A JSON-serialisable dict (the teacher nested)."""
        out = dataclasses.asdict(self)
        if isinstance(out.get("lr"), tuple):
            out["lr"] = list(out["lr"])
        return out

    @classmethod
    def from_dict(cls, values):
        """Build from a dict (unknown keys are refused, naming them)."""
        return from_known_fields(cls, values, ExperimentConfigError, "TUSZ experiment settings")

    def replace(self, **changes):
        """A copy with some fields changed."""
        return TUSZExperimentConfig.from_dict({**self.to_dict(), **changes})


def _model_inputs(config, features):
    """Input names of the model (teacher's for a distilled row) and whether it takes a dict."""
    ses = sorted(name for name in features.arrays if name.startswith("ses_"))
    if not ses:
        raise ExperimentConfigError(f"row {config.name!r} needs SES features (build_tusz_features(..., 'ses')); "
                                    f"these hold {sorted(features.arrays)}")
    kind = config.kind
    if kind == "distilled":
        return _model_inputs(config.teacher, features)
    if kind == "ensemble":
        return ses, True
    if config.input_name not in features.arrays:
        raise ExperimentConfigError(f"row {config.name!r} reads {config.input_name!r}; features hold {ses}")
    return [config.input_name], False


