"""Chris Deotte's HMS WaveNet starter (temporal model of the HMS ablation), as a Keras builder.

Input: `(2000, 8)` = 50 s at 40 Hz of the 8 differences Fp1-T3, T3-O1, Fp1-C3, C3-O1, Fp2-C4,
C4-O2, Fp2-T4, T4-O2 (consecutive pairs form the chains: left temporal, left parasagittal,
right parasagittal, right temporal). One shared per-signal network of wave blocks runs on each
difference; each output is averaged over time, the two signals of a chain are averaged, the four
chain vectors are concatenated (4 x 64 = 256) and a Dense(64, relu) -> Dense(6) head gives
float32 logits (apply `with_probabilities` for the starter's softmax output).
"""

import keras

from kerasseizure.models.layers_hms import ChannelSlice, check_local_weights, logits_model

#: Wave-block settings `(filters, kernel_size, n_dilations)`; dilations are 1, 2, 4, ...
WAVENET_BLOCK_PRESETS = {
    # Deotte's starter notebook ("WaveNet Starter - [LB 0.52]"), the paper's temporal model.
    "starter": ((8, 3, 12), (16, 3, 8), (32, 3, 4), (64, 3, 1)),
    # The other configuration published in public HMS notebooks built on the starter
    # (e.g. the Kaggle-spectrogram + EEG-spectrogram + raw-EEG hybrid ensembles): kernel 4 and
    # 6 dilations (1..32) in every block.
    "k4_d6": ((8, 4, 6), (16, 4, 6), (32, 4, 6), (64, 4, 6)),
}


def _resolve_blocks(blocks):
    if isinstance(blocks, str):
        if blocks not in WAVENET_BLOCK_PRESETS:
            raise ValueError(f"unknown WaveNet block preset {blocks!r}; presets: "
                             f"{sorted(WAVENET_BLOCK_PRESETS)}, or pass a sequence of "
                             "(filters, kernel_size, n_dilations)")
        return WAVENET_BLOCK_PRESETS[blocks]
    try:
        resolved = tuple(tuple(int(v) for v in block) for block in blocks)
    except (TypeError, ValueError):
        raise ValueError(f"blocks must be a preset name or a sequence of "
                         f"(filters, kernel_size, n_dilations), got {blocks!r}") from None
    if not resolved:
        raise ValueError("blocks must hold at least one (filters, kernel_size, n_dilations)")
    for block in resolved:
        if len(block) != 3 or min(block) < 1:
            raise ValueError(f"each block is (filters, kernel_size, n_dilations) of positive "
                             f"integers, got {block!r}")
    return resolved


def wave_block(x, filters, kernel_size, n_dilations, name):
    """One wave block on a `(batch, time, channels)` tensor; returns `(batch, time, filters)`.

    Conv1D(filters, 1) then, for dilation 1, 2, 4, ..., 2**(n_dilations - 1):
    tanh-Conv1D * sigmoid-Conv1D (both `kernel_size`, that dilation) -> Conv1D(filters, 1);
    each result feeds the next dilation and is added to a residual accumulator that starts
    from the first 1x1 convolution's output. The accumulator is the block's output.

    Args:
        x: input tensor (symbolic, functional API).
        filters: channels of every convolution of the block.
        kernel_size: taps of the dilated gate convolutions.
        n_dilations: number of gated units (dilations 1, 2, ..., 2**(n_dilations - 1)).
        name: prefix of the layer names.

    Example:
    >>> y = wave_block(keras.Input((2000, 1)), 8, 3, 12, name="block1")
    >>> y.shape
    (None, 2000, 8)
    """
    x = keras.layers.Conv1D(filters, 1, padding="same", name=f"{name}_in")(x)
    accumulator = x
    for i in range(n_dilations):
        rate = 2**i
        tanh_out = keras.layers.Conv1D(filters, kernel_size, padding="same", dilation_rate=rate,
                                       activation="tanh", name=f"{name}_d{rate}_tanh")(x)
        sigm_out = keras.layers.Conv1D(filters, kernel_size, padding="same", dilation_rate=rate,
                                       activation="sigmoid", name=f"{name}_d{rate}_sigmoid")(x)
        x = keras.layers.Multiply(name=f"{name}_d{rate}_gate")([tanh_out, sigm_out])
        x = keras.layers.Conv1D(filters, 1, padding="same", name=f"{name}_d{rate}_out")(x)
        accumulator = keras.layers.Add(name=f"{name}_d{rate}_sum")([accumulator, x])
    return accumulator


