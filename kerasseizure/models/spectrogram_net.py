"""The HMS spatial model: an EfficientNet on the 512 x 512 spectrogram image -> logits.

Input mapping (the one place it is defined): the pipeline's spectrogram image holds roughly
standardised values v (EEG panels (dB + 40) / 40 in [-1, 1]; Kaggle panels log, standardised
per image, / 2) -- the values Deotte's starter fed straight into an EfficientNet without any
preprocessing. The Keras EfficientNets carry their own preprocessing and expect [0, 255] pixels,
so a `Rescaling` layer named `"to_backbone_pixels"` maps v to the pixels whose preprocessing
gives back v, treating v as an ImageNet-standardised image:

- EfficientNetV2B0..B3 (3 channels; Rescaling(1/255) then ImageNet mean/std Normalization):
  `p = 255 * (mean_c + std_c * v)`, mean = (0.485, 0.456, 0.406), std = (0.229, 0.224, 0.225);
  the backbone's first convolution then sees exactly v (up to rounding).
- EfficientNetV2S/M/L (Rescaling(1/128, offset=-1)): `p = 128 * (v + 1)`; again exactly v.
- EfficientNetB0..B7 (Rescaling(1/255) then a Normalization whose statistics come from the
  weights file): the same ImageNet map as V2B*, so with ImageNet statistics loaded the backbone
  sees v; with `backbone_weights=None` its Normalization is the identity and the backbone sees
  `mean_c + std_c * v`, an affine change that training absorbs.
"""

import keras

from kerasseizure.models.layers_hms import check_head, check_local_weights, logits_model

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# canonical name -> (keras.applications constructor name, preprocessing kind)
_BACKBONES = {
    **{f"efficientnetb{i}": (f"EfficientNetB{i}", "imagenet") for i in range(8)},
    **{f"efficientnetv2b{i}": (f"EfficientNetV2B{i}", "imagenet") for i in range(4)},
    **{f"efficientnetv2{s}": (f"EfficientNetV2{s.upper()}", "minus_one_one") for s in "sml"},
}


def backbone_names():
    """Names accepted by `SpectrogramNet(backbone=...)` (case, '-' and '_' are ignored)."""
    return sorted(ctor for ctor, _ in _BACKBONES.values())


def _resolve_backbone(backbone):
    key = str(backbone).lower().replace("_", "").replace("-", "")
    if key not in _BACKBONES:
        raise ValueError(f"unknown backbone {backbone!r}; choose one of {backbone_names()}")
    return _BACKBONES[key]


def backbone_input_map(backbone, channels=3):
    """`(scale, offset)` of the `Rescaling` from pipeline values to the backbone's pixels.

    Args:
        backbone: a name accepted by `SpectrogramNet`.
        channels: image channels (the ImageNet map needs 3).

    Example:
    >>> [round(s, 3) for s in backbone_input_map("EfficientNetV2B2")[0]]
    [58.395, 57.12, 57.375]
    >>> backbone_input_map("EfficientNetV2S")
    (128.0, 128.0)
    """
    _, kind = _resolve_backbone(backbone)
    if kind == "minus_one_one":
        return 128.0, 128.0
    if channels != 3:
        raise ValueError(f"{backbone} with its ImageNet preprocessing needs 3 input channels, "
                         f"got {channels}")
    scale = [255.0 * s for s in IMAGENET_STD]
    offset = [255.0 * m for m in IMAGENET_MEAN]
    return scale, offset


def SpectrogramNet(
    input_shape=(512, 512, 3),
    backbone="EfficientNetV2B2",
    num_classes=6,
    dropout=0.0,
    backbone_weights=None,
    weights=None,
    name="spectrogram_net",
):
    """EfficientNet (V2-B2 by default) + global average pooling + Dense logits.

    Graph: input `"image"` -> `Rescaling` `"to_backbone_pixels"` (see the module docstring for
    the mapping) -> `keras.applications.<backbone>(include_top=False)` (a nested model keeping
    its keras.applications name, e.g. `"efficientnetv2-b2"`) -> `GlobalAveragePooling2D`
    `"pooled_features"` -> optional `Dropout` -> `Dense(num_classes, dtype="float32")`
    `"logits"`. Wrap with
    `kerasseizure.models.layers_hms.with_probabilities` for the starter's softmax output.

    Args:
        input_shape: `(height, width, 3)` spectrogram image; default `(512, 512, 3)`.
        backbone: `"EfficientNetV2B2"` (default), `"EfficientNetV2B0"`, `"EfficientNetB0"` or
            any other name in `backbone_names()`.
        num_classes: number of logits (6 for HMS).
        dropout: dropout rate between the pooled features and the logits (0 = no layer).
        backbone_weights: `None` (random initialisation) or the local path of the
            keras.applications "notop" weights file of this backbone (e.g.
            `efficientnetv2-b2_notop.h5` copied into a Kaggle dataset). `"imagenet"` raises:
            nothing is ever downloaded.
        weights: `None` or a local path to weights of this whole model (`.weights.h5`).
        name: model name.

    Example:
    >>> model = SpectrogramNet((64, 64, 3), backbone="EfficientNetV2B0")  # doctest: +SKIP
    >>> model(np.zeros((2, 64, 64, 3))).shape  # doctest: +SKIP
    (2, 6)
    """
    backbone_weights = check_local_weights(backbone_weights, what="backbone_weights")
    weights = check_local_weights(weights)
    constructor_name, _ = _resolve_backbone(backbone)
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels), got {input_shape!r}")
    height, width, channels = input_shape
    for size in (height, width):
        if size is not None and int(size) < 32:
            raise ValueError(f"EfficientNets need images of at least 32 x 32, got {input_shape!r}")
    if channels is None:
        raise ValueError("the number of image channels must be given")
    check_head(num_classes, dropout)
    scale, offset = backbone_input_map(backbone, int(channels))

    constructor = getattr(keras.applications, constructor_name)
    kwargs = dict(include_top=False, weights=backbone_weights,
                  input_shape=(height, width, int(channels)))
    if "V2" in constructor_name:
        kwargs["include_preprocessing"] = True
    # The keras.applications name is kept: EfficientNetV2 picks its preprocessing from it.
    base = constructor(**kwargs)

    inputs = keras.Input((height, width, int(channels)), name="image")
    x = keras.layers.Rescaling(scale, offset, dtype="float32", name="to_backbone_pixels")(inputs)
    x = base(x)
    x = keras.layers.GlobalAveragePooling2D(name="pooled_features")(x)
    return logits_model(inputs, x, dropout=dropout, num_classes=num_classes, weights=weights, name=name)
