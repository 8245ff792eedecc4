"""TUSZ: benchmark seizures -> IBM windows -> cached representation -> tf.data batches.

`build_tusz_features(corpus, representation, cache_dir, ...)` cuts every benchmark seizure
(IBM protocol, `TUSZCorpus.read` of [start, stop) at `fs` in the TCP montage), computes its
windows in the chosen representation once and stores them in a `FeatureCache`:

- "fft": IBM log10 |rfft| windows, array "fft" (n, 20, fmax * wl);
- "ses": the multi-spectral SES set, arrays "ses_0", "ses_1", ... (n, 20, fmax_i * wl, 3);
- "ses_single": one SES member (students, single sub-networks), array "ses_0" (n, 20, fmax * wl, 3).

`tusz_dataset(features, indices, ...)` turns the windows of the selected seizures (positions in
`features.seizures`, e.g. a fold's train positions) into batches of (features, label[, weight]
[, info]). `features.window_order(...)` gives the window table in exactly the dataset's order,
for pooling scores per seizure. See docs/pipelines.md.
"""

import math
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from kerasseizure.errors import KerasSeizureError, SignalError
from kerasseizure.io.labels import SEIZURE_TYPES
from kerasseizure.pipelines import cache as cache_lib

REPRESENTATIONS = ("fft", "ses", "ses_single")
DEFAULT_FMAX = {"fft": 24.0, "ses": (24.0, 48.0, 96.0), "ses_single": 24.0}
MONTAGE_CHANNELS = {"tcp20": 20, "tcp22": 22}
SEIZURE_TABLE_COLUMNS = ["patient_id", "session", "token", "edf_path", "start", "stop", "label", "split"]


# ------------------------------------------------------------------------------ shared helpers


def element_order(positions, shuffle=False, seed=0, epoch=0, shard=None):
    """The element order of one epoch: a permutation of `positions` drawn from (seed, epoch), then sharded.

    Args:
        positions: int array of the elements' rows.
        shuffle: permute with numpy's Generator seeded by (seed, epoch); else keep the order.
        seed, epoch: the draw; the same pair always gives the same order.
        shard: None or (num_shards, index): keep every num_shards-th element starting at index.
            Every worker computes the same permutation, so the shards are disjoint and cover it.

    Returns:
        int64 array.
    """
    order = np.asarray(positions, dtype=np.int64)
    if shuffle:
        order = order[np.random.default_rng([int(seed), int(epoch)]).permutation(order.shape[0])]
    if shard is not None:
        num_shards, index = (int(v) for v in shard)
        if num_shards < 1 or not 0 <= index < num_shards:
            raise ValueError(f"shard must be (num_shards >= 1, 0 <= index < num_shards), got {shard}")
        order = order[index::num_shards]
    return order


def augmentation_rng(seed, epoch):
    """The numpy Generator of one epoch's augmentation draws (independent of the order's)."""
    return np.random.default_rng([int(seed), int(epoch), 0xA46])


def finish_dataset(ds, batch_size, drop_remainder, shuffle, reshuffle_each_iteration, seed, epoch, n):
    """Optional per-iteration reshuffle (seeded), then batch."""
    if shuffle and reshuffle_each_iteration:
        ds = ds.shuffle(max(int(n), 1), seed=int(seed) * 1_000_003 + int(epoch), reshuffle_each_iteration=True)
    return ds.batch(int(batch_size), drop_remainder=bool(drop_remainder))


def _positions(indices, n, what):
    if indices is None:
        return np.arange(n, dtype=np.int64)
    indices = np.asarray(indices)
    if indices.dtype == bool:
        if indices.shape != (n,):
            raise ValueError(f"boolean {what} mask must have {n} entries, got {indices.shape}")
        return np.flatnonzero(indices).astype(np.int64)
    indices = indices.astype(np.int64).ravel()
    if indices.size and (indices.min() < 0 or indices.max() >= n):
        raise IndexError(f"{what} positions must lie in [0, {n}), got min {indices.min()} max {indices.max()}")
    return indices


# ------------------------------------------------------------------------------ features


