"""HMS pipeline: shapes, equality with the signal transforms, mirror, time shift, populations, cache."""

import json

import numpy as np
import pytest

from kerasseizure.errors import SignalError, TableError
from kerasseizure.io.labels import HMS_CLASSES
from kerasseizure.pipelines import build_hms_features, hms_dataset
from kerasseizure.pipelines import hms as hms_pipeline
from kerasseizure.signal import hms_spectrogram_image, mirror_hms, reference, wavenet_input


def batch(ds):
    return next(iter(ds))


def ids_of(ds):
    return np.concatenate([element[-1]["eeg_id"].numpy() for element in ds])


def test_shapes_and_dtypes(hms_features):
    f = hms_features
    assert f.arrays["wavenet"].shape == (12, 3, 2000, 8)
    assert f.arrays["eeg_panels"].shape == f.arrays["kaggle_panels"].shape == (12, 3, 128, 256, 4)
    x, y, w = batch(hms_dataset(f, batch_size=3, image_size=(64, 96), sample_weight="votes"))
    assert x["eeg"].shape == (3, 2000, 8) and x["image"].shape == (3, 64, 96, 3)
    assert x["eeg"].dtype.name == x["image"].dtype.name == y.dtype.name == w.dtype.name == "float32"
    assert y.shape == (3, 6)
    np.testing.assert_allclose(y.numpy(), f.table[list(HMS_CLASSES)].to_numpy()[:3], rtol=1e-6)
    np.testing.assert_array_equal(w.numpy(), f.table["total_votes"].to_numpy()[:3])
    eeg, _ = batch(hms_dataset(f, batch_size=2, inputs="eeg"))
    assert eeg.shape == (2, 2000, 8)
    image, _ = batch(hms_dataset(f, batch_size=2, inputs="image"))
    assert image.shape == (2, 512, 512, 3)
    image, _ = batch(hms_dataset(f, batch_size=2, inputs="image", include_kaggle=False))
    assert image.shape == (2, 512, 256, 3)


# The cache computes the views XLA-compiled (`compute_hms_views`), the comparisons below op by op:
# both are float32 roundings of the references (within 1e-4 of them), ~1e-5 apart.
VIEW_ATOL = 1e-4


def default_views(data, row, mirrored=False, eeg_offset=None, spectrogram_offset=None):
    eeg = data.eeg_window(int(row["eeg_id"]), offset_seconds=eeg_offset)
    offset = (row["spectrogram_label_offset_seconds_min"] + row["spectrogram_label_offset_seconds_max"]) / 2
    offset = offset if spectrogram_offset is None else spectrogram_offset
    kaggle = data.spectrogram_window(int(row["spectrogram_id"]), offset).values
    if mirrored:
        eeg = mirror_hms(eeg).numpy()
        # the Kaggle regions LL, RL, LP, RP swap as LL<->RL, LP<->RP
        kaggle = kaggle.reshape(300, 4, 100)[:, [1, 0, 3, 2]].reshape(300, 400)
    return wavenet_input(eeg).numpy(), hms_spectrogram_image(eeg, kaggle).numpy()


def test_default_views_equal_the_transforms(hms_features, hms_data):
    x, _ = batch(hms_dataset(hms_features, [1], batch_size=1))
    wave, image = default_views(hms_data, hms_features.table.iloc[1])
    np.testing.assert_allclose(x["eeg"].numpy()[0], wave, atol=VIEW_ATOL)
    np.testing.assert_allclose(x["image"].numpy()[0], image, atol=VIEW_ATOL)


