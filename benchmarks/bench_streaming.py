"""Real-time factor of `StreamingDetector` through an int8 .tflite student on one thread.

A synthetic recording (21 scalp electrodes + EKG at 256 Hz, --seconds long) is fed to the detector
in chunks of --chunk-seconds (1 s first: a live stream), through the int8 student (SES input,
20 x 24 x 3, exported here from an untrained `student(size=--size)` calibrated on the recording's
own windows, or --model FILE.tflite). The reference, timed in the same run, is the offline path of
`kerasseizure predict`: `preprocess_recording` on the whole recording, then
`LiteRTClassifier.predict` (batches of 64).

Real-time factor = seconds of EEG / seconds of wall time. Each path is split into the model
(`LiteRTClassifier.predict`, timed inside the stream through a thin proxy) and the rest
(montage, resampling, window features, smoothing and events for the stream; montage, FFT
resampling and window features for the reference). Best of --repeats, the paths interleaved
repeat by repeat; the 1-minute load average is printed before and after.

    PYTHONPATH=. python benchmarks/bench_streaming.py --seconds 600 --chunk-seconds 1 10 60 --repeats 3
"""

import argparse
import os
import platform
import tempfile
import time

# One thread everywhere (LiteRT gets num_threads=1 below); NumPy's BLAS too.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from kerasseizure.export.litert_runtime import LiteRTClassifier, preprocess_recording  # noqa: E402
from kerasseizure.export.streaming import StreamingDetector  # noqa: E402
from kerasseizure.io.channels import SCALP_ELECTRODES  # noqa: E402

FS = 256
CHANNELS = [f"EEG {name}-REF" for name in SCALP_ELECTRODES] + ["EKG1"]


def make_recording(seconds, seed=0):
    """Electrodes in 30 uV noise with a 10 Hz rhythm, and a 60 s 4 Hz burst on the left."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * FS)) / FS
    x = 30.0 * rng.standard_normal((len(CHANNELS), len(t))) + 20.0 * np.sin(2 * np.pi * 10.0 * t)
    burst = (t > seconds / 3) & (t < seconds / 3 + 60)
    for name in ("FP1", "F3", "C3", "P3", "F7", "T3"):
        x[CHANNELS.index(f"EEG {name}-REF"), burst] += 120.0 * np.sin(2 * np.pi * 4.0 * t[burst])
    x[-1] = 500.0 * rng.standard_normal(len(t))
    return x


def export_student(folder, size, recording):
    from kerasseizure.export.tflite import export
    from kerasseizure.models import student

    import keras

    keras.utils.set_random_seed(0)
    model = student((20, 24, 3), num_classes=7, size=size)
    windows = preprocess_recording(recording, CHANNELS, fs=FS, kind="ses")
    path = os.path.join(folder, f"student_{size}_int8.tflite")
    # Untrained weights: the agreement check is off (speed does not depend on the weights).
    export(model, path, "int8", representative_data=windows[::max(1, len(windows) // 256)], min_agreement=0.0)
    return path


class TimedModel:
    """`LiteRTClassifier.predict` behind the detector's `predict(batch, verbose=0)`, with a stopwatch."""

    def __init__(self, classifier):
        self.classifier = classifier
        self.seconds = 0.0

    def predict(self, batch, verbose=0):
        start = time.perf_counter()
        probabilities = self.classifier.predict(batch)
        self.seconds += time.perf_counter() - start
        return probabilities


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=600.0, help="length of the recording")
    parser.add_argument("--chunk-seconds", type=float, nargs="+", default=[1.0, 10.0, 60.0])
    parser.add_argument("--size", default="tiny", help="student size (tiny, small, base)")
    parser.add_argument("--model", help="a .tflite with its export report (any input kind), instead of exporting "
                                        "the int8 SES student")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    recording = make_recording(args.seconds)
    with tempfile.TemporaryDirectory() as folder:
        path = args.model or export_student(folder, args.size, recording)
        classifier = LiteRTClassifier(path, num_threads=1, batch_size=64)
        options = {k: v for k, v in classifier.preprocessing.items() if k != "fs"}
        model = TimedModel(classifier)
        detector = StreamingDetector(model, fs=FS, channel_names=CHANNELS, preprocessing=options,
                                     output_kind="probabilities", background_index=0, batch_size=64)

        def reference():
            start = time.perf_counter()
            windows = preprocess_recording(recording, CHANNELS, fs=FS, **options)
            middle = time.perf_counter()
            probabilities = classifier.predict(windows)
            return probabilities, middle - start, time.perf_counter() - middle

        def stream(chunk_seconds):
            size = int(round(chunk_seconds * FS))
            model.seconds = 0.0
            start = time.perf_counter()
            outputs = [detector.feed(recording[:, s : s + size]) for s in range(0, recording.shape[1], size)]
            outputs.append(detector.flush())
            total = time.perf_counter() - start
            probabilities = np.concatenate([o.probabilities for o in outputs if len(o.probabilities)])
            return probabilities, total - model.seconds, model.seconds

        reference_probabilities = reference()[0]
        load = os.getloadavg()[0]
        timings = {"reference": []} | {chunk: [] for chunk in args.chunk_seconds}
        results = {}
        for _ in range(args.repeats):
            for key in timings:
                results[key], rest, model_s = reference() if key == "reference" else stream(key)
                timings[key].append((rest + model_s, rest, model_s))
        size_kb = os.path.getsize(path) / 1024

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; numpy {np.__version__}; "
          f"load average (1 min) {load:.2f}")
    print(f"{os.path.basename(path)} ({classifier.report.get('quantization', '?')}, {size_kb:.1f} KB, input "
          f"{options.get('kind')}), {args.seconds:g} s of {len(CHANNELS)}-channel EEG at {FS} Hz, "
          f"{len(reference_probabilities)} windows; one thread; best of {args.repeats}")
    best_reference = min(timings.pop("reference"))
    print("\n| path | chunk | real-time factor | preprocessing + events, ms per EEG s | model, ms per EEG s "
          "| stream / reference time |")
    print("|---|---:|---:|---:|---:|---:|")
    rows = [("reference (whole recording)", "-", best_reference)] + [
        ("StreamingDetector", f"{chunk:g} s", min(times)) for chunk, times in timings.items()]
    for name, chunk, (total, rest, model_s) in rows:
        print(f"| {name} | {chunk} | {args.seconds / total:,.0f}x | {1000 * rest / args.seconds:.3f} "
              f"| {1000 * model_s / args.seconds:.3f} | {total / best_reference[0]:.2f} |")
    stream_probabilities = results[args.chunk_seconds[0]]
    n = min(len(stream_probabilities), len(reference_probabilities))
    inside = slice(8, n - 8)  # the FIR and the FFT resampling differ at the ends
    print(f"\nmax |stream - reference| of the window probabilities (FIR vs FFT resampling, ends excluded): "
          f"{np.abs(stream_probabilities[inside] - reference_probabilities[inside]).max():.1e}; windows "
          f"{len(stream_probabilities)} vs {len(reference_probabilities)}")
    print(f"load average (1 min) after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