@dataclass
class TUSZFeatures:
    """Cached windows of the benchmark seizures plus their tables.

    Attributes:
        path: cache folder.
        config: the cache configuration (config.json).
        representation: "fft", "ses" or "ses_single".
        classes: class names in label-index order (the `types` the features were built with).
        seizures: one row per benchmark seizure (the corpus' benchmark table, in its order) with
            label_index, n_windows, row_start and `skipped` (reason, '' if kept). Fold functions
            of `kerasseizure.evaluation.folds` take this table; their positions index it.
        windows: one row per window: window (row in the arrays), seizure (row of `seizures`),
            window_in_seizure, start_seconds (in the recording), patient_id, label, label_index.
        arrays: {input name: (n_windows, ...) float array}, memory-mapped unless in_memory.
        report: the build report (counts of skipped seizures and why, excluded types...).
    """

    path: Path
    config: dict
    representation: str
    classes: tuple
    seizures: pd.DataFrame
    windows: pd.DataFrame
    arrays: dict
    report: dict = field(default_factory=dict)

    @property
    def input_names(self):
        """Names of the cached inputs ("fft" or "ses_0", "ses_1", ...)."""
        return tuple(sorted(self.arrays))

    @property
    def skipped(self):
        """The seizures that yield no windows, with the reason."""
        return self.seizures[self.seizures["skipped"] != ""]

    def __repr__(self):
        shapes = {k: tuple(v.shape) for k, v in self.arrays.items()}
        return (f"TUSZFeatures({self.representation!r}, seizures={len(self.seizures)}, "
                f"windows={len(self.windows)}, skipped={len(self.skipped)}, arrays={shapes}, path='{self.path}')")

    def window_positions(self, indices=None, stride=1):
        """Window rows of the seizures at `indices` (positions in `seizures`; None = all), in seizure order.

        `stride` keeps every stride-th window of each seizure (its windows 0, stride, 2 * stride...):
        IBM's 1 s windows every 0.25 s overlap by 75%, stride 4 leaves them disjoint.
        """
        if int(stride) < 1:
            raise ValueError(f"stride must be >= 1, got {stride!r}")
        seizures = _positions(indices, len(self.seizures), "seizure")
        starts = self.seizures["row_start"].to_numpy()[seizures]
        counts = self.seizures["n_windows"].to_numpy()[seizures]
        if counts.sum() == 0:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([np.arange(s, s + c, int(stride), dtype=np.int64) for s, c in zip(starts, counts)])

    def window_order(self, indices=None, shuffle=False, seed=0, epoch=0, shard=None, window_stride=1):
        """The window table in exactly the order `tusz_dataset` yields with the same arguments."""
        order = element_order(self.window_positions(indices, window_stride), shuffle, seed, epoch, shard)
        return self.windows.iloc[order].reset_index(drop=True)

    def numpy(self, indices=None, inputs=None):
        """(x, y, windows) in memory for the seizures at `indices`: for sklearn baselines and checks.

        x is an array for a single input (fft: (n, 20, bins); flatten it for the baselines) or a
        dict; y the int32 label indices; windows the matching window table.
        """
        rows = self.window_positions(indices)
        names = _input_names(self, inputs)
        x = {name: np.asarray(self.arrays[name][rows]) for name in names}
        x = x[names[0]] if _single(self, inputs) else x
        return x, self.windows["label_index"].to_numpy(np.int32)[rows], self.windows.iloc[rows].reset_index(drop=True)


def _input_names(features, inputs):
    if inputs is None:
        return list(features.input_names)
    names = [inputs] if isinstance(inputs, str) else list(inputs)
    unknown = [n for n in names if n not in features.arrays]
    if unknown:
        raise ValueError(f"unknown inputs {unknown}; these features hold {list(features.input_names)}")
    return names


def _single(features, inputs):
    if inputs is None:
        return features.representation in ("fft", "ses_single")
    return isinstance(inputs, str)


def _fmax_config(representation, fmax):
    if fmax is None:
        fmax = DEFAULT_FMAX[representation]
    if representation == "ses":
        fmax = (fmax,) if np.isscalar(fmax) else tuple(fmax)
        return tuple(float(f) for f in fmax)
    if not np.isscalar(fmax):
        raise ValueError(f"representation {representation!r} takes one fmax, got {fmax!r}")
    return float(fmax)


