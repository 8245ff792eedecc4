"""TUSZ features per second of EEG: this package's TensorFlow path vs a straightforward NumPy one.

Input: synthetic 20-channel TCP seizures at 250 Hz (noise + a focal rhythm), --seconds long each.
Two feature sets on the IBM window grid (wl=1 s, ws=0.25 s):
- FFT windows: `fft_windows` (fmax 24 Hz) vs IBM's window loop (`fft_windows_reference`);
- the multi-spectral SES set (fmax 24, 48, 96 Hz; three maps each): `multi_spectral_ses` vs the
  window-by-window NumPy/scipy.ndimage version (`saliency_encoded_spectrogram_reference`).
"x real time" = seconds of EEG turned into features per wall-clock second (best of --repeats);
the ratio is measured in the same run. The TF path runs one tf.function over a batch of seizures.

    PYTHONPATH=. python benchmarks/bench_tusz_features.py --seizures 16 --seconds 30 --repeats 3
"""

import argparse
import os
import platform

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from kerasseizure.signal.saliency import multi_spectral_ses, saliency_encoded_spectrogram_reference  # noqa: E402
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

    tf_fft = tf.function(lambda s: fft_windows(s, fs=FS, fmax=24.0))
    tf_ses = tf.function(lambda s: multi_spectral_ses(s, fs=FS, fmax=BANDS))
    tf_fft(x), tf_ses(x)  # trace once

    rows = []
    fft_tf = best_time(lambda: tf_fft(x).numpy(), args.repeats)
    fft_np = best_time(lambda: [fft_windows_reference(s, fs=FS, fmax=24.0) for s in x], args.repeats)
    rows.append(("FFT windows (fmax 24)", fft_np, fft_tf))
    ses_tf = best_time(lambda: [m.numpy() for m in tf_ses(x)], args.repeats)
    ses_np = best_time(
        lambda: [[saliency_encoded_spectrogram_reference(s, fs=FS, fmax=band) for band in BANDS] for s in x],
        args.repeats,
    )
    rows.append(("multi-spectral SES (24/48/96)", ses_np, ses_tf))

    fft_diff = np.abs(tf_fft(x[:1]).numpy()[0] - fft_windows_reference(x[0], fs=FS, fmax=24.0)).max()
    ses_diff = max(
        np.abs(m.numpy()[0] - saliency_encoded_spectrogram_reference(x[0], fs=FS, fmax=band)).max()
        for m, band in zip(tf_ses(x[:1]), BANDS)
    )
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"tensorflow {tf.__version__}, numpy {np.__version__}; {eeg_seconds} s of 20-channel EEG")
    print("| features | NumPy x real time | TF x real time | ratio |")
    print("|---|---:|---:|---:|")
    for name, numpy_s, tf_s in rows:
        print(f"| {name} | {eeg_seconds / numpy_s:,.0f} | {eeg_seconds / tf_s:,.0f} | {numpy_s / tf_s:.1f}x |")
    print(f"max |diff| vs NumPy: FFT windows {fft_diff:.1e}, SES {ses_diff:.1e}")


if __name__ == "__main__":
    main()
