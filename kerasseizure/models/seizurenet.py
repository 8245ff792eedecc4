"""SeizureNet (Asif et al., arXiv 1903.03232): an ensemble of densely connected sub-networks,
each fed its own saliency-encoded spectrogram (SES) of the same EEG window.

The paper's layer-level details were not available to us; docs/seizurenet.md says which parts
are the paper's and which are this reconstruction's, with every default and why.

Input contract: one SES tensor per member, (batch, electrodes, frequency bins, maps); by default
(20, 24, 3), (20, 48, 3), (20, 96, 3) -- 20 TCP channels, bins 1..fmax of 1 s windows for fmax
24, 48 and 96 Hz, and the 3 maps (log spectrum, spectral-residual saliency, center-surround
saliency). Inputs are named `ses_0`, `ses_1`, ... (configurable) so a model accepts a list in
member order or a dict keyed by those names. How the SES was computed does not matter here.

Output contract: `SeizureNet(...)` returns the ensemble logits (batch, num_classes), float32, the
mean of the members' logits, so it can be a `keras.distillation.Distiller` teacher directly.
Named layers give the rest: `member{i}_embedding`, `embedding` (the concatenated member
embeddings, the teacher features for `FeatureDistillation`) and `member_logits`
(batch, N_e, num_classes).
`seizurenet_with_embeddings(model)` wraps a model into one returning a dict
{"logits", "member_logits", "embedding"} that shares its weights.
"""

import keras

from kerasseizure.models.layers import (
    _check_positive_int,
    _check_rate,
    MemberLogits,
    _check_compression,
    _check_ses_shape,
    bn_relu,
    dense_inception_block,
    transition,
)

DEFAULT_INPUT_SHAPES = ((20, 24, 3), (20, 48, 3), (20, 96, 3))


def _member_graph(
    x,
    prefix,
    stem_filters,
    growth_rate,
    layers_per_block,
    kernel_sizes,
    bottleneck_factor,
    factorize,
    compression,
    pool_size,
    dropout,
    embedding_dim,
    head_dropout,
    input_norm,
):
    """Wire one sub-network's trunk on `x`; returns its embedding tensor."""
    if input_norm:
        x = keras.layers.BatchNormalization(name=f"{prefix}input_norm")(x)
    x = keras.layers.Conv2D(
        stem_filters, 3, padding="same", use_bias=False, name=f"{prefix}stem_conv"
    )(x)
    for b, n_layers in enumerate(layers_per_block):
        x = dense_inception_block(
            x,
            n_layers,
            growth_rate,
            name=f"{prefix}block{b}",
            kernel_sizes=kernel_sizes,
            bottleneck_factor=bottleneck_factor,
            factorize=factorize,
            dropout=dropout,
        )
        if b < len(layers_per_block) - 1:
            x = transition(x, compression, pool_size, name=f"{prefix}transition{b}")
    x = bn_relu(x, f"{prefix}final")
    x = keras.layers.GlobalAveragePooling2D(name=f"{prefix}pool")(x)
    if head_dropout:
        x = keras.layers.Dropout(head_dropout, name=f"{prefix}pool_dropout")(x)
    return keras.layers.Dense(embedding_dim, activation="relu", name=f"{prefix}embedding")(x)


def _check_member_args(
    num_classes,
    stem_filters,
    growth_rate,
    layers_per_block,
    compression,
    dropout,
    embedding_dim,
    head_dropout,
):
    _check_positive_int(num_classes, "num_classes")
    _check_positive_int(stem_filters, "stem_filters")
    _check_positive_int(growth_rate, "growth_rate")
    _check_positive_int(embedding_dim, "embedding_dim")
    try:
        layers_per_block = tuple(layers_per_block)
    except TypeError:
        raise ValueError(
            "`layers_per_block` must be a sequence (one entry per dense block), got "
            f"{layers_per_block!r}."
        )
    if not layers_per_block:
        raise ValueError("`layers_per_block` must hold at least one block.")
    for n in layers_per_block:
        _check_positive_int(n, "layers_per_block entries")
    _check_compression(compression)
    dropout = _check_rate(dropout, "dropout")
    return layers_per_block, dropout, _check_rate(head_dropout, "head_dropout")


