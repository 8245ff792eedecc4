"""Building blocks shared by SeizureNet and its students.

The blocks are functions that wire standard Keras layers (`keras.layers.*`) into a functional
graph, so models built from them save and load with `safe_mode=True`, convert to TFLite, and
name each layer predictably (`{name}_...`) so that layers can be fetched with
`model.get_layer(...)` (for example by `keras.distillation.FeatureDistillation`).

- `inception_conv`: parallel convolutions with several kernel sizes, concatenated.
- `dense_inception_layer` / `dense_inception_block`: DenseNet-style layers whose new features come
  from an `inception_conv`; each layer's output is concatenated to its input.
- `transition`: DenseNet transition (BN-ReLU, 1x1 convolution with compression, pooling).
- `conv_bn_act` / `separable_block`: post-activation blocks for students; their batch norms fold
  into the preceding convolution when converted to TFLite.
- `MemberLogits`: the one custom layer, per-member dense heads on concatenated embeddings.
"""

import keras


def _check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer, got {value!r}.")
    return value


def _check_ses_shape(shape, name):
    """`shape` as a tuple (electrodes, frequency bins, maps) of positive integers, or ValueError."""
    try:
        shape = tuple(shape)
    except TypeError:
        raise ValueError(f"`{name}` must be a shape (electrodes, frequency bins, maps), got {shape!r}.")
    if len(shape) != 3:
        raise ValueError(f"`{name}` must have 3 entries (electrodes, frequency bins, maps), got {shape!r}.")
    for d in shape:
        _check_positive_int(d, f"{name} entries")
    return shape


def _check_kernel_sizes(kernel_sizes):
    if isinstance(kernel_sizes, int) or not kernel_sizes:
        raise ValueError(
            f"`kernel_sizes` must be a non-empty sequence of positive integers, got "
            f"{kernel_sizes!r}."
        )
    sizes = tuple(kernel_sizes)
    for k in sizes:
        _check_positive_int(k, "kernel_sizes[i]")
    if len(set(sizes)) != len(sizes):
        raise ValueError(f"`kernel_sizes` must not repeat a size, got {kernel_sizes!r}.")
    return sizes


def _check_compression(compression):
    if (
        isinstance(compression, bool)
        or not isinstance(compression, (int, float))
        or not 0.0 < compression <= 1.0
    ):
        raise ValueError(f"`compression` must be a number in (0, 1], got {compression!r}.")
    return float(compression)


