"""HMS: per-eeg_id rows -> cached WaveNet input and spectrogram panels -> tf.data batches.

`build_hms_features(dataset, cache_dir, ...)` computes, once per eeg_id, the expensive views and
stores them in a `FeatureCache`:

- "wavenet": (variants, 2000, 8), the WaveNet starter's input (`signal.wavenet_input`);
- "eeg_panels": (variants, 128, 256, 4), the EEG mel panels LL, LP, RL, RP (`hms_eeg_spectrogram`);
- "kaggle_panels": (variants, 128, 256, 4), the Kaggle-spectrogram panels LL, RL, LP, RP.

Variant 0 is the un-augmented view: the middle 50 s of the EEG (both starters) and the 10 min
Kaggle window at the `spectrogram_offset` rule. With `time_shift_views=K`, variants 1..K are
K of the eeg_id's labelled sub-rows (evenly spaced in eeg_sub_id order): the 50 s EEG window at
that sub-row's eeg_label_offset_seconds and the Kaggle window at its
spectrogram_label_offset_seconds; the time-shift augmentation draws one of them.

Panels are cached rather than the 512 x 512 x 3 image (4x smaller, and the image size is chosen
per dataset): `hms_dataset` assembles the image in TF (`hms_image_from_panels`). The left/right
swap is exact on the cached views: mirroring the 20 electrodes before the views permutes the 8
WaveNet differences (Fp1-T3 <-> Fp2-T4, ...) and swaps the panels LL<->RL, LP<->RP, because every
step after the montage works per difference/chain (the tests check it against views of
`mirror_hms(eeg)`). So augmented elements are permutations of cached arrays, computed on the fly
by `hms_dataset` (defined in `kerasseizure.pipelines.hms_batches`, re-exported here).
"""

import functools
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from kerasseizure.errors import KerasSeizureError, SignalError
from kerasseizure.io.channels import HMS_EEG_COLUMNS
from kerasseizure.io.labels import HMS_CLASSES
from kerasseizure.pipelines import cache as cache_lib
from kerasseizure.pipelines.hms_batches import (
    EEG_PANEL_ORDER,
    KAGGLE_PANEL_ORDER,
    hms_dataset,
    panel_mirror_permutation,
)
from kerasseizure.pipelines.tusz import _positions, element_order

__all__ = [
    "EEG_PANEL_ORDER", "HMSFeatures", "KAGGLE_PANEL_ORDER", "POPULATIONS", "SPECTROGRAM_OFFSET_RULES", "VIEWS",
    "WINDOW_SAMPLES", "build_hms_features", "compute_hms_views", "hms_dataset", "panel_mirror_permutation",
]

VIEWS = ("eeg", "image")
POPULATIONS = ("low", "high", "mixed")
SPECTROGRAM_OFFSET_RULES = ("midpoint", "mean")
WINDOW_SAMPLES = 10_000


# ------------------------------------------------------------------------------ features


@dataclass
class HMSFeatures:
    """Cached HMS views, one row per eeg_id.

    Attributes:
        path: cache folder.
        config: the cache configuration (config.json).
        split: "train" or "test".
        views: the views cached ("eeg", "image").
        table: one row per eeg_id kept (labels / test ids order): ids, the six probabilities,
            total_votes, population, the offsets used, n_variants (time-shift variants
            available), NaN counts; `row` is the row in the arrays. Fold functions
            (`group_kfold_by_patient(features.table)`) index it.
        arrays: {"wavenet", "eeg_panels", "kaggle_panels"} arrays (rows, 1 + K, ...).
        skipped: eeg_ids left out (skip_bad) with the reason.
        report: the build report (NaN fills, skipped counts...).
    """

    path: Path
    config: dict
    split: str
    views: tuple
    table: pd.DataFrame
    arrays: dict
    skipped: pd.DataFrame
    report: dict = field(default_factory=dict)

    @property
    def time_shift_views(self):
        return int(self.config["time_shift_views"])

    def __repr__(self):
        shapes = {k: tuple(v.shape) for k, v in self.arrays.items()}
        return (f"HMSFeatures(split={self.split!r}, eeg_ids={len(self.table)}, skipped={len(self.skipped)}, "
                f"arrays={shapes}, path='{self.path}')")

    def positions(self, indices=None, population="all"):
        """Positions in `table` of `indices` (None = all) whose population is kept."""
        positions = _positions(indices, len(self.table), "eeg_id")
        return positions[_population_mask(self.table, population)[positions]]

    def element_table(self, indices=None, population="all", shuffle=False, seed=0, epoch=0, shard=None):
        """The table rows in exactly the order `hms_dataset` yields with the same arguments."""
        order = element_order(self.positions(indices, population), shuffle, seed, epoch, shard)
        return self.table.iloc[order].reset_index(drop=True)