def _check_rate(fs, wl, fmax_values):
    if not (isinstance(fs, (int, float, np.integer, np.floating)) and fs > 0 and math.isfinite(fs)):
        raise SignalError(f"sampling rate must be a positive number of Hz, got fs={fs!r}")
    length = int(math.floor(wl * fs))
    for f in fmax_values:
        bins = int(math.floor(f * wl))
        if not 1 <= bins <= length // 2:
            raise SignalError(f"fmax={f} Hz is not below the Nyquist frequency of fs={fs} Hz "
                              f"(wl={wl} s keeps {bins} bins, at most {length // 2} exist); raise fs or lower fmax")


def compute_seizure_windows(x, representation, params):
    """The per-seizure computation: (20, n) float32 -> {input name: windows array}.

    Module-level so that tests can count calls or simulate a crash (monkeypatch).
    """
    from kerasseizure.signal import fft_windows, multi_spectral_ses, saliency_encoded_spectrogram

    grid = dict(fs=params["fs"], wl=params["wl"], ws=params["ws"])
    if representation == "fft":
        return {"fft": fft_windows(x, fmax=params["fmax"], **grid).numpy()}
    ses = dict(params["ses"])
    ses["radii"] = tuple(ses["radii"])
    if representation == "ses":
        members = multi_spectral_ses(x, fmax=tuple(params["fmax"]), **grid, **ses)
        return {f"ses_{i}": m.numpy() for i, m in enumerate(members)}
    return {"ses_0": saliency_encoded_spectrogram(x, fmax=params["fmax"], **grid, **ses).numpy()}


def _read_seizure(corpus, row, montage, fs):
    """The `Recording` of one seizure's range (kept whole: its flat_electrodes decide whether it is used)."""
    return corpus.read(row, montage=montage, fs=fs, start=float(row["start"]), stop=float(row["stop"]))


def _slow_recordings(seizures, recordings, fmax):
    """{edf_path: file rate} of the seizures' recordings whose Nyquist frequency is not above `fmax` Hz.

    Resampling to `fs` adds no content above the file's own Nyquist frequency: the bins up there
    would hold only resampling leakage. Needs the index only (no signal read).
    """
    rates = seizures["edf_path"].map(dict(zip(recordings["edf_path"], recordings["fs"]))).astype(float)
    slow = rates / 2 <= fmax  # NaN (rate unknown) is left to the reader's own error
    return dict(zip(seizures.loc[slow, "edf_path"], rates[slow]))


def _checked_segments(segments, types):
    missing = [c for c in SEIZURE_TABLE_COLUMNS if c not in segments.columns]
    if missing:
        raise ValueError(f"segments lack the columns {missing} (expected {SEIZURE_TABLE_COLUMNS})")
    unknown = sorted(set(segments["label"]) - set(types))
    if unknown:
        raise ValueError(f"segments have labels {unknown} outside the classes {list(types)}")
    if not (segments["stop"] > segments["start"]).all():
        raise ValueError("segments must have stop > start")
    return segments