def _check_rate(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(f"`{name}` must be a number in [0, 1), got {value!r}.")
    return float(value)


def bn_relu(x, name, epsilon=1.001e-5):
    """Batch normalization then ReLU (the pre-activation of DenseNet layers).

    Args:
        x: a 4-D tensor (batch, height, width, channels).
        name: prefix of the two layers' names (`{name}_bn`, `{name}_relu`).
        epsilon: batch-norm epsilon (DenseNet's 1.001e-5).

    Returns:
        The activated tensor.
    """
    x = keras.layers.BatchNormalization(epsilon=epsilon, name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def inception_conv(
    x, filters_per_branch, kernel_sizes=(1, 3, 5), factorize=False, name="inception"
):
    """Parallel convolutions with several kernel sizes, concatenated along channels.

    Each kernel size `k` gives one branch of `filters_per_branch` filters: a `k x k` convolution,
    or with `factorize=True` a `1 x k` convolution followed by a `k x 1` one (fewer weights, the
    Inception-v3 factorisation). A size of 1 is always a single 1 x 1 convolution. Convolutions
    use "same" padding and no bias (a batch norm follows in every caller).

    Args:
        x: a 4-D tensor (batch, height, width, channels).
        filters_per_branch: filters of each branch.
        kernel_sizes: one branch per size. Defaults to (1, 3, 5).
        factorize: replace `k x k` by `1 x k` then `k x 1`. Defaults to False.
        name: prefix of the layer names.

    Returns:
        A tensor with `filters_per_branch * len(kernel_sizes)` channels.

    Example:
    >>> x = keras.Input((20, 24, 16))
    >>> inception_conv(x, 8, (1, 3, 5)).shape
    (None, 20, 24, 24)
    """
    _check_positive_int(filters_per_branch, "filters_per_branch")
    kernel_sizes = _check_kernel_sizes(kernel_sizes)
    branches = []
    for k in kernel_sizes:
        if k == 1 or not factorize:
            y = keras.layers.Conv2D(
                filters_per_branch, k, padding="same", use_bias=False, name=f"{name}_{k}x{k}"
            )(x)
        else:
            y = keras.layers.Conv2D(
                filters_per_branch, (1, k), padding="same", use_bias=False, name=f"{name}_1x{k}"
            )(x)
            y = keras.layers.Conv2D(
                filters_per_branch, (k, 1), padding="same", use_bias=False, name=f"{name}_{k}x1"
            )(y)
        branches.append(y)
    if len(branches) == 1:
        return branches[0]
    return keras.layers.Concatenate(axis=-1, name=f"{name}_concat")(branches)


def dense_inception_layer(
    x,
    growth_rate,
    kernel_sizes=(1, 3, 5),
    bottleneck_factor=4,
    factorize=False,
    dropout=0.0,
    name="dense_layer",
):
    """One densely connected layer whose new features mix several kernel sizes.

    BN-ReLU-Conv1x1 bottleneck (`bottleneck_factor * growth_rate` filters, as in DenseNet-BC),
    BN-ReLU, `inception_conv` producing `growth_rate` channels split evenly over the kernel sizes,
    optional dropout, then the new features are concatenated to the layer's input.

    Args:
        x: a 4-D tensor (batch, height, width, channels).
        growth_rate: channels added by the layer; must be divisible by `len(kernel_sizes)`.
        kernel_sizes: kernel sizes of the parallel branches. Defaults to (1, 3, 5).
        bottleneck_factor: bottleneck width in multiples of `growth_rate`; 0 disables the
            bottleneck. Defaults to 4.
        factorize: factorised `1 x k` / `k x 1` branches. Defaults to False.
        dropout: dropout rate on the new features. Defaults to 0.0.
        name: prefix of the layer names.

    Returns:
        A tensor with `channels + growth_rate` channels.

    Example:
    >>> x = keras.Input((20, 24, 32))
    >>> dense_inception_layer(x, 24).shape
    (None, 20, 24, 56)
    """
    _check_positive_int(growth_rate, "growth_rate")
    kernel_sizes = _check_kernel_sizes(kernel_sizes)
    if growth_rate % len(kernel_sizes):
        raise ValueError(
            f"`growth_rate` ({growth_rate}) must be divisible by the number of kernel sizes "
            f"({len(kernel_sizes)})."
        )
    if (
        isinstance(bottleneck_factor, bool)
        or not isinstance(bottleneck_factor, int)
        or bottleneck_factor < 0
    ):
        raise ValueError(
            f"`bottleneck_factor` must be a non-negative integer, got {bottleneck_factor!r}."
        )
    dropout = _check_rate(dropout, "dropout")
    y = bn_relu(x, f"{name}_0")
    if bottleneck_factor:
        y = keras.layers.Conv2D(
            bottleneck_factor * growth_rate, 1, use_bias=False, name=f"{name}_bottleneck"
        )(y)
        y = bn_relu(y, f"{name}_1")
    y = inception_conv(
        y, growth_rate // len(kernel_sizes), kernel_sizes, factorize, name=f"{name}_inception"
    )
    if dropout:
        y = keras.layers.Dropout(dropout, name=f"{name}_dropout")(y)
    return keras.layers.Concatenate(axis=-1, name=f"{name}_concat")([x, y])


def dense_inception_block(x, n_layers, growth_rate, name="dense_block", **layer_kwargs):
    """`n_layers` stacked `dense_inception_layer`s (a DenseNet dense block).

    Args:
        x: a 4-D tensor (batch, height, width, channels).
        n_layers: number of layers.
        growth_rate: channels added by each layer.
        name: prefix of the layer names (`{name}_l{i}_...`).
        **layer_kwargs: `kernel_sizes`, `bottleneck_factor`, `factorize`, `dropout` of
            `dense_inception_layer`.

    Returns:
        A tensor with `channels + n_layers * growth_rate` channels.

    Example:
    >>> x = keras.Input((20, 24, 32))
    >>> dense_inception_block(x, 3, 24).shape
    (None, 20, 24, 104)
    """
    _check_positive_int(n_layers, "n_layers")
    for i in range(n_layers):
        x = dense_inception_layer(x, growth_rate, name=f"{name}_l{i}", **layer_kwargs)
    return x


def transition(x, compression=0.5, pool_size=(2, 2), name="transition"):
    """DenseNet transition: BN-ReLU, 1x1 convolution keeping `compression` of the channels,
    average pooling.

    Pooling uses "same" padding so that small maps (20 electrodes, 24 frequency bins) never
    shrink to zero.

    Args:
        x: a 4-D tensor (batch, height, width, channels).
        compression: fraction of channels kept, in (0, 1]. Defaults to 0.5 (DenseNet-BC).
        pool_size: average-pooling window and stride. Defaults to (2, 2).
        name: prefix of the layer names.

    Returns:
        The compressed, pooled tensor.

    Example:
    >>> x = keras.Input((20, 24, 64))
    >>> transition(x).shape
    (None, 10, 12, 32)
    """
    _check_compression(compression)
    channels = int(x.shape[-1])
    y = bn_relu(x, name)
    y = keras.layers.Conv2D(
        max(1, int(channels * compression)), 1, use_bias=False, name=f"{name}_conv"
    )(y)
    return keras.layers.AveragePooling2D(pool_size, padding="same", name=f"{name}_pool")(y)


def conv_bn_act(x, filters, kernel_size=3, strides=1, activation="relu6", name="conv"):
    """Convolution, batch norm, activation (post-activation, so TFLite folds the batch norm).

    Args:
        x: a 4-D tensor (batch, height, width, channels).
        filters: output channels.
        kernel_size: convolution kernel. Defaults to 3.
        strides: convolution strides. Defaults to 1.
        activation: "relu6" or "relu". Defaults to "relu6".
        name: prefix of the layer names.

    Returns:
        The activated tensor.

    Example:
    >>> conv_bn_act(keras.Input((20, 24, 3)), 8).shape
    (None, 20, 24, 8)
    """
    _check_positive_int(filters, "filters")
    x = keras.layers.Conv2D(
        filters, kernel_size, strides=strides, padding="same", use_bias=False, name=f"{name}_conv"
    )(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    return _activation(x, activation, f"{name}_{activation}")


def separable_block(x, filters, kernel_size=3, activation="relu6", name="separable"):
    """Depthwise convolution, BN, activation, then pointwise 1x1 convolution, BN, activation
    (the MobileNet-v1 block), all TFLite builtin ops.

    Args:
        x: a 4-D tensor (batch, height, width, channels).
        filters: output channels of the pointwise convolution.
        kernel_size: depthwise kernel. Defaults to 3.
        activation: "relu6" or "relu". Defaults to "relu6".
        name: prefix of the layer names.

    Returns:
        A tensor with `filters` channels.

    Example:
    >>> separable_block(keras.Input((20, 24, 8)), 16).shape
    (None, 20, 24, 16)
    """
    _check_positive_int(filters, "filters")
    x = keras.layers.DepthwiseConv2D(
        kernel_size, padding="same", use_bias=False, name=f"{name}_dw"
    )(x)
    x = keras.layers.BatchNormalization(name=f"{name}_dw_bn")(x)
    x = _activation(x, activation, f"{name}_dw_{activation}")
    x = keras.layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_pw")(x)
    x = keras.layers.BatchNormalization(name=f"{name}_pw_bn")(x)
    return _activation(x, activation, f"{name}_pw_{activation}")


def _activation(x, activation, name):
    if activation == "relu6":
        return keras.layers.ReLU(max_value=6.0, name=name)(x)
    if activation == "relu":
        return keras.layers.ReLU(name=name)(x)
    raise ValueError(f"`activation` must be 'relu6' or 'relu', got {activation!r}.")


@keras.saving.register_keras_serializable(package="kerasseizure")
class MemberLogits(keras.layers.Layer):
    """Per-member classification heads applied to concatenated member embeddings.

    The input is the concatenation of `n_members` embeddings of equal size `d`; member `i`
    gets its own dense head (kernel `d x num_classes`, bias `num_classes`) on its slice. The output
    stacks the members' logits: (batch, n_members, num_classes). It equals `n_members` separate
    `Dense(num_classes)` layers, but keeps the concatenated embedding on the path to the model's
    output, so a functional model keeps it as a named layer (needed by
    `keras.distillation.FeatureDistillation`, which looks layers up by name).

    Args:
        n_members: number of members (slices of the input).
        num_classes: logits per member.
        kernel_initializer: initializer of each member's kernel. Defaults to "glorot_uniform"
            (as `keras.layers.Dense`).
        bias_initializer: initializer of each member's bias. Defaults to "zeros".
        **kwargs: base `keras.layers.Layer` arguments (name, dtype, ...). Use dtype="float32"
            under mixed precision so the logits stay float32.

    Example:
    >>> layer = MemberLogits(n_members=3, num_classes=7, dtype="float32")
    >>> tuple(layer(keras.ops.ones((2, 3 * 128))).shape)
    (2, 3, 7)
    """

    def __init__(
        self,
        n_members,
        num_classes,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.n_members = _check_positive_int(n_members, "n_members")
        self.num_classes = _check_positive_int(num_classes, "num_classes")
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, input_shape):
        features = input_shape[-1]
        if features is None or features % self.n_members:
            raise ValueError(
                f"MemberLogits: the last input dimension ({features}) must be a multiple of "
                f"n_members ({self.n_members})."
            )
        self.member_dim = features // self.n_members
        self.kernels = [
            self.add_weight(
                shape=(self.member_dim, self.num_classes),
                initializer=self.kernel_initializer,
                name=f"kernel_{i}",
            )
            for i in range(self.n_members)
        ]
        self.biases = [
            self.add_weight(
                shape=(self.num_classes,), initializer=self.bias_initializer, name=f"bias_{i}"
            )
            for i in range(self.n_members)
        ]

    def call(self, inputs):
        d = self.member_dim
        logits = [
            keras.ops.matmul(inputs[:, i * d : (i + 1) * d], self.kernels[i]) + self.biases[i]
            for i in range(self.n_members)
        ]
        return keras.ops.stack(logits, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n_members, self.num_classes)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "n_members": self.n_members,
                "num_classes": self.num_classes,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config
