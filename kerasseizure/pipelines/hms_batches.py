"""HMS tf.data batches: cached per-eeg_id views -> (inputs, vote probabilities[, weight][, info]).

`hms_dataset(features, ...)` reads the arrays cached by `kerasseizure.pipelines.hms.build_hms_features`
and yields batches, with the two augmentations applied on the fly to cached arrays: the left/right
swap (`signal.mirror_bipolar` of the 8 WaveNet differences and a permutation of the panels,
`panel_mirror_permutation`; exact because every step after the montage works per difference/chain)
and the time shift (a draw among the cached sub-row variants). Re-exported by
`kerasseizure.pipelines.hms` and `kerasseizure.pipelines`; see docs/pipelines.md.
"""

import numpy as np

from kerasseizure.io.channels import WAVENET_PAIRS
from kerasseizure.io.labels import HMS_CLASSES
from kerasseizure.pipelines.tusz import augmentation_rng, element_order, finish_dataset

# Panel order of the cached arrays: EEG mel panels (hms_eeg_spectrogram) and Kaggle panels (parquet).
EEG_PANEL_ORDER = ("LL", "LP", "RL", "RP")
KAGGLE_PANEL_ORDER = ("LL", "RL", "LP", "RP")


def _mirror_chain(name):
    return {"L": "R", "R": "L"}[name[0]] + name[1:]


def panel_mirror_permutation(order):
    """Panel permutation (LL<->RL, LP<->RP) for panels in `order`."""
    return [order.index(_mirror_chain(name)) for name in order]