def build_tusz_features(corpus, representation="fft", cache_dir=None, *, fs=250, montage="tcp20", wl=1.0,
                        ws=0.25, fmax=None, box_size=3, sigma=1.0, truncate=4.0, radii=(1, 2, 4), normalize=True,
                        types=SEIZURE_TYPES, splits=None, dtype="float32", skip_bad=False, rebuild=False,
                        progress=True, in_memory=False, plan_only=False, segments=None):
    """Compute (or load from the cache) the windows of every benchmark seizure (or of `segments`).

    Args:
        corpus: a `TUSZCorpus` or the path of a TUSZ root.
        representation: "fft", "ses" or "ses_single".
        cache_dir: folder holding the caches (default `$KERASSEIZURE_CACHE` or
            ~/.cache/kerasseizure/features); the cache is `<cache_dir>/tusz-<repr>-<key>/`.
        fs, montage: rate (Hz) and TCP montage of the segments (IBM: 250, "tcp20").
        wl, ws: window length and step in seconds (IBM: 1, 0.25).
        fmax: Hz; one value for "fft"/"ses_single" (default 24), one per member for "ses"
            (default (24, 48, 96)).
        box_size, sigma, truncate, radii, normalize: SES options (ignored by "fft").
        types: seizure types kept, in class-index order (default the seven benchmark types).
        splits: splits pooled (default the benchmark's train + dev / dev_test).
        dtype: storage dtype of the arrays ("float32" or "float16").
        skip_bad: a seizure whose segment cannot be read or transformed (EDF error, non-finite
            samples, an all-zero window), whose recording has a flat (constant) electrode over the
            seizure, or whose recording's own rate is at most 2 x fmax is skipped and counted
            (reasons "unreadable", "non-finite samples", "transform error", "flat electrode",
            "sampling rate below 2 x fmax") instead of raising.
        rebuild: recompute even when a complete cache exists.
        progress: progress line on stderr while building.
        in_memory: load the arrays into memory instead of memory-mapping them.
        plan_only: when the cache is not complete, read no signal and write nothing: return the
            features the build would produce, from the corpus index alone (`planned_features`);
            a complete cache is loaded as usual.
        segments: None (the benchmark seizures of `types` in `splits`), or a table of labelled
            recording pieces to window instead (columns of SEIZURE_TABLE_COLUMNS; detection's
            `io.tusz_detection.detection_segments` / `recording_segments`); every label must be
            one of `types`, which then gives the class order ("bckg" first for a detector), and
            `splits` is ignored. The features call them seizures all the same.

    Returns:
        TUSZFeatures.

    Raises:
        ValueError: unknown representation; SignalError: fmax above the Nyquist frequency of `fs`,
        a segment with the wrong number of channels; unless skip_bad: recordings whose file rate
        is at most 2 x max(fmax) (all named), a flat electrode, bad values; EDFError: unreadable
        recording or missing electrodes (unless skip_bad).
    """
    from kerasseizure.io.tusz import BENCHMARK_SPLITS, TUSZCorpus
    from kerasseizure.signal import filters, reference, saliency, spectral
    from kerasseizure.signal import montage as montage_module
    from kerasseizure.signal.spectral import fft_window_count, window_samples

    if representation not in REPRESENTATIONS:
        raise ValueError(f"representation must be one of {REPRESENTATIONS}, got {representation!r}")
    if montage not in MONTAGE_CHANNELS:
        raise ValueError(f"montage must be one of {tuple(MONTAGE_CHANNELS)}, got {montage!r}")
    if np.dtype(dtype) not in (np.float32, np.float16):
        raise ValueError(f"dtype must be float32 or float16, got {dtype!r}")
    if not isinstance(corpus, TUSZCorpus):
        corpus = TUSZCorpus(corpus)
    splits = BENCHMARK_SPLITS if splits is None else tuple(splits)
    types = tuple(t.lower() for t in types)
    fmax = _fmax_config(representation, fmax)
    _check_rate(fs, wl, fmax if isinstance(fmax, tuple) else (fmax,))
    window_samples(fs, wl, ws)  # raises on a grid without samples

    if segments is None:
        seizures, excluded = corpus.benchmark_seizures(types, splits)
    else:
        seizures, excluded = _checked_segments(segments, types), {}
        splits = tuple(sorted(set(seizures["split"])))
    seizures = seizures.reset_index(drop=True)
    top = max(fmax) if isinstance(fmax, tuple) else fmax
    slow = _slow_recordings(seizures, corpus.recordings, top)
    if slow and not skip_bad:
        listing = "; ".join(f"{path} ({rate:g} Hz)" for path, rate in slow.items())
        raise SignalError(f"{listing}: sampling rate below 2 x fmax (fmax={top:g} Hz needs more than {2 * top:g} "
                          "Hz): the spectrum above the file's Nyquist frequency would be empty; lower fmax or "
                          "pass skip_bad=True")
    used = corpus.recordings[corpus.recordings["edf_path"].isin(seizures["edf_path"])]
    params = {"fs": float(fs), "wl": float(wl), "ws": float(ws), "fmax": fmax}
    if representation != "fft":
        params["ses"] = {"box_size": int(box_size), "sigma": float(sigma), "truncate": float(truncate),
                         "radii": [int(r) for r in radii], "normalize": bool(normalize)}
    config = {
        "pipeline": "tusz", "representation": representation, "montage": montage, "params": params,
        "types": list(types), "splits": list(splits), "dtype": np.dtype(dtype).name,
        "corpus": {"root": str(Path(corpus.root).resolve()), "version": str(corpus.version),
                   "seizures_sha256": cache_lib.table_fingerprint(seizures, [c for c in SEIZURE_TABLE_COLUMNS
                                                                              if c in seizures.columns]),
                   "recordings_sha256": cache_lib.table_fingerprint(
                       used, [c for c in ("edf_path", "fs", "duration", "n_electrodes") if c in used.columns]),
                   "n_seizures": len(seizures)},
        "code": cache_lib.code_version(spectral, saliency, filters, montage_module, reference, *reference.MODULES,
                                       sys.modules[__name__]),
    }
    store = cache_lib.FeatureCache(cache_dir if cache_dir is not None else cache_lib.default_cache_dir(),
                                   f"tusz-{representation.replace('_', '')}", config)
    n_channels = MONTAGE_CHANNELS[montage]
    length, _ = window_samples(fs, wl, ws)
    if plan_only and (rebuild or not store.is_complete()):
        return _warn_skipped(planned_features(store, seizures, types, representation, n_channels, dtype,
                                              skipped=dict.fromkeys(slow, "sampling rate below 2 x fmax")))

    def compute(position):
        row = seizures.iloc[position]
        where = f"{row['edf_path']} [{float(row['start']):.3f}, {float(row['stop']):.3f}) s"
        if row["edf_path"] in slow:  # only with skip_bad: otherwise the check above raised
            return cache_lib.ItemResult(meta={"n_samples": 0, "error": f"file rate {slow[row['edf_path']]:g} Hz, "
                                                                      f"fmax {top:g} Hz"},
                                        skipped="sampling rate below 2 x fmax")
        try:
            recording = _read_seizure(corpus, row, montage, fs)
        except KerasSeizureError as error:
            if not skip_bad:
                raise
            return cache_lib.ItemResult(meta={"n_samples": 0, "error": str(error)}, skipped="unreadable")
        x = recording.signals
        if x.ndim != 2 or x.shape[0] != n_channels:
            raise SignalError(f"{where}: expected {n_channels} channels ({montage}), got shape {x.shape}")
        n_samples = int(x.shape[-1])
        meta = {"n_samples": n_samples, "error": ""}
        if recording.flat_electrodes:
            # A disconnected electrode leaves each bipolar channel built from it with its partner's signal only.
            problem = f"flat electrode(s) {', '.join(recording.flat_electrodes)} (constant over the range read)"
            if not skip_bad:
                raise SignalError(f"{where}: {problem}")
            meta["error"] = problem
            return cache_lib.ItemResult(meta=meta, skipped="flat electrode")
        if fft_window_count(n_samples, fs, wl, ws) == 0:
            meta["error"] = f"{n_samples} samples, one window needs more than {length}"
            return cache_lib.ItemResult(meta=meta, skipped="shorter than one window")
        non_finite = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
        meta["non_finite"] = non_finite
        if non_finite:
            if not skip_bad:
                raise SignalError(f"{where}: {non_finite} non-finite samples (EDF data cannot hold NaN: "
                                  "the reader or resampler produced them)")
            meta["error"] = f"{non_finite} non-finite samples"
            return cache_lib.ItemResult(meta=meta, skipped="non-finite samples")
        try:
            arrays = compute_seizure_windows(x, representation, params)
        except SignalError as error:
            if not skip_bad:
                raise SignalError(f"{where}: {error}") from error
            meta["error"] = str(error)
            return cache_lib.ItemResult(meta=meta, skipped="transform error")
        return cache_lib.ItemResult({k: v.astype(dtype, copy=False) for k, v in arrays.items()}, meta)

    def report_extra(table):
        skipped = table[table["skipped"] != ""]
        return {"excluded_types": {k: int(v) for k, v in excluded.items()},
                "skipped_seizures": [{"position": int(i), "edf_path": str(seizures["edf_path"].iloc[i]),
                                      "start": float(seizures["start"].iloc[i]), "reason": r, "detail": d}
                                     for i, r, d in zip(skipped.index, skipped["skipped"], skipped["error"])],
                "windows_per_class": {t: int(table.loc[seizures["label"].to_numpy() == t, "n_rows"].sum())
                                      for t in types}}

    contents = store.get_or_build(range(len(seizures)), compute, rebuild=rebuild, in_memory=in_memory,
                                  progress=progress, description=f"TUSZ {representation} features",
                                  report_extra=report_extra)
    return _warn_skipped(_assemble(contents.items, seizures, types, representation, contents.path, contents.config,
                                   contents.arrays, contents.report))


