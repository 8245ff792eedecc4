"""Missing samples in EEG arrays: the counted NaN policy and NaN statistics.

NaN runs occur in the HMS EEG files. The public starters replace each channel's NaNs with that
channel's mean (an all-NaN channel with 0). Here that policy always reports what it replaced, so
no caller can turn missing data into a plausible-looking tensor without knowing. It is the one
NumPy version of the rule: `kerasseizure.signal.fill_nan_with_mean` is its TensorFlow
implementation, and `signal.fill_nan_with_mean_reference` applies this function along any axis.
"""

import dataclasses

import numpy as np

from kerasseizure.errors import SignalError
from kerasseizure.io.channels import HMS_EEG_COLUMNS


@dataclasses.dataclass(frozen=True)
class NaNFillCounts:
    """What `fill_nan_with_channel_mean` replaced.

    Attributes:
        per_channel: int64 [channels], NaN values replaced in each channel.
        all_nan_channels: indices of the channels that were entirely NaN (filled with
            `all_nan_value`).
    """

    per_channel: np.ndarray
    all_nan_channels: tuple

    @property
    def total(self):
        """Number of values replaced."""
        return int(self.per_channel.sum())


def fill_nan_with_channel_mean(x, all_nan_value=0.0):
    """Replace each channel's NaNs with that channel's mean (the public starters' policy).

    Args:
        x: array [samples, channels] (an EEG or a window of one). Not modified.
        all_nan_value: the value given to a channel that is entirely NaN (the starters use 0).

    Returns:
        (filled, counts): a new array of x's dtype, and a `NaNFillCounts` saying how many values
        of each channel were replaced and which channels were entirely NaN.
    """
    x = np.asarray(x)
    if x.ndim != 2:
        raise SignalError(f"fill_nan_with_channel_mean expects [samples, channels], got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32)
    mask = np.isnan(x)
    per_channel = mask.sum(axis=0).astype(np.int64)
    filled = x.copy()
    if not per_channel.any():
        return filled, NaNFillCounts(per_channel, ())
    all_nan = per_channel == x.shape[0]
    counts = x.shape[0] - per_channel
    sums = np.where(mask, 0.0, x).sum(axis=0, dtype=np.float64)
    means = np.divide(sums, counts, out=np.full(x.shape[1], float(all_nan_value)), where=~all_nan)
    filled[mask] = np.broadcast_to(means.astype(x.dtype), x.shape)[mask]
    return filled, NaNFillCounts(per_channel, tuple(int(i) for i in np.flatnonzero(all_nan)))


def longest_nan_runs(x):
    """int64 [channels]: the longest run of consecutive NaN samples in each column of x [samples, channels]."""
    x = np.asarray(x)
    if x.ndim != 2:
        raise SignalError(f"longest_nan_runs expects [samples, channels], got shape {x.shape}")
    mask = np.isnan(x).T.astype(np.int8)
    padded = np.pad(mask, ((0, 0), (1, 1)))
    edges = np.diff(padded, axis=1)
    start_ch, start_at = np.nonzero(edges == 1)
    _, stop_at = np.nonzero(edges == -1)        # same channel order and count as the starts
    runs = np.zeros(x.shape[1], dtype=np.int64)
    np.maximum.at(runs, start_ch, stop_at - start_at)
    return runs


def eeg_nan_statistics(x, width=10_000, eeg_id=None, columns=HMS_EEG_COLUMNS):
    """The NaN statistics of one EEG array [samples, channels] as a dict.

    `width` is the length of the middle window whose NaN fraction is reported (50 s at 200 Hz).
    `HMSDataset.nan_statistics` tabulates these records for many eeg_ids.
    """
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != len(columns):
        raise SignalError(f"expected an EEG [samples, {len(columns)}], got shape {x.shape}")
    n = x.shape[0]
    mask = np.isnan(x)
    per_channel = mask.mean(axis=0) if n else np.zeros(len(columns))
    start = max((n - width) // 2, 0)
    middle = mask[start:start + width]
    runs = longest_nan_runs(x)
    all_nan = [c for c, k in zip(columns, mask.sum(axis=0)) if n and k == n]
    record = {
        "eeg_id": eeg_id,
        "n_samples": n,
        "nan_fraction": float(mask.mean()) if n else 0.0,
        "middle_window_nan_fraction": float(middle.mean()) if middle.size else 0.0,
        **{f"nan_{c}": float(f) for c, f in zip(columns, per_channel)},
        "n_all_nan_channels": len(all_nan),
        "all_nan_channels": ",".join(all_nan),
        "longest_nan_run": int(runs.max()) if runs.size else 0,
        "longest_nan_run_channel": columns[int(runs.argmax())] if runs.size and runs.max() > 0 else "",
    }
    return record
