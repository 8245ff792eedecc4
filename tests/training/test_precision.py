import keras
import numpy as np
import pytest

from kerasseizure.training import precision


@pytest.fixture(autouse=True)
def _restore_policy():
    previous = keras.mixed_precision.dtype_policy().name
    yield
    keras.mixed_precision.set_dtype_policy(previous)


def test_bfloat16_variables_float32_outputs_float32():
    with precision.precision_scope("mixed_bfloat16") as name:
        assert name == "mixed_bfloat16"
        inputs = keras.Input((4,))
        hidden = keras.layers.Dense(8)(inputs)
        model = keras.Model(inputs, keras.layers.Dense(3, dtype="float32")(hidden))
    assert precision.current_precision() == "float32"
    assert all(v.dtype == "float32" for v in model.variables)
    assert model.layers[1].compute_dtype == "bfloat16"
    out = model(np.ones((2, 4), "float32"))
    assert keras.backend.standardize_dtype(out.dtype) == "float32"


def test_policy_survives_clear_session_and_auto_is_float32_on_cpu():
    precision.set_precision("mixed_bfloat16")
    assert precision.clear_session() == "mixed_bfloat16"
    assert precision.current_precision() == "mixed_bfloat16"
    keras.backend.clear_session()  # the plain Keras call drops it, as documented
    assert precision.current_precision() == "float32"
    assert precision.resolve_precision("auto") == "float32"
    with pytest.raises(precision.PrecisionError):
        precision.resolve_precision("float8")
