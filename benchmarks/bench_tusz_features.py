"""TUSZ features per second of EEG: this package's TensorFlow path vs a straightforward NumPy one.

Input: synthetic 20-channel TCP seizures at 250 Hz (noise + a focal rhythm), --seconds long each.
Two feature sets on the IBM window grid (wl=1 s, ws=0.25 s):
- FFT windows: `fft_windows` (fmax 24 Hz) vs IBM's window loop (`fft_windows_reference`);
- the multi-spectral SES set (fmax 24, 48, 96 Hz; three maps each): `multi_spectral_ses` vs the
  window-by-window NumPy/scipy.ndimage version (`saliency_encoded_spectrogram_reference`).
"x real time" = seconds of EEG turned into features per wall-clock second (best of --repeats);
the ratio is measured in the same run. The TF path runs one tf.function over a batch of seizures,
as a plain graph and XLA-compiled (`jit_compile=True`). For the SES the script also prints the
floor of its DFT-matrix design: the matrix-product FLOPs of the batch over the rate of one large
float32 GEMM measured in the same run (the fastest the products could run on this machine).

    PYTHONPATH=. python benchmarks/bench_tusz_features.py --seizures 16 --seconds 30 --repeats 3
"""

import argparse
import os
import platform

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from kerasseizure.signal.saliency import multi_spectral_ses, saliency_encoded_spectrogram_reference  # noqa: E402
from kerasseizure.signal.reference import fft_window_count, window_samples  # noqa: E402
from kerasseizure.signal.spectral import fft_windows, fft_windows_reference  # noqa: E402
from timing import best_time  # noqa: E402

FS = 250
BANDS = (24.0, 48.0, 96.0)


def make_seizures(count, seconds, seed=0):
    """(count, 20, seconds * 250) float32: 50 uV noise plus a 3-8 Hz rhythm in a few channels."""
    rng = np.random.default_rng(seed)
    t = np.arange(seconds * FS) / FS
    x = 50.0 * rng.standard_normal((count, 20, seconds * FS))
    for k in range(count):
        channels = rng.choice(20, size=4, replace=False)
        x[k, channels] += 150.0 * np.sin(2 * np.pi * rng.uniform(3, 8) * t)
    return x.astype(np.float32)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seizures", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    x = make_seizures(args.seizures, args.seconds)
    eeg_seconds = args.seizures * args.seconds

    rows, fft_diff, ses_diff = [], 0.0, 0.0
    load = os.getloadavg()[0]
    for label, jit in (("graph", False), ("XLA", True)):
        tf_fft = tf.function(lambda s: fft_windows(s, fs=FS, fmax=24.0), jit_compile=jit)
        tf_ses = tf.function(lambda s: multi_spectral_ses(s, fs=FS, fmax=BANDS), jit_compile=jit)
        # Trace (and compile) once; the first seizure's features against the references.
        fft_diff = max(fft_diff, np.abs(tf_fft(x).numpy()[0] - fft_windows_reference(x[0], fs=FS, fmax=24.0)).max())
        ses_diff = max([ses_diff] + [
            np.abs(m.numpy()[0] - saliency_encoded_spectrogram_reference(x[0], fs=FS, fmax=band)).max()
            for m, band in zip(tf_ses(x), BANDS)
        ])
        rows.append((f"FFT windows (fmax 24), TF {label}", "fft", best_time(lambda: tf_fft(x).numpy(), args.repeats)))
        rows.append((f"multi-spectral SES (24/48/96), TF {label}", "ses",
                     best_time(lambda: [m.numpy() for m in tf_ses(x)], args.repeats)))
    numpy_s = {
        "fft": best_time(lambda: [fft_windows_reference(s, fs=FS, fmax=24.0) for s in x], args.repeats),
        "ses": best_time(
            lambda: [[saliency_encoded_spectrogram_reference(s, fs=FS, fmax=band) for band in BANDS] for s in x],
            args.repeats,
        ),
    }
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"tensorflow {tf.__version__}, numpy {np.__version__}; {eeg_seconds} s of 20-channel EEG; "
          f"load average (1 min) {load:.2f} before, {os.getloadavg()[0]:.2f} after")
    print("| features | NumPy x real time | TF x real time | ratio |")
    print("|---|---:|---:|---:|")
    for name, kind, tf_s in rows:
        ratio = numpy_s[kind] / tf_s
        print(f"| {name} | {eeg_seconds / numpy_s[kind]:,.0f} | {eeg_seconds / tf_s:,.0f} | {ratio:.1f}x |")
    print(f"max |diff| vs NumPy (first seizure, both TF paths): FFT windows {fft_diff:.1e}, SES {ses_diff:.1e}")
    flops, rate = ses_matmul_flops(x.shape[-2], x.shape[-1]) * args.seizures, gemm_flops_per_second()
    print(f"SES floor: {flops / 1e9:.1f} GFLOP of matrix products at {rate / 1e9:.1f} GFLOP/s (one large GEMM) "
          f"= {flops / rate:.2f} s, i.e. at most {numpy_s['ses'] * rate / flops:.1f}x the NumPy reference")


def ses_matmul_flops(channels, samples):
    """FLOPs of the matrix products in `multi_spectral_ses` for one (channels, samples) seizure.

    Per window: the widest band's DFT of the frames (length x 2 bins per channel), then per member
    (H = channels, W = bins) the forward 2-D DFT (H x W x 2W + 2H x H x 2W), its inverse (twice that
    on the right factor: real and imaginary inputs) and five separable filters (W^2 and H^2 per map
    row/column: the spectral-residual box, the Gaussian, three centre-surround boxes).
    """
    length, _ = window_samples(FS, 1.0, 0.25)
    windows = fft_window_count(samples, FS, 1.0, 0.25)
    widest = max(int(band) for band in BANDS)
    total = channels * length * 2 * widest
    for band in BANDS:
        h, w = channels, int(band)
        forward, inverse = h * w * 2 * w + 2 * h * h * 2 * w, 2 * h * w * 2 * w + 2 * h * h * 2 * w
        total += forward + inverse + 5 * (h * w * w + h * h * w)
    return 2 * total * windows


def gemm_flops_per_second(size=1024, repeats=5):
    """float32 FLOP/s of one (4 size x size) @ (size x size) product, the best of `repeats`."""
    a, b = tf.random.normal((4 * size, size)), tf.random.normal((size, size))
    product = tf.function(tf.matmul)
    product(a, b)
    return 2 * 4 * size ** 3 / best_time(lambda: product(a, b).numpy(), repeats)


if __name__ == "__main__":
    main()
