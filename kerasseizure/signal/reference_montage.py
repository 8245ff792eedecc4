"""NumPy references of the montage transforms (`kerasseizure.signal.montage`) and electrode lookup.

TF-free (numpy only). Holds the electrode lookup both sides share (`electrode_indices`,
`pair_indices`, `check_channel_count`), the HMS chain constants, the left/right mirror maps and the
float64 references of `bipolar`, `tcp_bipolar`, `hms_chains`, `wavenet_differences` and
`mirror_bipolar`. Re-exported by `kerasseizure.signal.reference`; see docs/signal.md.
"""

import numpy as np

from kerasseizure.errors import SignalError
from kerasseizure.io.channels import (
    HMS_CHAINS,
    HMS_EEG_COLUMNS,
    WAVENET_PAIRS,
    canonical_electrode,
    mirror_electrode,
    montage_pairs,
)

HMS_CHAIN_ORDER = ("LL", "LP", "RL", "RP")
# The 16 differences of the spectrogram starter, chain by chain in the EEG-image order.
HMS_CHAIN_PAIRS = tuple(pair for chain in HMS_CHAIN_ORDER for pair in HMS_CHAINS[chain])


def _name_key(label):
    """Canonical scalp-electrode name of a label; other channels keep their upper-cased label."""
    return canonical_electrode(label) or label.strip().upper()


def electrode_indices(channel_names, electrodes):
    """Positions of `electrodes` among `channel_names`, matched by canonical 10-20 name.

    Args:
        channel_names: the names of the array's channels, in order ("EEG FP1-REF", "Fp1", ...).
        electrodes: the electrode names wanted.

    Returns:
        A list of int positions, one per wanted electrode.

    Raises:
        SignalError: an electrode is missing or present twice.

    >>> electrode_indices(["EEG FP1-REF", "EEG F7-REF", "EKG"], ["F7", "Fp1"])
    [1, 0]
    """
    keys = [_name_key(name) for name in channel_names]
    positions = []
    missing = []
    for electrode in electrodes:
        key = _name_key(electrode)
        found = [i for i, k in enumerate(keys) if k == key]
        if len(found) > 1:
            raise SignalError(f"electrode {electrode} appears {len(found)} times in {list(channel_names)}")
        if not found:
            missing.append(electrode)
        else:
            positions.append(found[0])
    if missing:
        raise SignalError(f"missing electrodes {missing}; channels present: {list(channel_names)}")
    return positions


def check_channel_count(x, channel_axis, expected, what):
    """SignalError unless x (array or tensor) has `expected` channels on `channel_axis` (unknown passes)."""
    rank = getattr(x.shape, "rank", None) if not isinstance(x.shape, tuple) else len(x.shape)
    if rank is None:
        return
    if not -rank <= channel_axis < rank:
        raise SignalError(f"{what} needs a channel axis {channel_axis}, got shape {tuple(x.shape)}")
    count = x.shape[channel_axis]
    if count is not None and count != expected:
        raise SignalError(f"{what} needs {expected} channels on axis {channel_axis}, got shape {tuple(x.shape)}")


def pair_indices(channel_names, pairs):
    """(anode positions, cathode positions) of bipolar `pairs` among `channel_names`."""
    anodes = electrode_indices(channel_names, [a for a, _ in pairs])
    cathodes = electrode_indices(channel_names, [b for _, b in pairs])
    return anodes, cathodes


def bipolar_reference(x, channel_names, pairs, channel_axis=-2):
    """NumPy reference of `bipolar` (same arguments), float64.

    >>> bipolar_reference(np.ones((3, 10)), ["FP1", "F7", "T3"], [("FP1", "F7")]).shape
    (1, 10)
    """
    x = np.asarray(x, dtype=np.float64)
    check_channel_count(x, channel_axis, len(channel_names), "bipolar")
    anodes, cathodes = pair_indices(channel_names, pairs)
    return np.take(x, anodes, axis=channel_axis) - np.take(x, cathodes, axis=channel_axis)


def tcp_bipolar_reference(x, channel_names, montage="tcp20", channel_axis=-2):
    """NumPy reference of `tcp_bipolar` (same arguments), float64: (..., 20 or 22, time)."""
    return bipolar_reference(x, channel_names, montage_pairs(montage), channel_axis)


def hms_chains_reference(eeg, channel_axis=-1):
    """NumPy reference of `hms_chains`, float64."""
    return bipolar_reference(eeg, HMS_EEG_COLUMNS, HMS_CHAIN_PAIRS, channel_axis)


def wavenet_differences_reference(eeg, channel_axis=-1):
    """NumPy reference of `wavenet_differences`, float64."""
    return bipolar_reference(eeg, HMS_EEG_COLUMNS, WAVENET_PAIRS, channel_axis)


def mirror_permutation(channel_names):
    """Channel order that swaps left and right electrodes (midline channels and EKG stay).

    >>> mirror_permutation(["Fp1", "Fz", "Fp2"])
    [2, 1, 0]
    """
    mirrored = [mirror_electrode(_name_key(name)) for name in channel_names]
    return electrode_indices(channel_names, mirrored)


def mirror_bipolar_map(pairs):
    """Signed permutation that mirrors a bipolar montage: (index, sign) for each output channel.

    T3-C3 mirrors to T4-C4, which the TCP montage holds as C4-T4, hence sign -1.

    Raises:
        SignalError: the mirror of some pair is not in the montage.

    >>> mirror_bipolar_map([("FP1", "F7"), ("FP2", "F8")])
    ([1, 0], [1.0, 1.0])
    """
    keyed = [(_name_key(a), _name_key(b)) for a, b in pairs]
    index, sign = [], []
    for a, b in keyed:
        ma, mb = _name_key(mirror_electrode(a)), _name_key(mirror_electrode(b))
        if (ma, mb) in keyed:
            index.append(keyed.index((ma, mb)))
            sign.append(1.0)
        elif (mb, ma) in keyed:
            index.append(keyed.index((mb, ma)))
            sign.append(-1.0)
        else:
            raise SignalError(f"mirror of {a}-{b} ({ma}-{mb}) is not in the montage")
    return index, sign


def mirror_bipolar_reference(x, pairs, channel_axis=-2):
    """NumPy reference of `mirror_bipolar`, built from electrode names one channel at a time."""
    x = np.asarray(x, dtype=np.float64)
    keyed = [(_name_key(a), _name_key(b)) for a, b in pairs]
    out = np.empty_like(x)
    for i, (a, b) in enumerate(keyed):
        target = (_name_key(mirror_electrode(a)), _name_key(mirror_electrode(b)))
        if target in keyed:
            source = np.take(x, keyed.index(target), axis=channel_axis)
        else:
            source = -np.take(x, keyed.index(target[::-1]), axis=channel_axis)
        index = [slice(None)] * x.ndim
        index[channel_axis] = i
        out[tuple(index)] = source
    return out
