"""TFLite export of Keras models with builtin ops only, quantization, and self-verification.

Conversion path: `model.export(saved_model_dir)` (Keras ExportArchive; batch norms are folded)
then `tf.lite.TFLiteConverter.from_saved_model`. Not `from_keras_model` (broken with Keras 3),
not `from_concrete_functions` (leaves Keras 3 variables unfrozen: NaN outputs), and not
`model.export(path, format="litert")`: it takes the same SavedModel route but hard-codes
`SELECT_TF_OPS` (Flex ops, which fail on a device without the Flex delegate) and writes the file
in place, while we need builtins only, the converter's error to name offending ops, int8 I/O
types, and a verified file renamed into place.

Every export runs the .tflite with the LiteRT interpreter on held-out inputs and compares it with
Keras; the report (`<path>.json`) holds sizes, ops, tensor details and the verification figures.
A failed verification keeps the rejected file and its report as `<stem>.rejected.tflite[.json]`
for inspection and raises `ExportError`; the final path only ever receives a verified model.
The data forms accepted for calibration and verification are handled in `export/data.py`; the
comparison with Keras and `ExportReport` live in `export/verify.py` (re-exported here).
"""

import datetime
import math
import os
import re
import tempfile
from pathlib import Path

import keras
import numpy as np

from kerasseizure.errors import ExportError
from kerasseizure.export.data import gather, input_names, representative_generator
from kerasseizure.export.frontend import IBMWindowFeatures, frontend_for, with_frontend
from kerasseizure.export.litert_runtime import LiteRTClassifier, report_path_for
from kerasseizure.export.verify import (
    ExportReport,
    compare_with_keras,
    feed,
    random_inputs,
    tensor_details,
    versions,
)
from kerasseizure.files import atomic_path, atomic_write_json

QUANTIZATIONS = ("none", "float16", "dynamic", "int8")
#: Default minimum argmax agreement with Keras per quantization.
DEFAULT_MIN_AGREEMENT = {"none": 0.99, "float16": 0.99, "dynamic": 0.99, "int8": 0.95}
_SIXTEEN_BIT = ("float16", "bfloat16")


# ----------------------------------------------------------------------------- model preparation


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)


def _policies(model):
    return sorted({layer.dtype_policy.name for layer in _all_layers(model)})


def _is_sixteen_bit(model):
    return any(
        layer.dtype_policy.compute_dtype in _SIXTEEN_BIT or layer.dtype_policy.variable_dtype in _SIXTEEN_BIT
        for layer in _all_layers(model)
    )


def float32_twin(model):
    """`model` itself when it computes in float32, else a float32 clone carrying its weights.

    A Keras dtype policy is fixed when a layer is created and stored in its config, so the clone
    rewrites every layer config's dtype to "float32" (and builds under a float32 policy).

    Args:
        model: a functional or sequential keras.Model.

    Returns:
        A float32 keras.Model with the same architecture and weights.

    Example:
    >>> with precision_scope("mixed_bfloat16"):  # doctest: +SKIP
    ...     bf16 = student(size="tiny")
    >>> twin = float32_twin(bf16)  # doctest: +SKIP
    """
    if not _is_sixteen_bit(model):
        return model

    def clone_layer(layer):
        config = layer.get_config()
        if "dtype" in config:
            config["dtype"] = "float32"
        return layer.__class__.from_config(config)

    # Sublayers a custom layer builds itself take the global policy: float32 while cloning.
    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        twin = keras.models.clone_model(model, clone_function=clone_layer, recursive=True)
        twin.set_weights(model.get_weights())
    except (ValueError, TypeError, NotImplementedError) as error:
        raise ExportError(
            f"cannot rebuild {model.name} in float32 for export ({error}); build it under "
            "precision_scope('float32') and load the weights") from error
    finally:
        keras.config.set_dtype_policy(policy)
    return twin


# ----------------------------------------------------------------------------- conversion


def _offending_ops(message):
    names = re.findall(r"'tf\.(\w+)' op is neither a custom op nor a flex op", message)
    for listed in re.findall(r"(?:TF Select ops|Custom ops): ([^\n]+)", message):
        names.extend(op.strip() for op in listed.split(","))
    return sorted(set(filter(None, names)))


