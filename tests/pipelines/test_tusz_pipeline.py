"""TUSZ pipeline: shapes, window counts, values, determinism, folds, shards, cache behaviour, bad input."""

import dataclasses
import json
import math

import numpy as np
import pytest

from kerasseizure.errors import EDFError, SignalError
from kerasseizure.io.tusz import TUSZCorpus
from kerasseizure.pipelines import build_tusz_features, tusz_dataset
from kerasseizure.pipelines import tusz as tusz_pipeline
from kerasseizure.signal import fft_window_count, fft_windows
from kerasseizure.evaluation.folds import seizure_wise_folds
from tests.io.conftest import V2_SPEC, build_v2_corpus, tusz_channels, v2_stem, write_edf


def first_batch(ds):
    return next(iter(ds))


def order_of(ds):
    return np.concatenate([info["window"].numpy() for *_, info in ds])


def test_fft_shapes_and_window_counts(fft_features, tusz_corpus):
    f = fft_features
    kept, _ = tusz_corpus.benchmark_seizures()
    assert len(f.seizures) == len(kept) and (f.seizures["edf_path"].to_numpy() == kept["edf_path"].to_numpy()).all()
    expected = [fft_window_count(math.floor((stop - start) * 250), 250, 1.0, 0.25)
                for start, stop in zip(kept["start"], kept["stop"])]
    assert f.seizures["n_windows"].tolist() == expected
    assert f.seizures["n_windows"].tolist() == [fft_window_count(n) for n in f.seizures["n_samples"]]
    assert f.arrays["fft"].shape == (sum(expected), 20, 24) and f.arrays["fft"].dtype == np.float32
    assert len(f.windows) == sum(expected)
    x, y = first_batch(tusz_dataset(f, batch_size=5))
    assert x.shape == (5, 20, 24) and x.dtype.name == "float32"
    assert y.shape == (5,) and y.dtype.name == "int32"
    assert f.classes == ("fnsz", "gnsz", "cpsz", "absz", "tnsz", "tcsz", "spsz")
    assert f.report["excluded_types"] == {"mysz": 2}


def test_cached_values_equal_the_transform(fft_features, tusz_corpus):
    row = fft_features.seizures.iloc[3]
    x = tusz_corpus.read(row, montage="tcp20", fs=250, start=row["start"], stop=row["stop"]).signals
    rows = fft_features.window_positions([3])
    np.testing.assert_allclose(fft_features.arrays["fft"][rows], fft_windows(x).numpy(), atol=1e-6)


def test_ses_shapes(ses_features):
    x, y = first_batch(tusz_dataset(ses_features, batch_size=4))
    assert sorted(x) == ["ses_0", "ses_1", "ses_2"]
    assert [tuple(x[k].shape) for k in sorted(x)] == [(4, 20, 24, 3), (4, 20, 48, 3), (4, 20, 96, 3)]
    assert all(v.dtype.name == "float32" for v in x.values())
    student = first_batch(tusz_dataset(ses_features, batch_size=4, inputs="ses_0"))[0]
    np.testing.assert_array_equal(student.numpy(), x["ses_0"].numpy())


def test_ses_single_and_one_hot_and_weights(tusz_corpus, tmp_path):
    f = build_tusz_features(tusz_corpus, "ses_single", tmp_path, types=("fnsz", "gnsz"), fmax=12, progress=False)
    assert set(f.seizures["label"]) == {"fnsz", "gnsz"}
    x, y, w = first_batch(tusz_dataset(f, batch_size=6, one_hot=True, sample_weight="per_seizure"))
    assert x.shape == (6, 20, 12, 3) and y.shape == (6, 2) and y.dtype.name == "float32"
    np.testing.assert_allclose(w.numpy(), 1.0 / f.seizures["n_windows"].iloc[0])
    _, yb, wb = first_batch(tusz_dataset(f, batch_size=len(f.windows), sample_weight="balanced"))
    totals = [wb.numpy()[yb.numpy() == c].sum() for c in range(2)]
    np.testing.assert_allclose(totals, len(f.windows) / 2, rtol=1e-5)


