"""Model export (TFLite / LiteRT), its verification, and TensorFlow-free inference.

- `kerasseizure.export.tflite.export(model, path, quantization=...)`: builtin-ops-only .tflite,
  verified against Keras, report in `<path>.json` (imports TensorFlow).
- `kerasseizure.export.frontend.IBMWindowFeatures`: raw EEG windows -> IBM log-FFT / SES in the
  graph (keras.ops; builtin TFLite ops only).
- `kerasseizure.export.saving.load_keras_model(path)`: the package's `.keras` files in safe mode;
  importing `kerasseizure.export.saving` registers the layers they name (the losses of their
  training configuration come with `import kerasseizure.training`).
- `kerasseizure.export.litert_runtime`: NumPy preprocessing + `LiteRTClassifier` -- needs only
  numpy, scipy and ai-edge-litert (no TensorFlow, no Keras).
- `kerasseizure.export.streaming.StreamingDetector`: seizure events from chunks of raw EEG through
  a Keras model or a .tflite file (TF-free like `litert_runtime`); chunked output equals offline.

Names load on first use, so importing this package (or `litert_runtime`) never imports
TensorFlow or Keras.
"""

from kerasseizure.lazy import lazy_attributes

_EXPORTS = {
    "export": "tflite", "ExportReport": "tflite", "float32_twin": "tflite", "QUANTIZATIONS": "tflite",
    "IBMWindowFeatures": "frontend", "frontend_for": "frontend", "with_frontend": "frontend",
    "LiteRTClassifier": "litert_runtime", "preprocess_recording": "litert_runtime",
    "pool_windows": "litert_runtime",
    "StreamingDetector": "streaming", "StreamingResampler": "streaming", "StreamOutput": "streaming",
    "DetectedEvent": "streaming", "DetectorSettingsError": "streaming",
    "load_keras_model": "saving", "ModelFileError": "saving",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_attributes(__name__, {name: f".{module}" for name, module in _EXPORTS.items()})