def _population_mask(table, population):
    if population is None or population == "all":
        return np.ones(len(table), dtype=bool)
    if "population" not in table.columns:
        raise ValueError("population filtering needs the train labels (test features have no votes)")
    wanted = (population,) if isinstance(population, str) else tuple(population)
    unknown = [p for p in wanted if p not in POPULATIONS]
    if unknown:
        raise ValueError(f"population must be 'all' or among {POPULATIONS}, got {population!r}")
    return table["population"].isin(wanted).to_numpy()


def _sub_row_offsets(rows, k):
    """K (eeg offset, spectrogram offset) pairs of an eeg_id's sub-rows, evenly spaced; and how many are distinct."""
    rows = rows.sort_values("eeg_sub_id")
    pairs = list(dict.fromkeys(zip(rows["eeg_label_offset_seconds"].astype(float),
                                   rows["spectrogram_label_offset_seconds"].astype(float))))
    if not pairs:
        return [], 0
    n_valid = min(len(pairs), k)
    chosen = np.round(np.linspace(0, len(pairs) - 1, n_valid)).astype(int) if n_valid > 0 else []
    picked = [pairs[i] for i in chosen]
    while len(picked) < k:  # rectangular arrays: repeat; only the first n_valid are drawn
        picked.append(picked[len(picked) % n_valid])
    return picked, n_valid


@functools.lru_cache(maxsize=None)
def _views_function(views, wavenet, standardize_over, with_kaggle):
    """The views of `compute_hms_views` as one XLA-compiled function per settings.

    XLA fuses the elementwise steps around the STFT and filter products: about 4x faster per
    window than op-by-op eager execution (docs/benchmarks.md). It compiles once per number of
    windows V (1 + time_shift_views at most), a few seconds each.
    """
    import tensorflow as tf

    from kerasseizure.signal import hms_eeg_spectrogram, kaggle_spectrogram_panels, wavenet_input

    @tf.autograph.experimental.do_not_convert
    def compute(eeg, kaggle):
        out = {}
        if "eeg" in views:
            out["wavenet"] = wavenet_input(eeg, fs=200, **dict(wavenet))
        if "image" in views:
            out["eeg_panels"] = hms_eeg_spectrogram(eeg, fs=200)
            if with_kaggle:
                out["kaggle_panels"] = kaggle_spectrogram_panels(kaggle, standardize_over=standardize_over)
        return out

    return tf.function(compute, jit_compile=True, reduce_retracing=True)


def compute_hms_views(eeg_windows, kaggle_windows, views, params):
    """The per-eeg_id computation: (V, 10000, 20) EEG windows and (V, 300, 400) Kaggle windows (or None) -> arrays.

    The transforms run as one XLA-compiled function (`_views_function`). Module-level so that tests
    can count calls or simulate a crash (monkeypatch). Returns ({name: array with a leading axis of
    1}, {"eeg_nan": n, "eeg_all_nan_channels": n, "kaggle_nan": n}).
    """
    views = (views,) if isinstance(views, str) else tuple(views)
    counts = {}
    nan = np.isnan(eeg_windows[0])
    counts["eeg_nan"] = int(nan.sum())
    counts["eeg_all_nan_channels"] = int(nan.all(axis=0).sum())
    with_kaggle = "image" in views and kaggle_windows is not None
    if with_kaggle:
        counts["kaggle_nan"] = int(np.isnan(kaggle_windows[0]).sum())
    compute = _views_function(
        views, tuple(sorted((params["wavenet"] or {}).items())),
        (params["image"] or {}).get("standardize_over"), with_kaggle)
    kaggle = np.asarray(kaggle_windows if with_kaggle else np.zeros(0), np.float32)
    arrays = compute(np.asarray(eeg_windows, np.float32), kaggle)
    return {name: value.numpy()[None] for name, value in arrays.items()}, counts


