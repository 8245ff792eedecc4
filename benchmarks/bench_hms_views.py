"""HMS views per 50 s window: this package's batched TensorFlow path vs the starters' per-window path.

Both paths produce, for each 50 s EEG window (10,000 x 20 at 200 Hz, with NaN gaps) and its 10 min
Kaggle spectrogram (300 x 400), the EfficientNet starter's 8-panel image (512 x 512 x 3: 4 Kaggle
panels beside 4 EEG mel panels) and the WaveNet starter's input (2000 x 8: 8 differences, clipped,
/32, causal order-4 20 Hz low-pass, every 5th sample).

- batched: `hms_spectrogram_image` + `wavenet_input` in one tf.function per batch of --batch
  windows (--windows in all), XLA-compiled (`jit_compile=True`, as `pipelines.hms.compute_hms_views`
  runs them) and, for comparison, as a plain graph;
- starter: a Python loop over windows; per window 16 `librosa.feature.melspectrogram` +
  `power_to_db` calls, the Kaggle panel loop, and `scipy.signal.lfilter` (b, a) on the 8
  differences (`hms_spectrogram_image_reference`, `wavenet_input_reference`).

The ratio is starter seconds per window / batched seconds per window, measured in the same run
(best of --repeats, the paths interleaved repeat by repeat). The script also prints the 1-minute
load average before and after the timings and the largest difference between the outputs of each
batched path and the starter's.

    PYTHONPATH=. python benchmarks/bench_hms_views.py --windows 32 --batch 32 --reference-windows 8 --repeats 3
"""

import argparse
import os
import platform

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from kerasseizure.signal.filters import wavenet_input, wavenet_input_reference  # noqa: E402
from kerasseizure.signal.spectral import hms_spectrogram_image, hms_spectrogram_image_reference  # noqa: E402
from timing import best_time  # noqa: E402


def make_windows(count, seed=0):
    """`count` synthetic 50 s windows (alpha rhythm + noise, ~1000 units std, NaN gaps) and Kaggle spectrograms."""
    rng = np.random.default_rng(seed)
    t = np.arange(10000) / 200.0
    eeg = 900.0 * rng.standard_normal((count, 10000, 20)) + 300.0 * np.sin(2 * np.pi * 10.0 * t)[None, :, None]
    for k in range(count):
        start = rng.integers(0, 9000)
        eeg[k, start : start + 400, rng.integers(0, 19)] = np.nan
    kaggle = np.exp(2.0 * rng.standard_normal((count, 300, 400)))
    kaggle[:, 100:110, 5:50] = np.nan
    return eeg.astype(np.float32), kaggle.astype(np.float32)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=32, help="windows timed on the batched paths")
    parser.add_argument("--batch", type=int, default=32, help="windows per batched call")
    parser.add_argument("--reference-windows", type=int, default=8, help="windows timed on the starter path")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    eeg, kaggle = make_windows(args.windows)
    batches = [slice(start, start + args.batch) for start in range(0, args.windows, args.batch)]

    def views(eeg_batch, kaggle_batch):
        return hms_spectrogram_image(eeg_batch, kaggle_batch), wavenet_input(eeg_batch)

    batched = {"batched TF, XLA": tf.function(views, jit_compile=True), "batched TF, graph": tf.function(views)}

    def run(function):
        return [[t.numpy() for t in function(eeg[b], kaggle[b])] for b in batches]

    outputs = {name: [np.concatenate(parts) for parts in zip(*run(function))]  # traced and compiled here
               for name, function in batched.items()}

    def starter():
        return [
            (hms_spectrogram_image_reference(eeg[k], kaggle[k]), wavenet_input_reference(eeg[k]))
            for k in range(args.reference_windows)
        ]

    reference = starter()
    load = os.getloadavg()[0]
    # Interleaved repeats: on a shared machine the load moves, and each path's best time should
    # come from the same stretch of it.
    paths = {"starter path": starter, **{name: lambda f=function: run(f) for name, function in batched.items()}}
    seconds = {name: [] for name in paths}
    for _ in range(args.repeats):
        for name, path in paths.items():
            seconds[name].append(best_time(path, 1))
    starter_s = min(seconds.pop("starter path")) / args.reference_windows
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"tensorflow {tf.__version__}, numpy {np.__version__}; load average (1 min) {load:.2f}")
    print(f"starter path      : {1000 * starter_s:8.2f} ms per window ({args.reference_windows} windows)")
    for name, times in seconds.items():
        per_window = min(times) / args.windows
        images, waves = outputs[name]
        image_diff = max(np.abs(images[k] - ref[0]).max() for k, ref in enumerate(reference))
        wave_diff = max(np.abs(waves[k] - ref[1]).max() for k, ref in enumerate(reference))
        print(f"{name:18s}: {1000 * per_window:8.2f} ms per window (batch {args.batch}), "
              f"ratio {starter_s / per_window:5.1f}x, max |diff| image {image_diff:.1e}, wavenet input {wave_diff:.1e}")
    print(f"load average (1 min) after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
