"""Bipolar montages and left/right mirroring, in TensorFlow with NumPy references.

Conventions (shared by the whole `kerasseizure.signal` package):
- TensorFlow functions take arrays or tensors, work on any number of leading batch axes, are
  tf.function / tf.data compatible and return float32 tensors.
- The NumPy reference of `name` is `name_reference`; it is written for clarity, not speed, and is
  what the tests compare against.
- Montage functions take `channel_axis`: -2 for TUSZ arrays (channels, time), -1 for the HMS
  parquet layout (time, 20 columns). Channels are selected by name, so extra channels (EKG,
  PHOTIC...) are ignored and a missing electrode raises `SignalError`.
"""

import numpy as np
import tensorflow as tf

from kerasseizure.errors import SignalError
from kerasseizure.io.channels import (
    HMS_CHAINS,
    HMS_EEG_COLUMNS,
    WAVENET_PAIRS,
    canonical_electrode,
    mirror_electrode,
    montage_pairs,
)

# Plain Python on static shapes: autograph has nothing to convert, and converting SciPy-calling
# code costs seconds per trace inside tf.data.Dataset.map.
_plain_python = tf.autograph.experimental.do_not_convert

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


def _check_channel_count(x, channel_axis, expected, what):
    count = x.shape[channel_axis]
    if count is not None and count != expected:
        raise SignalError(f"{what} needs {expected} channels on axis {channel_axis}, got shape {tuple(x.shape)}")


def _pair_indices(channel_names, pairs):
    anodes = electrode_indices(channel_names, [a for a, _ in pairs])
    cathodes = electrode_indices(channel_names, [b for _, b in pairs])
    return anodes, cathodes


@_plain_python
def bipolar(x, channel_names, pairs, channel_axis=-2):
    """Bipolar differences anode - cathode of an electrode-ordered (referential) array.

    Args:
        x: array/tensor with one axis of len(channel_names) electrodes.
        channel_names: names of x's channels in order; extra channels are ignored.
        pairs: sequence of (anode, cathode) electrode names.
        channel_axis: the electrode axis (-2 for (channels, time), -1 for (time, channels)).

    Returns:
        float32 tensor with len(pairs) channels on `channel_axis`.

    >>> bipolar(np.ones((3, 10)), ["FP1", "F7", "T3"], [("FP1", "F7")]).shape
    TensorShape([1, 10])
    """
    x = tf.convert_to_tensor(x, tf.float32)
    _check_channel_count(x, channel_axis, len(channel_names), "bipolar")
    anodes, cathodes = _pair_indices(channel_names, pairs)
    return tf.gather(x, anodes, axis=channel_axis) - tf.gather(x, cathodes, axis=channel_axis)


def bipolar_reference(x, channel_names, pairs, channel_axis=-2):
    """NumPy reference of `bipolar` (same arguments), float64."""
    x = np.asarray(x, dtype=np.float64)
    anodes, cathodes = _pair_indices(channel_names, pairs)
    return np.take(x, anodes, axis=channel_axis) - np.take(x, cathodes, axis=channel_axis)


@_plain_python
def tcp_bipolar(x, channel_names, montage="tcp20", channel_axis=-2):
    """TCP bipolar montage (20 or 22 channels, TUH order) from referential electrode signals.

    Args:
        x: (..., electrodes, time) signals (or set channel_axis).
        channel_names: names of x's channels ("EEG FP1-REF", "FP1", ...); non-EEG ones ignored.
        montage: "tcp20" (IBM / SeizureNet, no A1/A2) or "tcp22".
        channel_axis: the electrode axis.

    Returns:
        float32 tensor (..., 20 or 22, time).

    >>> names = ["FP1", "FP2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2", "F7", "F8",
    ...          "T3", "T4", "T5", "T6", "CZ"]
    >>> tcp_bipolar(np.zeros((17, 250)), names).shape
    TensorShape([20, 250])
    """
    return bipolar(x, channel_names, montage_pairs(montage), channel_axis)


def tcp_bipolar_reference(x, channel_names, montage="tcp20", channel_axis=-2):
    """NumPy reference of `tcp_bipolar` (same arguments), float64."""
    return bipolar_reference(x, channel_names, montage_pairs(montage), channel_axis)


