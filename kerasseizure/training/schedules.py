"""Learning rates per epoch: the HMS starters' lists and the callback that applies them.

`fit(lr=[...])` applies a per-epoch list through `PerEpochLearningRate`, a callback that sets the
optimizer's learning rate at the start of every epoch (what the starters did with
`LearningRateScheduler`); it needs no step count. Step-based schedules are Keras' own
(`keras.optimizers.schedules.CosineDecay(..., warmup_target=..., warmup_steps=...)`,
`PiecewiseConstantDecay`), passed to `fit(lr=...)` as they are.
"""

import math

import keras
from keras import ops

from kerasseizure.errors import KerasSeizureError

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
