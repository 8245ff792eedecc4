"""The fused HMS model: temporal (WaveNet) and spatial (EfficientNet) features, one head.

The HMS ablation paper averages the probabilities of a temporal and a spatial model and names a
model trained end to end on the concatenated features of both branches as future work; this is
that model. Inputs are a dict `{"eeg": (2000, 8), "image": (512, 512, 3)}`; the temporal trunk
is the WaveNet up to its 256-wide chain vector, the spatial trunk the SpectrogramNet up to its
pooled backbone features; they are concatenated and fed to `Dense(head_units, relu) ->
Dense(num_classes)` float32 logits.
"""

import keras

from kerasseizure.models.layers_hms import check_local_weights, logits_model
from kerasseizure.models.spectrogram_net import SpectrogramNet
from kerasseizure.models.wavenet import WaveNet

TEMPORAL_FEATURES = "chain_features"
SPATIAL_FEATURES = "pooled_features"


def _feature_layer(model, feature_layer):
    try:
        return model.get_layer(feature_layer)
    except ValueError:
        raise ValueError(f"model {model.name!r} has no layer {feature_layer!r}: pass a model "
                         "built by the matching kerasseizure builder") from None


def _trunk(model, feature_layer, name, copy):
    """`model` from its input to `feature_layer`'s output (a copy of its weights if `copy`)."""
    _feature_layer(model, feature_layer)
    if copy:
        source = model
        model = keras.models.clone_model(source)
        model.set_weights(source.get_weights())
    return keras.Model(model.input, model.get_layer(feature_layer).output, name=name)


def fused(
    eeg_shape=(2000, 8),
    image_shape=(512, 512, 3),
    wavenet=None,
    spectrogram_net=None,
    wavenet_blocks="starter",
    backbone="EfficientNetV2B2",
    backbone_weights=None,
    head_units=64,
    dropout=0.0,
    num_classes=6,
    weights=None,
    name="fused",
):
    """Temporal + spatial HMS model trained end to end on concatenated features.

    Graph: `"eeg"` -> temporal trunk (nested model `"temporal_trunk"`, output 256 wide by
    default) and `"image"` -> spatial trunk (nested model `"spatial_trunk"`, 1408 wide for
    EfficientNetV2B2) -> `Concatenate` `"fused_features"` -> optional `Dropout` ->
    `Dense(head_units, relu)` `"hidden"` -> `Dense(num_classes, dtype="float32")` `"logits"`.

    Args:
        eeg_shape: `(time, channels)` of the raw-EEG input; default `(2000, 8)`. Ignored when
            `wavenet` is given (its input shape is used).
        image_shape: `(height, width, 3)` of the spectrogram image; default `(512, 512, 3)`.
            Ignored when `spectrogram_net` is given.
        wavenet: `None` (build a new `WaveNet(eeg_shape, blocks=wavenet_blocks)`) or an
            already built (e.g. trained) `WaveNet` model whose trunk weights are COPIED into the
            fused model; the given model itself is left untouched.
        spectrogram_net: `None` (build `SpectrogramNet(image_shape, backbone,
            backbone_weights=backbone_weights)`) or an already built `SpectrogramNet` whose
            trunk weights are copied likewise.
        wavenet_blocks: wave-block preset or list used when `wavenet` is `None`.
        backbone: EfficientNet name used when `spectrogram_net` is `None`.
        backbone_weights: `None` or the local notop weights file of `backbone` (used when
            `spectrogram_net` is `None`); `"imagenet"` raises.
        head_units: width of the ReLU layer of the head; `None` or 0 for a linear head.
        dropout: dropout rate on the concatenated features (0 = no layer).
        num_classes: number of logits (6 for HMS).
        weights: `None` or a local path to weights of this whole model (`.weights.h5`).
        name: model name.

    Example:
    >>> model = fused(image_shape=(64, 64, 3), backbone="EfficientNetV2B0")  # doctest: +SKIP
    >>> x = {"eeg": np.zeros((2, 2000, 8)), "image": np.zeros((2, 64, 64, 3))}  # doctest: +SKIP
    >>> model(x).shape  # doctest: +SKIP
    (2, 6)
    """
    weights = check_local_weights(weights)
    if int(num_classes) != num_classes or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    if head_units is not None and (int(head_units) != head_units or head_units < 0):
        raise ValueError(f"head_units must be None or a non-negative integer, got {head_units!r}")
    if not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    check_local_weights(backbone_weights, what="backbone_weights")
    for given, what, layer in ((wavenet, "wavenet", TEMPORAL_FEATURES),
                               (spectrogram_net, "spectrogram_net", SPATIAL_FEATURES)):
        if given is None:
            continue
        if not isinstance(given, keras.Model):
            raise ValueError(f"{what} must be None or a keras.Model, got {type(given).__name__}")
        _feature_layer(given, layer)

    copy_temporal = wavenet is not None
    if wavenet is None:
        wavenet = WaveNet(eeg_shape, blocks=wavenet_blocks)
    copy_spatial = spectrogram_net is not None
    if spectrogram_net is None:
        spectrogram_net = SpectrogramNet(image_shape, backbone=backbone,
                                         backbone_weights=backbone_weights)
    temporal = _trunk(wavenet, TEMPORAL_FEATURES, "temporal_trunk", copy_temporal)
    spatial = _trunk(spectrogram_net, SPATIAL_FEATURES, "spatial_trunk", copy_spatial)

    inputs = {
        "eeg": keras.Input(tuple(temporal.input.shape[1:]), name="eeg"),
        "image": keras.Input(tuple(spatial.input.shape[1:]), name="image"),
    }
    x = keras.layers.Concatenate(name="fused_features")(
        [temporal(inputs["eeg"]), spatial(inputs["image"])])
    return logits_model(inputs, x, num_classes=num_classes, weights=weights, name=name, dropout=dropout,
                        hidden_units=head_units)
