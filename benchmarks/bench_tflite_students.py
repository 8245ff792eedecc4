"""Size and per-window latency of the SeizureNet teacher and the students: Keras vs LiteRT.

For each model: parameters, `.keras` size, `.tflite` size for every quantization (each export is
verified against Keras by `kerasseizure.export.tflite.export`), LiteRT latency per window (batch 1,
one thread, warm-up excluded, p50 / p99 over many runs) and, in the same run, the Keras model's
latency per window (`model(x, training=False)` on batch 1) as the reference. Weights are untrained
(size and latency do not depend on them); calibration and verification inputs are random normal,
so the verification agreement threshold is disabled (logits of an untrained model are near-equal).

    PYTHONPATH=. python benchmarks/bench_tflite_students.py --models teacher tiny small base --runs 500
"""

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from kerasseizure.export.litert_runtime import LiteRTClassifier  # noqa: E402
from kerasseizure.export.tflite import QUANTIZATIONS, export, latency_summary, model_size_bytes  # noqa: E402
from kerasseizure.models import SeizureNet, student  # noqa: E402


def build(name):
    if name == "teacher":
        return SeizureNet()
    return student((20, 24, 3), num_classes=7, size=name, projection_dim=384)


def random_inputs(model, n, seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((n, *t.shape[1:])).astype(np.float32) for t in model.inputs]
    return arrays[0] if len(arrays) == 1 else arrays


def time_calls(call, runs, warmup):
    for _ in range(warmup):
        call()
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return latency_summary(seconds)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["teacher", "tiny", "small", "base"])
    parser.add_argument("--quantizations", nargs="+", default=list(QUANTIZATIONS))
    parser.add_argument("--runs", type=int, default=500, help="timed LiteRT calls per file")
    parser.add_argument("--keras-runs", type=int, default=100, help="timed Keras calls per model")
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args(argv)

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name in args.models:
            keras.utils.set_random_seed(0)
            model = build(name)
            calibration = random_inputs(model, 128, seed=1)
            one = random_inputs(model, 1, seed=2)
            one_tensor = [keras.ops.convert_to_tensor(a) for a in one] if isinstance(one, list) else \
                keras.ops.convert_to_tensor(one)
            keras_latency = time_calls(lambda: model(one_tensor, training=False), args.keras_runs, args.warmup)
            keras_bytes = model_size_bytes(model)
            for quantization in args.quantizations:
                path = os.path.join(folder, f"{name}_{quantization}.tflite")
                report = export(model, path, quantization, representative_data=calibration,
                                verify_data=random_inputs(model, 64, seed=3), min_agreement=0.0)
                clf = LiteRTClassifier(path, num_threads=1)
                feed = one if not isinstance(one, list) else dict(zip(clf.input_names, one))
                lite_latency = time_calls(lambda: clf.predict_raw(feed), args.runs, args.warmup)
                rows.append({
                    "model": name, "params": model.count_params(), "keras_kb": keras_bytes / 1024,
                    "quantization": quantization, "tflite_kb": report.size_bytes / 1024,
                    "lite_p50": lite_latency["p50_ms"], "lite_p99": lite_latency["p99_ms"],
                    "keras_p50": keras_latency["p50_ms"],
                    "speedup": keras_latency["p50_ms"] / lite_latency["p50_ms"],
                    "agreement": report.verification["argmax_agreement"],
                })
                print(rows[-1], flush=True)

    print("\n| model | params | .keras KB | quantization | .tflite KB | LiteRT p50 ms | LiteRT p99 ms "
          "| Keras p50 ms | Keras / LiteRT | agreement (random inputs) |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['model']} | {r['params']:,} | {r['keras_kb']:.1f} | {r['quantization']} | {r['tflite_kb']:.1f} "
              f"| {r['lite_p50']:.3f} | {r['lite_p99']:.3f} | {r['keras_p50']:.2f} | {r['speedup']:.0f}x "
              f"| {r['agreement']:.3f} |")


if __name__ == "__main__":
    main()