def test_compiled_views_equal_the_references():
    rng = np.random.default_rng(3)
    eeg = (300.0 * rng.standard_normal((2, 10000, 20))).astype(np.float32)
    eeg[0, 2000:2600, 4] = np.nan
    eeg[1, :, 16] = np.nan  # an all-NaN electrode
    kaggle = np.exp(2.0 * rng.standard_normal((2, 300, 400))).astype(np.float32)
    kaggle[0, 50:60, 10:40] = np.nan
    params = {"wavenet": {"low_hz": None, "high_hz": 20.0, "order": 4, "zero_phase": False, "padlen": None,
                          "clip": 1024.0, "scale": 32.0, "keep_every": 5},
              "image": {"standardize_over": "panel", "kaggle_spectrogram": True}}
    arrays, counts = hms_pipeline.compute_hms_views(eeg, kaggle, ("eeg", "image"), params)
    assert counts == {"eeg_nan": 600, "eeg_all_nan_channels": 0, "kaggle_nan": 300}
    for k in range(2):
        np.testing.assert_allclose(arrays["wavenet"][0, k], reference.wavenet_input_reference(eeg[k]), atol=1e-4)
        np.testing.assert_allclose(arrays["eeg_panels"][0, k], reference.hms_eeg_spectrogram_reference(eeg[k]),
                                   atol=1e-4)
        np.testing.assert_allclose(arrays["kaggle_panels"][0, k],
                                   reference.kaggle_spectrogram_panels_reference(kaggle[k]), atol=1e-4)


def test_left_right_swap_equals_views_of_mirrored_input(hms_features, hms_data):
    positions = [1, 2]  # eeg_id at position 1 has an all-NaN channel: the fill must mirror too
    x, _, info = batch(hms_dataset(hms_features, positions, batch_size=2, mirror=1.0, include_info=True))
    assert info["mirrored"].numpy().all()
    for k, p in enumerate(positions):
        wave, image = default_views(hms_data, hms_features.table.iloc[p], mirrored=True)
        np.testing.assert_allclose(x["eeg"].numpy()[k], wave, atol=VIEW_ATOL)
        np.testing.assert_allclose(x["image"].numpy()[k], image, atol=VIEW_ATOL)
    plain, _ = batch(hms_dataset(hms_features, positions, batch_size=2))
    assert not np.allclose(plain["eeg"].numpy(), x["eeg"].numpy())
    # exactly a permutation of the cached differences: Fp1-T3 <-> Fp2-T4, T3-O1 <-> T4-O2, ...
    cached = hms_features.arrays["wavenet"][hms_features.table["row"].to_numpy()[positions], 0]
    np.testing.assert_array_equal(x["eeg"].numpy(), cached[..., [6, 7, 4, 5, 2, 3, 0, 1]])


def test_time_shift_views_are_label_aligned_sub_rows(hms_features, hms_data):
    f = hms_features
    x, _, info = batch(hms_dataset(f, batch_size=12, time_shift=True, seed=5, include_info=True))
    variant = info["variant"].numpy()
    assert (variant >= 1).all() and (variant <= f.table["n_variants"].to_numpy()).all()
    k = int(np.argmax(f.table["n_variants"].to_numpy() > 1))
    row = f.table.iloc[k]
    v = variant[k]
    eeg_offset = float(row["eeg_offsets"].split(",")[v])
    spec_offset = float(row["spectrogram_offsets"].split(",")[v])
    annotations = hms_data.annotations
    sub = annotations[annotations["eeg_id"] == row["eeg_id"]]
    assert ((sub["eeg_label_offset_seconds"] == eeg_offset) & (sub["spectrogram_label_offset_seconds"] == spec_offset)).any()
    wave, image = default_views(hms_data, row, eeg_offset=eeg_offset, spectrogram_offset=spec_offset)
    np.testing.assert_allclose(x["eeg"].numpy()[k], wave, atol=VIEW_ATOL)
    np.testing.assert_allclose(x["image"].numpy()[k], image, atol=VIEW_ATOL)
    with pytest.raises(ValueError, match="time_shift_views"):
        hms_dataset(build_hms_features(hms_data, f.path.parent, views="eeg", eeg_ids=f.table["eeg_id"][:2],
                                       progress=False), inputs="eeg", time_shift=True)


