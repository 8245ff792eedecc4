"""Learning-rate schedules: the HMS starters' per-epoch lists and cosine decay with warm-up.

Two forms of the per-epoch list are offered:

- `PerEpochLearningRate`, a callback that sets the optimizer's learning rate at the start of
  every epoch (what the starters did with `LearningRateScheduler`). It needs no step count.
- `EpochListSchedule`, a `LearningRateSchedule` driven by the optimizer's step counter, for when
  the number of steps per epoch is known. Because it depends only on `optimizer.iterations`, it
  resumes exactly from a checkpoint that restores the optimizer state.

`WarmupCosine` is a step-based cosine decay with linear warm-up. All schedules are registered
Keras serialisables.
"""

import math

import keras
from keras import ops

from kerasseizure.errors import KerasSeizureError

PACKAGE = "kerasseizure"

#: Chris Deotte's WaveNet starter: Adam, 5 epochs.
WAVENET_LR = (1e-3, 1e-3, 1e-4, 1e-4, 1e-5)
#: Chris Deotte's EfficientNet starter: Adam, 4 epochs.
EFFICIENTNET_LR = (1e-3, 1e-3, 1e-4, 1e-5)


class ScheduleError(KerasSeizureError, ValueError):
    """A learning-rate schedule was configured with invalid values."""


def _validated_rates(rates):
    rates = [float(r) for r in rates]
    if not rates or any(not math.isfinite(r) or r <= 0 for r in rates):
        raise ScheduleError(f"learning rates must be a non-empty list of positive numbers, got {rates!r}")
    return rates


def rate_for_epoch(rates, epoch):
    """The rate of `epoch` (0-based) in a per-epoch list; epochs past the end keep the last rate.

    Args:
        rates: sequence of positive learning rates, one per epoch.
        epoch: 0-based epoch index.
    """
    rates = _validated_rates(rates)
    return rates[min(int(epoch), len(rates) - 1)]


class PerEpochLearningRate(keras.callbacks.Callback):
    """Set the optimizer's learning rate from a per-epoch list at the start of each epoch.

    Args:
        rates: one learning rate per epoch (e.g. `WAVENET_LR`); later epochs keep the last one.
    """

    def __init__(self, rates):
        super().__init__()
        self.rates = _validated_rates(rates)

    def on_epoch_begin(self, epoch, logs=None):
        self.model.optimizer.learning_rate = rate_for_epoch(self.rates, epoch)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["lr"] = float(ops.convert_to_numpy(self.model.optimizer.learning_rate))


@keras.saving.register_keras_serializable(package=PACKAGE)
class EpochListSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Per-epoch learning rates as a step-driven schedule.

    Args:
        rates: one learning rate per epoch; later epochs keep the last one.
        steps_per_epoch: optimizer steps in one epoch (> 0).
    """

    def __init__(self, rates, steps_per_epoch):
        self.rates = _validated_rates(rates)
        if int(steps_per_epoch) <= 0:
            raise ScheduleError(f"steps_per_epoch must be positive, got {steps_per_epoch}")
        self.steps_per_epoch = int(steps_per_epoch)

    def __call__(self, step):
        epoch = ops.floor_divide(ops.cast(step, "int32"), self.steps_per_epoch)
        epoch = ops.minimum(epoch, len(self.rates) - 1)
        return ops.take(ops.convert_to_tensor(self.rates, dtype="float32"), epoch)

    def get_config(self):
        return {"rates": self.rates, "steps_per_epoch": self.steps_per_epoch}


@keras.saving.register_keras_serializable(package=PACKAGE)
class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from `warmup_start` x peak to the peak, then cosine decay to `final_fraction` x peak.

    Args:
        peak_lr: learning rate reached at the end of warm-up.
        total_steps: total optimizer steps of the run (warm-up included).
        warmup_steps: steps of linear warm-up (0 for none).
        final_fraction: final rate as a fraction of the peak (0 decays to zero).
        warmup_start: first warm-up rate as a fraction of the peak.
    """

    def __init__(self, peak_lr, total_steps, warmup_steps=0, final_fraction=0.0, warmup_start=0.0):
        self.peak_lr = float(peak_lr)
        self.total_steps = int(total_steps)
        self.warmup_steps = int(warmup_steps)
        self.final_fraction = float(final_fraction)
        self.warmup_start = float(warmup_start)
        if self.peak_lr <= 0 or self.total_steps <= 0:
            raise ScheduleError("peak_lr and total_steps must be positive")
        if not 0 <= self.warmup_steps < self.total_steps:
            raise ScheduleError("warmup_steps must lie in [0, total_steps)")
        if not 0 <= self.final_fraction <= 1 or not 0 <= self.warmup_start <= 1:
            raise ScheduleError("final_fraction and warmup_start must lie in [0, 1]")

    def __call__(self, step):
        step = ops.cast(step, "float32")
        peak = self.peak_lr
        if self.warmup_steps:
            frac = ops.minimum(step / float(self.warmup_steps), 1.0)
            warm = peak * (self.warmup_start + (1.0 - self.warmup_start) * frac)
        else:
            warm = ops.convert_to_tensor(peak, dtype="float32")
        decay_steps = float(self.total_steps - self.warmup_steps)
        progress = ops.clip((step - float(self.warmup_steps)) / decay_steps, 0.0, 1.0)
        cosine = 0.5 * (1.0 + ops.cos(math.pi * progress))
        decayed = peak * (self.final_fraction + (1.0 - self.final_fraction) * cosine)
        return ops.where(step < float(self.warmup_steps), warm, decayed)

    def get_config(self):
        return {
            "peak_lr": self.peak_lr,
            "total_steps": self.total_steps,
            "warmup_steps": self.warmup_steps,
            "final_fraction": self.final_fraction,
            "warmup_start": self.warmup_start,
        }