def seizurenet_member(
    input_shape=(20, 24, 3),
    num_classes=7,
    stem_filters=32,
    growth_rate=24,
    layers_per_block=(4, 4, 4),
    kernel_sizes=(1, 3, 5),
    bottleneck_factor=4,
    factorize=False,
    compression=0.5,
    pool_size=(2, 2),
    dropout=0.0,
    embedding_dim=128,
    head_dropout=0.2,
    input_norm=True,
    input_name="ses_0",
    name="seizurenet_member",
):
    """A single SeizureNet sub-network (the "SeizureNet single member" row of table 1).

    Input BN (per-map standardisation learnt from data), 3x3 stem convolution, dense blocks of
    inception-style layers (`kerasseizure.models.layers.dense_inception_layer`) separated by
    transitions, BN-ReLU, global average pooling, a ReLU embedding (`embedding` layer), logits
    (`logits` layer, float32). Returns logits; no softmax.

    Args:
        input_shape: (electrodes, frequency bins, maps) of the SES. Defaults to (20, 24, 3).
        num_classes: number of seizure types. Defaults to 7 (FNSZ, GNSZ, CPSZ, ABSZ, TNSZ, TCSZ,
            SPSZ; MYSZ is excluded by the IBM protocol).
        stem_filters: filters of the 3x3 stem convolution. Defaults to 32.
        growth_rate: channels each dense layer adds; divisible by `len(kernel_sizes)`.
            Defaults to 24 (8 per kernel size).
        layers_per_block: layers of each dense block; its length is the number of blocks.
            Defaults to (4, 4, 4).
        kernel_sizes: kernel sizes mixed inside every dense layer. Defaults to (1, 3, 5).
        bottleneck_factor: 1x1 bottleneck width in multiples of `growth_rate` (0: none).
            Defaults to 4 (DenseNet-BC).
        factorize: factorised `1 x k` / `k x 1` convolutions instead of `k x k`. Defaults to False.
        compression: fraction of channels kept by a transition. Defaults to 0.5 (DenseNet-BC).
        pool_size: pooling of a transition (electrodes, frequency). Defaults to (2, 2).
        dropout: dropout on each dense layer's new features. Defaults to 0.0.
        embedding_dim: size of the embedding. Defaults to 128.
        head_dropout: dropout before the embedding and before the logits. Defaults to 0.2.
        input_norm: start with a BatchNormalization of the input. Defaults to True.
        input_name: name of the input. Defaults to "ses_0".
        name: model name.

    Returns:
        A functional `keras.Model` mapping (batch, *input_shape) to logits (batch, num_classes).

    Example:
    >>> model = seizurenet_member((20, 24, 3), num_classes=7, layers_per_block=(2, 2))
    >>> model.output.shape
    (None, 7)
    """
    input_shape = _check_ses_shape(input_shape, "input_shape")
    layers_per_block, dropout, head_dropout = _check_member_args(
        num_classes, stem_filters, growth_rate, layers_per_block, compression, dropout,
        embedding_dim, head_dropout,
    )
    inputs = keras.Input(input_shape, name=input_name)
    embedding = _member_graph(
        inputs, "", stem_filters, growth_rate, layers_per_block, kernel_sizes,
        bottleneck_factor, factorize, compression, pool_size, dropout, embedding_dim,
        head_dropout, input_norm,
    )
    y = embedding
    if head_dropout:
        y = keras.layers.Dropout(head_dropout, name="embedding_dropout")(y)
    logits = keras.layers.Dense(num_classes, dtype="float32", name="logits")(y)
    return keras.Model(inputs, logits, name=name)


