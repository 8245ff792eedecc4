import json

import keras
import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from kerasseizure.errors import ExportError
from kerasseizure.export.frontend import IBMWindowFeatures, frontend_for
from kerasseizure.export.litert_runtime import LiteRTClassifier, softmax
from kerasseizure.export.tflite import export, rejected_path_for
from kerasseizure.models import student
from kerasseizure.training.precision import precision_scope

from tests.export.conftest import INPUT_SHAPE, NUM_CLASSES


def _agreement(a, b):
    return float(np.mean(np.asarray(a).argmax(axis=1) == np.asarray(b).argmax(axis=1)))


@pytest.fixture(scope="module")
def exported(tmp_path_factory, trained_student, task_data):
    """`exported(quantization)` -> (path, report): each conversion once per module, in its own folder.

    "none" is exported with `probabilities=True`, so that one file serves both
    test_each_quantization_loads_and_agrees[none] and test_report_json_is_written_beside_the_file
    (a conversion costs seconds). Float32 LOGITS from a "none" file are compared with Keras at 1e-4
    in test_bfloat16_student_is_rebuilt_in_float32.
    """
    done = {}

    def get(quantization):
        if quantization not in done:
            path = tmp_path_factory.mktemp(f"export_{quantization}") / "student.tflite"
            report = export(trained_student, path, quantization, representative_data=task_data["train"][0][:128],
                            verify_data=task_data["val"], probabilities=quantization == "none")
            done[quantization] = path, report
        return done[quantization]

    return get


@pytest.mark.parametrize("quantization, floor", [("none", 0.99), ("float16", 0.99), ("dynamic", 0.99),
                                                  ("int8", 0.95)])
def test_each_quantization_loads_and_agrees(exported, trained_student, task_data, quantization, floor):
    x_val, _ = task_data["val"]
    path, report = exported(quantization)

    # The plain interpreter loads it; independently of the report, LiteRT agrees with Keras.
    interpreter = Interpreter(model_path=str(path), num_threads=1)
    assert interpreter.get_input_details()[0]["dtype"] == np.float32
    lite = LiteRTClassifier(path).predict_raw(x_val)
    reference = trained_student.predict(x_val, verbose=0)
    assert _agreement(lite, reference) >= floor
    assert report.passed and report.verification["argmax_agreement"] >= floor
    assert abs(report.verification["weighted_f1_difference"]) <= 0.02
    assert report.size_bytes == path.stat().st_size
    assert report.quantization == quantization
    assert not any(op.startswith("Flex") or op in ("CUSTOM", "DELEGATE") for op in report.ops)
    assert report.inputs[0]["shape"] == [-1, *INPUT_SHAPE]
    if quantization == "none":
        assert report.verification["max_abs_diff"] < 1e-4
        # Float32 graph: batch norms folded into the convolutions, variables frozen into constants.
        assert {"CONV_2D", "DEPTHWISE_CONV_2D"} <= set(report.ops)
        assert not set(report.ops) & {"RSQRT", "VAR_HANDLE", "READ_VARIABLE"}, report.ops
    if quantization == "int8":
        assert "QUANTIZE" in report.ops


def test_int8_io_full_integer(tmp_path, trained_student, task_data):
    x_val, _ = task_data["val"]
    path = tmp_path / "student_int8_io.tflite"
    report = export(trained_student, path, "int8", representative_data=task_data["train"][0][:128],
                    verify_data=x_val, int8_io=True)
    assert report.inputs[0]["dtype"] == "int8" and report.inputs[0]["quantization"]["scale"] > 0
    assert report.outputs[0]["dtype"] == "int8"
    # LiteRTClassifier quantises the float windows and dequantises the logits itself.
    lite = LiteRTClassifier(path).predict_raw(x_val)
    assert lite.dtype == np.float32
    assert _agreement(lite, trained_student.predict(x_val, verbose=0)) >= 0.95


def test_int8_requires_representative_data(tmp_path, trained_student):
    with pytest.raises(ValueError, match="representative_data"):
        export(trained_student, tmp_path / "s.tflite", "int8")
    assert not (tmp_path / "s.tflite").exists()


def test_bad_arguments(tmp_path, trained_student):
    with pytest.raises(ValueError, match="quantization"):
        export(trained_student, tmp_path / "s.tflite", "int4")
    with pytest.raises(ValueError, match=".tflite"):
        export(trained_student, tmp_path / "s.bin")
    with pytest.raises(ValueError, match="int8_io"):
        export(trained_student, tmp_path / "s.tflite", "float16", int8_io=True)


class _Determinant(keras.layers.Layer):
    """A layer whose op (MatrixDeterminant) TFLite has only as a Flex (select-TF) op."""

    def call(self, inputs):
        return keras.ops.linalg.det(keras.ops.reshape(inputs, (-1, 4, 4)))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],)


def test_flex_op_is_named(tmp_path):
    inputs = keras.Input((16,))
    model = keras.Model(inputs, keras.layers.Reshape((1,))(_Determinant()(inputs)))
    with pytest.raises(ExportError, match="MatrixDeterminant"):
        export(model, tmp_path / "flex.tflite")
    assert list(tmp_path.iterdir()) == []


