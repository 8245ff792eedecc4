"""Verification of a converted .tflite against Keras, and the export report.

`compare_with_keras` runs the LiteRT interpreter (`LiteRTClassifier`) and the Keras model on the
same held-out inputs and returns the figures -- finiteness, max |diff| of outputs and
probabilities, argmax agreement, weighted F1 with integer labels or KL with probability targets --
and the failed thresholds. `ExportReport` is what `kerasseizure.export.tflite.export` writes to
`<path>.json` (re-exported by `kerasseizure.export.tflite`).
"""

import dataclasses
import importlib.metadata

import numpy as np

from kerasseizure.export.data import input_names
from kerasseizure.probabilities import softmax

_KL_EPSILON = 1e-15


@dataclasses.dataclass
class ExportReport:
    """What an export produced and how well the .tflite reproduces Keras.

    Attributes:
        path: the .tflite file (the final path when verification passed, else the rejected file).
        quantization: "none", "float16", "dynamic" or "int8".
        int8_io: int8 model inputs/outputs (int8 quantization only).
        size_bytes: size of the .tflite file.
        keras_parameters: parameters of the exported Keras model (front-end included).
        ops: sorted builtin op names in the graph; op_counts: how often each occurs.
        inputs, outputs: name, shape signature (-1 = dynamic), dtype and (scale, zero_point).
        output_kind: "logits" or "probabilities".
        rebuilt_float32: the model was built under a 16-bit policy and rebuilt in float32.
        source_policy: the dtype policies found in the source model.
        frontend: the in-graph front-end's config, or None.
        preprocessing: how raw EEG becomes the model's input (read by `LiteRTClassifier`).
        verification: figures of the LiteRT vs Keras comparison and the thresholds applied.
        passed: whether verification passed.
        versions: tensorflow, keras, ai-edge-litert versions; created: UTC time stamp.
        class_names: names of the model's classes in output order, or None (then absent from the dict).
    """

    path: str
    quantization: str
    int8_io: bool
    size_bytes: int
    keras_parameters: int
    ops: list
    op_counts: dict
    inputs: list
    outputs: list
    output_kind: str
    rebuilt_float32: bool
    source_policy: list
    frontend: dict | None
    preprocessing: dict | None
    verification: dict
    passed: bool
    versions: dict
    created: str
    class_names: list | None = None

    def to_dict(self):
        """The report as a JSON-ready dict."""
        report = dataclasses.asdict(self)
        if report["class_names"] is None:
            del report["class_names"]
        return report


def tensor_details(details, names):
    rows = []
    for name in names:
        d = details[name]
        scale, zero_point = d["quantization"]
        rows.append({
            "name": name, "shape": [int(v) for v in d["shape_signature"]], "dtype": np.dtype(d["dtype"]).name,
            "quantization": {"scale": float(scale), "zero_point": int(zero_point)} if scale else None,
        })
    return rows


def _kl(targets, probabilities):
    from kerasseizure.evaluation.metrics import kl_terms

    clipped = np.clip(probabilities.astype(np.float64), _KL_EPSILON, 1.0 - _KL_EPSILON)
    return float(kl_terms(targets, clipped).sum(axis=1).mean())


def feed(inputs, names):
    # Signature inputs carry the Keras input names, so multi-input models are fed by name.
    return inputs[0] if len(inputs) == 1 else dict(zip(names, inputs))


def compare_with_keras(keras_model, classifier, inputs, labels, output_kind, thresholds, source):
    reference = np.asarray(keras_model.predict(inputs if len(inputs) > 1 else inputs[0],
                                               batch_size=256, verbose=0), dtype=np.float32)
    lite = classifier.predict_raw(feed(inputs, input_names(keras_model)))
    finite = bool(np.isfinite(lite).all())
    if output_kind == "logits":
        ref_prob, lite_prob = softmax(reference, dtype=np.float32), softmax(lite, dtype=np.float32)
    else:
        ref_prob, lite_prob = reference, lite
    figures = {
        "source": source,
        "n_samples": int(len(reference)),
        "finite": finite,
        "max_abs_diff": float(np.abs(lite - reference).max()) if finite else None,
        "max_abs_diff_probabilities": float(np.abs(lite_prob - ref_prob).max()) if finite else None,
        "argmax_agreement": float(np.mean(lite.argmax(axis=1) == reference.argmax(axis=1))),
    }
    if labels is not None:
        labels = np.asarray(labels)
        if labels.ndim == 1:
            from kerasseizure.evaluation.metrics import weighted_f1

            figures["weighted_f1_keras"] = weighted_f1(labels, ref_prob)
            figures["weighted_f1_tflite"] = weighted_f1(labels, lite_prob)
            figures["weighted_f1_difference"] = figures["weighted_f1_tflite"] - figures["weighted_f1_keras"]
        elif labels.ndim == 2:
            figures["kl_keras"] = _kl(labels, ref_prob)
            figures["kl_tflite"] = _kl(labels, lite_prob) if finite else None
            figures["kl_difference"] = None if not finite else figures["kl_tflite"] - figures["kl_keras"]
    failures = []
    if not finite:
        failures.append("LiteRT outputs hold NaN/inf")
    if figures["argmax_agreement"] < thresholds["min_agreement"]:
        failures.append(f"argmax agreement {figures['argmax_agreement']:.4f} < {thresholds['min_agreement']}")
    if thresholds["max_abs_diff"] is not None and finite and figures["max_abs_diff"] > thresholds["max_abs_diff"]:
        failures.append(f"max |diff| {figures['max_abs_diff']:.3g} > {thresholds['max_abs_diff']}")
    if thresholds["max_f1_drop"] is not None and "weighted_f1_difference" in figures:
        if -figures["weighted_f1_difference"] > thresholds["max_f1_drop"]:
            failures.append(f"weighted F1 drop {-figures['weighted_f1_difference']:.4f} > {thresholds['max_f1_drop']}")
    if thresholds["max_kl_increase"] is not None and figures.get("kl_difference") is not None:
        if figures["kl_difference"] > thresholds["max_kl_increase"]:
            failures.append(f"KL increase {figures['kl_difference']:.4f} > {thresholds['max_kl_increase']}")
    figures["thresholds"] = thresholds
    figures["failures"] = failures
    return figures, not failures


def random_inputs(model, n, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((n, *t.shape[1:])).astype(np.float32) for t in model.inputs]


def versions():
    found = {}
    for dist in ("tensorflow", "keras", "ai-edge-litert"):
        try:
            found[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            found[dist] = None
    return found