def _warn_skipped(features):
    if len(features.skipped):
        reasons = features.skipped["skipped"].value_counts().to_dict()
        warnings.warn(f"build_tusz_features: {len(features.skipped)} of {len(features.seizures)} seizures yield no "
                      f"windows and are left out: {reasons} (listed in features.skipped and report.json)",
                      stacklevel=3)
    return features


def planned_features(store, seizures, types, representation, n_channels, dtype, skipped=None):
    """The features a build into `store` would produce, from the corpus index alone.

    Each seizure's window count follows from its duration (the reader resamples [start, stop) to
    floor((stop - start) * fs) samples); the arrays have the built shapes and dtype but are
    read-only broadcasts of zeros that hold no memory. `report` says `planned` and gives the
    bytes the arrays will take on disk. Seizures whose signal would be refused (a flat
    electrode, non-finite samples) can't be known without reading them and count as kept.

    Args:
        store: the `FeatureCache` the build would write (its config holds the parameters).
        seizures: the benchmark seizure table.
        types, representation, n_channels, dtype: as the build's.
        skipped: {edf_path: reason} of recordings known from the index to be left out.
    """
    from kerasseizure.signal.spectral import fft_window_count, window_samples

    params = store.config["params"]
    fs, wl, ws = params["fs"], params["wl"], params["ws"]
    durations = (seizures["stop"] - seizures["start"]).to_numpy(np.float64)
    n_samples = np.floor(durations * fs).astype(np.int64)
    counts = np.array([fft_window_count(int(n), fs, wl, ws) for n in n_samples], dtype=np.int64)
    reasons = seizures["edf_path"].map(skipped or {}).fillna("").astype(str).to_numpy()
    reasons = np.where((reasons == "") & (counts == 0), "shorter than one window", reasons)
    counts[reasons != ""] = 0
    length, _ = window_samples(fs, wl, ws)
    one_window = np.random.default_rng(0).standard_normal((n_channels, length + 1)).astype(np.float32)
    shapes = {name: a.shape[1:] for name, a in compute_seizure_windows(one_window, representation, params).items()}
    total = int(counts.sum())
    arrays = {name: np.broadcast_to(np.zeros(shape, dtype), (total, *shape)) for name, shape in shapes.items()}
    items = pd.DataFrame({"n_samples": n_samples, "n_rows": counts, "row_start": np.cumsum(counts) - counts,
                          "skipped": reasons})
    report = {"planned": True, "cache": str(store.path), "bytes": int(sum(a.nbytes for a in arrays.values()))}
    return _assemble(items, seizures, types, representation, store.path, store.config, arrays, report)