def test_determinism_and_window_order(fft_features):
    def run(**kw):
        return order_of(tusz_dataset(fft_features, batch_size=64, include_info=True, **kw))

    plain = run()
    np.testing.assert_array_equal(plain, np.arange(len(fft_features.windows)))
    a, b = run(shuffle=True, seed=3), run(shuffle=True, seed=3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, run(shuffle=True, seed=4))
    assert not np.array_equal(a, run(shuffle=True, seed=3, epoch=1))
    assert sorted(a) == list(plain)
    table = fft_features.window_order(shuffle=True, seed=3)
    np.testing.assert_array_equal(table["window"].to_numpy(), a)
    # features follow their rows
    x, _, info = first_batch(tusz_dataset(fft_features, batch_size=8, shuffle=True, seed=3, include_info=True))
    np.testing.assert_array_equal(x.numpy(), fft_features.arrays["fft"][info["window"].numpy()])
    ds = tusz_dataset(fft_features, batch_size=64, shuffle=True, seed=3, reshuffle_each_iteration=True,
                      include_info=True)
    first, second = order_of(ds), order_of(ds)
    assert sorted(first) == sorted(second) and not np.array_equal(first, second)


def test_folds_select_whole_seizures_and_info_pools(fft_features):
    folds = seizure_wise_folds(fft_features.seizures, n_folds=2)
    train, validation = folds[0]
    seen = []
    for x, y, info in tusz_dataset(fft_features, validation, batch_size=50, include_info=True):
        seen.append(info["seizure"].numpy())
        np.testing.assert_array_equal(
            info["patient_id"].numpy().astype(str), fft_features.windows["patient_id"].to_numpy()[info["window"].numpy()])
    seizures = np.concatenate(seen)
    assert set(seizures) == set(validation) and not set(seizures) & set(train)
    assert len(seizures) == fft_features.seizures["n_windows"].to_numpy()[validation].sum()


def test_window_stride_keeps_every_kth_window_of_each_seizure(fft_features):
    windows = fft_features.windows
    strided = order_of(tusz_dataset(fft_features, [1, 3], batch_size=16, window_stride=4, include_info=True))
    expected = windows.index[windows["seizure"].isin([1, 3]) & (windows["window_in_seizure"] % 4 == 0)]
    np.testing.assert_array_equal(strided, expected)
    np.testing.assert_array_equal(fft_features.window_positions([1, 3], stride=4), expected)
    shuffled = fft_features.window_order([1, 3], shuffle=True, seed=2, window_stride=4)["window"]
    np.testing.assert_array_equal(
        order_of(tusz_dataset(fft_features, [1, 3], 16, window_stride=4, shuffle=True, seed=2, include_info=True)),
        shuffled)
    with pytest.raises(ValueError, match="stride"):
        fft_features.window_positions(stride=0)


def test_shards_are_disjoint_and_cover(fft_features):
    full = order_of(tusz_dataset(fft_features, batch_size=32, shuffle=True, seed=1, include_info=True))
    parts = [order_of(tusz_dataset(fft_features, batch_size=32, shuffle=True, seed=1, shard=(3, i), include_info=True))
             for i in range(3)]
    joined = np.concatenate(parts)
    assert len(joined) == len(full) and len(set(joined)) == len(joined) and set(joined) == set(full)
    with pytest.raises(ValueError):
        tusz_dataset(fft_features, shard=(2, 2))


def test_cache_reuse_invalidation_and_rebuild(tusz_corpus, tmp_path, monkeypatch):
    calls = []
    original = tusz_pipeline.compute_seizure_windows
    monkeypatch.setattr(tusz_pipeline, "compute_seizure_windows",
                        lambda *a, **k: calls.append(1) or original(*a, **k))
    kwargs = dict(types=("gnsz", "cpsz"), progress=False)
    first = build_tusz_features(tusz_corpus, "fft", tmp_path, **kwargs)
    n = len(first.seizures)
    assert len(calls) == n
    mtime = (first.path / "fft.npy").stat().st_mtime_ns
    again = build_tusz_features(tusz_corpus, "fft", tmp_path, **kwargs)
    assert len(calls) == n and again.path == first.path
    assert (again.path / "fft.npy").stat().st_mtime_ns == mtime
    changed = build_tusz_features(tusz_corpus, "fft", tmp_path, ws=0.5, **kwargs)
    assert len(calls) == 2 * n and changed.path != first.path
    config = json.loads((changed.path / "config.json").read_text())
    assert config["params"]["ws"] == 0.5 and config["corpus"]["n_seizures"] == n
    assert config["code"]["package"] and config["corpus"]["seizures_sha256"]
    assert changed.seizures["n_windows"].tolist() == [fft_window_count(s, ws=0.5) for s in changed.seizures["n_samples"]]
    build_tusz_features(tusz_corpus, "fft", tmp_path, rebuild=True, **kwargs)
    assert len(calls) == 3 * n


