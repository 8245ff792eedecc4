import json
import textwrap

import numpy as np
import pytest
import scipy.signal

from kerasseizure.errors import SignalError
from kerasseizure.export.litert_runtime import RuntimeModelError, preprocess_recording
from kerasseizure.export.streaming import (
    DetectedEvent, DetectorSettingsError, StreamingDetector, StreamingResampler, StreamOutput,
)
from kerasseizure.io.channels import SCALP_ELECTRODES
from kerasseizure.signal.reference import resample_reference
from tests.blocked_imports import run_without

# On test_tflite's pytest-xdist worker (tests/conftest.py names a module's group after it), so that
# conftest's trained student is trained once for both modules.
pytestmark = pytest.mark.xdist_group("tests.export.test_tflite")

ELECTRODES = [f"EEG {name}-REF" for name in SCALP_ELECTRODES] + ["EKG1"]
CLASSES = ("bckg", "up", "down")


class FractionModel:
    """Raw windows (n, channels, samples) -> [1 - f_up - f_down, f_up, f_down], where f_up / f_down
    is the fraction of channel 0's samples above +10 / below -10: a burst's share of the window."""

    def __call__(self, windows):
        up = (windows[:, 0] > 10).mean(axis=1)
        down = (windows[:, 0] < -10).mean(axis=1)
        return np.stack([1.0 - up - down, up, down], axis=1)


class BandModel:
    """Log-FFT / SES windows (n, channels, bins, maps) -> [background, 8-12 Hz share, 3-5 Hz share]
    of the power summed over channels (bin k is k Hz for 1 s windows)."""

    def predict(self, windows, verbose=0):
        power = (10.0 ** (2.0 * windows[..., 0].astype(np.float64))).sum(axis=1)  # (n, bins)
        total = power.sum(axis=1)
        alpha, theta = power[:, 7:12].sum(axis=1) / total, power[:, 2:5].sum(axis=1) / total
        return np.stack([1.0 - alpha - theta, alpha, theta], axis=1)


class RecordingModel:
    """Keeps every batch it is given; says background everywhere."""

    def __init__(self):
        self.batches = []

    def __call__(self, windows):
        self.batches.append(np.array(windows))
        return np.tile([1.0, 0.0, 0.0], (len(windows), 1))


def chunk_bounds(n, rng, max_chunk):
    """Random cut points with empty and one-sample chunks among them."""
    bounds, position = [0], 0
    while position < n:
        position = min(n, position + int(rng.choice([0, 1, rng.integers(2, max_chunk)])))
        bounds.append(position)
    return bounds


