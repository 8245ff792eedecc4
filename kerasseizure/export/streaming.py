"""Seizure detection on a stream of raw EEG: chunks in, window probabilities and seizure events out.

`StreamingDetector` runs a Keras model, a `LiteRTClassifier` or a `.tflite` file on chunks of
raw multichannel EEG at any rate and turns the window probabilities into seizure events (onset,
duration, type, confidence) after smoothing, a threshold and a minimum duration. The chunked
output equals the whole-recording output (`StreamingDetector.run`) to float rounding, for any
chunking.

Like `kerasseizure.export.litert_runtime`, this module imports only numpy, scipy and TF-free parts
of the package -- never TensorFlow or Keras -- so a `.tflite` stream runs where only
`pip install numpy scipy ai-edge-litert` is available. A Keras model is used through its
`predict(batch, verbose=0)` (or `__call__`), without importing Keras here.

The preprocessing is `preprocess_recording`'s (TCP bipolar montage, 250 Hz, IBM windows, log-FFT
or SES per window), with one difference: the resampling to 250 Hz is the polyphase FIR of
`scipy.signal.resample_poly` run with carried state (`StreamingResampler`), since the FFT
resampling of the offline path needs the whole signal. At 250 Hz nothing is resampled and the
windows equal `preprocess_recording`'s exactly. See docs/streaming.md.

Example:
>>> detector = StreamingDetector("student_int8.tflite", fs=256, channel_names=names,
...                              background_index=0)  # doctest: +SKIP
>>> for chunk in chunks:  # (channels, samples) arrays of any length  # doctest: +SKIP
...     out = detector.feed(chunk)
...     for event in out.events_opened:  # alarms, `detector.latency_s` after the onset
...         print(f"seizure from {event.onset:.1f} s ({event.type}, {event.confidence:.2f})")
>>> final = detector.flush()  # closes an event still open at the end  # doctest: +SKIP
"""

import functools
import inspect
import math
import os
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.signal

from kerasseizure.errors import KerasSeizureError, SignalError
from kerasseizure.export.litert_runtime import (
    TARGET_FS,
    LiteRTClassifier,
    RuntimeModelError,
    preprocess_recording,
    window_features,
)
from kerasseizure.io.channels import montage_pairs
from kerasseizure.probabilities import softmax
from kerasseizure.signal.reference import (
    check_fft_window_args,
    pair_indices,
    resample_plan,
    window_samples,
)

__all__ = ["DetectedEvent", "DetectorSettingsError", "StreamOutput", "StreamingDetector", "StreamingResampler"]

# The keyword arguments of `preprocess_recording` that describe a model's input, with its defaults.
_PREPROCESSING_DEFAULTS = {name: parameter.default
                           for name, parameter in inspect.signature(preprocess_recording).parameters.items()
                           if name in ("kind", "wl", "ws", "fmax", "montage", "ses_options")}

# Longest resampling ratio accepted: the FIR has 20 * max(up, down) + 1 taps.
MAX_RATE_FACTOR = 4096


class DetectorSettingsError(KerasSeizureError, ValueError):
    """A `StreamingDetector` setting is invalid (threshold, smoothing, minimum duration...)."""


# ----------------------------------------------------------------------------- resampling