@_plain_python
def hms_chains(eeg, channel_axis=-1):
    """The 16 chain differences of the HMS spectrogram starter: LL, LP, RL, RP x 4 each.

    Args:
        eeg: (..., time, 20) in the HMS parquet column order (`HMS_EEG_COLUMNS`).
        channel_axis: the 20-column axis.

    Returns:
        float32 tensor with 16 channels on `channel_axis`, ordered as `HMS_CHAIN_PAIRS`
        (LL: Fp1-F7, F7-T3, T3-T5, T5-O1; then LP, RL, RP).

    >>> hms_chains(np.zeros((10000, 20))).shape
    TensorShape([10000, 16])
    """
    return bipolar(eeg, HMS_EEG_COLUMNS, HMS_CHAIN_PAIRS, channel_axis)


def hms_chains_reference(eeg, channel_axis=-1):
    """NumPy reference of `hms_chains`, float64."""
    return bipolar_reference(eeg, HMS_EEG_COLUMNS, HMS_CHAIN_PAIRS, channel_axis)


@_plain_python
def wavenet_differences(eeg, channel_axis=-1):
    """The WaveNet starter's 8 differences (Fp1-T3, T3-O1, Fp1-C3, C3-O1, Fp2-C4, C4-O2, Fp2-T4, T4-O2).

    Args:
        eeg: (..., time, 20) in the HMS parquet column order.
        channel_axis: the 20-column axis.

    Returns:
        float32 tensor with 8 channels on `channel_axis`.

    >>> wavenet_differences(np.zeros((10000, 20))).shape
    TensorShape([10000, 8])
    """
    return bipolar(eeg, HMS_EEG_COLUMNS, WAVENET_PAIRS, channel_axis)


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


@_plain_python
def mirror_electrodes(x, channel_names, channel_axis=-2):
    """Left/right mirror of a referential array: channel i takes the signal of its mirror electrode.

    Args:
        x: array with one axis of referential channels.
        channel_names: their names; every lateral electrode needs its partner present.
        channel_axis: the channel axis.

    Returns:
        float32 tensor of x's shape. Applying it twice gives x back.

    >>> mirror_electrodes(np.arange(3.0)[:, None], ["Fp1", "Cz", "Fp2"])[:, 0].numpy()
    array([2., 1., 0.], dtype=float32)
    """
    x = tf.convert_to_tensor(x, tf.float32)
    _check_channel_count(x, channel_axis, len(channel_names), "mirror_electrodes")
    return tf.gather(x, mirror_permutation(channel_names), axis=channel_axis)


@_plain_python
def mirror_hms(eeg, channel_axis=-1):
    """Left/right mirror of HMS EEG (..., time, 20): swaps Fp1<->Fp2, F3<->F4, ... (augmentation).

    After mirroring, the LL chain of the result is the RL chain of the input and LP is RP.

    >>> mirror_hms(np.zeros((10, 20))).shape
    TensorShape([10, 20])
    """
    return mirror_electrodes(eeg, HMS_EEG_COLUMNS, channel_axis)


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


@_plain_python
def mirror_bipolar(x, pairs, channel_axis=-2):
    """Left/right mirror of a bipolar array (TCP 20/22, HMS chains, WaveNet differences).

    Args:
        x: array with one axis of len(pairs) bipolar channels.
        pairs: the (anode, cathode) electrode pairs of those channels.
        channel_axis: the bipolar channel axis.

    Returns:
        float32 tensor of x's shape; for HMS chains LL<->RL and LP<->RP swap.

    >>> from kerasseizure.io.channels import TCP20
    >>> mirror_bipolar(np.zeros((20, 5)), TCP20).shape
    TensorShape([20, 5])
    """
    x = tf.convert_to_tensor(x, tf.float32)
    _check_channel_count(x, channel_axis, len(pairs), "mirror_bipolar")
    index, sign = mirror_bipolar_map(pairs)
    rank = x.shape.rank
    axis = channel_axis % rank
    sign_shape = [1] * rank
    sign_shape[axis] = len(pairs)
    return tf.gather(x, index, axis=axis) * tf.reshape(tf.constant(sign, tf.float32), sign_shape)


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
