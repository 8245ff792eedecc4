"""Bipolar montages and left/right mirroring in TensorFlow (NumPy references in reference.py).

Conventions (shared by the whole `kerasseizure.signal` package):
- TensorFlow functions take arrays or tensors, work on any number of leading batch axes, are
  tf.function / tf.data compatible and return float32 tensors.
- The NumPy reference of `name` is `name_reference` in `kerasseizure.signal.reference` (TF-free,
  re-exported here); it is what the tests compare against.
- Montage functions take `channel_axis`: -2 for TUSZ arrays (channels, time), -1 for the HMS
  parquet layout (time, 20 columns). Channels are selected by name, so extra channels (EKG,
  PHOTIC...) are ignored and a missing electrode raises `SignalError`.
"""

import numpy as np
import tensorflow as tf

from kerasseizure.io.channels import HMS_EEG_COLUMNS, WAVENET_PAIRS, montage_pairs
from kerasseizure.signal.reference_montage import (  # the TF-free half: electrode lookup, references
    HMS_CHAIN_ORDER, HMS_CHAIN_PAIRS, check_channel_count, electrode_indices, mirror_bipolar_map, mirror_permutation,
    pair_indices,
    bipolar_reference, hms_chains_reference, mirror_bipolar_reference, tcp_bipolar_reference,
    wavenet_differences_reference,
)

__all__ = [
    "HMS_CHAIN_ORDER", "HMS_CHAIN_PAIRS", "bipolar", "electrode_indices", "hms_chains", "mirror_bipolar",
    "mirror_bipolar_map", "mirror_electrodes", "mirror_hms", "mirror_permutation", "tcp_bipolar",
    "wavenet_differences",
    # NumPy references (defined in reference_montage.py)
    "bipolar_reference", "hms_chains_reference", "mirror_bipolar_reference", "tcp_bipolar_reference",
    "wavenet_differences_reference",
]

# Plain Python on static shapes: autograph has nothing to convert, and converting SciPy-calling
# code costs seconds per trace inside tf.data.Dataset.map.
_plain_python = tf.autograph.experimental.do_not_convert


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
    check_channel_count(x, channel_axis, len(channel_names), "bipolar")
    anodes, cathodes = pair_indices(channel_names, pairs)
    return tf.gather(x, anodes, axis=channel_axis) - tf.gather(x, cathodes, axis=channel_axis)


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
    check_channel_count(x, channel_axis, len(channel_names), "mirror_electrodes")
    return tf.gather(x, mirror_permutation(channel_names), axis=channel_axis)


@_plain_python
def mirror_hms(eeg, channel_axis=-1):
    """Left/right mirror of HMS EEG (..., time, 20): swaps Fp1<->Fp2, F3<->F4, ... (augmentation).

    After mirroring, the LL chain of the result is the RL chain of the input and LP is RP.

    >>> mirror_hms(np.zeros((10, 20))).shape
    TensorShape([10, 20])
    """
    return mirror_electrodes(eeg, HMS_EEG_COLUMNS, channel_axis)


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
    check_channel_count(x, channel_axis, len(pairs), "mirror_bipolar")
    index, sign = mirror_bipolar_map(pairs)
    rank = x.shape.rank
    axis = channel_axis % rank
    sign_shape = [1] * rank
    sign_shape[axis] = len(pairs)
    return tf.gather(x, index, axis=axis) * tf.constant(np.reshape(np.asarray(sign, np.float32), sign_shape))