def test_crash_mid_build_then_full_rebuild(tusz_corpus, fft_features, tmp_path, monkeypatch):
    original = tusz_pipeline.compute_seizure_windows
    calls = []

    def crash(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt("simulated crash")
        return original(*args, **kwargs)

    monkeypatch.setattr(tusz_pipeline, "compute_seizure_windows", crash)
    with pytest.raises(KeyboardInterrupt):
        build_tusz_features(tusz_corpus, "fft", tmp_path, progress=False)
    assert not any((p / "COMPLETE").exists() for p in tmp_path.iterdir()) and list(tmp_path.iterdir()) == []
    monkeypatch.setattr(tusz_pipeline, "compute_seizure_windows", original)
    rebuilt = build_tusz_features(tusz_corpus, "fft", tmp_path, progress=False)
    assert rebuilt.path.name == fft_features.path.name  # same key as the session cache
    np.testing.assert_array_equal(np.asarray(rebuilt.arrays["fft"]), np.asarray(fft_features.arrays["fft"]))


def test_short_segments_are_skipped_and_reported(tusz_corpus, tmp_path, monkeypatch):
    # NumPy reference transform: TF's oneDNN conv1d aborts the process on a 4000-tap kernel with a
    # single output window (signal.fft_windows, reported to the lead); this test is about the skips.
    from kerasseizure.signal.spectral import fft_windows_reference

    monkeypatch.setattr(tusz_pipeline, "compute_seizure_windows", lambda x, representation, p: {
        "fft": fft_windows_reference(x, p["fs"], p["wl"], p["ws"], p["fmax"]).astype(np.float32)})
    with pytest.warns(UserWarning, match="yield no windows"):
        f = build_tusz_features(tusz_corpus, "fft", tmp_path, wl=16, ws=4, fmax=12, progress=False)
    short = f.seizures["n_samples"] <= 16 * 250
    assert short.any() and (~short).any()
    assert (f.seizures.loc[short, "skipped"] == "shorter than one window").all()
    assert (f.seizures.loc[short, "n_windows"] == 0).all()
    assert len(f.skipped) == short.sum()
    assert f.report["skipped"] == {"shorter than one window": int(short.sum())}
    assert len(f.report["skipped_seizures"]) == short.sum()
    assert f.arrays["fft"].shape[1:] == (20, 192)
    seizures = {int(s) for *_, info in tusz_dataset(f, batch_size=16, include_info=True) for s in info["seizure"].numpy()}
    assert seizures == set(np.flatnonzero(~short.to_numpy()))


def test_bad_input_errors(tusz_corpus, tmp_path, monkeypatch):
    with pytest.raises(SignalError, match="Nyquist"):
        build_tusz_features(tusz_corpus, "fft", tmp_path, fs=40, progress=False)
    with pytest.raises(ValueError, match="representation"):
        build_tusz_features(tusz_corpus, "wavelet", tmp_path)
    with pytest.raises(ValueError, match="one fmax"):
        build_tusz_features(tusz_corpus, "fft", tmp_path, fmax=(24, 48))

    original = tusz_pipeline._read_seizure
    monkeypatch.setattr(tusz_pipeline, "_read_seizure",
                        lambda *a: dataclasses.replace(original(*a), signals=original(*a).signals[:19]))
    with pytest.raises(SignalError, match="expected 20 channels"):
        build_tusz_features(tusz_corpus, "fft", tmp_path, types=("gnsz",), progress=False)

    def unreadable(corpus, row, montage, fs):
        if row.name == 0:
            raise EDFError(row["edf_path"], "requested electrodes missing: FP1")
        return original(corpus, row, montage, fs)

    monkeypatch.setattr(tusz_pipeline, "_read_seizure", unreadable)
    with pytest.raises(EDFError, match="electrodes missing"):
        build_tusz_features(tusz_corpus, "fft", tmp_path, types=("gnsz",), progress=False)
    with pytest.warns(UserWarning):
        f = build_tusz_features(tusz_corpus, "fft", tmp_path, types=("gnsz",), skip_bad=True, progress=False)
    assert f.seizures["skipped"].tolist()[0] == "unreadable" and f.report["skipped"] == {"unreadable": 1}
    assert "electrodes missing" in f.report["skipped_seizures"][0]["detail"]
    assert list(tmp_path.glob(".*")) == []


# A hand-made v2.0.3 tree (tests/io/conftest.py): fnsz in a 512 Hz train file, gnsz and tcsz in a
# 250 Hz dev file (the eval file is not part of the benchmark).


def test_recordings_sampled_below_twice_fmax_raise_or_are_skipped(tmp_path, monkeypatch):
    # 40 Hz: Nyquist 20 Hz <= fmax 24. (At 32 Hz T4's 16 Hz sine would sample as a flat electrode.)
    spec = [dict(V2_SPEC[0], fs=40), *V2_SPEC[1:]]
    corpus = TUSZCorpus(build_v2_corpus(str(tmp_path / "corpus"), spec))
    slow = corpus.seizures.loc[corpus.seizures["label"] == "fnsz", "edf_path"].iloc[0]
    read = []
    original = tusz_pipeline._read_seizure
    monkeypatch.setattr(tusz_pipeline, "_read_seizure", lambda corpus, row, *a: read.append(row["edf_path"]) or
                        original(corpus, row, *a))
    with pytest.raises(SignalError, match="sampling rate below 2 x fmax") as error:
        build_tusz_features(corpus, "fft", tmp_path / "cache", progress=False)
    assert str(error.value).startswith(f"{slow} (40 Hz): ") and read == []  # decided from the index alone
    with pytest.warns(UserWarning, match="sampling rate below 2 x fmax"):
        f = build_tusz_features(corpus, "fft", tmp_path / "cache", skip_bad=True, progress=False)
    assert f.report["skipped"] == {"sampling rate below 2 x fmax": 1} and slow not in read
    assert f.skipped["edf_path"].tolist() == [slow] and f.report["skipped_seizures"][0]["detail"] == \
        "file rate 40 Hz, fmax 24 Hz"
    assert (f.seizures.loc[f.seizures["edf_path"] != slow, "n_windows"] > 0).all()
    # 12 Hz lies below the file's Nyquist frequency: nothing to skip.
    assert len(build_tusz_features(corpus, "fft", tmp_path / "cache", fmax=12, progress=False).skipped) == 0


def test_a_flat_electrode_raises_or_is_skipped(tmp_path):
    root = build_v2_corpus(str(tmp_path / "corpus"))
    spec = V2_SPEC[1]
    # C3 disconnected for the whole dev recording (both of its seizures): a constant 12.5 uV.
    channels = [(label, fs, unit, np.full_like(signal, 12.5) if label == "EEG C3-LE" else signal)
                for label, fs, unit, signal in tusz_channels(spec)]
    flat = write_edf(v2_stem(root, spec) + ".edf", channels, spec["duration"])
    corpus = TUSZCorpus(root)
    with pytest.raises(SignalError, match="flat electrode") as error:
        build_tusz_features(corpus, "fft", tmp_path / "cache", progress=False)
    assert str(error.value).startswith(f"{flat} [2.000, 6.000) s: flat electrode(s) C3")
    with pytest.warns(UserWarning, match="flat electrode"):
        f = build_tusz_features(corpus, "fft", tmp_path / "cache", skip_bad=True, progress=False)
    assert f.report["skipped"] == {"flat electrode": 2}
    assert f.skipped["label"].tolist() == ["gnsz", "tcsz"] and (f.skipped["edf_path"] == flat).all()
    assert f.seizures.loc[f.seizures["label"] == "fnsz", "n_windows"].item() > 0


@pytest.mark.parametrize("representation", ["fft", "ses"])
def test_planned_features_are_the_built_ones_without_their_arrays(tusz_corpus, fft_features, ses_features,
                                                                   representation, tmp_path, monkeypatch):
    built = {"fft": fft_features, "ses": ses_features}[representation]
    read = []
    monkeypatch.setattr(tusz_pipeline, "_read_seizure", lambda *args: read.append(args) or None)
    planned = build_tusz_features(tusz_corpus, representation, tmp_path / "empty", progress=False, plan_only=True)
    assert read == [] and not (tmp_path / "empty").exists()  # no signal read, no cache written
    assert planned.report["planned"] and planned.report["bytes"] == sum(a.nbytes for a in built.arrays.values())
    columns = ["n_samples", "n_windows", "row_start", "skipped", "label_index"]
    assert planned.seizures[columns].equals(built.seizures[columns])
    assert planned.windows.equals(built.windows)
    assert {k: (a.shape, a.dtype) for k, a in planned.arrays.items()} == {
        k: (a.shape, a.dtype) for k, a in built.arrays.items()}
    assert all(a.strides[0] == 0 for a in planned.arrays.values())  # no memory behind the windows
    # a complete cache is loaded as it is, not planned
    loaded = build_tusz_features(tusz_corpus, representation, built.path.parent, progress=False, plan_only=True)
    assert "planned" not in loaded.report and loaded.path == built.path


def test_planned_features_skip_slow_recordings_like_the_build(tmp_path):
    spec = [dict(V2_SPEC[0], fs=40), *V2_SPEC[1:]]
    corpus = TUSZCorpus(build_v2_corpus(str(tmp_path / "corpus"), spec))
    with pytest.warns(UserWarning, match="sampling rate below 2 x fmax"):
        built = build_tusz_features(corpus, "fft", tmp_path / "cache", skip_bad=True, progress=False)
    with pytest.warns(UserWarning, match="sampling rate below 2 x fmax"):
        planned = build_tusz_features(corpus, "fft", tmp_path / "none", skip_bad=True, progress=False,
                                      plan_only=True)
    assert planned.seizures["skipped"].tolist() == built.seizures["skipped"].tolist()
    assert planned.seizures["n_windows"].tolist() == built.seizures["n_windows"].tolist()


# ------------------------------------------------------------------------------ detection segments


@pytest.fixture(scope="module")
def detection_features(tusz_corpus, tmp_path_factory):
    from kerasseizure.io.tusz_detection import detection_segments

    segments = detection_segments(tusz_corpus, ("train", "dev"))
    classes = ("bckg", "fnsz", "gnsz", "spsz", "cpsz", "absz", "tnsz", "tcsz")
    return segments, build_tusz_features(tusz_corpus, "fft", tmp_path_factory.mktemp("detection"), types=classes,
                                         segments=segments, progress=False)


def test_segments_are_windowed_with_their_labels(tusz_corpus, detection_features):
    segments, features = detection_features
    assert features.classes[0] == "bckg" and len(features.seizures) == len(segments)
    windows = features.windows
    assert set(windows["label"]) == set(segments["label"])
    np.testing.assert_array_equal(windows["label_index"], [features.classes.index(x) for x in windows["label"]])
    # Each window lies inside its segment and equals the transform of the recording there.
    table = features.seizures
    starts = table["start"].to_numpy()[windows["seizure"]]
    stops = table["stop"].to_numpy()[windows["seizure"]]
    assert ((windows["start_seconds"] >= starts - 1e-9) & (windows["start_seconds"] + 1.0 <= stops + 1e-6)).all()
    row = int(np.flatnonzero(table["label"].to_numpy() == "bckg")[0])
    segment = table.iloc[row]
    x = tusz_corpus.read(segment, fs=250, start=float(segment["start"]), stop=float(segment["stop"])).signals
    expected = fft_windows(x, fs=250, wl=1.0, ws=0.25, fmax=24.0).numpy()
    first = int(table["row_start"].iloc[row])
    np.testing.assert_allclose(features.arrays["fft"][first:first + len(expected)], expected, atol=1e-5)
    with pytest.raises(ValueError, match="outside the classes"):
        build_tusz_features(tusz_corpus, "fft", types=("fnsz",), segments=segments, plan_only=True)
    with pytest.raises(ValueError, match="lack the columns"):
        build_tusz_features(tusz_corpus, "fft", types=features.classes, segments=segments.drop(columns="split"),
                            plan_only=True)


def test_background_is_subsampled_afresh_each_epoch(detection_features):
    from kerasseizure.pipelines import subsample_background

    _, features = detection_features
    rows = features.window_positions()
    labels = features.windows["label"].to_numpy()
    seizure_rows = rows[labels[rows] != "bckg"]
    # (this small corpus is mostly seizure: a ratio below 1 leaves background to draw from)
    first = subsample_background(features, rows, 0.3, seed=3, epoch=0)
    assert set(seizure_rows) <= set(first)  # every seizure window, every epoch
    assert (labels[first] == "bckg").sum() == round(0.3 * len(seizure_rows))
    np.testing.assert_array_equal(first, subsample_background(features, rows, 0.3, seed=3, epoch=0))
    second = subsample_background(features, rows, 0.3, seed=3, epoch=1)
    assert set(first[labels[first] == "bckg"]) != set(second[labels[second] == "bckg"])
    everything = subsample_background(features, rows, 1e6)
    np.testing.assert_array_equal(everything, np.sort(rows))  # no more background than there is
    # The dataset takes the drawn rows as they are.
    ds = tusz_dataset(features, None, 1000, window_rows=first, inputs="fft")
    assert sum(int(y.shape[0]) for _, y in ds) == len(first)
    with pytest.raises(ValueError, match="ratio"):
        subsample_background(features, rows, 0)