def build_hms_features(dataset, cache_dir=None, *, views=VIEWS, split="train", spectrogram_offset="midpoint",
                       kaggle_spectrogram=True, low_hz=None, high_hz=20.0, filter_order=4, zero_phase=False,
                       padlen=None, clip=1024.0, scale=32.0, keep_every=5, standardize_over="panel",
                       time_shift_views=0, eeg_ids=None, dtype="float32", skip_bad=False, rebuild=False,
                       progress=True, in_memory=False, plan_only=False):
    """Compute (or load from the cache) the per-eeg_id views of an HMS corpus.

    Args:
        dataset: an `HMSDataset` or the competition folder.
        cache_dir: folder holding the caches (default `$KERASSEIZURE_CACHE` or
            ~/.cache/kerasseizure/features); the cache is `<cache_dir>/hms-<split>-<key>/`.
        views: "eeg" (WaveNet input), "image" (spectrogram panels) or both.
        split: "train" (labels, votes) or "test" (test.csv: no targets, Kaggle offset 0).
        spectrogram_offset: the Kaggle window of variant 0: "midpoint" (default; Deotte's
            EfficientNet starter code, row (min + max) // 4) or "mean" (mean sub-row offset / 2).
        kaggle_spectrogram: include the Kaggle panels (False: EEG-only image, 512 x 256).
        low_hz, high_hz, filter_order, zero_phase, padlen, clip, scale, keep_every: WaveNet
            input settings (starter: 20 Hz causal low-pass; paper: low_hz=0.1).
        standardize_over: Kaggle panel statistics ("panel" = starter, or "stack").
        time_shift_views: K label-aligned sub-row variants cached per eeg_id for the time-shift
            augmentation (0 = only the default view).
        eeg_ids: restrict to these eeg_ids (None = all of the split).
        dtype: storage dtype ("float32" or "float16").
        skip_bad: an eeg_id whose files are missing/malformed or whose window does not fit is
            skipped and listed (features.skipped, report.json) instead of raising.
        rebuild, progress, in_memory, plan_only: see `build_tusz_features` (`planned_hms_features`).

    Returns:
        HMSFeatures.

    Raises:
        ValueError: bad arguments; TableError: a missing or malformed file (unless skip_bad);
        SignalError: an EEG window of the wrong shape (sampling rate or columns).
    """
    from kerasseizure.io.hms import HMSDataset
    from kerasseizure.signal import filters, montage, reference, spectral

    views = (views,) if isinstance(views, str) else tuple(views)
    if not views or any(v not in VIEWS for v in views):
        raise ValueError(f"views must be among {VIEWS}, got {views!r}")
    views = tuple(v for v in VIEWS if v in views)
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if spectrogram_offset not in SPECTROGRAM_OFFSET_RULES:
        raise ValueError(f"spectrogram_offset must be one of {SPECTROGRAM_OFFSET_RULES}, got {spectrogram_offset!r}")
    if np.dtype(dtype) not in (np.float32, np.float16):
        raise ValueError(f"dtype must be float32 or float16, got {dtype!r}")
    time_shift_views = int(time_shift_views)
    if time_shift_views < 0 or (split == "test" and time_shift_views):
        raise ValueError("time_shift_views must be >= 0, and 0 for the test split (no sub-rows)")
    if not isinstance(dataset, HMSDataset):
        dataset = HMSDataset(dataset)

    if split == "train":
        table = dataset.labels
        annotations = dataset.annotations
    else:
        table = dataset.test_ids.copy()
        annotations = None
    if eeg_ids is not None:
        wanted = set(int(i) for i in eeg_ids)
        table = table[table["eeg_id"].isin(wanted)]
    table = table.reset_index(drop=True)
    if split == "train":
        offset = (table["spectrogram_label_offset_seconds_mean"] if spectrogram_offset == "mean" else
                  (table["spectrogram_label_offset_seconds_min"] + table["spectrogram_label_offset_seconds_max"]) / 2)
        table["spectrogram_offset_seconds"] = offset.astype(float)
    else:
        table["spectrogram_offset_seconds"] = 0.0

    params = {
        "wavenet": {"low_hz": None if low_hz is None else float(low_hz), "high_hz": float(high_hz),
                    "order": int(filter_order), "zero_phase": bool(zero_phase),
                    "padlen": None if padlen is None else int(padlen), "clip": float(clip),
                    "scale": float(scale), "keep_every": int(keep_every)} if "eeg" in views else None,
        "image": {"standardize_over": standardize_over, "kaggle_spectrogram": bool(kaggle_spectrogram)}
        if "image" in views else None,
    }
    fingerprint_columns = [c for c in ("eeg_id", "spectrogram_id", "patient_id", "spectrogram_offset_seconds",
                                       "total_votes", *HMS_CLASSES) if c in table.columns]
    config = {
        "pipeline": "hms", "split": split, "views": list(views), "params": params,
        "spectrogram_offset": spectrogram_offset, "time_shift_views": time_shift_views,
        "eeg_window": {"seconds": 50, "fs": 200, "default": "middle"}, "dtype": np.dtype(dtype).name,
        "corpus": {"root": str(Path(dataset.root).resolve()),
                   "table_sha256": cache_lib.table_fingerprint(table, fingerprint_columns),
                   "annotations_sha256": None if annotations is None else cache_lib.table_fingerprint(
                       annotations[annotations["eeg_id"].isin(table["eeg_id"])],
                       ["eeg_id", "eeg_sub_id", "eeg_label_offset_seconds", "spectrogram_label_offset_seconds"]),
                   "n_eeg_ids": len(table)},
        "code": cache_lib.code_version(filters, montage, reference, *reference.MODULES, spectral,
                                       sys.modules[__name__]),
    }
    store = cache_lib.FeatureCache(cache_dir if cache_dir is not None else cache_lib.default_cache_dir(),
                                   f"hms-{split}", config)
    use_kaggle = "image" in views and kaggle_spectrogram
    if plan_only and (rebuild or not store.is_complete()):
        return planned_hms_features(store, table, params, dtype, use_kaggle)
    sub_rows = dict(tuple(annotations.groupby("eeg_id"))) if time_shift_views else {}

    def read(position):  # on the ReadAhead thread
        row = table.iloc[position]
        eeg_id = int(row["eeg_id"])
        windows = [(None, float(row["spectrogram_offset_seconds"]))]
        n_valid = 0
        if time_shift_views:
            shifted, n_valid = _sub_row_offsets(sub_rows.get(eeg_id, annotations.iloc[:0]), time_shift_views)
            windows += shifted
        eeg = np.stack([dataset.eeg_window(eeg_id, offset_seconds=e, split=split) for e, _ in windows])
        kaggle = None
        if use_kaggle:
            kaggle = np.stack([dataset.spectrogram_window(int(row["spectrogram_id"]), s, split=split).values
                               for _, s in windows])
        return windows, n_valid, eeg, kaggle

    def compute(position):
        eeg_id = int(table["eeg_id"].iat[position])
        meta = {"eeg_id": eeg_id, "n_variants": 0, "error": ""}
        try:
            windows, n_valid, eeg, kaggle = ahead.result(position)
        except KerasSeizureError as error:
            if not skip_bad:
                raise
            meta["error"] = str(error)
            return cache_lib.ItemResult(meta=meta, skipped=type(error).__name__)
        if eeg.shape[1:] != (WINDOW_SAMPLES, len(HMS_EEG_COLUMNS)):
            raise SignalError(f"eeg_id {eeg_id}: EEG window of shape {eeg.shape[1:]}, expected "
                              f"({WINDOW_SAMPLES}, {len(HMS_EEG_COLUMNS)}) (50 s at 200 Hz, columns {HMS_EEG_COLUMNS})")
        arrays, counts = compute_hms_views(eeg, kaggle, views, params)
        meta.update(counts)
        meta["n_variants"] = n_valid
        meta["eeg_offsets"] = ",".join("middle" if e is None else f"{e:g}" for e, _ in windows)
        meta["spectrogram_offsets"] = ",".join(f"{s:g}" for _, s in windows)
        return cache_lib.ItemResult({k: v.astype(dtype, copy=False) for k, v in arrays.items()}, meta)

    def report_extra(items):
        def total(column):
            return int(items[column].fillna(0).sum()) if column in items.columns else 0
        skipped = items[items["skipped"] != ""]
        return {"nan_policy": "starters' rule: NaN -> electrode mean (WaveNet) / difference mean (mel), "
                              "all-NaN -> 0; Kaggle NaN -> 0 after standardisation",
                "nan_filled_eeg_values": total("eeg_nan"),
                "eeg_ids_with_nan": int((items.get("eeg_nan", pd.Series(dtype=float)).fillna(0) > 0).sum()),
                "all_nan_channels": total("eeg_all_nan_channels"),
                "nan_kaggle_values": total("kaggle_nan"),
                "skipped_eeg_ids": [{"eeg_id": int(i), "reason": r, "detail": d}
                                    for i, r, d in zip(skipped["eeg_id"], skipped["skipped"], skipped["error"])]}

    # The parquet reads of the next eeg_ids overlap the views of this one (docs/benchmarks.md).
    with cache_lib.ReadAhead(read, range(len(table))) as ahead:
        contents = store.get_or_build(range(len(table)), compute, rebuild=rebuild, in_memory=in_memory,
                                      progress=progress, description=f"HMS {split} views {'+'.join(views)}",
                                      report_extra=report_extra)
    features = _assemble(contents, table, split, views)
    if len(features.skipped):
        warnings.warn(f"build_hms_features: {len(features.skipped)} eeg_ids skipped: "
                      f"{features.skipped['reason'].value_counts().to_dict()} (features.skipped, report.json)",
                      stacklevel=2)
    return features