def test_bfloat16_student_is_rebuilt_in_float32(tmp_path, trained_student, task_data):
    with precision_scope("mixed_bfloat16"):
        bf16 = student(INPUT_SHAPE, num_classes=NUM_CLASSES, size="tiny", dropout=0.0)
    bf16.set_weights(trained_student.get_weights())
    x_val, y_val = task_data["val"]
    report = export(bf16, tmp_path / "bf16.tflite", verify_data=(x_val, y_val))
    assert report.rebuilt_float32 and "mixed_bfloat16" in report.source_policy
    # Same weights, float32 graph: the file equals the float32 twin, not the bf16 approximation.
    lite = LiteRTClassifier(tmp_path / "bf16.tflite").predict_raw(x_val)
    np.testing.assert_allclose(lite, trained_student.predict(x_val, verbose=0), atol=1e-4)
    assert report.verification["argmax_agreement_with_16bit_source"] >= 0.95
    assert bf16.layers[2].dtype_policy.name == "mixed_bfloat16"  # the caller's model is untouched


def test_report_json_is_written_beside_the_file(exported, task_data):
    path, report = exported("none")  # exported with probabilities=True
    tmp_path = path.parent
    saved = json.loads((tmp_path / "student.tflite.json").read_text())
    assert saved == json.loads(json.dumps(report.to_dict()))
    assert saved["output_kind"] == "probabilities" and saved["passed"] is True
    assert saved["preprocessing"]["kind"] == "ses" and saved["preprocessing"]["fmax"] == INPUT_SHAPE[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["student.tflite", "student.tflite.json"]
    # Probabilities come out of the file; the runtime reads output_kind from the report.
    probs = LiteRTClassifier(path).predict(task_data["val"][0][:16])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_failed_verification_keeps_only_a_rejected_file(tmp_path, trained_student, task_data):
    path = tmp_path / "student.tflite"
    with pytest.raises(ExportError, match="max \\|diff\\|"):
        export(trained_student, path, "int8", representative_data=task_data["train"][0][:64],
               verify_data=task_data["val"], max_abs_diff=0.0)
    rejected = rejected_path_for(path)
    assert not path.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["student.rejected.tflite",
                                                          "student.rejected.tflite.json"]
    saved = json.loads((tmp_path / "student.rejected.tflite.json").read_text())
    assert saved["passed"] is False and saved["path"] == str(rejected)
    assert saved["verification"]["failures"]


def _ses_reference(raw):
    from kerasseizure.signal.saliency import saliency_encoded_spectrogram_reference

    # One window per example: append one sample so IBM's "strictly before the end" rule keeps it.
    padded = np.concatenate([raw, raw[..., -1:]], axis=-1)
    return np.stack([saliency_encoded_spectrogram_reference(w, fmax=24.0)[0] for w in padded])


def test_frontend_layer_equals_numpy_reference():
    rng = np.random.default_rng(3)
    raw = (40.0 * rng.standard_normal((3, 20, 250))).astype(np.float32)
    raw[1, 4] = 0.0  # a flat channel: its magnitudes are exactly 0 and take IBM's floor
    ses = np.asarray(IBMWindowFeatures(fs=250, wl=1.0, fmax=24.0, maps="ses")(raw))
    np.testing.assert_allclose(ses, _ses_reference(raw), atol=2e-4)
    fft = np.asarray(IBMWindowFeatures(fmax=48.0, maps="fft")(raw))
    from kerasseizure.signal.spectral import fft_windows_reference

    padded = np.concatenate([raw, raw[..., -1:]], axis=-1)
    expected = np.stack([fft_windows_reference(w, fmax=48.0)[0] for w in padded])[..., None]
    np.testing.assert_allclose(fft, expected, atol=2e-4)


def test_frontend_in_tflite_graph(tmp_path):
    model = student((20, 24, 3), num_classes=5, size="tiny")
    rng = np.random.default_rng(4)
    raw = (30.0 * rng.standard_normal((24, 20, 250))).astype(np.float32)
    report = export(model, tmp_path / "raw.tflite", frontend="auto", verify_data=raw)
    assert report.inputs[0]["shape"] == [-1, 20, 250] and report.preprocessing["kind"] == "raw"
    assert report.frontend["maps"] == "ses"
    assert not any(op.startswith("Flex") or op in ("CUSTOM", "RFFT2D") for op in report.ops)
    # Raw samples through the file == the NumPy SES reference through the Keras student.
    lite = LiteRTClassifier(tmp_path / "raw.tflite").predict_raw(raw)
    expected = model.predict(_ses_reference(raw).astype(np.float32), verbose=0)
    np.testing.assert_allclose(lite, expected, atol=1e-3)


def test_frontend_rejects_mismatched_model():
    with pytest.raises(ValueError, match="maps"):
        frontend_for(keras.Sequential([keras.Input((20, 24, 2)), keras.layers.Flatten()]))
    with pytest.raises(ValueError, match="Nyquist"):
        IBMWindowFeatures(fs=250, wl=1.0, fmax=200.0)


def test_softmax_rows():
    np.testing.assert_allclose(softmax(np.array([[0.0, 0.0], [1000.0, 0.0]])), [[0.5, 0.5], [1.0, 0.0]])
