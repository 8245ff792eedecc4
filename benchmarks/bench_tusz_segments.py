"""Throughput and memory of TUSZCorpus.seizure_segments (range reads) against the naive path.

The script writes, with pyedflib, a v1.x TUSZ tree of realistic recordings (tens of minutes,
250/256/400/512 Hz, 21 scalp electrodes plus 9 non-EEG channels, .tse annotations with seizures)
into a temporary folder, then cuts every seizure twice in the same run:

- segments: `TUSZCorpus.seizure_segments()` (reads only the data records of each seizure, with
  NumPy, then resamples and subtracts);
- naive: read every needed electrode whole (same reader, whole file), then cut, resample and
  subtract (what IBM's build_data.py does).

Throughput is seconds of seizure EEG produced per wall-clock second ("x real time"); peak memory
is tracemalloc's peak (numpy buffers included) over a separate pass. Run it for two recording
lengths to see that the range-read path's memory does not grow with the recording length. The
1-minute load average is printed before each configuration: the figures are only comparable
between runs on an equally loaded machine.

    python benchmarks/bench_tusz_segments.py --minutes 10 40 --files 4 --seizures-per-file 6
"""

import argparse
import os
import platform
import tempfile
import time
import tracemalloc

import numpy as np
import pyedflib
import scipy
from scipy.signal import resample

from kerasseizure.io.channels import SCALP_ELECTRODES, TCP20
from kerasseizure.io.edf import read_electrodes
from kerasseizure.io.tusz import TUSZCorpus

RATES = (250, 256, 400, 512)
NON_EEG = ("EKG1", "PHOTIC PH", "IBI", "BURSTS", "SUPPR", "EEG 26-REF", "EEG 27-REF", "EMG1", "RESP1")
TYPES = ("fnsz", "gnsz", "cpsz", "absz", "tcsz")


def write_recording(path, fs, minutes, rng):
    """One EDF of `minutes` at `fs` Hz: 21 'EEG XX-REF' electrodes (noise + alpha) and 9 other channels."""
    n = int(minutes * 60 * fs)
    t = np.arange(n) / fs
    alpha = 20 * np.sin(2 * np.pi * 10 * t)
    labels = [f"EEG {e}-REF" for e in SCALP_ELECTRODES] + list(NON_EEG)
    headers = [dict(label=label, dimension="uV", sample_frequency=fs, physical_max=3000.0,
                    physical_min=-3000.0, digital_max=32767, digital_min=-32768) for label in labels]
    writer = pyedflib.EdfWriter(path, len(labels), file_type=pyedflib.FILETYPE_EDF)
    try:
        writer.setSignalHeaders(headers)
        writer.writeSamples([alpha + rng.normal(0, 30, n) for _ in labels])
    finally:
        writer.close()


def seizure_events(duration, count, rng):
    """`count` non-overlapping seizures of 10-60 s, tiled with bckg as a .tse needs."""
    n_slots = int(duration // 70) - 1  # 70 s slots hold a seizure of up to 60 s and a gap
    if count > n_slots:
        raise ValueError(f"{count} seizures do not fit in {duration:g} s; use longer recordings")
    slots = np.sort(rng.choice(n_slots, size=count, replace=False)) * 70.0 + 5.0
    events, cursor = [], 0.0
    for slot in slots:
        start, stop = slot, slot + float(rng.integers(10, 61))
        events += [(cursor, start, "bckg"), (start, stop, str(rng.choice(TYPES)))]
        cursor = stop
    return events + [(cursor, duration, "bckg")]


def build_corpus(root, n_files, minutes, seizures_per_file, seed):
    """A v1.x tree under `root` with `n_files` recordings cycling through the TUSZ rates."""
    rng = np.random.default_rng(seed)
    for index in range(n_files):
        patient = f"{index + 1:08d}"
        folder = os.path.join(root, "edf", "train", "01_tcp_ar", patient[:3], patient, "s001_2010_01_01")
        os.makedirs(folder, exist_ok=True)
        stem = os.path.join(folder, f"{patient}_s001_t000")
        write_recording(stem + ".edf", RATES[index % len(RATES)], minutes, rng)
        lines = ["version = tse_v1.0.0", ""]
        lines += [f"{s:.4f} {e:.4f} {lab} 1.0000" for s, e, lab in
                  seizure_events(minutes * 60.0, seizures_per_file, rng)]
        with open(stem + ".tse", "w") as handle:
            handle.write("\n".join(lines) + "\n")


def naive_segments(corpus, fs=250):
    """Read each needed electrode whole, then cut, resample per electrode and subtract."""
    electrodes = list(dict.fromkeys(name for pair in TCP20 for name in pair))
    selected, _ = corpus.benchmark_seizures()
    for _, row in selected.iterrows():
        whole = read_electrodes(row["edf_path"], electrodes, dtype=np.float64)
        n_out = int(np.floor((row["stop"] - row["start"]) * fs))
        cut = {}
        for name, signal, rate in zip(whole.electrodes, whole.signals, whole.rates):
            first, last = int(np.floor(row["start"] * rate)), int(np.floor(row["stop"] * rate))
            cut[name] = resample(signal[first:last], n_out)
        yield row, np.stack([cut[a] - cut[b] for a, b in TCP20]).astype(np.float32)


def measure(corpus, method, repeats):
    """(seizure seconds, best wall seconds of `repeats` passes, peak traced MB) of one path."""
    generate = corpus.seizure_segments if method == "segments" else lambda: naive_segments(corpus)
    walls = []
    for _ in range(repeats):
        seconds, began = 0.0, time.perf_counter()
        for row, _ in generate():
            seconds += row["stop"] - row["start"]
        walls.append(time.perf_counter() - began)
    wall = min(walls)  # the machine is shared: the best pass is the least disturbed one
    tracemalloc.start()
    for _ in generate():
        pass
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, wall, peak


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[10, 40],
                        help="recording lengths to compare (minutes per file)")
    parser.add_argument("--files", type=int, default=4, help="recordings per corpus")
    parser.add_argument("--seizures-per-file", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="timed passes per path (best is kept)")
    parser.add_argument("--workdir", default=None, help="where to write the corpora (default: a temp dir)")
    args = parser.parse_args()

    print(f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores, "
          f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
          f"pyedflib {pyedflib.__version__}")
    header = f"{'minutes/file':>12} {'files':>5} {'seizures':>8} {'index s':>8} {'path':>9} " \
             f"{'EEG s':>7} {'wall s':>7} {'x real time':>11} {'peak MB':>8}"
    print(header)
    with tempfile.TemporaryDirectory(dir=args.workdir) as workdir:
        for minutes in args.minutes:
            root = os.path.join(workdir, f"tusz_{minutes:g}min")
            build_corpus(root, args.files, minutes, args.seizures_per_file, args.seed)
            if hasattr(os, "getloadavg"):  # not on Windows
                print(f"load average (1/5/15 min) before {minutes:g} min/file: "
                      + " ".join(f"{value:.2f}" for value in os.getloadavg()))
            began = time.perf_counter()
            corpus = TUSZCorpus(root)
            index_seconds = time.perf_counter() - began
            for method in ("segments", "naive"):
                seconds, wall, peak = measure(corpus, method, args.repeats)
                print(f"{minutes:>12g} {args.files:>5} {len(corpus.seizures):>8} {index_seconds:>8.3f} "
                      f"{method:>9} {seconds:>7.0f} {wall:>7.3f} {seconds / wall:>11.0f} {peak:>8.1f}")


if __name__ == "__main__":
    main()
