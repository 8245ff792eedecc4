import keras

from kerasseizure.models.summary import count_macs, markdown_table, model_row


def test_macs_count_each_call_of_a_shared_subnetwork():
    trunk_in = keras.Input((100, 1))
    trunk = keras.Model(trunk_in, keras.layers.Conv1D(4, 3, padding="same")(trunk_in))
    x = keras.Input((100, 2))
    y1 = trunk(keras.ops.expand_dims(x[..., 0], -1))
    y2 = trunk(keras.ops.expand_dims(x[..., 1], -1))
    pooled = keras.layers.GlobalAveragePooling1D()(keras.layers.Concatenate()([y1, y2]))
    model = keras.Model(x, keras.layers.Dense(3)(pooled))
    # Two trunk calls (100 steps x 4 filters x 3 taps x 1 channel) plus the 8 -> 3 dense layer.
    assert count_macs(model) == 2 * 100 * 4 * 3 + 8 * 3


def test_macs_of_convolutions_and_dense_in_a_sequential_model():
    model = keras.Sequential([
        keras.Input((8, 8, 3)),
        keras.layers.Conv2D(5, 3),
        keras.layers.DepthwiseConv2D(3),
        keras.layers.SeparableConv2D(2, 1),
        keras.layers.Flatten(),
        keras.layers.Dense(2),
    ])
    conv = 6 * 6 * 5 * 3 * 3 * 3
    depthwise = 4 * 4 * 5 * 3 * 3
    separable = 4 * 4 * 5 * 1 + 4 * 4 * 5 * 2
    dense = 4 * 4 * 2 * 2
    assert count_macs(model) == conv + depthwise + separable + dense


def test_model_row_and_table():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    row = model_row("tiny", model, "here")
    assert row == {"model": "tiny", "parameters": 15, "macs_per_sample": 12,
                   "input_shape": "(4,)", "source": "here"}
    assert "| tiny | 15 | 12 | (4,) | here |" in markdown_table([row])