def build_seconds_per_window(corpus, features, count=3):
    """Measured seconds to read and transform one window of `features` (planned or built).

    The first kept seizure is read and transformed once untimed (tracing, file caches), then the
    next `count` are timed: their seconds over their windows.
    """
    params, montage = features.config["params"], features.config["montage"]
    kept = features.seizures[(features.seizures["skipped"] == "") & (features.seizures["n_windows"] > 0)]
    if len(kept) < 2:
        raise ValueError(f"{corpus.root}: too few seizures with windows to time the feature build")

    def build(row):
        compute_seizure_windows(_read_seizure(corpus, row, montage, params["fs"]).signals, features.representation,
                                params)

    build(kept.iloc[0])
    timed = kept.iloc[1 : count + 1]
    start = time.perf_counter()
    for _, row in timed.iterrows():
        build(row)
    return (time.perf_counter() - start) / int(timed["n_windows"].sum())


def _assemble(items, seizures, types, representation, path, config, arrays, report):
    if len(items) != len(seizures):
        raise cache_lib.CacheError(f"{path}: {len(items)} items for {len(seizures)} seizures")
    table = seizures.copy()
    table["label_index"] = table["label"].map({t: i for i, t in enumerate(types)}).astype(np.int32)
    table["n_samples"] = items["n_samples"].to_numpy(np.int64)
    table["n_windows"] = items["n_rows"].to_numpy(np.int64)
    table["row_start"] = items["row_start"].to_numpy(np.int64)
    table["skipped"] = items["skipped"].astype(str).to_numpy()
    params = config["params"]
    step = int(math.floor(params["ws"] * params["fs"]))
    counts = table["n_windows"].to_numpy()
    seizure = np.repeat(np.arange(len(table)), counts)
    within = np.arange(counts.sum()) - np.repeat(table["row_start"].to_numpy(), counts)
    starts = table["start"].to_numpy(np.float64)
    windows = pd.DataFrame({
        "window": np.arange(counts.sum(), dtype=np.int64),
        "seizure": seizure.astype(np.int64),
        "window_in_seizure": within.astype(np.int64),
        "start_seconds": starts[seizure] + within * step / params["fs"],
        "patient_id": table["patient_id"].to_numpy()[seizure],
        "label": table["label"].to_numpy()[seizure],
        "label_index": table["label_index"].to_numpy()[seizure],
    })
    return TUSZFeatures(path, config, representation, tuple(types), table, windows, arrays, report)


