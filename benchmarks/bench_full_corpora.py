"""Full-size synthetic corpora: write, index and cache them; report time, disk and peak RSS.

Each stage runs in its own Python process, so its peak RSS (`ru_maxrss`) is its own; the machine
load (1-min load average) is printed before and after each stage.

    # TUSZ v1.5.2 census: write, index (TUSZCorpus), the ses and fft caches of the tables (wl=1, ws=0.25)
    nice -n 5 python benchmarks/bench_full_corpora.py tusz --version 1.5.2 \
        --root /work/fullcorpus/tusz-1.5.2 --cache-dir /work/fullcorpus/cache
    # HMS: write, index (HMSDataset), the views of every training EEG (one 50 s window each)
    nice -n 5 python benchmarks/bench_full_corpora.py hms --root /work/fullcorpus/hms \
        --cache-dir /work/fullcorpus/cache

`--stages` picks stages (default all: write index cache); `--size` another preset (a smaller one
shows that the writers' memory does not grow with the corpus); `--n-eegs` an HMS corpus of that
many eeg_ids with the preset's shape.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def _disk_gb(path):
    path = Path(path)
    if not path.exists():
        return 0.0
    return sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file()) / 1e9


def _stage(args):
    """Run one stage in this process; print a JSON line with its figures."""
    start = time.perf_counter()
    extra = {}
    if args.corpus == "tusz" and args.stage == "write":
        from kerasseizure.io.synthetic import make_tusz_corpus

        make_tusz_corpus(args.root, version=args.version, size=args.size, seed=args.seed, overwrite=True)
    elif args.corpus == "tusz" and args.stage == "index":
        from kerasseizure.io.tusz import TUSZCorpus

        corpus = TUSZCorpus(args.root)
        extra = dict(recordings=len(corpus.recordings), seizures=len(corpus.seizures))
    elif args.corpus == "tusz":
        from kerasseizure.pipelines import build_tusz_features

        features = build_tusz_features(args.root, args.stage, args.cache_dir, wl=1.0, ws=0.25, progress=False,
                                       rebuild=True)
        extra = dict(windows=len(features.windows), seizures=len(features.seizures),
                     cache_gb=round(_disk_gb(features.path), 3))
    elif args.stage == "write":
        from kerasseizure.io.synthetic import make_hms_corpus

        make_hms_corpus(args.root, n_eegs=args.n_eegs, size=args.size, seed=args.seed, overwrite=True)
    elif args.stage == "index":
        from kerasseizure.io.hms import HMSDataset

        dataset = HMSDataset(args.root)
        extra = dict(rows=len(dataset.annotations), eeg_ids=len(dataset.labels))
    else:
        from kerasseizure.io.hms import HMSDataset
        from kerasseizure.pipelines import build_hms_features

        # The per-eeg_id figure leaves out the fixed costs (TensorFlow, the XLA compilation): a
        # build of 2 eeg_ids into a folder of its own first.
        dataset = HMSDataset(args.root)
        build_hms_features(dataset, Path(args.cache_dir) / "warm-up", eeg_ids=dataset.labels["eeg_id"][:2],
                           progress=False, rebuild=True)
        warm = time.perf_counter()
        features = build_hms_features(HMSDataset(args.root), args.cache_dir, progress=False, rebuild=True)
        per_eeg = (time.perf_counter() - warm) / len(features.table)
        extra = dict(eeg_ids=len(features.table), skipped=len(features.skipped),
                     cache_gb=round(_disk_gb(features.path), 3), warm_ms_per_eeg_id=round(1000 * per_eeg, 1),
                     projected_minutes_17089=round(17089 * per_eeg / 60, 1))
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20   # KiB -> GiB
    print(json.dumps(dict(seconds=round(seconds, 1), peak_rss_gib=round(peak, 3), **extra)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", choices=("tusz", "hms"))
    parser.add_argument("--root", required=True, help="corpus folder (written by the write stage)")
    parser.add_argument("--cache-dir", required=True, help="feature cache folder")
    parser.add_argument("--version", default="1.5.2", choices=("1.5.2", "1.4.0"))
    parser.add_argument("--size", default="full")
    parser.add_argument("--n-eegs", type=int, default=None, help="HMS only: eeg_ids (default: the preset's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stages", nargs="+", default=["write", "index", "cache"],
                        choices=("write", "index", "cache"))
    parser.add_argument("--representations", nargs="+", default=["ses", "fft"], choices=("ses", "fft"),
                        help="TUSZ caches to build (default: ses fft)")
    parser.add_argument("--stage", help=argparse.SUPPRESS)   # internal: run one stage in this process
    args = parser.parse_args()
    if args.stage:
        return _stage(args)

    stages = [s for s in args.stages if s != "cache"]
    if "cache" in args.stages:
        stages += list(args.representations) if args.corpus == "tusz" else ["cache"]
    print(f"{args.corpus} size={args.size} root={args.root} cpus={os.cpu_count()}", flush=True)
    for stage in stages:
        load = os.getloadavg()[0]
        command = [sys.executable, __file__, *sys.argv[1:], "--stage", stage]
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        if stage == "write":
            figures["corpus_gb"] = round(_disk_gb(args.root), 3)
        print(f"{stage}: {json.dumps(figures)} load {load:.2f} -> {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