def feed_in_chunks(detector, signals, rng, max_chunk=700):
    bounds = chunk_bounds(signals.shape[1], rng, max_chunk)
    outputs = [detector.feed(signals[:, a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    outputs.append(detector.flush())
    return outputs


def joined(outputs):
    return {
        "times": np.concatenate([o.window_times for o in outputs]),
        "probabilities": np.concatenate([o.probabilities for o in outputs if len(o.probabilities)]),
        "seizure": np.concatenate([o.seizure_probability for o in outputs]),
        "smoothed": np.concatenate([o.smoothed_probability for o in outputs]),
        "opened": sum((o.events_opened for o in outputs), ()),
        "closed": sum((o.events_closed for o in outputs), ()),
    }


def assert_same_events(events, expected):
    assert [e.type for e in events] == [e.type for e in expected]
    np.testing.assert_allclose([(e.onset, e.duration) for e in events], [(e.onset, e.duration) for e in expected],
                               rtol=0, atol=1e-9)
    np.testing.assert_allclose([e.confidence for e in events], [e.confidence for e in expected], rtol=1e-6)


def electrode_recording(fs, seconds, rng, bursts):
    """Electrodes + EKG in noise; each burst (start s, stop s, Hz) is a sinusoid on F3, C3, P3."""
    t = np.arange(int(seconds * fs)) / fs
    x = 5.0 * rng.standard_normal((len(ELECTRODES), len(t)))
    for start, stop, hz in bursts:
        inside = (t >= start) & (t < stop)
        for name in ("F3", "C3", "P3"):
            x[ELECTRODES.index(f"EEG {name}-REF"), inside] += 80.0 * np.sin(2 * np.pi * hz * t[inside])
    return x


# ----------------------------------------------------------------------------- resampler


@pytest.mark.parametrize("fs", [256, 200, 512, 1000, 250])
def test_resampler_equals_resample_poly_for_any_chunking(fs):
    rng = np.random.default_rng(fs)
    x = rng.standard_normal((3, 3001))
    resampler = StreamingResampler(fs)
    bounds = chunk_bounds(x.shape[1], rng, 400)
    pieces = [resampler.process(x[:, a:b]) for a, b in zip(bounds[:-1], bounds[1:])] + [resampler.flush()]
    expected = x if fs == 250 else scipy.signal.resample_poly(x, *(250, fs), axis=1, window=("kaiser", 5.0))
    np.testing.assert_allclose(np.concatenate(pieces, axis=1), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.concatenate(pieces, axis=1), resample_reference(x, fs_in=fs, fs_out=250,
                                                                                  method="polyphase"), atol=1e-12)
    assert resampler.delay_s == pytest.approx(0.0 if fs == 250 else 10.0 / min(fs, 250))


@pytest.mark.parametrize("fs", [256, 200])
def test_resampler_agrees_with_the_fft_resampling_inside_the_signal(fs):
    # FFT resampling (preprocess_recording's) treats the signal as periodic, the FIR pads with zeros:
    # they differ near the ends; inside, the FIR's passband ripple (Kaiser 5.0) stays under 2e-3.
    rng = np.random.default_rng(1)
    t = np.arange(60 * fs) / fs
    x = sum(np.sin(2 * np.pi * rng.uniform(0.5, 40.0, (4, 1)) * t + rng.uniform(0, 6.3, (4, 1))) for _ in range(5))
    resampler = StreamingResampler(fs)
    streamed = np.concatenate([resampler.process(x[:, :1234]), resampler.process(x[:, 1234:]), resampler.flush()], 1)
    reference = resample_reference(x, fs_in=fs, fs_out=250)
    assert streamed.shape == reference.shape == (4, 15000)
    inside = slice(250, -250)  # 1 s from each end
    assert np.abs(streamed[:, inside] - reference[:, inside]).max() < 2e-3 * np.abs(x).max()


# ----------------------------------------------------------------------------- chunked == offline


@pytest.mark.parametrize("kind", ["raw", "fft", "ses"])
def test_windows_equal_preprocess_recording_at_250_hz(kind):
    rng = np.random.default_rng(2)
    raw = 40.0 * rng.standard_normal((len(ELECTRODES), 250 * 12 + 37))
    raw[-1] = np.nan  # EKG: dropped by the montage, as in preprocess_recording
    model = RecordingModel()
    detector = StreamingDetector(model, fs=250, channel_names=ELECTRODES, preprocessing={"kind": kind},
                                 background_index=0)
    feed_in_chunks(detector, raw, rng, max_chunk=300)
    np.testing.assert_array_equal(np.concatenate(model.batches), preprocess_recording(raw, ELECTRODES, fs=250,
                                                                                      kind=kind))


@pytest.mark.parametrize("fs", [250, 256, 200])
def test_random_chunkings_give_the_offline_result(fs):
    rng = np.random.default_rng(fs)
    raw = electrode_recording(fs, 70, rng, [(12.0, 40.0, 10.0), (45.0, 47.0, 4.0), (52.0, 66.0, 4.0)])
    detector = StreamingDetector(BandModel(), fs=fs, channel_names=ELECTRODES, class_names=CLASSES,
                                 preprocessing={"kind": "fft", "wl": 1.0, "ws": 0.25, "fmax": 24.0},
                                 background_index=0, min_duration_s=5.0, threshold=0.6, off_threshold=0.4)
    offline = detector.run(raw)
    assert isinstance(offline, StreamOutput)
    assert [e.type for e in offline.events_closed] == ["up", "down"]  # the 2 s burst is too short
    assert offline.events_opened[0].duration == pytest.approx(5.0, abs=0.25)
    for _ in range(3):
        streamed = joined(feed_in_chunks(detector, raw, rng))
        np.testing.assert_array_equal(streamed["times"], offline.window_times)
        np.testing.assert_allclose(streamed["probabilities"], offline.probabilities, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(streamed["seizure"], offline.seizure_probability, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(streamed["smoothed"], offline.smoothed_probability, rtol=1e-6, atol=1e-6)
        assert_same_events(streamed["opened"], offline.events_opened)
        assert_same_events(streamed["closed"], offline.events_closed)


def test_offline_windows_follow_the_fft_resampled_ones():
    # At 256 Hz the stream's FIR resampling and preprocess_recording's FFT resampling give nearly
    # the same windows (they differ at the edges and by the FIR's ripple).
    rng = np.random.default_rng(3)
    raw = electrode_recording(256, 30, rng, [(5.0, 20.0, 10.0)])
    detector = StreamingDetector(BandModel(), fs=256, channel_names=ELECTRODES, preprocessing={"kind": "fft"},
                                 background_index=0)
    offline = detector.run(raw)
    reference = BandModel().predict(preprocess_recording(raw, ELECTRODES, fs=256, kind="fft"))
    assert len(offline.probabilities) == len(reference)
    np.testing.assert_allclose(offline.probabilities[4:-4], reference[4:-4], atol=2e-3)


# ----------------------------------------------------------------------------- events


def fraction_detector(**settings):
    options = {"fs": 250, "preprocessing": {"kind": "raw"}, "background_index": 0, "class_names": CLASSES,
               "min_duration_s": 5.0, **settings}
    return StreamingDetector(FractionModel(), **options)


def bipolar_bursts(fs, seconds, bursts, seed=4):
    """4 bipolar channels of unit noise; each burst (start, stop, level) adds `level` to channel 0."""
    x = np.random.default_rng(seed).standard_normal((4, int(seconds * fs)))
    for start, stop, level in bursts:
        x[0, int(start * fs) : int(stop * fs)] += level
    return x


def test_a_known_burst_gives_its_onset_duration_and_type():
    detector = fraction_detector()
    step = detector.window_step / 250
    out = detector.run(bipolar_bursts(250, 150, [(30.0, 60.0, 100.0), (80.0, 83.0, 100.0), (100.0, 115.0, -100.0)]))
    events = out.events_closed
    assert len(events) == 2  # the 3 s burst is shorter than min_duration_s
    for event, (onset, duration, kind) in zip(events, [(30.0, 30.0, "up"), (100.0, 15.0, "down")]):
        assert isinstance(event, DetectedEvent)
        assert abs(event.onset - onset) <= step and abs(event.duration - duration) <= step
        assert event.type == kind and event.confidence > 0.9
        assert event.offset == pytest.approx(event.onset + event.duration)
    # The smoothed probability is the causal moving average of the window probabilities.
    expected = np.convolve(out.seizure_probability, np.ones(8))[: len(out.seizure_probability)]
    np.testing.assert_allclose(out.smoothed_probability, expected / np.minimum(np.arange(1, len(expected) + 1), 8))
    np.testing.assert_allclose(out.window_times, np.arange(len(out.window_times)) * step)


def test_min_duration_drops_short_bursts_and_hysteresis_bridges_dips():
    x = bipolar_bursts(250, 90, [(20.0, 24.0, 100.0), (40.0, 70.0, 100.0)])
    x[0, int(55.0 * 250) : int(56.0 * 250)] -= 100.0  # a 1 s dip inside the second burst
    assert len(fraction_detector(min_duration_s=5.0).run(x).events_closed) == 2  # the dip splits it
    bridged = fraction_detector(min_duration_s=5.0, off_threshold=0.2).run(x).events_closed
    # A lower off_threshold also ends the event later: the moving average falls to 0.2 after 0.5.
    assert len(bridged) == 1 and 30.0 <= bridged[0].duration <= 31.0
    assert len(fraction_detector(min_duration_s=3.0).run(x).events_closed) == 3


def test_flush_closes_an_open_event_at_the_end():
    detector = fraction_detector()
    x = bipolar_bursts(250, 60, [(40.0, 60.0, 100.0)])
    streamed = detector.feed(x)
    assert len(streamed.events_opened) == 1 and streamed.events_closed == ()
    final = detector.flush()
    assert final.events_opened == () and len(final.events_closed) == 1
    event = final.events_closed[0]
    assert event.onset == streamed.events_opened[0].onset
    assert event.offset == pytest.approx(60.0)
    # A candidate that has lasted min_duration_s only by the end is opened and closed by flush.
    late = fraction_detector().run(bipolar_bursts(250, 60, [(53.5, 60.0, 100.0)]))
    assert len(late.events_opened) == len(late.events_closed) == 1
    assert fraction_detector().run(bipolar_bursts(250, 60, [(56.0, 60.0, 100.0)])).events_closed == ()


def test_events_from_probabilities_equal_the_stream():
    detector = fraction_detector(off_threshold=0.3)
    x = bipolar_bursts(250, 120, [(20.0, 50.0, 100.0), (70.0, 78.0, -100.0), (110.0, 120.0, 100.0)])
    streamed = detector.run(x)
    offline = detector.events_from_probabilities(streamed.probabilities, duration_s=120.0)
    assert len(streamed.events_closed) == 3  # the last one is closed at the end of the recording
    assert_same_events(offline.events_closed, streamed.events_closed)
    assert_same_events(offline.events_opened, streamed.events_opened)
    np.testing.assert_array_equal(offline.smoothed_probability, streamed.smoothed_probability)
    np.testing.assert_array_equal(offline.window_times, streamed.window_times)
    # Without a duration an open event closes at the end of the last window.
    last = detector.events_from_probabilities(streamed.probabilities).events_closed[-1]
    assert last.offset == pytest.approx(streamed.window_times[-1] + 1.0)
    with pytest.raises(DetectorSettingsError, match="ends before"):
        detector.events_from_probabilities(streamed.probabilities, duration_s=100.0)
    with pytest.raises(RuntimeModelError, match="probabilities"):
        detector.events_from_probabilities(streamed.probabilities[:, :2])


@pytest.mark.parametrize("fs, smooth_windows, min_duration_s", [(250, 8, 5.0), (256, 1, 0.0), (200, 4, 2.0)])
def test_latency_is_the_delay_from_onset_to_alarm(fs, smooth_windows, min_duration_s):
    detector = fraction_detector(fs=fs, smooth_windows=smooth_windows, min_duration_s=min_duration_s)
    onset = 20.0
    x = bipolar_bursts(fs, 40, [(onset, 40.0, 100.0)])
    start = int((onset + detector.latency_s - 1.0) * fs)
    assert not detector.feed(x[:, :start]).events_opened
    for n in range(start, x.shape[1]):  # one sample at a time: the alarm's sample is exact
        opened = detector.feed(x[:, n : n + 1]).events_opened
        if opened:
            break
    alarm = (n + 1) / fs
    event = opened[0]
    assert detector.latency_s - 1.0 / fs - 1e-9 < alarm - event.onset <= detector.latency_s + 1e-9
    assert abs(alarm - onset - detector.latency_s) <= detector.window_step / 250
    length, step = detector.window_length / 250, detector.window_step / 250
    expected = (np.ceil(min_duration_s / step - 1e-9) * step + (length + (smooth_windows - 1) * step) / 2
                + (0.0 if fs == 250 else 10.0 / min(fs, 250)) + 1.0 / fs)
    assert detector.latency_s == pytest.approx(expected)


def test_type_only_model_says_seizure_everywhere():
    x = bipolar_bursts(250, 30, [])
    with pytest.warns(UserWarning, match="background_index"):
        detector = StreamingDetector(FractionModel(), fs=250, preprocessing={"kind": "raw"}, min_duration_s=5.0)
    out = detector.run(x)
    np.testing.assert_allclose(out.seizure_probability, 1.0)  # the background class wins everywhere
    assert len(out.events_closed) == 1 and out.events_closed[0].type == "class_0"
    score = StreamingDetector(FractionModel(), fs=250, preprocessing={"kind": "raw"},
                              seizure_score=lambda p: p[:, 1:].sum(axis=1)).run(x)
    assert score.events_closed == () and score.seizure_probability.max() < 0.05


# ----------------------------------------------------------------------------- errors


def test_bad_input_and_settings_raise():
    detector = fraction_detector(fs=256, channel_names=None)
    with pytest.raises(SignalError, match=r"\(channels, samples\)"):
        detector.feed(np.zeros(100))
    detector.feed(np.zeros((4, 300)))
    with pytest.raises(SignalError, match="3 channels; the stream has 4"):
        detector.feed(np.zeros((3, 10)))
    bad = np.zeros((4, 50))
    bad[2, 17] = np.inf
    with pytest.raises(SignalError, match="chunk at sample 300: NaN/inf at sample 317 in channel 2"):
        detector.feed(bad)
    electrodes = StreamingDetector(BandModel(), fs=256, channel_names=ELECTRODES, background_index=0)
    bad = np.zeros((len(ELECTRODES), 64))
    bad[ELECTRODES.index("EEG C3-REF"), 5] = np.nan
    bad[-1] = np.nan  # EKG is ignored
    with pytest.raises(SignalError, match="NaN/inf at sample 5 in T3-C3"):
        electrodes.feed(bad)
    with pytest.raises(SignalError, match="23 channels; the stream has 22"):
        electrodes.feed(np.zeros((23, 10)))
    with pytest.raises(ValueError, match="missing"):
        StreamingDetector(BandModel(), fs=256, channel_names=ELECTRODES[:5], background_index=0)
    with pytest.raises(SignalError, match="fmax"):
        StreamingDetector(BandModel(), fs=40, preprocessing={"kind": "fft"}, background_index=0)
    for settings, message in [({"threshold": 0.0}, "threshold"), ({"threshold": 0.5, "off_threshold": 0.7}, "off"),
                              ({"min_duration_s": -1.0}, "min_duration_s"), ({"smooth_windows": 0}, "smooth"),
                              ({"batch_size": 1.5}, "batch_size"), ({"seizure_score": len}, "not both"),
                              ({"output_kind": "scores"}, "output_kind"),
                              ({"preprocessing": {"kind": "mel"}}, "kind")]:
        with pytest.raises(DetectorSettingsError, match=message):
            fraction_detector(**settings)
    with pytest.raises(RuntimeModelError, match=r"3 classes, expected 2 \(a, b\)"):
        fraction_detector(class_names=["a", "b"]).run(np.zeros((4, 1000)))
    with pytest.raises(RuntimeModelError, match="background_index"):
        fraction_detector(background_index=5).run(np.ones((4, 1000)))
    with pytest.raises(RuntimeModelError, match="model"):
        StreamingDetector(42, fs=250, background_index=0)


# ----------------------------------------------------------------------------- Keras and .tflite


@pytest.fixture(scope="module")
def student_files(tmp_path_factory, trained_student):
    """conftest's trained student (8 bipolar channels, SES to 12 Hz) as .tflite, a recording, and the
    Keras stream's probabilities and events."""
    from kerasseizure.export.tflite import export

    folder = tmp_path_factory.mktemp("streaming")
    preprocessing = {"kind": "ses", "wl": 1.0, "ws": 0.25, "fmax": 12.0, "montage": "tcp20"}
    export(trained_student, folder / "student.tflite", preprocessing=preprocessing, max_abs_diff=1e-4)
    # The student learnt a synthetic task, not EEG: on SES of loud noise it says class 0 (taken as the
    # background here), on SES of faint noise class 1; a faint stretch is its "seizure".
    raw = np.random.default_rng(5).standard_normal((8, 256 * 40))
    raw[:, : 256 * 15] *= 20.0
    raw[:, 256 * 15 : 256 * 30] *= 0.05
    raw[:, 256 * 30 :] *= 20.0
    np.save(folder / "raw.npy", raw)
    keras_stream = StreamingDetector(trained_student, fs=256, preprocessing=preprocessing, background_index=0,
                                     min_duration_s=3.0, threshold=0.5).run(raw)
    np.save(folder / "keras_probabilities.npy", keras_stream.probabilities)
    return folder, preprocessing, keras_stream


def test_keras_and_tflite_streams_agree(student_files, trained_student):
    folder, preprocessing, keras_stream = student_files
    raw = np.load(folder / "raw.npy")
    smoothed = keras_stream.smoothed_probability
    assert smoothed.min() < 0.5 < smoothed.max() and np.abs(smoothed - 0.5).min() > 1e-3  # not borderline
    assert keras_stream.events_closed
    detector = StreamingDetector(str(folder / "student.tflite"), fs=256, background_index=0, min_duration_s=3.0)
    assert detector.preprocessing == {**preprocessing, "ses_options": None}  # from the export report
    lite = joined(feed_in_chunks(detector, raw, np.random.default_rng(6), max_chunk=2000))
    np.testing.assert_allclose(lite["probabilities"], keras_stream.probabilities, atol=1e-4)
    assert_same_events(lite["closed"], keras_stream.events_closed)
    keras_chunked = joined(feed_in_chunks(StreamingDetector(trained_student, fs=256, preprocessing=preprocessing,
                                                            background_index=0, min_duration_s=3.0),
                                          raw, np.random.default_rng(7), max_chunk=3000))
    np.testing.assert_allclose(keras_chunked["probabilities"], keras_stream.probabilities, atol=1e-6)
    assert_same_events(keras_chunked["closed"], keras_stream.events_closed)


_TF_FREE_SCRIPT = textwrap.dedent("""
    import json
    import sys

    import numpy as np

    import kerasseizure.export
    from kerasseizure.export import StreamingDetector

    folder = sys.argv[1]
    raw = np.load(folder + "/raw.npy")
    detector = StreamingDetector(folder + "/student.tflite", fs=256, background_index=0, min_duration_s=3.0)
    outputs = [detector.feed(raw[:, start : start + 256]) for start in range(0, raw.shape[1], 256)]
    outputs.append(detector.flush())
    probabilities = np.concatenate([o.probabilities for o in outputs if len(o.probabilities)])
    expected = np.load(folder + "/keras_probabilities.npy")
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
    events = [[e.onset, e.duration, e.type] for o in outputs for e in o.events_closed]
    print(json.dumps({"max_diff": float(np.abs(probabilities - expected).max()), "heavy": heavy, "events": events}))
""")


def test_streaming_runs_without_tensorflow_and_keras(student_files):
    folder, _, keras_stream = student_files
    result = run_without(_TF_FREE_SCRIPT, [folder], timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["heavy"] == [] and outcome["max_diff"] < 1e-4
    assert outcome["events"] == [[pytest.approx(e.onset), pytest.approx(e.duration), e.type]
                                 for e in keras_stream.events_closed]