# ------------------------------------------------------------------------------ dataset


def subsample_background(features, rows, ratio, seed=0, epoch=0, background="bckg"):
    """Window rows for one epoch of a detector: every non-background row of `rows` and a fresh
    random draw (seeded by seed and epoch) of `ratio` background rows per non-background one.

    Whole recordings are mostly background (most hold no seizure at all); drawing a new subset
    each epoch keeps the classes within `ratio` of each other, and over the epochs the model sees
    much more of the background than one fixed draw would show. Returns the rows sorted (the
    dataset shuffles them).

    Args:
        features: TUSZFeatures whose classes include `background`.
        rows: candidate window rows (e.g. `features.window_positions(train)`).
        ratio: background windows per non-background window (> 0); all of them when fewer exist.
        seed, epoch: the draw.
        background: the background class name. Defaults to "bckg".
    """
    if background not in features.classes:
        raise ValueError(f"no {background!r} class among {features.classes}")
    if not ratio > 0:
        raise ValueError(f"ratio must be > 0, got {ratio!r}")
    rows = np.asarray(rows, dtype=np.int64)
    is_background = features.windows["label"].to_numpy()[rows] == background
    foreground, candidates = rows[~is_background], rows[is_background]
    count = min(len(candidates), int(round(ratio * max(len(foreground), 1))))
    drawn = np.random.default_rng([int(seed), int(epoch), 7]).choice(candidates, size=count, replace=False)
    return np.sort(np.concatenate([foreground, drawn]))


