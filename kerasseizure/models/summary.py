"""Size and cost of a model: parameters and multiply-accumulates (MACs) per sample.

MACs are counted from each call of each layer with its own input and output shapes, so a
sub-network shared across channels (the WaveNet trunk runs once per EEG difference) is counted
once per call. Convolutions, depthwise/separable convolutions and dense layers are counted;
element-wise work (activations, batch norm, pooling, additions) is left out, as is usual.
"""

import math

import keras


def _shape_size(shape):
    return math.prod(int(d) for d in shape[1:])


def _layer_call_macs(layer, input_shape, output_shape):
    if isinstance(layer, keras.layers.Dense):
        return _shape_size(output_shape) * int(input_shape[-1])
    if isinstance(layer, (keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D)):
        return _shape_size(output_shape) * math.prod(layer.kernel_size)
    if isinstance(layer, (keras.layers.SeparableConv1D, keras.layers.SeparableConv2D)):
        in_channels = int(input_shape[-1])
        spatial = _shape_size(output_shape) // int(output_shape[-1])
        depthwise = spatial * in_channels * layer.depth_multiplier * math.prod(layer.kernel_size)
        return depthwise + spatial * in_channels * layer.depth_multiplier * int(output_shape[-1])
    if isinstance(layer, (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)):
        in_channels = int(input_shape[-1]) // layer.groups
        return _shape_size(output_shape) * in_channels * math.prod(layer.kernel_size)
    return 0


def _model_nodes(model):
    # A Sequential model keeps its graph in an inner functional model.
    graph = getattr(model, "_functional", None) or model
    return [node for nodes in graph._nodes_by_depth.values() for node in nodes]


def count_macs(model):
    """Multiply-accumulates of one forward pass for one sample (batch dimension excluded).

    Args:
        model: a built functional or Sequential `keras.Model` (nested models are followed).

    Example:
    >>> count_macs(keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)]))
    12
    """
    total = 0
    for node in _model_nodes(model):
        layer = node.operation
        if isinstance(layer, keras.Model):
            total += count_macs(layer)
            continue
        if not isinstance(layer, keras.layers.Layer) or not node.input_tensors:
            continue
        total += _layer_call_macs(layer, node.input_tensors[0].shape, node.output_tensors[0].shape)
    return total


def model_row(name, model, source):
    """One row of the models table: name, parameters, MACs per sample, input shapes, source."""
    inputs = model.inputs if isinstance(model.inputs, list) else [model.inputs]
    shapes = ", ".join(str(tuple(int(d) for d in t.shape[1:])) for t in inputs)
    return {
        "model": name,
        "parameters": int(model.count_params()),
        "macs_per_sample": int(count_macs(model)),
        "input_shape": shapes,
        "source": source,
    }


def markdown_table(rows):
    """The rows of `model_row` as a Markdown table."""
    lines = [
        "| model | parameters | MACs per sample | input shape | source |",
        "| --- | ---: | ---: | --- | --- |",
    ]
    for row in rows:
        lines.append(
            f"| {row['model']} | {row['parameters']:,} | {row['macs_per_sample']:,} | "
            f"{row['input_shape']} | {row['source']} |"
        )
    return "\n".join(lines) + "\n"


TABLE_START = "<!-- models-table:start (python -m kerasseizure.models.summary --write docs/models.md) -->"
TABLE_END = "<!-- models-table:end -->"


def default_models():
    """(name, builder, source) of every default model the documentation lists."""
    # Imported here: the builders import this module's siblings, not the other way round.
    from kerasseizure import models

    rows = [
        ("WaveNet", models.WaveNet, "Deotte's HMS WaveNet starter"),
        ("WaveNet (k4_d6)", lambda: models.WaveNet(blocks="k4_d6"), "public notebooks built on the starter"),
        ("SpectrogramNet (EfficientNetV2B2)", models.SpectrogramNet, "HMS ablation paper (B2); Deotte's starter"),
        ("fused (WaveNet + EfficientNetV2B2)", models.fused, "the HMS paper's proposal; ours"),
        ("SpectroTemporal3D", models.SpectroTemporal3D, "the HMS paper's proposal; ours"),
        ("CompactSpectrogramNet", models.CompactSpectrogramNet, "ours (CPU stand-in for the EfficientNet)"),
        ("SeizureNet (3 members)", models.SeizureNet, "arXiv 1903.03232; reconstruction, ours"),
        ("SeizureNet member (24 bins)", models.seizurenet_member, "arXiv 1903.03232; reconstruction, ours"),
    ]
    rows += [(f"student ({size})", lambda size=size: models.student(size=size), "ours (distillation target)")
             for size in models.STUDENT_SIZES]
    return rows


def models_table(names=None):
    """Rows of `model_row` for the default models (all, or those named)."""
    rows = []
    for name, build, source in default_models():
        if names is None or name in names:
            keras.backend.clear_session()
            rows.append(model_row(name, build(), source))
    return rows


def write_table(path):
    """Replace the generated table between the markers of a Markdown file."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if TABLE_START not in text or TABLE_END not in text:
        raise ValueError(f"{path}: the table markers {TABLE_START!r} / {TABLE_END!r} are missing")
    head, rest = text.split(TABLE_START, 1)
    tail = rest.split(TABLE_END, 1)[1]
    table = markdown_table(models_table())
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{head}{TABLE_START}\n{table}{TABLE_END}{tail}")


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description="Parameters and MACs per sample of the default models.")
    parser.add_argument("--write", metavar="MARKDOWN", help="update the table in this file instead of printing")
    args = parser.parse_args(argv)
    if args.write:
        write_table(args.write)
    else:
        print(markdown_table(models_table()), end="")


if __name__ == "__main__":
    main()
