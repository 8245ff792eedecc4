"""TensorFlow-free inference of exported students: NumPy/SciPy preprocessing + the LiteRT runtime.

This module imports only numpy, scipy, ai_edge_litert and TF-free parts of the package
(`kerasseizure.signal.reference`, `kerasseizure.io.channels`, `kerasseizure.errors`) -- never
TensorFlow or Keras -- so it runs on a device or a slim container where only
`pip install numpy scipy ai-edge-litert` is available.

The preprocessing is the IBM feature path of `kerasseizure.signal.reference`, the NumPy
references the TensorFlow transforms are tested against (TCP bipolar montage, FFT resampling to
250 Hz, IBM log10|rfft| windows, SES maps); there is no second NumPy implementation here.

Example:
>>> clf = LiteRTClassifier("student.tflite", num_threads=1)  # doctest: +SKIP
>>> windows = preprocess_recording(signals, channel_names, fs=256, **clf.preprocessing)  # doctest: +SKIP
>>> probabilities = clf.predict(windows)  # (n_windows, n_classes)  # doctest: +SKIP
>>> recording = pool_windows(probabilities)  # (n_classes,)  # doctest: +SKIP
"""

import json
import os

import numpy as np

from kerasseizure.errors import KerasSeizureError
from kerasseizure.probabilities import softmax
from kerasseizure.signal.reference import (
    fft_windows_reference,
    hms_spectrogram_image_reference,
    resample_reference,
    saliency_encoded_spectrogram_reference,
    tcp_bipolar_reference,
    wavenet_input_reference,
    window_frames,
)

__all__ = [
    "LiteRTClassifier", "RuntimeModelError", "bilinear_resize", "hms_views", "pool_windows", "preprocess_recording",
    "read_edf_recording", "report_path_for", "softmax", "window_features",
]

# IBM's pipeline rate: every feature grid (wl, ws, fmax) is defined at 250 Hz.
TARGET_FS = 250


class RuntimeModelError(KerasSeizureError, ValueError):
    """A .tflite file cannot be loaded or fed as asked."""


def report_path_for(model_path):
    """The export report beside a .tflite file: `<model_path>.json`."""
    return os.fspath(model_path) + ".json"


# ----------------------------------------------------------------------------- preprocessing


def preprocess_recording(signals, channel_names=None, fs=TARGET_FS, kind="ses", wl=1.0, ws=0.25, fmax=24.0,
                         montage="tcp20", ses_options=None, **_ignored):
    """A raw EEG segment -> the windows a student reads, as float32.

    Steps (IBM / SeizureNet), each a function of `kerasseizure.signal.reference`: TCP bipolar
    montage from the electrodes (`tcp_bipolar_reference`; skipped when `channel_names` is None:
    `signals` are already bipolar), FFT resampling to 250 Hz (`resample_reference`), sliding
    windows of wl seconds every ws seconds (`window_frames`), then per window nothing ("raw": for
    a model with the in-graph front-end), log10|rfft| ("fft", `fft_windows_reference`) or the SES
    image ("ses", `saliency_encoded_spectrogram_reference`).

    Args:
        signals: (channels, time) array.
        channel_names: labels of the rows ("EEG FP1-REF"...), or None for bipolar input.
        fs: rate of `signals` in Hz. Defaults to 250.
        kind: "ses" -> (n, C, bins, 3); "fft" -> (n, C, bins, 1); "raw" -> (n, C, floor(wl*250)).
            Defaults to "ses".
        wl, ws: window length and step in seconds. Defaults to 1.0 and 0.25.
        fmax: highest frequency kept, Hz. Defaults to 24.0.
        montage: "tcp20" or "tcp22". Defaults to "tcp20".
        ses_options: dict of SES options (box_size, sigma, truncate, radii, normalize), see
            `saliency_encoded_spectrogram_reference`.
        **_ignored: other keys of an export report's preprocessing dict (e.g. "samples").

    Returns:
        float32 array of windows (first axis: windows in time order).

    Example:
    >>> preprocess_recording(np.random.randn(20, 2560), None, fs=256, kind="ses").shape
    (37, 20, 24, 3)
    """
    if kind not in ("ses", "fft", "raw"):
        raise ValueError(f"`kind` must be 'ses', 'fft' or 'raw', got {kind!r}")
    x = np.asarray(signals, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"expected (channels, time) signals, got shape {x.shape}")
    if channel_names is not None:
        x = tcp_bipolar_reference(x, channel_names, montage)  # non-EEG channels are dropped here
    x = resample_reference(x, fs_in=fs, fs_out=TARGET_FS)  # SignalError on NaN/inf
    return window_features(x, kind, wl, ws, fmax, ses_options)


