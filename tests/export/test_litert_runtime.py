import json
import os
import textwrap

import numpy as np
import pytest

from kerasseizure.errors import SignalError
from kerasseizure.export.litert_runtime import LiteRTClassifier, pool_windows, preprocess_recording
from kerasseizure.io.channels import SCALP_ELECTRODES
from tests.blocked_imports import run_without

ELECTRODES = [f"EEG {name}-REF" for name in SCALP_ELECTRODES] + ["EKG1", "PHOTIC"]


def test_preprocessing_is_the_signal_references():
    # The runtime has no NumPy feature code of its own: it chains kerasseizure.signal.reference.
    from kerasseizure.signal import reference

    rng = np.random.default_rng(0)
    raw = rng.standard_normal((len(ELECTRODES), 1024)) * 50.0
    raw[ELECTRODES.index("EKG1")] = np.nan  # non-EEG channels are dropped by the montage
    x = reference.resample_reference(reference.tcp_bipolar_reference(raw, ELECTRODES), fs_in=256, fs_out=250)
    np.testing.assert_array_equal(preprocess_recording(raw, ELECTRODES, fs=256, kind="raw"),
                                  reference.window_frames(x).astype(np.float32))
    np.testing.assert_array_equal(preprocess_recording(raw, ELECTRODES, fs=256, kind="fft", fmax=48.0),
                                  reference.fft_windows_reference(x, fmax=48.0)[..., None].astype(np.float32))
    options = {"box_size": 5, "radii": (1, 3)}
    np.testing.assert_array_equal(
        preprocess_recording(raw, ELECTRODES, fs=256, ses_options=options),
        reference.saliency_encoded_spectrogram_reference(x, **options).astype(np.float32))
    bipolar = reference.tcp_bipolar_reference(raw, ELECTRODES)
    np.testing.assert_array_equal(preprocess_recording(bipolar, None, fs=250, kind="fft"),
                                  reference.fft_windows_reference(bipolar)[..., None].astype(np.float32))


def test_preprocess_shapes_and_errors():
    rng = np.random.default_rng(1)
    raw = rng.standard_normal((len(ELECTRODES), 2560))
    assert preprocess_recording(raw, ELECTRODES, fs=256, kind="ses").shape == (37, 20, 24, 3)
    assert preprocess_recording(raw, ELECTRODES, fs=256, kind="fft", fmax=96).shape == (37, 20, 96, 1)
    assert preprocess_recording(raw, ELECTRODES, fs=256, kind="raw").shape == (37, 20, 250)
    with pytest.raises(ValueError, match="missing"):
        preprocess_recording(raw[:5], ELECTRODES[:5], fs=256)
    with pytest.raises(ValueError, match="too short"):
        preprocess_recording(raw[:, :200], ELECTRODES, fs=256)
    with pytest.raises(ValueError, match="kind"):
        preprocess_recording(raw, ELECTRODES, kind="mel")
    with pytest.raises(ValueError, match="channels, time"):
        preprocess_recording(raw[None], ELECTRODES, fs=256)
    raw[3, 100] = np.nan
    with pytest.raises(SignalError, match="NaN"):
        preprocess_recording(raw, ELECTRODES, fs=256)


def test_pool_windows():
    probs = np.array([[0.8, 0.2], [0.4, 0.6], [0.1, 0.9]])
    np.testing.assert_allclose(pool_windows(probs), [13 / 30, 17 / 30])
    pooled = pool_windows(probs, groups=["b", "b", "a"])
    assert list(pooled) == ["b", "a"]
    np.testing.assert_allclose(pooled["b"], [0.6, 0.4])
    np.testing.assert_allclose(pool_windows(probs, method="max"), [0.8 / 1.7, 0.9 / 1.7])
    with pytest.raises(ValueError, match="groups"):
        pool_windows(probs, groups=[1, 2])


@pytest.fixture(scope="module")
def exported_student(tmp_path_factory):
    from kerasseizure.export.tflite import export
    from kerasseizure.models import student

    folder = tmp_path_factory.mktemp("runtime")
    model = student((20, 24, 3), num_classes=7, size="tiny")
    path = folder / "student.tflite"
    export(model, path)
    rng = np.random.default_rng(2)
    raw = rng.standard_normal((len(ELECTRODES), 2560)).astype(np.float32) * 40.0
    windows = preprocess_recording(raw, ELECTRODES, fs=256)
    np.save(folder / "raw.npy", raw)
    np.save(folder / "expected.npy", model.predict(windows, verbose=0))
    return path


def test_classifier_predicts_probabilities(exported_student):
    clf = LiteRTClassifier(exported_student, num_threads=1, batch_size=5)
    assert clf.preprocessing["kind"] == "ses" and clf.preprocessing["fmax"] == 24.0
    raw = np.load(exported_student.parent / "raw.npy")
    window_probs, recording = clf.predict_recording(raw, ELECTRODES, fs=256)
    expected = np.load(exported_student.parent / "expected.npy")
    np.testing.assert_allclose(clf.predict_raw(preprocess_recording(raw, ELECTRODES, fs=256)), expected, atol=1e-4)
    np.testing.assert_allclose(window_probs.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(recording, window_probs.mean(axis=0), atol=1e-6)
    with pytest.raises(ValueError, match="must be"):
        clf.predict(np.zeros((2, 20, 48, 3), np.float32))


# Runs in a fresh interpreter where importing TensorFlow or Keras raises ImportError.
_TF_FREE_SCRIPT = textwrap.dedent("""
    import json
    import sys

    import numpy as np

    import kerasseizure.export
    from kerasseizure.export.litert_runtime import LiteRTClassifier, preprocess_recording

    folder, names = sys.argv[1], json.loads(sys.argv[2])
    raw = np.load(folder + "/raw.npy")
    clf = LiteRTClassifier(folder + "/student.tflite", num_threads=1)
    logits = clf.predict_raw(preprocess_recording(raw, names, fs=256, **{k: v for k, v in
                              clf.preprocessing.items() if k not in ("fs",)}))
    probs, recording = clf.predict_recording(raw, names, fs=256)
    expected = np.load(folder + "/expected.npy")
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
    print(json.dumps({"max_diff": float(np.abs(logits - expected).max()), "heavy": heavy,
                      "recording_sum": float(recording.sum()), "windows": int(len(probs))}))
""")


def test_runtime_works_without_tensorflow_and_keras(exported_student):
    env = dict(os.environ)
    result = run_without(_TF_FREE_SCRIPT, [exported_student.parent, json.dumps(ELECTRODES)], env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["heavy"] == []
    assert outcome["max_diff"] < 1e-4
    assert outcome["windows"] == 37 and abs(outcome["recording_sum"] - 1.0) < 1e-5