def _convert(saved_model_dir, quantization, representative, int8_io, model_name):
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_saved_model(os.fspath(saved_model_dir))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantization == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantization == "dynamic":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif quantization == "int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        if int8_io:
            # Full integer: no float kernel may remain, the model reads and writes int8.
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
        else:
            # int8 kernels wherever they exist; float builtins only where none does.
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8,
                                                   tf.lite.OpsSet.TFLITE_BUILTINS]
    try:
        return converter.convert()
    except Exception as error:  # ConverterError and friends; the message names the ops
        message = str(error)
        ops = _offending_ops(message)
        if ops:
            raise ExportError(
                f"{model_name} needs op(s) that TFLite lacks as builtins: {', '.join(ops)}. Flex / "
                "select-TF ops fail on devices without the Flex delegate; replace them with keras.ops "
                "that map to builtins") from error
        tail = "\n".join(message.strip().splitlines()[-12:])
        raise ExportError(f"TFLite conversion of {model_name} ({quantization}) failed:\n{tail}") from error


def _graph_ops(model_bytes):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    # Without default delegates the op list is the graph's, not XNNPACK's "DELEGATE" nodes.
    interpreter = Interpreter(model_content=model_bytes,
                              experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    counts = {}
    for op in interpreter._get_ops_details():
        counts[op["op_name"]] = counts.get(op["op_name"], 0) + 1
    return dict(sorted(counts.items()))


# ----------------------------------------------------------------------------- export


def _default_preprocessing(model, frontend):
    if frontend is not None:
        return {**frontend.preprocessing(), "ws": 0.25, "montage": "tcp20"}
    if len(model.inputs) != 1:
        return None
    shape = tuple(model.inputs[0].shape[1:])
    if len(shape) == 3 and shape[-1] in (1, 3) and shape[1] is not None:
        return {"kind": "ses" if shape[-1] == 3 else "fft", "fs": 250, "wl": 1.0, "ws": 0.25,
                "fmax": float(shape[1]), "montage": "tcp20"}
    return None


def _checked_class_names(class_names, model):
    """`class_names` as a list of str, one per output of `model` (ValueError otherwise)."""
    if isinstance(class_names, str) or not all(isinstance(name, str) for name in class_names):
        raise ValueError(f"`class_names` must be a list of strings, got {class_names!r}.")
    names, outputs = list(class_names), int(model.outputs[0].shape[-1])
    if len(names) != outputs:
        raise ValueError(f"{len(names)} class names for a model with {outputs} outputs: {names}.")
    return names


def rejected_path_for(path):
    """Where a model that failed verification is kept: `<stem>.rejected.tflite`."""
    path = Path(path)
    return path.with_name(f"{path.stem}.rejected{path.suffix}")


def export(model, path, quantization="none", representative_data=None, verify_data=None, int8_io=False,
           frontend=None, probabilities=False, min_agreement=None, max_abs_diff=None, max_f1_drop=None,
           max_kl_increase=None, preprocessing=None, max_representative_samples=256,
           max_verify_samples=4096, num_threads=1, seed=0, class_names=None):
    """Convert a Keras model to a verified .tflite file with builtin ops only; return its report.

    Args:
        model: a functional keras.Model (float32, or built under mixed_float16 / mixed_bfloat16:
            then rebuilt in float32 with the same weights before conversion).
        path: destination .tflite file; the report goes to `<path>.json`.
        quantization: "none" (float32), "float16" (float16 weights), "dynamic" (int8 weights,
            float activations) or "int8" (full-integer kernels, calibrated on
            `representative_data`). Defaults to "none".
        representative_data: calibration inputs for "int8": an array (batch, ...), a list/dict of
            arrays for multi-input models, an iterable of batches or (x, y) tuples, or a
            tf.data.Dataset of batches. Required for "int8". Defaults to None.
        verify_data: held-out inputs in the same forms, optionally with labels: integer class
            labels (weighted F1 of both models is reported) or probability targets (KL). None
            verifies on up to 64 representative samples, else on seeded standard-normal inputs.
            Defaults to None.
        int8_io: with "int8", make the model's inputs and outputs int8 too (full-integer graph);
            otherwise inputs/outputs stay float32. Defaults to False.
        frontend: None; "auto" to prepend `frontend_for(model)` (raw (channels, 250) windows at
            250 Hz in, IBM log-FFT or SES computed in the graph); or an `IBMWindowFeatures` layer.
            Data for calibration and verification are then raw windows. Defaults to None.
        probabilities: append a float32 softmax so the file outputs probabilities. Defaults to False.
        min_agreement: minimum argmax agreement with Keras; None uses `DEFAULT_MIN_AGREEMENT`
            (0.99, or 0.95 for int8).
        max_abs_diff: maximum |LiteRT - Keras| of the outputs, or None for no limit.
        max_f1_drop: maximum weighted-F1 loss vs Keras (needs integer labels), or None.
        max_kl_increase: maximum KL increase vs Keras (needs probability targets), or None.
        preprocessing: dict describing how raw EEG becomes the input (see
            `litert_runtime.preprocess_recording`); None infers it from the input shape.
        max_representative_samples: calibration samples used at most. Defaults to 256.
        max_verify_samples: verification samples used at most. Defaults to 4096.
        num_threads: LiteRT threads during verification. Defaults to 1.
        seed: seed of the random verification inputs. Defaults to 0.
        class_names: names of the model's classes in output order (one string per output), kept
            in the report as "class_names" (read by `LiteRTClassifier.class_names` and
            `kerasseizure detect`); None leaves them out. Defaults to None.

    Returns:
        `ExportReport` (also written as JSON to `<path>.json`).

    Raises:
        ValueError: bad arguments (unknown quantization, int8 without representative data...).
        ExportError: the graph needs non-builtin ops (named in the message), conversion failed, or
            verification failed (the rejected file and report are kept as
            `<stem>.rejected.tflite` and `<stem>.rejected.tflite.json`).

    Example:
    >>> model = student((20, 24, 3), num_classes=7, size="tiny")  # doctest: +SKIP
    >>> report = export(model, "out/student.tflite", "int8", representative_data=x_train[:256],
    ...                 verify_data=(x_val, y_val))  # doctest: +SKIP
    >>> report.size_bytes, report.verification["argmax_agreement"]  # doctest: +SKIP
    (8992, 0.998)
    """
    if not isinstance(model, keras.Model) or getattr(model, "inputs", None) is None:
        raise ValueError("`model` must be a functional keras.Model (with defined inputs).")
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"`quantization` must be one of {QUANTIZATIONS}, got {quantization!r}.")
    path = Path(path)
    if path.suffix != ".tflite":
        raise ValueError(f"`path` must end with .tflite, got {os.fspath(path)!r}.")
    if quantization == "int8" and representative_data is None:
        raise ValueError("quantization='int8' needs `representative_data`: a few hundred typical input "
                         "windows (batches, (x, y) pairs or a tf.data.Dataset) to calibrate activations.")
    if int8_io and quantization != "int8":
        raise ValueError("`int8_io=True` needs quantization='int8'.")
    for value, what in ((max_representative_samples, "max_representative_samples"),
                        (max_verify_samples, "max_verify_samples")):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"`{what}` must be a positive integer, got {value!r}.")
    if min_agreement is None:
        min_agreement = DEFAULT_MIN_AGREEMENT[quantization]
    if not 0.0 <= float(min_agreement) <= 1.0:
        raise ValueError(f"`min_agreement` must lie in [0, 1], got {min_agreement!r}.")
    if class_names is not None:
        class_names = _checked_class_names(class_names, model)

    source_policy = _policies(model)
    rebuilt = _is_sixteen_bit(model)
    source_model = model
    model = float32_twin(model)
    if frontend is not None:
        if frontend == "auto":
            frontend = frontend_for(model)
        elif not isinstance(frontend, IBMWindowFeatures):
            raise ValueError(f"`frontend` must be None, 'auto' or an IBMWindowFeatures layer, got {frontend!r}.")
        model = with_frontend(model, frontend)
    output_kind = "logits"
    if probabilities:
        from kerasseizure.models.layers_hms import with_probabilities

        model = with_probabilities(model)
        output_kind = "probabilities"
    if preprocessing is None:
        preprocessing = _default_preprocessing(model if frontend is None else source_model, frontend)

    representative = None
    if quantization == "int8":
        representative = representative_generator(representative_data, model, max_representative_samples)
        if next(iter(representative()), None) is None:
            raise ValueError("`representative_data` yielded no samples.")

    inputs, labels = gather(verify_data, model, max_verify_samples)
    source = "verify_data"
    if inputs is None and representative_data is not None:
        inputs, _ = gather(representative_data, model, 64)
        source = "representative_data"
    if inputs is None:
        inputs, source = random_inputs(model, 64, seed), "random_normal"

    with tempfile.TemporaryDirectory(prefix="kerasseizure_export_") as saved_model_dir:
        model.export(saved_model_dir, format="tf_saved_model", verbose=False)
        model_bytes = _convert(saved_model_dir, quantization, representative, int8_io, model.name)

    op_counts = _graph_ops(model_bytes)
    foreign = [op for op in op_counts if op.startswith("Flex") or op in ("CUSTOM", "DELEGATE")]
    if foreign:
        raise ExportError(f"{model.name}: the converted graph holds non-builtin ops {foreign}")

    thresholds = {"min_agreement": float(min_agreement), "max_abs_diff": max_abs_diff,
                  "max_f1_drop": max_f1_drop, "max_kl_increase": max_kl_increase}
    with atomic_path(path) as tmp:
        tmp.write_bytes(model_bytes)
        classifier = LiteRTClassifier(tmp, num_threads=num_threads, output_kind=output_kind)
        names = input_names(model)
        if set(names) != set(classifier.input_names) and len(names) > 1:
            raise ExportError(f"signature inputs {classifier.input_names} do not match the model's {names}")
        figures, passed = compare_with_keras(model, classifier, inputs, labels, output_kind, thresholds, source)
        if rebuilt and frontend is None:
            # The float32 twin is what was converted; also say how close the 16-bit original is.
            original = source_model.predict(inputs if len(inputs) > 1 else inputs[0], batch_size=256, verbose=0)
            lite = classifier.predict_raw(feed(inputs, names))
            figures["argmax_agreement_with_16bit_source"] = float(
                np.mean(np.asarray(original).argmax(axis=1) == lite.argmax(axis=1)))
        report = ExportReport(
            path=os.fspath(path if passed else rejected_path_for(path)),
            quantization=quantization, int8_io=bool(int8_io), size_bytes=len(model_bytes),
            keras_parameters=int(model.count_params()), ops=sorted(op_counts), op_counts=op_counts,
            inputs=tensor_details(classifier.input_details, classifier.input_names),
            outputs=tensor_details(classifier.output_details, classifier.output_names),
            output_kind=output_kind, rebuilt_float32=rebuilt, source_policy=source_policy,
            frontend=None if frontend is None else frontend.get_config(), preprocessing=preprocessing,
            verification=figures, passed=passed, versions=versions(),
            created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            class_names=class_names,
        )
        del classifier
        if not passed:
            rejected = rejected_path_for(path)
            os.replace(tmp, rejected)
            atomic_write_json(report_path_for(rejected), report.to_dict())
            raise ExportError(
                f"{os.fspath(path)}: LiteRT output does not reproduce Keras ({'; '.join(figures['failures'])}). "
                f"Kept for inspection: {os.fspath(rejected)} and {report_path_for(rejected)}.")
    atomic_write_json(report_path_for(path), report.to_dict())
    return report


def model_size_bytes(model):
    """Size of `model` saved as a .keras file (for benchmarks and reports)."""
    with tempfile.TemporaryDirectory() as folder:
        target = os.path.join(folder, "model.keras")
        model.save(target)
        return os.path.getsize(target)


def latency_summary(seconds):
    """p50 / p99 / mean of per-call latencies, in milliseconds."""
    ms = np.asarray(seconds, dtype=np.float64) * 1000.0
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99)),
            "mean_ms": float(ms.mean()), "runs": int(len(ms)), "finite": bool(math.isfinite(ms.mean()))}