def window_features(x, kind="ses", wl=1.0, ws=0.25, fmax=24.0, ses_options=None):
    """250 Hz bipolar samples (channels, time) -> the windows a student reads, as float32.

    The per-window step of `preprocess_recording` (which see for `kind` and the shapes), shared
    with the streaming detector so that both compute the same features.
    """
    if kind == "raw":
        return np.ascontiguousarray(window_frames(x, TARGET_FS, wl, ws), dtype=np.float32)
    if kind == "fft":
        return fft_windows_reference(x, TARGET_FS, wl, ws, fmax)[..., None].astype(np.float32)
    ses = saliency_encoded_spectrogram_reference(x, TARGET_FS, wl, ws, fmax, **(ses_options or {}))
    return ses.astype(np.float32)


def read_edf_recording(path):
    """(signals (electrodes, time) float64, electrode names, fs, duration s) of an EDF's scalp electrodes.

    Read with `kerasseizure.io.edf.read_electrodes` (pyedflib, no TensorFlow). When electrodes
    have different rates each is resampled to 250 Hz on its own (FFT resampling is linear, so
    this equals resampling the bipolar differences, as `preprocess_recording` does).
    """
    from kerasseizure.io.edf import read_electrodes

    signals = read_electrodes(path, dtype=np.float64)
    if not signals.electrodes:
        raise RuntimeModelError(f"{path}: no scalp EEG electrode found")
    duration = signals.stop - signals.start
    if len(set(signals.rates)) == 1:
        return np.stack(signals.signals), list(signals.electrodes), float(signals.rates[0]), duration
    resampled = [resample_reference(x, fs_in=fs, fs_out=TARGET_FS) for x, fs in zip(signals.signals, signals.rates)]
    length = min(len(x) for x in resampled)
    return np.stack([x[:length] for x in resampled]), list(signals.electrodes), float(TARGET_FS), duration