def WaveNet(
    input_shape=(2000, 8),
    blocks="starter",
    signals_per_chain=2,
    hidden_units=64,
    num_classes=6,
    weights=None,
    name="wavenet",
):
    """Deotte's HMS WaveNet starter: shared per-signal wave blocks -> chain averages -> logits.

    The per-signal network (a nested model named `"signal_features"`, input `(time, 1)`) is
    called once on every input channel. Its outputs are averaged over time, consecutive groups
    of `signals_per_chain` signals are averaged into one vector per chain, the chain vectors are
    concatenated (layer `"chain_features"`, 4 x 64 = 256 wide by default) and the head is
    `Dense(hidden_units, relu) -> Dense(num_classes)` (float32 logits, layer `"logits"`).
    Wrap with `kerasseizure.models.layers_hms.with_probabilities` for probabilities.

    Args:
        input_shape: `(time, channels)`; default `(2000, 8)` (50 s at 40 Hz, Deotte's 8
            differences in the order Fp1-T3, T3-O1, Fp1-C3, C3-O1, Fp2-C4, C4-O2, Fp2-T4,
            T4-O2). `time` may be `None`.
        blocks: wave blocks `(filters, kernel_size, n_dilations)`, or a preset name from
            `WAVENET_BLOCK_PRESETS`: `"starter"` (default: (8,3,12), (16,3,8), (32,3,4),
            (64,3,1)) or `"k4_d6"` (kernel 4, 6 dilations in each of the four blocks).
        signals_per_chain: signals averaged into one chain vector (2 in the starter);
            `channels` must be a multiple of it.
        hidden_units: width of the ReLU layer of the head; `None` or 0 for a linear head.
        num_classes: number of logits (6: Seizure, LPD, GPD, LRDA, GRDA, Other).
        weights: `None` or a local path to weights of this whole model (`.weights.h5`);
            `"imagenet"` or any download is refused.
        name: model name.

    Example:
    >>> import numpy as np
    >>> model = WaveNet(blocks=[(4, 3, 2)])  # one small block; WaveNet() is the starter
    >>> tuple(model(np.zeros((2, 2000, 8))).shape)
    (2, 6)
    >>> model.get_layer("chain_features").output.shape  # 4 chains x 4 filters (256 for the starter)
    (None, 16)
    """
    weights = check_local_weights(weights)
    blocks = _resolve_blocks(blocks)
    if len(input_shape) != 2:
        raise ValueError(f"input_shape must be (time, channels), got {input_shape!r}")
    time, channels = input_shape
    if channels is None or int(channels) < 1:
        raise ValueError(f"the number of channels must be a positive integer, got {channels!r}")
    channels = int(channels)
    if int(signals_per_chain) != signals_per_chain or signals_per_chain < 1:
        raise ValueError(f"signals_per_chain must be a positive integer, got {signals_per_chain!r}")
    if channels % signals_per_chain:
        raise ValueError(f"{channels} channels do not split into chains of "
                         f"{signals_per_chain} signals")
    if int(num_classes) != num_classes or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    if hidden_units is not None and (int(hidden_units) != hidden_units or hidden_units < 0):
        raise ValueError(f"hidden_units must be None or a non-negative integer, got "
                         f"{hidden_units!r}")

    signal_in = keras.Input((time, 1), name="signal")
    x = signal_in
    for i, (filters, kernel_size, n_dilations) in enumerate(blocks, start=1):
        x = wave_block(x, filters, kernel_size, n_dilations, name=f"block{i}")
    signal_features = keras.Model(signal_in, x, name="signal_features")

    inputs = keras.Input((time, channels), name="eeg")
    pool = keras.layers.GlobalAveragePooling1D(name="time_average")
    pooled = [pool(signal_features(ChannelSlice(c, c + 1, name=f"signal_{c}")(inputs)))
              for c in range(channels)]
    chains = []
    for start in range(0, channels, signals_per_chain):
        group = pooled[start:start + signals_per_chain]
        chain = len(chains)
        chains.append(group[0] if len(group) == 1
                      else keras.layers.Average(name=f"chain_{chain}")(group))
    features = (keras.layers.Concatenate(name="chain_features")(chains) if len(chains) > 1
                else keras.layers.Identity(name="chain_features")(chains[0]))
    return logits_model(inputs, features, num_classes=num_classes, weights=weights, name=name,
                        hidden_units=hidden_units)