def planned_hms_features(store, table, params, dtype, use_kaggle):
    """The features a build into `store` would produce, without reading an EEG.

    The table is the build's (every eeg_id kept: files a build would skip can't be known without
    reading them); the arrays have the built shapes and dtype but are read-only broadcasts of
    zeros that hold no memory; `report` says `planned` and gives the bytes on disk.

    Args:
        store: the `FeatureCache` the build would write (its config holds the settings).
        table: the build's eeg_id table.
        params, dtype, use_kaggle: the build's view settings, storage dtype, Kaggle panels or not.
    """
    from kerasseizure.io.hms import HMS_SPECTROGRAM_BINS, HMS_SPECTROGRAM_REGIONS, HMS_SPECTROGRAM_WINDOW_ROWS

    config = store.config
    variants = 1 + int(config["time_shift_views"])
    rng = np.random.default_rng(0)
    eeg = rng.standard_normal((variants, WINDOW_SAMPLES, len(HMS_EEG_COLUMNS))).astype(np.float32)
    kaggle = rng.random((variants, HMS_SPECTROGRAM_WINDOW_ROWS, len(HMS_SPECTROGRAM_REGIONS) * HMS_SPECTROGRAM_BINS),
                        dtype=np.float32) if use_kaggle else None
    shapes = {name: a.shape[1:] for name, a in compute_hms_views(eeg, kaggle, tuple(config["views"]), params)[0].items()}
    arrays = {name: np.broadcast_to(np.zeros(shape, dtype), (len(table), *shape)) for name, shape in shapes.items()}
    report = {"planned": True, "cache": str(store.path), "bytes": int(sum(a.nbytes for a in arrays.values()))}
    skipped = pd.DataFrame({"eeg_id": pd.Series(dtype=np.int64), "reason": pd.Series(dtype=str),
                            "detail": pd.Series(dtype=str)})
    return HMSFeatures(store.path, config, config["split"], tuple(config["views"]),
                       table.assign(row=np.arange(len(table), dtype=np.int64)), arrays, skipped, report)


def _assemble(contents, table, split, views):
    items = contents.items
    if len(items) != len(table) or not np.array_equal(items["eeg_id"].to_numpy(), table["eeg_id"].to_numpy()):
        raise cache_lib.CacheError(f"{contents.path}: the cached eeg_ids differ from the table's")
    kept = (items["n_rows"] > 0).to_numpy()
    out = table[kept].reset_index(drop=True)
    for column in ("n_variants", "eeg_nan", "eeg_all_nan_channels", "kaggle_nan", "eeg_offsets", "spectrogram_offsets"):
        if column in items.columns:
            out[column] = items.loc[kept, column].to_numpy()
    out["row"] = items.loc[kept, "row_start"].to_numpy(np.int64)
    skipped = pd.DataFrame({"eeg_id": items.loc[~kept, "eeg_id"].to_numpy(),
                            "reason": items.loc[~kept, "skipped"].to_numpy(),
                            "detail": items.loc[~kept, "error"].to_numpy()})
    return HMSFeatures(contents.path, contents.config, split, tuple(views), out, contents.arrays, skipped,
                       contents.report)