def bilinear_resize(image, size):
    """`tf.image.resize(method="bilinear")` in NumPy (half-pixel centres, no antialiasing) of (H, W, C)."""
    image = np.asarray(image)

    def axis_weights(n_in, n_out):
        position = np.clip((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0, n_in - 1)
        low = np.floor(position).astype(int)
        return low, np.minimum(low + 1, n_in - 1), position - low

    h_low, h_high, h_w = axis_weights(image.shape[0], int(size[0]))
    w_low, w_high, w_w = axis_weights(image.shape[1], int(size[1]))
    rows = image[h_low] * (1 - h_w)[:, None, None] + image[h_high] * h_w[:, None, None]
    return (rows[:, w_low] * (1 - w_w)[None, :, None] + rows[:, w_high] * w_w[None, :, None]).astype(np.float32)


def hms_views(eeg, views=("eeg", "image"), *, image_size=None, kaggle_spectrogram=None, standardize_over="panel",
              eeg_options=None, fs=200):
    """The HMS model inputs of one (time, 20) EEG window (50 s at 200 Hz), TensorFlow-free, as float32.

    The NumPy references of the feature pipeline: "eeg" -> the WaveNet input
    (`wavenet_input_reference`, (time / keep_every, 8)); "image" -> the spectrogram image
    (`hms_spectrogram_image_reference`: EEG mel panels, with the (300, 400) Kaggle window on
    the left when `kaggle_spectrogram` is given; (512, 256 or 512, 3)), bilinearly resized to
    `image_size` (height, width) when given and different.

    Args:
        eeg: (time, 20) window, columns `HMS_EEG_COLUMNS`.
        views: sequence of "eeg" / "image"; one array per entry, in order.
        image_size: (height, width) or None for the native size.
        kaggle_spectrogram: (300, 400) Kaggle spectrogram window (no time column) or None.
        standardize_over: Kaggle panel statistics, "panel" or "stack".
        eeg_options: `wavenet_input_reference` keyword arguments (low_hz, high_hz, order, ...).
        fs: EEG rate in Hz.
    """
    out = []
    for view in views:
        if view == "eeg":
            out.append(wavenet_input_reference(eeg, fs=fs, **(eeg_options or {})).astype(np.float32))
        elif view == "image":
            image = hms_spectrogram_image_reference(eeg, kaggle_spectrogram, fs=fs,
                                                    standardize_over=standardize_over).astype(np.float32)
            if image_size is not None and tuple(image.shape[:2]) != tuple(int(d) for d in image_size):
                image = bilinear_resize(image, image_size)
            out.append(image)
        else:
            raise ValueError(f"HMS views are 'eeg' and 'image', got {view!r}")
    return out


# ----------------------------------------------------------------------------- inference


def pool_windows(probabilities, groups=None, method="mean"):
    """Pool per-window probabilities per recording (or per seizure).

    Args:
        probabilities: (n_windows, n_classes).
        groups: (n_windows,) recording / seizure id of each window, or None for one recording.
        method: "mean" (the package's seizure score: mean of window probabilities) or "max"
            (per-class maximum, renormalised). Defaults to "mean".

    Returns:
        (n_classes,) for groups=None, else a dict {group id: (n_classes,)} in first-seen order.

    Example:
    >>> pool_windows(np.array([[0.8, 0.2], [0.4, 0.6]])).round(2).tolist()
    [0.6, 0.4]
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim != 2 or len(probabilities) == 0:
        raise ValueError(f"expected non-empty (n_windows, n_classes) probabilities, got {probabilities.shape}")
    if method not in ("mean", "max"):
        raise ValueError(f"`method` must be 'mean' or 'max', got {method!r}")

    def pool(rows):
        if method == "mean":
            return rows.mean(axis=0)
        peak = rows.max(axis=0)
        return peak / peak.sum()

    if groups is None:
        return pool(probabilities)
    groups = np.asarray(groups)
    if groups.shape != (len(probabilities),):
        raise ValueError(f"`groups` must have one id per window ({len(probabilities)}), got {groups.shape}")
    _, first = np.unique(groups, return_index=True)
    return {groups[i].item(): pool(probabilities[groups == groups[i]]) for i in sorted(first)}


def _quantize(array, detail):
    scale, zero_point = detail["quantization"]
    if not scale:
        raise RuntimeModelError(f"input {detail['name']} is {np.dtype(detail['dtype']).name} without quantization")
    info = np.iinfo(detail["dtype"])
    return np.clip(np.round(array / scale + zero_point), info.min, info.max).astype(detail["dtype"])


def _dequantize(array, detail):
    scale, zero_point = detail["quantization"]
    if np.issubdtype(array.dtype, np.integer) and scale:
        return (array.astype(np.float32) - zero_point) * np.float32(scale)
    return array.astype(np.float32)


class LiteRTClassifier:
    """A .tflite classifier run with ai_edge_litert: batches in, float32 scores out.

    Handles dynamic batch sizes, multi-input models (a dict keyed by signature input name, or a
    list in that order), int8 inputs/outputs (quantised / dequantised here) and logits or
    probability outputs (read from the export report beside the file, `<path>.json`).

    Args:
        path: the .tflite file.
        num_threads: CPU threads of the interpreter. Defaults to 1.
        output_kind: "logits" or "probabilities"; None reads the report's `output_kind`
            (logits when there is no report). Defaults to None.
        batch_size: windows per invoke in `predict`. Defaults to 64.

    Example:
    >>> clf = LiteRTClassifier("student.tflite")  # doctest: +SKIP
    >>> clf.predict(windows).shape  # doctest: +SKIP
    (13, 7)
    """

    def __init__(self, path, num_threads=1, output_kind=None, batch_size=64):
        from ai_edge_litert.interpreter import Interpreter

        self.path = os.fspath(path)
        if not os.path.isfile(self.path):
            raise RuntimeModelError(f"{self.path}: no such .tflite file")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"`batch_size` must be a positive integer, got {batch_size!r}")
        self.report = {}
        report_path = report_path_for(self.path)
        if os.path.isfile(report_path):
            with open(report_path, encoding="utf-8") as handle:
                self.report = json.load(handle)
        if output_kind is None:
            output_kind = self.report.get("output_kind", "logits")
        if output_kind not in ("logits", "probabilities"):
            raise ValueError(f"`output_kind` must be 'logits' or 'probabilities', got {output_kind!r}")
        self.output_kind = output_kind
        self.batch_size = batch_size
        try:
            self.interpreter = Interpreter(model_path=self.path, num_threads=num_threads)
        except (ValueError, RuntimeError) as error:
            raise RuntimeModelError(f"{self.path}: LiteRT cannot load it ({error})") from error
        signatures = self.interpreter.get_signature_list()
        if len(signatures) != 1:
            raise RuntimeModelError(f"{self.path}: expected one signature, found {sorted(signatures)}")
        self.signature = next(iter(signatures))
        self.runner = self.interpreter.get_signature_runner(self.signature)
        self.input_details = self.runner.get_input_details()
        self.output_details = self.runner.get_output_details()
        self.input_names = list(signatures[self.signature]["inputs"])
        self.output_names = list(signatures[self.signature]["outputs"])

    @property
    def preprocessing(self):
        """Keyword arguments of `preprocess_recording` for this model (from the report, or
        inferred from the input shape: (C, K, 3) -> SES with fmax K, (C, K, 1) -> FFT, (C, L) -> raw)."""
        if self.report.get("preprocessing"):
            return dict(self.report["preprocessing"])
        if len(self.input_names) != 1:
            raise RuntimeModelError(f"{self.path}: multi-input model without a report; preprocess yourself")
        shape = list(self.input_details[self.input_names[0]]["shape_signature"][1:])
        if len(shape) == 3 and shape[-1] in (1, 3):
            return {"kind": "ses" if shape[-1] == 3 else "fft", "fmax": float(shape[1]), "wl": 1.0, "ws": 0.25}
        if len(shape) == 2:
            return {"kind": "raw", "wl": shape[1] / TARGET_FS, "ws": 0.25}
        raise RuntimeModelError(f"{self.path}: cannot infer the preprocessing of input shape {shape}")

    @property
    def class_names(self):
        """Names of the model's classes in output order (a tuple, from the export report), or None."""
        names = self.report.get("class_names")
        return None if names is None else tuple(names)

    def _inputs(self, windows):
        if isinstance(windows, dict):
            missing = set(self.input_names) - set(windows)
            if missing:
                raise RuntimeModelError(f"missing input(s) {sorted(missing)}; the model reads {self.input_names}")
            arrays = [windows[name] for name in self.input_names]
        elif isinstance(windows, (list, tuple)):
            arrays = list(windows)
        else:
            arrays = [windows]
        if len(arrays) != len(self.input_names):
            raise RuntimeModelError(f"{len(arrays)} input array(s) for a model reading {self.input_names}")
        arrays = [np.asarray(a, dtype=np.float32) for a in arrays]
        count = len(arrays[0])
        for name, array in zip(self.input_names, arrays):
            expected = list(self.input_details[name]["shape_signature"][1:])
            if len(array) != count or list(array.shape[1:]) != expected:
                raise RuntimeModelError(
                    f"input {name} must be (batch, {', '.join(map(str, expected))}) with one row per "
                    f"window ({count}), got {array.shape}")
        return arrays, count

    def predict_raw(self, windows):
        """The model's output (logits or probabilities, as exported), float32 (n, n_classes)."""
        arrays, count = self._inputs(windows)
        outputs = []
        for start in range(0, count, self.batch_size):
            feed = {}
            for name, array in zip(self.input_names, arrays):
                chunk = array[start : start + self.batch_size]
                detail = self.input_details[name]
                feed[name] = chunk if detail["dtype"] == np.float32 else _quantize(chunk, detail)
            result = self.runner(**feed)
            name = self.output_names[0]
            outputs.append(_dequantize(result[name], self.output_details[name]))
        return np.concatenate(outputs, axis=0)

    def predict(self, windows):
        """Class probabilities (n_windows, n_classes), float32; rows sum to 1."""
        scores = self.predict_raw(windows)
        return softmax(scores, dtype=np.float32) if self.output_kind == "logits" else scores

    def predict_recording(self, signals, channel_names=None, fs=TARGET_FS, pooling="mean", **preprocessing):
        """Preprocess one recording, classify its windows and pool them.

        Args:
            signals: (channels, time) raw EEG.
            channel_names: electrode labels (TCP bipolar computed here) or None for bipolar input.
            fs: rate of `signals` in Hz.
            pooling: "mean" or "max", see `pool_windows`.
            **preprocessing: overrides of `self.preprocessing` (kind, wl, ws, fmax, montage...).

        Returns:
            (window probabilities (n_windows, n_classes), recording probabilities (n_classes,)).
        """
        # The report's "fs" is the model's rate (250 Hz); `fs` here is the recording's.
        options = {k: v for k, v in {**self.preprocessing, **preprocessing}.items() if k != "fs"}
        windows = preprocess_recording(signals, channel_names, fs=fs, **options)
        probabilities = self.predict(windows)
        return probabilities, pool_windows(probabilities, method=pooling)