def tusz_dataset(features, indices=None, batch_size=32, *, window_stride=1, shuffle=False, seed=0, epoch=0,
                 reshuffle_each_iteration=False, shard=None, inputs=None, one_hot=False, sample_weight=None,
                 include_info=False, drop_remainder=False, prefetch=True, window_rows=None):
    """tf.data batches of the windows of the seizures at `indices`.

    Args:
        features: TUSZFeatures from `build_tusz_features`.
        indices: positions in `features.seizures` (a fold's train or validation positions), a
            boolean mask over it, or None for every seizure.
        batch_size: windows per batch.
        window_stride: keep every k-th window of each seizure (`TUSZFeatures.window_positions`).
        shuffle: permute the windows with (seed, epoch) (same arguments, same order).
        seed, epoch: the permutation (and nothing else: there is no random augmentation).
        reshuffle_each_iteration: additionally let tf.data reshuffle on every iteration (seeded;
            the order then depends on how many times the dataset was iterated, which breaks exact
            resume in `training.fit`: prefer a new dataset per epoch via `epoch`).
        shard: (num_shards, index) for multi-worker input: disjoint parts covering the whole.
        inputs: None (the representation's inputs: an array for "fft"/"ses_single", the dict
            {"ses_0", "ses_1", "ses_2"} for "ses"), one name (an array) or a list (a dict).
        one_hot: labels as one-hot float32 vectors instead of int32 indices.
        sample_weight: None, "balanced" (n / (classes * count) over the selected windows) or
            "per_seizure" (1 / windows of its seizure, so each seizure weighs the same).
        include_info: append {"window", "seizure", "patient_id"} to each element (for
            evaluation loops; Keras `fit` does not accept the extra element).
        drop_remainder: drop the last incomplete batch.
        prefetch: add `prefetch(AUTOTUNE)`.
        window_rows: explicit window rows to use instead of the windows of `indices` (which is
            then ignored, as is `window_stride`): e.g. `subsample_background`'s draw for an epoch.

    Returns:
        tf.data.Dataset of (x, y[, w][, info]) batches; x float32 (batch, 20, bins) for "fft",
        (batch, 20, bins, 3) per SES input.
    """
    import tensorflow as tf

    names = _input_names(features, inputs)
    single = _single(features, inputs)
    if window_rows is None:
        selected = features.window_positions(indices, window_stride)
    else:
        selected = np.asarray(window_rows, dtype=np.int64)
    order = element_order(selected, shuffle, seed, epoch, shard)
    labels = features.windows["label_index"].to_numpy(np.int32)
    n_classes = len(features.classes)
    weights = None
    if sample_weight is not None:
        weights = _window_weights(features, labels, selected, sample_weight, n_classes)
    arrays = [features.arrays[name] for name in names]
    trailing = [tuple(a.shape[1:]) for a in arrays]

    def load(rows):
        return tuple(np.asarray(a[rows], dtype=np.float32) for a in arrays)

    def to_element(rows):
        values = tf.numpy_function(load, [rows], [tf.float32] * len(arrays), stateful=False)
        for value, shape in zip(values, trailing):
            value.set_shape((None, *shape))
        x = values[0] if single else dict(zip(names, values))
        y = tf.gather(tf.constant(labels), rows)
        if one_hot:
            y = tf.one_hot(y, n_classes, dtype=tf.float32)
        element = (x, y)
        if weights is not None:
            element += (tf.gather(tf.constant(weights), rows),)
        if include_info:
            element += ({"window": rows, "seizure": tf.gather(tf.constant(features.windows["seizure"].to_numpy()), rows),
                         "patient_id": tf.gather(tf.constant(features.windows["patient_id"].astype(str).to_numpy()),
                                                 rows)},)
        return element

    ds = tf.data.Dataset.from_tensor_slices(order)
    ds = finish_dataset(ds, batch_size, drop_remainder, shuffle, reshuffle_each_iteration, seed, epoch, len(order))
    ds = ds.map(to_element, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE) if prefetch else ds


def _window_weights(features, labels, order, rule, n_classes):
    """Weights of every window in `order` (the whole selection, before sharding), 0 elsewhere."""
    weights = np.zeros(len(labels), dtype=np.float32)
    if rule == "balanced":
        counts = np.bincount(labels[order], minlength=n_classes).astype(np.float64)
        per_class = np.where(counts > 0, len(order) / (n_classes * np.maximum(counts, 1)), 0.0)
        weights[order] = per_class[labels[order]]
    elif rule == "per_seizure":
        seizure = features.windows["seizure"].to_numpy()
        n_windows = features.seizures["n_windows"].to_numpy()
        weights[order] = 1.0 / n_windows[seizure[order]]
    else:
        raise ValueError(f"sample_weight must be None, 'balanced' or 'per_seizure', got {rule!r}")
    return weights