def SeizureNet(
    input_shapes=DEFAULT_INPUT_SHAPES,
    num_classes=7,
    stem_filters=32,
    growth_rate=24,
    layers_per_block=(4, 4, 4),
    kernel_sizes=(1, 3, 5),
    bottleneck_factor=4,
    factorize=False,
    compression=0.5,
    pool_size=(2, 2),
    dropout=0.0,
    embedding_dim=128,
    head_dropout=0.2,
    input_norm=True,
    input_names=None,
    name="seizurenet",
):
    """SeizureNet: an ensemble of N_e sub-networks, one per spectral representation.

    Member `i` reads input `i` (its own SES) and is a `seizurenet_member` with the shared
    hyper-parameters below and layer names prefixed `member{i}_`. The model outputs the mean of
    the members' logits (layer `logits`, float32). The concatenation of the member embeddings is
    the layer `embedding` (N_e * embedding_dim features): the teacher features for feature
    distillation. `seizurenet_with_embeddings(model)` exposes all of them as outputs.

    Args:
        input_shapes: one (electrodes, frequency bins, maps) per member. Defaults to
            ((20, 24, 3), (20, 48, 3), (20, 96, 3)): SES of 1 s windows with fmax 24, 48, 96 Hz.
        num_classes: number of seizure types. Defaults to 7.
        stem_filters, growth_rate, layers_per_block, kernel_sizes, bottleneck_factor, factorize,
            compression, pool_size, dropout, embedding_dim, head_dropout, input_norm: as in
            `seizurenet_member` (same defaults), shared by every member.
        input_names: one name per input. Defaults to ("ses_0", "ses_1", ...).
        name: model name.

    Returns:
        A functional `keras.Model`; inputs: a list in member order or a dict keyed by
        `input_names`; output: ensemble logits (batch, num_classes), float32.

    Example:
    >>> model = SeizureNet(((20, 24, 3), (20, 48, 3)), num_classes=7, layers_per_block=(2, 2))
    >>> model.output.shape
    (None, 7)
    """
    if isinstance(input_shapes, (str, bytes)) or not hasattr(input_shapes, "__len__"):
        raise ValueError(f"`input_shapes` must be a sequence of shapes, got {input_shapes!r}.")
    if len(input_shapes) and isinstance(input_shapes[0], int):
        raise ValueError(
            "`input_shapes` must be a sequence of shapes, one per member (e.g. "
            f"((20, 24, 3),)), got {input_shapes!r}."
        )
    input_shapes = tuple(_check_ses_shape(s, f"input_shapes[{i}]") for i, s in enumerate(input_shapes))
    if not input_shapes:
        raise ValueError("`input_shapes` must hold at least one shape.")
    if input_names is None:
        input_names = tuple(f"ses_{i}" for i in range(len(input_shapes)))
    input_names = tuple(input_names)
    if len(input_names) != len(input_shapes) or len(set(input_names)) != len(input_names):
        raise ValueError(
            f"`input_names` must hold {len(input_shapes)} distinct names, got {input_names!r}."
        )
    layers_per_block, dropout, head_dropout = _check_member_args(
        num_classes, stem_filters, growth_rate, layers_per_block, compression, dropout,
        embedding_dim, head_dropout,
    )
    inputs = [keras.Input(s, name=n) for s, n in zip(input_shapes, input_names)]
    embeddings = [
        _member_graph(
            x, f"member{i}_", stem_filters, growth_rate, layers_per_block, kernel_sizes,
            bottleneck_factor, factorize, compression, pool_size, dropout, embedding_dim,
            head_dropout, input_norm,
        )
        for i, x in enumerate(inputs)
    ]
    if len(embeddings) == 1:
        embedding = keras.layers.Identity(name="embedding")(embeddings[0])
    else:
        embedding = keras.layers.Concatenate(axis=-1, name="embedding")(embeddings)
    y = embedding
    if head_dropout:
        y = keras.layers.Dropout(head_dropout, name="embedding_dropout")(y)
    member_logits = MemberLogits(
        len(inputs), num_classes, dtype="float32", name="member_logits"
    )(y)
    logits = keras.layers.GlobalAveragePooling1D(dtype="float32", name="logits")(member_logits)
    return keras.Model(inputs, logits, name=name)


def seizurenet_with_embeddings(model):
    """A view of a SeizureNet (or `seizurenet_member`) model returning every useful tensor.

    The view shares the model's layers and weights (training one trains the other).

    Args:
        model: a model built by `SeizureNet` or `seizurenet_member`.

    Returns:
        A functional `keras.Model` with the same inputs, returning a dict:
        "logits" (batch, num_classes) float32 ensemble logits; "member_logits"
        (batch, n_members, num_classes) float32 (n_members = 1 for a single member);
        "embedding" (batch, n_members * embedding_dim), the teacher features.

    Example:
    >>> view = seizurenet_with_embeddings(SeizureNet(layers_per_block=(2, 2)))
    >>> sorted(view.output)
    ['embedding', 'logits', 'member_logits']
    """
    if not isinstance(model, keras.Model) or getattr(model, "inputs", None) is None:
        raise ValueError("`model` must be a functional keras.Model built by SeizureNet.")
    try:
        logits = model.get_layer("logits").output
        embedding = model.get_layer("embedding").output
    except ValueError:
        raise ValueError(
            f"`model` ({model.name}) has no `logits` / `embedding` layers; build it with "
            "SeizureNet or seizurenet_member."
        )
    names = [layer.name for layer in model.layers]
    if "member_logits" in names:
        member_logits = model.get_layer("member_logits").output
    else:
        member_logits = keras.layers.Reshape(
            (1, int(logits.shape[-1])), dtype="float32", name="member_logits"
        )(logits)
    return keras.Model(
        model.inputs,
        {"logits": logits, "member_logits": member_logits, "embedding": embedding},
        name=f"{model.name}_with_embeddings",
    )