def test_determinism_of_order_and_augmentation(hms_features):
    def run(**kw):
        out = []
        for x, y, info in hms_dataset(hms_features, batch_size=5, inputs="eeg", shuffle=True, mirror=0.5,
                                      time_shift=True, include_info=True, **kw):
            out.append((info["eeg_id"].numpy(), info["mirrored"].numpy(), info["variant"].numpy(), x.numpy()))
        return [np.concatenate(parts) for parts in zip(*out)]

    a, b = run(seed=1), run(seed=1)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    c, d = run(seed=2), run(seed=1, epoch=1)
    assert not np.array_equal(a[0], c[0]) and not np.array_equal(a[0], d[0])
    assert not (np.array_equal(a[1], c[1]) and np.array_equal(a[2], c[2]))
    order = hms_features.element_table(shuffle=True, seed=1)["eeg_id"].to_numpy()
    np.testing.assert_array_equal(order, a[0])


def test_population_filter(hms_features):
    table = hms_features.table
    for population in ("low", "high"):
        ids = ids_of(hms_dataset(hms_features, batch_size=4, inputs="eeg", population=population, include_info=True))
        assert set(ids) == set(table.loc[table["population"] == population, "eeg_id"])
    everything = ids_of(hms_dataset(hms_features, batch_size=4, inputs="eeg", include_info=True))
    assert sorted(everything) == sorted(table["eeg_id"])
    folds_like = np.arange(0, len(table), 2)
    ids = ids_of(hms_dataset(hms_features, folds_like, batch_size=4, inputs="eeg", population="low",
                             include_info=True))
    expected = table.iloc[folds_like]
    assert set(ids) == set(expected.loc[expected["population"] == "low", "eeg_id"])
    with pytest.raises(ValueError, match="population"):
        hms_dataset(hms_features, population="medium")


def test_shards_are_disjoint_and_cover(hms_features):
    full = ids_of(hms_dataset(hms_features, batch_size=4, inputs="eeg", shuffle=True, seed=3, include_info=True))
    parts = [ids_of(hms_dataset(hms_features, batch_size=4, inputs="eeg", shuffle=True, seed=3, shard=(2, i),
                                include_info=True)) for i in range(2)]
    joined = np.concatenate(parts)
    assert len(joined) == len(full) == len(set(joined)) and set(joined) == set(full)


def test_nan_counts_surface_in_table_and_report(hms_features, hms_data):
    stats = hms_data.nan_statistics(hms_features.table["eeg_id"])
    expected = (stats["middle_window_nan_fraction"] * 10000 * 20).round().astype(int).to_numpy()
    np.testing.assert_array_equal(hms_features.table["eeg_nan"].to_numpy(), expected)
    report = json.loads((hms_features.path / "report.json").read_text())
    assert report["nan_filled_eeg_values"] == expected.sum() > 0
    assert report["all_nan_channels"] == hms_features.table["eeg_all_nan_channels"].sum() >= 1