class StreamingResampler:
    """Rational polyphase resampling of a stream, equal to `scipy.signal.resample_poly` of the whole.

    The FIR is `resample_poly`'s (up / down = fs_out / fs_in reduced, `firwin(20 * max(up, down) + 1,
    1 / max(up, down), window)` times up) and, like it, zero-phase: output sample m is dated m / fs_out
    (the filter's group delay is compensated). Output m needs the input up to `delay_s` seconds past
    its own time, so `process` returns the samples whose whole FIR support has arrived and keeps the
    rest of the input; `flush` ends the stream with zeros past the end (resample_poly's padding),
    giving ceil(n * up / down) samples in all.

    Args:
        fs_in: input rate in Hz.
        fs_out: output rate in Hz. Defaults to 250.
        window: FIR design window, as in `resample_poly`. Defaults to ("kaiser", 5.0), the
            default of `resample_reference(method="polyphase")`.

    Example:
    >>> resampler = StreamingResampler(256)
    >>> x = np.random.default_rng(0).standard_normal((2, 1000))
    >>> y = np.concatenate([resampler.process(x[:, :300]), resampler.process(x[:, 300:]), resampler.flush()], axis=1)
    >>> np.allclose(y, scipy.signal.resample_poly(x, 125, 128, axis=1))
    True
    """

    def __init__(self, fs_in, fs_out=TARGET_FS, window=("kaiser", 5.0)):
        fs_in, fs_out = float(fs_in), float(fs_out)  # Fraction() refuses NumPy scalars
        plan = resample_plan(1, fs_in=fs_in, fs_out=fs_out, method="polyphase")
        self.fs_in, self.fs_out = fs_in, fs_out
        self.up, self.down = plan[1:] if plan[0] == "polyphase" else (1, 1)
        if max(self.up, self.down) > MAX_RATE_FACTOR:
            raise SignalError(f"resampling {fs_in} Hz to {fs_out} Hz needs the ratio {self.up}/{self.down}; "
                              f"rates whose reduced ratio exceeds {MAX_RATE_FACTOR} are not supported")
        self.half_len = 0 if self.up == self.down else 10 * max(self.up, self.down)
        self.filter = np.ones(1) if self.up == self.down else \
            scipy.signal.firwin(2 * self.half_len + 1, 1.0 / max(self.up, self.down), window=window) * self.up
        self._padded_filters = {}
        self.reset()

    @property
    def delay_s(self):
        """Look-ahead in seconds: output sample m needs the input up to m / fs_out + delay_s (+ one sample)."""
        return self.half_len / (self.up * self.fs_in)

    def reset(self):
        """Forget the stream: the next `process` starts a new signal at time 0."""
        self._buffer = None  # input samples from `_buffer_start` on that later outputs still read
        self._buffer_start = 0
        self._consumed = 0  # input samples received
        self._produced = 0  # output samples returned

    def _first_input(self, m):
        """First input sample that output m reads (its FIR support starts at upsampled m*down - half_len)."""
        return max(0, -(-(m * self.down - self.half_len) // self.up))

    def _ready(self, n_input):
        """Outputs computable from n_input samples: those with m*down + half_len < n_input*up."""
        return max(0, (n_input * self.up - self.half_len - 1) // self.down + 1)

    def _outputs(self, stop):
        """Outputs `_produced`..stop-1 from the buffer, which holds all the input they read."""
        count = stop - self._produced
        if count <= 0:
            return self._buffer[:, :0]
        # upfirdn dates its output j at upsampled j*down - len(pad); shift the FIR with zeros so that
        # output `_produced` falls on a whole j.
        origin = self.half_len - self._buffer_start * self.up
        pad = -origin % self.down
        if pad not in self._padded_filters:
            self._padded_filters[pad] = np.concatenate([np.zeros(pad), self.filter])
        full = scipy.signal.upfirdn(self._padded_filters[pad], self._buffer, self.up, self.down, axis=-1)
        first = self._produced + (origin + pad) // self.down
        self._produced = stop
        return full[:, first : first + count]

    def _keep_from(self, sample):
        drop = min(sample, self._consumed) - self._buffer_start
        if drop > 0:
            self._buffer = self._buffer[:, drop:]
            self._buffer_start += drop

    def process(self, chunk):
        """Resample the next (channels, n) chunk; returns the (channels, m) output samples now complete."""
        chunk = np.asarray(chunk, dtype=np.float64)
        if self._buffer is None:
            self._buffer = np.zeros((chunk.shape[0], 0))
        self._consumed += chunk.shape[1]
        if self.up == self.down:
            self._produced = self._consumed
            return chunk
        self._buffer = np.concatenate([self._buffer, chunk], axis=1)
        out = self._outputs(self._ready(self._consumed))
        self._keep_from(self._first_input(self._produced))
        return out

    def flush(self):
        """The last output samples (zeros assumed past the end); then the resampler is reset."""
        if self._buffer is None or self.up == self.down:
            out = np.zeros((0 if self._buffer is None else self._buffer.shape[0], 0))
            self.reset()
            return out
        total = -(-self._consumed * self.up // self.down)
        last_read = (max(total - 1, 0) * self.down + self.half_len) // self.up  # last input read by the last output
        zeros = max(0, last_read + 1 - self._buffer_start - self._buffer.shape[1])
        self._buffer = np.concatenate([self._buffer, np.zeros((self._buffer.shape[0], zeros))], axis=1)
        out = self._outputs(total)
        self.reset()
        return out


# ----------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class DetectedEvent:
    """One detected seizure: times in seconds from the start of the stream.

    Args:
        onset: start time, s.
        duration: length, s (onset + duration is the offset).
        type: class name of the largest mean class probability over the event's windows
            (background excluded).
        confidence: mean smoothed seizure probability over the event's windows.
    """

    onset: float
    duration: float
    type: str
    confidence: float

    @property
    def offset(self):
        """End time, s."""
        return self.onset + self.duration


@dataclass(frozen=True)
class StreamOutput:
    """What one `feed` (or `flush`, or `run`) produced.

    Args:
        window_times: (n,) start time of each new window, s.
        probabilities: (n, n_classes) float32 class probabilities of the new windows.
        seizure_probability: (n,) seizure probability of each window, before smoothing.
        smoothed_probability: (n,) causal moving average of `seizure_probability`.
        smoothed_times: (n,) the time each smoothed value is dated at, s: the mean centre of the
            windows it averages (the times events start and end at).
        events_opened: events confirmed by this call (they have lasted `min_duration_s`); their
            duration, type and confidence are those so far -- the alarms.
        events_closed: events that ended in this call, final. Every event appears once in each.
    """

    window_times: np.ndarray
    probabilities: np.ndarray
    seizure_probability: np.ndarray
    smoothed_probability: np.ndarray
    events_opened: tuple
    events_closed: tuple
    smoothed_times: np.ndarray


def _concatenate(outputs, n_classes):
    # Outputs from before the first model call have (0, 0) probabilities.
    probabilities = [o.probabilities for o in outputs if len(o.probabilities)]
    return StreamOutput(
        window_times=np.concatenate([o.window_times for o in outputs]),
        probabilities=np.concatenate(probabilities) if probabilities else np.zeros((0, n_classes), np.float32),
        seizure_probability=np.concatenate([o.seizure_probability for o in outputs]),
        smoothed_probability=np.concatenate([o.smoothed_probability for o in outputs]),
        events_opened=sum((o.events_opened for o in outputs), ()),
        events_closed=sum((o.events_closed for o in outputs), ()),
        smoothed_times=np.concatenate([o.smoothed_times for o in outputs]),
    )


class _OpenEvent:
    """Running sums of an event that has started and not yet ended (dates in half-samples at 250 Hz)."""

    def __init__(self, onset2, n_classes):
        self.onset2 = onset2
        self.class_sum = np.zeros(n_classes)
        self.smoothed_sum = 0.0
        self.windows = 0
        self.confirmed = False

    def add(self, probabilities, smoothed):
        self.class_sum += probabilities
        self.smoothed_sum += smoothed
        self.windows += 1


# ----------------------------------------------------------------------------- the detector


def _keras_output_kind(model):
    """'probabilities' when the last layer is a softmax, else 'logits' (the package's models); a
    plain callable (no `layers`) is taken to return probabilities."""
    layers = getattr(model, "layers", None)
    if not layers:
        return "probabilities"
    last = layers[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", "")
    return "probabilities" if type(last).__name__ == "Softmax" or activation == "softmax" else "logits"


def _load_model(model, output_kind, num_threads, batch_size):
    """(model, output kind, number of classes or None) of a .tflite path, a LiteRTClassifier or a Keras model."""
    if output_kind not in (None, "logits", "probabilities"):
        raise DetectorSettingsError(f"`output_kind` must be 'logits' or 'probabilities', got {output_kind!r}")
    if isinstance(model, (str, os.PathLike)):
        model = LiteRTClassifier(model, num_threads=_check_positive_int(num_threads, "num_threads"),
                                 output_kind=output_kind, batch_size=batch_size)
    elif isinstance(model, LiteRTClassifier):
        if output_kind is not None:
            raise DetectorSettingsError("the `output_kind` of a LiteRTClassifier is set when it is built")
    elif not (hasattr(model, "predict") or callable(model)):
        raise RuntimeModelError(f"`model` must be a .tflite path, a LiteRTClassifier or a model with predict() or "
                                f"__call__, got {type(model).__name__}")
    if isinstance(model, LiteRTClassifier):
        return model, model.output_kind, int(model.output_details[model.output_names[0]]["shape"][-1])
    outputs = getattr(model, "outputs", None)  # a functional Keras model states its classes
    return model, output_kind or _keras_output_kind(model), int(outputs[0].shape[-1]) if outputs else None


def _preprocessing_options(preprocessing, fs):
    """The model-input keys of `preprocessing` over `preprocess_recording`'s defaults, checked."""
    options = {**_PREPROCESSING_DEFAULTS, **{k: v for k, v in preprocessing.items() if k in _PREPROCESSING_DEFAULTS}}
    if options["kind"] not in ("ses", "fft", "raw"):
        raise DetectorSettingsError(f"preprocessing `kind` must be 'ses', 'fft' or 'raw', got {options['kind']!r}")
    window_samples(TARGET_FS, options["wl"], options["ws"])
    if options["kind"] != "raw":
        check_fft_window_args(None, TARGET_FS, options["wl"], options["ws"], options["fmax"])
        if fs / 2 <= options["fmax"]:  # resampling to 250 Hz adds nothing above the input's Nyquist frequency
            raise SignalError(f"fs={fs:g} Hz cannot carry the model's fmax={options['fmax']:g} Hz "
                              f"(it needs more than {2 * options['fmax']:g} Hz)")
    return options


def _check_thresholds(threshold, off_threshold):
    off_threshold = threshold if off_threshold is None else off_threshold
    if not 0.0 < threshold <= 1.0:
        raise DetectorSettingsError(f"`threshold` must lie in (0, 1], got {threshold!r}")
    if not 0.0 <= off_threshold <= threshold:
        raise DetectorSettingsError(f"`off_threshold` must lie in [0, threshold={threshold}], got {off_threshold!r}")
    return float(threshold), float(off_threshold)


def _check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise DetectorSettingsError(f"`{name}` must be a positive integer, got {value!r}")
    return int(value)


class StreamingDetector:
    """Seizure events from chunks of raw EEG, through a Keras model or a .tflite file (no TensorFlow).

    Each chunk goes through the TCP bipolar montage, `StreamingResampler` to 250 Hz, IBM's windows
    (wl s every ws s, a window is scored once the sample after it has arrived) and the model's
    features (`preprocess_recording`'s log-FFT / SES / raw windows); all complete windows of a chunk
    are classified at once. The seizure probability of a window is 1 - p(background); its causal
    moving average over `smooth_windows` windows (fewer at the start) is dated at the mean centre
    of the windows it averages, which compensates the window and smoothing delays. An event starts
    at the first smoothed value >= `threshold`, ends at the first one < `off_threshold` (offset =
    that value's date) and is emitted only when it has lasted `min_duration_s`: in
    `events_opened` as soon as it has (that is the alarm, `latency_s` after its onset), in
    `events_closed` when it ends. `flush` ends the stream and closes an open event at the end of
    the signal. `run(signals)` = `reset`, `feed(signals)`, `flush`: the offline result, which any
    chunking reproduces.

    The detector needs a model with a background class. Today's TUSZ models are type-only: their
    probabilities sum to 1 over the seizure types on every window, so every window is "some
    seizure". With `background_index=None` the seizure probability is `seizure_score(probabilities)`
    or, without it, the largest class probability -- the confidence of the type, not a detection
    (a warning says so).

    Args:
        model: a `.tflite` path (run by `LiteRTClassifier`), a `LiteRTClassifier`, or a Keras model /
            any object with `predict(batch, verbose=0)` or `__call__` returning (batch, n_classes).
        fs: rate of the chunks in Hz.
        channel_names: labels of the chunk rows ("EEG FP1-REF"...; other channels are ignored), or
            None when the chunks are already bipolar (their channel count is fixed by the first chunk).
        preprocessing: `preprocess_recording` keyword arguments (kind, wl, ws, fmax, montage,
            ses_options); None takes the .tflite export report's, or `preprocess_recording`'s
            defaults (SES, 1 s every 0.25 s, 24 Hz, tcp20) for other models. Defaults to None.
        class_names: names of the model's classes (event types); None: "class_0", "class_1"...
        background_index: index of the background class, or None (see above). Defaults to None.
        seizure_score: with `background_index=None`, a function (n, n_classes) probabilities ->
            (n,) seizure probabilities in [0, 1]; None takes the largest class probability.
        output_kind: "logits" or "probabilities" (softmax applied to logits); None: the .tflite
            report's, else "probabilities" for a model whose last layer is a softmax or for a plain
            callable, "logits" for other Keras models. Defaults to None.
        smooth_windows: windows in the causal moving average. Defaults to 8.
        threshold: smoothed probability that starts an event. Defaults to 0.5.
        off_threshold: smoothed probability below which an event ends (hysteresis); None uses
            `threshold`. Defaults to None.
        min_duration_s: shortest event emitted, s. Defaults to 10.0.
        batch_size: windows per model call. Defaults to 64.
        num_threads: LiteRT threads for a .tflite path. Defaults to 1.

    Example:
    >>> detector = StreamingDetector(keras_model, fs=256, channel_names=names, background_index=0,
    ...                              class_names=["bckg", "fnsz", "gnsz"])  # doctest: +SKIP
    >>> out = detector.feed(chunk)  # out.probabilities, out.events_opened, ...  # doctest: +SKIP
    >>> offline = detector.run(recording)  # == the concatenated feeds + flush  # doctest: +SKIP
    >>> [(e.onset, e.duration, e.type) for e in offline.events_closed]  # doctest: +SKIP
    [(612.4, 48.1, 'fnsz')]
    """

    def __init__(self, model, *, fs, channel_names=None, preprocessing=None, class_names=None, background_index=None,
                 seizure_score=None, output_kind=None, smooth_windows=8, threshold=0.5, off_threshold=None,
                 min_duration_s=10.0, batch_size=64, num_threads=1):
        self.batch_size = _check_positive_int(batch_size, "batch_size")
        self.smooth_windows = _check_positive_int(smooth_windows, "smooth_windows")
        self.threshold, self.off_threshold = _check_thresholds(threshold, off_threshold)
        if not 0.0 <= min_duration_s < math.inf:
            raise DetectorSettingsError(f"`min_duration_s` must be a finite number >= 0, got {min_duration_s!r}")
        if background_index is not None and seizure_score is not None:
            raise DetectorSettingsError("give `background_index` or `seizure_score`, not both")
        if seizure_score is not None and not callable(seizure_score):
            raise DetectorSettingsError(f"`seizure_score` must be callable, got {seizure_score!r}")
        if not 0.0 < fs < math.inf:
            raise SignalError(f"`fs` must be a positive rate in Hz, got {fs!r}")
        if background_index is None and seizure_score is None:
            warnings.warn("StreamingDetector without `background_index`: the seizure probability is the largest "
                          "class probability, which a type-only model makes high everywhere (see docs/streaming.md)",
                          UserWarning, stacklevel=2)
        self.fs, self.min_duration_s = float(fs), min_duration_s
        self.background_index, self.seizure_score = background_index, seizure_score
        self.model, self.output_kind, n_classes = _load_model(model, output_kind, num_threads, self.batch_size)
        self.class_names, self.n_classes = None, None
        if class_names is not None:
            self.class_names = tuple(str(name) for name in class_names)
            if n_classes is not None and len(self.class_names) != n_classes:
                raise RuntimeModelError(f"{len(self.class_names)} class names for a model with {n_classes} outputs")
            n_classes = len(self.class_names)
        if n_classes is not None:  # else known at the first model call
            self._set_classes(n_classes)
        if preprocessing is None:
            preprocessing = self.model.preprocessing if isinstance(self.model, LiteRTClassifier) else {}
        self.preprocessing = _preprocessing_options(preprocessing, fs)
        self.window_length, self.window_step = window_samples(TARGET_FS, self.preprocessing["wl"],
                                                              self.preprocessing["ws"])
        self.channel_names = None if channel_names is None else list(channel_names)
        if self.channel_names is not None:
            # `tcp_bipolar_reference`'s arithmetic with the electrode lookup done once (0.4 ms a call).
            self._anodes, self._cathodes = pair_indices(self.channel_names,
                                                        montage_pairs(self.preprocessing["montage"]))
        self.resampler = StreamingResampler(fs, TARGET_FS)
        # Half-sample units at 250 Hz keep window dates and durations exact integers.
        self._min_duration2 = math.ceil(round(min_duration_s * 2 * TARGET_FS, 6))
        self.reset()

    def _set_classes(self, n_classes):
        self.n_classes = n_classes
        if self.class_names is None:
            self.class_names = tuple(f"class_{i}" for i in range(n_classes))
        if self.background_index is not None and not -n_classes <= self.background_index < n_classes:
            raise RuntimeModelError(f"`background_index` {self.background_index} is not a class of a model "
                                    f"with {n_classes} outputs")
        self._type_classes = np.arange(n_classes)
        if self.background_index is not None:
            self._type_classes = np.delete(self._type_classes, self.background_index)

    @property
    def latency_s(self):
        """Seconds from an event's onset to the end of the input that lets `feed` emit it (steady state).

        min_duration_s rounded up to whole window steps + half a window + half the smoothing span
        ((smooth_windows - 1) steps) + the resampler's look-ahead + one input sample: the onset is
        dated at the centre of the windows the smoothed value averages, the window that confirms the
        event must be complete, and the resampler needs `delay_s` of input past it.
        """
        step, length = self.window_step, self.window_length
        steps = math.ceil(self._min_duration2 / (2 * step))
        centre_lag = (length + (self.smooth_windows - 1) * step) / 2
        return (steps * step + centre_lag) / TARGET_FS + self.resampler.delay_s + 1.0 / self.fs

    def reset(self):
        """Forget the stream: the next `feed` starts a new recording at time 0."""
        self.resampler.reset()
        self._samples_in = 0  # raw samples received
        self._channels = None  # channel count of the stream's chunks
        self._signal = None  # resampled bipolar samples from `_signal_start` on
        self._signal_start = 0
        self._signal_end = 0  # resampled samples produced
        self._next_window = 0
        self._recent = np.zeros(self.smooth_windows - 1)  # last seizure probabilities (zeros before the start)
        self._event = None

    def _empty_output(self):
        return StreamOutput(np.zeros(0), np.zeros((0, self.n_classes or 0), np.float32), np.zeros(0), np.zeros(0),
                            (), (), np.zeros(0))

    def _check_chunk(self, chunk):
        chunk = np.asarray(chunk, dtype=np.float64)
        if chunk.ndim != 2:
            raise SignalError(f"a chunk must be a (channels, samples) array, got shape {chunk.shape}")
        expected = len(self.channel_names) if self.channel_names is not None else self._channels
        if expected is not None and chunk.shape[0] != expected:
            what = "channel names" if self.channel_names is not None else "channels in the first chunk"
            raise SignalError(f"chunk at sample {self._samples_in} has {chunk.shape[0]} channels; the stream has "
                              f"{expected} ({what})")
        return chunk

    def _bipolar(self, chunk):
        """The chunk's bipolar channels, checked finite after the montage: NaN in a channel it ignores
        (EKG...) is harmless, as in `preprocess_recording`."""
        bipolar = chunk if self.channel_names is None else chunk[self._anodes] - chunk[self._cathodes]
        bad = ~np.isfinite(bipolar)
        if bad.any():
            channels, samples = np.nonzero(bad)
            first = int(np.argmin(samples))
            if self.channel_names is None:
                where = f"channel {channels[first]}"
            else:
                where = "-".join(montage_pairs(self.preprocessing["montage"])[channels[first]])
            raise SignalError(f"chunk at sample {self._samples_in}: NaN/inf at sample "
                              f"{self._samples_in + samples[first]} in {where} ({len(samples)} values)")
        return bipolar

    def feed(self, chunk):
        """Process the next (channels, samples) chunk of raw EEG (any length, zero included).

        Returns:
            `StreamOutput` of the windows completed by this chunk and the events they open or close.

        Raises:
            SignalError: wrong shape or channel count, NaN/inf (the message gives the sample offset).
        """
        chunk = self._check_chunk(chunk)
        resampled = self.resampler.process(self._bipolar(chunk))
        self._channels = chunk.shape[0]
        self._samples_in += chunk.shape[1]
        return self._advance(resampled, final=False)

    def flush(self):
        """End the stream: the resampler's last samples, their windows, and an open event closed at the
        end of the signal (kept if it has lasted `min_duration_s`). The detector is then reset."""
        if self._samples_in == 0:
            self.reset()
            return self._empty_output()
        output = self._advance(self.resampler.flush(), final=True)
        self.reset()
        return output

    def run(self, signals):
        """The whole-recording result: `reset`, `feed(signals)`, `flush`, concatenated.

        Discards a stream in progress. Any chunking of `signals` fed then flushed gives the same
        windows and events (to float rounding of the model's batches).
        """
        self.reset()
        outputs = [self.feed(signals), self.flush()]
        return _concatenate(outputs, self.n_classes or 0)

    def events_from_probabilities(self, probabilities, duration_s=None):
        """`run`'s result from window probabilities computed elsewhere (e.g. a multi-input teacher
        fed from a feature cache): the windows are the stream's grid (window k starts at
        k * ws s), `duration_s` is where an event still open at the end is closed (None: the end
        of the last window). Discards a stream in progress; the model is not called.
        """
        probabilities = np.asarray(probabilities, dtype=np.float32)
        if probabilities.ndim != 2 or (self.n_classes is not None and probabilities.shape[1] != self.n_classes):
            raise RuntimeModelError(f"expected (windows, {self.n_classes or 'classes'}) probabilities, got shape "
                                    f"{probabilities.shape}")
        if self.n_classes is None:
            self._set_classes(probabilities.shape[1])
        ends = (len(probabilities) - 1) * self.window_step + self.window_length if len(probabilities) else 0
        end_s = ends / TARGET_FS if duration_s is None else float(duration_s)
        if end_s * TARGET_FS < ends - 1e-6:
            raise DetectorSettingsError(f"`duration_s`={duration_s} ends before the last of {len(probabilities)} "
                                        f"windows ({ends / TARGET_FS:g} s)")
        self.reset()
        output = self._track(probabilities, 0, end_s)
        self.reset()
        return output

    # ------------------------------------------------------------------------- internals

    def _advance(self, resampled, final):
        """Append resampled samples, score the windows now complete, run the event state machine."""
        if self._signal is None:
            self._signal = resampled
        else:
            self._signal = np.concatenate([self._signal, resampled], axis=1)
        self._signal_end += resampled.shape[1]
        length, step = self.window_length, self.window_step
        # IBM's grid keeps a window while start + length < samples (one ending at the end is dropped).
        stop = max(0, (self._signal_end - length - 1) // step + 1)
        first = self._next_window
        if stop > first:
            begin = first * step - self._signal_start
            segment = self._signal[:, begin : (stop - 1) * step + length + 1 - self._signal_start]
            options = self.preprocessing
            windows = window_features(segment, options["kind"], options["wl"], options["ws"], options["fmax"],
                                      options["ses_options"])
            probabilities = self._predict(windows)
            self._next_window = stop
        else:
            probabilities = np.zeros((0, self.n_classes or 0), np.float32)
        keep = min(max(0, self._next_window * step - self._signal_start), self._signal.shape[1])
        self._signal = self._signal[:, keep:]
        self._signal_start += keep
        return self._track(probabilities, first, self._samples_in / self.fs if final else None)

    def _track(self, probabilities, first, end_s):
        """Smooth the seizure probabilities of windows first, first + 1, ... and run the event
        state machine; an event still open is closed at `end_s` (None: the stream goes on)."""
        length, step = self.window_length, self.window_step
        seizure = self._seizure_probability(probabilities)
        smoothed = self._smooth(seizure, first)
        indices = np.arange(first, first + len(seizure))
        # Date of smoothed value k: mean centre of windows max(0, k - S + 1)..k, in half-samples.
        dates2 = (np.maximum(0, indices - self.smooth_windows + 1) + indices) * step + length
        opened, closed = [], []
        for k in range(len(seizure)):
            self._step_event(int(dates2[k]), probabilities[k], smoothed[k], opened, closed)
        if end_s is not None and self._event is not None:
            self._close_event(end_s, opened, closed)
        return StreamOutput(indices * (step / TARGET_FS), probabilities, seizure, smoothed, tuple(opened),
                            tuple(closed), dates2 / (2 * TARGET_FS))

    def _predict(self, windows):
        if isinstance(self.model, LiteRTClassifier):
            probabilities = self.model.predict(windows)
        else:
            call = functools.partial(self.model.predict, verbose=0) if hasattr(self.model, "predict") else self.model
            scores = np.concatenate([np.asarray(call(windows[start : start + self.batch_size]), np.float32)
                                     for start in range(0, len(windows), self.batch_size)])
            probabilities = softmax(scores, dtype=np.float32) if self.output_kind == "logits" else scores
        if probabilities.ndim != 2 or len(probabilities) != len(windows):
            raise RuntimeModelError(f"the model returned shape {probabilities.shape} for {len(windows)} windows; "
                                    f"expected (windows, classes)")
        if self.n_classes is None:
            self._set_classes(probabilities.shape[1])
        elif probabilities.shape[1] != self.n_classes:
            raise RuntimeModelError(f"the model returned {probabilities.shape[1]} classes, expected {self.n_classes} "
                                    f"({', '.join(self.class_names)})")
        return probabilities

    def _seizure_probability(self, probabilities):
        p = probabilities.astype(np.float64)
        if len(p) == 0:
            return np.zeros(0)
        if self.background_index is not None:
            return 1.0 - p[:, self.background_index]
        if self.seizure_score is None:
            return p.max(axis=1)
        score = np.asarray(self.seizure_score(p), dtype=np.float64)
        if score.shape != (len(p),):
            raise RuntimeModelError(f"`seizure_score` returned shape {score.shape} for {len(p)} windows")
        return score

    def _smooth(self, seizure, first):
        """Causal moving average over `smooth_windows` windows (fewer at the start) of windows
        first, first + 1, ...; summed in a fixed order, so every chunking gives the same bits."""
        history = np.concatenate([self._recent, seizure])
        span = self.smooth_windows
        total = np.zeros(len(seizure))
        for j in range(span):
            total += history[j : j + len(seizure)]
        if span > 1:
            self._recent = history[-(span - 1):]
        return total / np.minimum(np.arange(first + 1, first + len(seizure) + 1), span)

    def _event_record(self, event, offset_s):
        onset = event.onset2 / (2 * TARGET_FS)
        label = self.class_names[int(self._type_classes[int(np.argmax(event.class_sum[self._type_classes]))])]
        return DetectedEvent(onset, offset_s - onset, label, float(event.smoothed_sum / max(event.windows, 1)))

    def _step_event(self, date2, probabilities, smoothed, opened, closed):
        """Advance the event state machine by one window (dated `date2` half-samples)."""
        event = self._event
        if event is None:
            if smoothed < self.threshold:
                return
            event = self._event = _OpenEvent(date2, self.n_classes)
        elif smoothed < self.off_threshold:
            self._close_event(date2 / (2 * TARGET_FS), opened, closed)
            return
        event.add(probabilities, smoothed)
        if not event.confirmed and date2 - event.onset2 >= self._min_duration2:
            event.confirmed = True
            opened.append(self._event_record(event, date2 / (2 * TARGET_FS)))

    def _close_event(self, offset_s, opened, closed):
        """End the open event at `offset_s`; emit it if it has lasted `min_duration_s`."""
        event, self._event = self._event, None
        record = self._event_record(event, offset_s)
        if event.confirmed or record.duration * 2 * TARGET_FS >= self._min_duration2 - 1e-6:
            if not event.confirmed:
                opened.append(record)
            closed.append(record)