def hms_dataset(features, indices=None, batch_size=32, *, inputs="both", population="all", targets=True,
                sample_weight=None, shuffle=False, seed=0, epoch=0, reshuffle_each_iteration=False, shard=None,
                mirror=0.0, time_shift=False, image_size=None, include_kaggle=True, include_info=False,
                drop_remainder=False, prefetch=True):
    """tf.data batches of HMS inputs and vote-probability targets.

    Args:
        features: HMSFeatures from `build_hms_features`.
        indices: positions in `features.table` (a fold's positions), a boolean mask, or None.
        batch_size: eeg_ids per batch.
        inputs: "eeg" (WaveNet (2000, 8)), "image" ((H, W, 3)) or "both" ({"eeg", "image"}).
        population: "all", "low", "high", "mixed" or a tuple of them (two-stage training:
            "low" then "high"; "mixed" eeg_ids are only in "all" or when named).
        targets: yield (x, y[, w]); False yields x only (test split / prediction).
        sample_weight: None, "votes" (total_votes) or "ones".
        shuffle, seed, epoch, reshuffle_each_iteration, shard: as in `tusz_dataset`.
        mirror: probability of the left/right swap per element (True = 0.5); labels unchanged.
        time_shift: draw each element's view among its cached sub-row variants (needs features
            built with time_shift_views > 0; eeg_ids with no sub-row keep the default view).
        image_size: (height, width) of the image, None = native 512 x 512 (512 x 256 EEG-only).
        include_kaggle: put the Kaggle panels in the image (when cached).
        include_info: append {"eeg_id", "mirrored", "variant"} to each element.
        drop_remainder, prefetch: as in `tusz_dataset`.

    Augmentation draws (mirror flags, variants) come from (seed, epoch) only, so the same
    arguments always give the same batches.

    Returns:
        tf.data.Dataset; y float32 (batch, 6) probabilities (Seizure, LPD, GPD, LRDA, GRDA, Other).
    """
    import tensorflow as tf

    from kerasseizure.signal import hms_image_from_panels, mirror_bipolar

    if inputs not in ("eeg", "image", "both"):
        raise ValueError(f"inputs must be 'eeg', 'image' or 'both', got {inputs!r}")
    need = {"eeg": ("eeg",), "image": ("image",), "both": ("eeg", "image")}[inputs]
    missing = [v for v in need if v not in features.views]
    if missing:
        raise ValueError(f"inputs={inputs!r} needs views {missing}, which these features do not hold "
                         f"(built with views={features.views})")
    if targets and features.split != "train":
        raise ValueError("the test split has no targets: pass targets=False")
    if time_shift and features.time_shift_views == 0:
        raise ValueError("time_shift needs features built with time_shift_views > 0")
    mirror = 0.5 if mirror is True else float(mirror)
    if not 0.0 <= mirror <= 1.0:
        raise ValueError(f"mirror must be a probability, got {mirror}")

    table = features.table
    order = element_order(features.positions(indices, population), shuffle, seed, epoch, shard)
    # Augmentation draws for every element of the unsharded epoch, by table position: a shard
    # then sees exactly the draws the single-worker run would.
    rng = augmentation_rng(seed, epoch)
    n = len(table)
    flips = (rng.random(n) < mirror) if mirror > 0 else np.zeros(n, dtype=bool)
    variants = np.zeros(n, dtype=np.int64)
    if time_shift:
        n_valid = table["n_variants"].to_numpy(np.int64)
        draws = rng.random(n)
        variants = np.where(n_valid > 0, 1 + np.floor(draws * np.maximum(n_valid, 1)).astype(np.int64), 0)

    names = []
    if "eeg" in need:
        names.append("wavenet")
    if "image" in need:
        names.append("eeg_panels")
        if include_kaggle and "kaggle_panels" in features.arrays:
            names.append("kaggle_panels")
    arrays = [features.arrays[name] for name in names]
    trailing = [tuple(a.shape[2:]) for a in arrays]
    rows_of = table["row"].to_numpy(np.int64)

    def load(positions, variant):
        rows = rows_of[positions]
        return tuple(np.asarray(a[rows, variant], dtype=np.float32) for a in arrays)

    eeg_perm = tf.constant(panel_mirror_permutation(EEG_PANEL_ORDER), tf.int32)
    kaggle_perm = tf.constant(panel_mirror_permutation(KAGGLE_PANEL_ORDER), tf.int32)
    probabilities = table[list(HMS_CLASSES)].to_numpy(np.float32) if targets else None
    if sample_weight == "votes":
        weights = table["total_votes"].to_numpy(np.float32)
    elif sample_weight == "ones":
        weights = np.ones(n, dtype=np.float32)
    elif sample_weight is None:
        weights = None
    else:
        raise ValueError(f"sample_weight must be None, 'votes' or 'ones', got {sample_weight!r}")

    def where_flipped(flip, mirrored, value):
        flip = tf.reshape(flip, [-1] + [1] * (value.shape.rank - 1))
        return tf.where(flip, mirrored, value)

    def swap_panels(value, flip, perm):
        return where_flipped(flip, tf.gather(value, perm, axis=-1), value)

    def to_element(positions):
        flip = tf.gather(tf.constant(flips), positions)
        variant = tf.gather(tf.constant(variants), positions)
        values = tf.numpy_function(load, [positions, variant], [tf.float32] * len(arrays), stateful=False)
        loaded = {}
        for name, value, shape in zip(names, values, trailing):
            value.set_shape((None, *shape))
            loaded[name] = value
        x = {}
        if "wavenet" in loaded:
            wave = loaded["wavenet"]
            x["eeg"] = where_flipped(flip, mirror_bipolar(wave, WAVENET_PAIRS, channel_axis=-1), wave)
        if "eeg_panels" in loaded:
            eeg_panels = swap_panels(loaded["eeg_panels"], flip, eeg_perm)
            kaggle = loaded.get("kaggle_panels")
            kaggle_panels = None if kaggle is None else swap_panels(kaggle, flip, kaggle_perm)
            x["image"] = hms_image_from_panels(eeg_panels, kaggle_panels, image_size=image_size)
        x = x if inputs == "both" else x[inputs]
        element = (x,)
        if targets:
            element += (tf.gather(tf.constant(probabilities), positions),)
            if weights is not None:
                element += (tf.gather(tf.constant(weights), positions),)
        if include_info:
            element += ({"eeg_id": tf.gather(tf.constant(table["eeg_id"].to_numpy(np.int64)), positions),
                         "mirrored": flip, "variant": variant},)
        return element if len(element) > 1 else element[0]

    ds = tf.data.Dataset.from_tensor_slices(order)
    ds = finish_dataset(ds, batch_size, drop_remainder, shuffle, reshuffle_each_iteration, seed, epoch, len(order))
    ds = ds.map(to_element, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE) if prefetch else ds