def test_cache_reuse_offset_rule_and_crash(hms_data, tmp_path, monkeypatch):
    ids = hms_data.labels["eeg_id"][:3]
    calls = []
    original = hms_pipeline.compute_hms_views
    monkeypatch.setattr(hms_pipeline, "compute_hms_views", lambda *a: calls.append(1) or original(*a))
    first = build_hms_features(hms_data, tmp_path, views="image", eeg_ids=ids, progress=False)
    second = build_hms_features(hms_data, tmp_path, views="image", eeg_ids=ids, progress=False)
    assert len(calls) == 3 and first.path == second.path
    mean = build_hms_features(hms_data, tmp_path, views="image", eeg_ids=ids, spectrogram_offset="mean",
                              progress=False)
    assert len(calls) == 6 and mean.path != first.path
    assert json.loads((mean.path / "config.json").read_text())["spectrogram_offset"] == "mean"
    np.testing.assert_array_equal(mean.table["spectrogram_offset_seconds"],
                                  mean.table["spectrogram_label_offset_seconds_mean"])
    rows_differ = (np.floor(first.table["spectrogram_offset_seconds"] / 2)
                   != np.floor(mean.table["spectrogram_offset_seconds"] / 2)).to_numpy()
    for k in np.flatnonzero(rows_differ):  # the synthetic sub-rows are often evenly spaced: rules agree
        assert not np.allclose(first.arrays["kaggle_panels"][k], mean.arrays["kaggle_panels"][k])

    def crash(*args):
        if len(calls) == 7:
            raise RuntimeError("simulated crash")
        return original(*args)

    monkeypatch.setattr(hms_pipeline, "compute_hms_views", lambda *a: calls.append(1) or crash(*a))
    with pytest.raises(RuntimeError, match="simulated crash"):
        build_hms_features(hms_data, tmp_path, views="eeg", eeg_ids=ids, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([first.path.name, mean.path.name])
    monkeypatch.setattr(hms_pipeline, "compute_hms_views", original)
    rebuilt = build_hms_features(hms_data, tmp_path, views="eeg", eeg_ids=ids, progress=False)
    wave, _ = default_views(hms_data, rebuilt.table.iloc[2])
    np.testing.assert_allclose(rebuilt.arrays["wavenet"][2, 0], wave, atol=VIEW_ATOL)


def test_bad_input_and_test_split(hms_data, tmp_path, monkeypatch):
    test = build_hms_features(hms_data, tmp_path, views="eeg", split="test", progress=False)
    x = batch(hms_dataset(test, batch_size=2, inputs="eeg", targets=False))
    assert x.shape == (2, 2000, 8)
    with pytest.raises(ValueError, match="targets"):
        hms_dataset(test, inputs="eeg")
    with pytest.raises(ValueError, match="views"):
        hms_dataset(test, inputs="image", targets=False)

    ids = hms_data.labels["eeg_id"][:3].tolist()
    original = type(hms_data).eeg_window

    def bad_window(self, eeg_id, offset_seconds=None, seconds=50, split="train"):
        if eeg_id == ids[1]:
            raise TableError(self.eeg_path(eeg_id), "window past the end of the file")
        return original(self, eeg_id, offset_seconds, seconds, split)

    monkeypatch.setattr(type(hms_data), "eeg_window", bad_window)
    with pytest.raises(TableError, match="past the end"):
        build_hms_features(hms_data, tmp_path, views="eeg", eeg_ids=ids, progress=False)
    with pytest.warns(UserWarning, match="1 eeg_ids skipped"):
        f = build_hms_features(hms_data, tmp_path, views="eeg", eeg_ids=ids, skip_bad=True, progress=False)
    assert f.table["eeg_id"].tolist() == [ids[0], ids[2]] and f.skipped["eeg_id"].tolist() == [ids[1]]
    assert f.report["skipped_eeg_ids"][0]["reason"] == "TableError"
    assert len(ids_of(hms_dataset(f, batch_size=4, inputs="eeg", include_info=True))) == 2

    monkeypatch.setattr(type(hms_data), "eeg_window", lambda self, *a, **k: original(self, *a, **k)[:5000])
    with pytest.raises(SignalError, match="expected"):
        build_hms_features(hms_data, tmp_path, views="eeg", eeg_ids=ids[:1], progress=False, rebuild=True)


def test_planned_views_are_the_built_ones_without_their_arrays(hms_data, hms_features, tmp_path, monkeypatch):
    read = []
    monkeypatch.setattr(type(hms_data), "eeg_window", lambda *args, **kwargs: read.append(args))
    planned = build_hms_features(hms_data, tmp_path / "empty", time_shift_views=2, progress=False, plan_only=True)
    assert read == [] and not (tmp_path / "empty").exists()  # no EEG read, no cache written
    assert planned.report["planned"] and planned.path == tmp_path / "empty" / hms_features.path.name
    assert planned.report["bytes"] == sum(a.nbytes for a in hms_features.arrays.values())
    assert {k: (a.shape, a.dtype) for k, a in planned.arrays.items()} == {
        k: (a.shape, a.dtype) for k, a in hms_features.arrays.items()}
    assert all(a.strides[0] == 0 for a in planned.arrays.values())
    assert planned.table["eeg_id"].tolist() == hms_features.table["eeg_id"].tolist()
    assert (planned.table["row"] == hms_features.table["row"]).all() and planned.views == hms_features.views
    loaded = build_hms_features(hms_data, hms_features.path.parent, time_shift_views=2, progress=False,
                                plan_only=True)
    assert "planned" not in loaded.report and loaded.path == hms_features.path
