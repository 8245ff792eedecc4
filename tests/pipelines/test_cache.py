"""FeatureCache: keys, layout, reuse, crash safety, stale folders, progress (NumPy only, fast)."""

import io
import json
import os

import numpy as np
import pandas as pd
import pytest

from kerasseizure.errors import CacheError
from kerasseizure.pipelines import cache as cache_lib
from kerasseizure.pipelines.cache import FeatureCache, ItemResult

CONFIG = {"representation": "fft", "fs": 250.0, "wl": 1.0, "fmax": [24.0, 48.0], "root": "/x"}


def compute(i):
    if i == 2:
        return ItemResult(meta={"value": i}, skipped="too short")
    return ItemResult({"a": np.full((i + 1, 3), i, np.float32), "b": np.arange(i + 1, dtype=np.int64)}, {"value": i})


def test_key_is_canonical_and_sensitive_to_every_parameter():
    key = cache_lib.config_key(CONFIG)
    assert key == cache_lib.config_key(dict(reversed(list(CONFIG.items()))))
    assert key == cache_lib.config_key({**CONFIG, "fmax": (24.0, 48.0)})
    for name, value in [("fs", 256.0), ("wl", 2.0), ("fmax", [24.0]), ("root", "/y"), ("new", None)]:
        assert cache_lib.config_key({**CONFIG, name: value}) != key
    with pytest.raises(TypeError):
        cache_lib.config_key({"f": object()})


def test_table_fingerprint_changes_with_values():
    frame = pd.DataFrame({"edf_path": ["a", "b"], "start": [1.0, 2.0]})
    changed = frame.assign(start=[1.0, 2.5])
    assert cache_lib.table_fingerprint(frame) == cache_lib.table_fingerprint(frame.copy())
    assert cache_lib.table_fingerprint(frame) != cache_lib.table_fingerprint(changed)


def test_build_layout_and_load(tmp_path):
    store = FeatureCache(tmp_path, "demo", CONFIG)
    assert not store.is_complete()
    contents = store.get_or_build(range(4), compute, progress=False)
    assert store.path.name == f"demo-{store.key[:16]}"
    assert sorted(p.name for p in store.path.iterdir()) == [
        "COMPLETE", "a.npy", "b.npy", "config.json", "items.parquet", "report.json"]
    assert json.loads((store.path / "config.json").read_text()) == cache_lib.canonical_config(CONFIG)
    np.testing.assert_array_equal(contents.arrays["a"][:, 0], [0, 1, 1, 3, 3, 3, 3])
    np.testing.assert_array_equal(contents.arrays["b"], [0, 0, 1, 0, 1, 2, 3])
    assert isinstance(contents.arrays["a"], np.memmap)
    assert contents.items["n_rows"].tolist() == [1, 2, 0, 4]
    assert contents.items["row_start"].tolist() == [0, 1, 3, 3]
    assert contents.items["skipped"].tolist() == ["", "", "too short", ""]
    assert contents.report["skipped"] == {"too short": 1} and contents.report["rows"] == 7
    np.load(store.path / "a.npy", allow_pickle=False)  # plain arrays, never pickles
    assert not isinstance(store.load(in_memory=True).arrays["a"], np.memmap)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left


def test_existing_cache_is_reused(tmp_path):
    calls = []
    FeatureCache(tmp_path, "demo", CONFIG).get_or_build(range(4), compute, progress=False)
    mtime = (FeatureCache(tmp_path, "demo", CONFIG).path / "a.npy").stat().st_mtime_ns
    FeatureCache(tmp_path, "demo", CONFIG).get_or_build(range(4), lambda i: calls.append(i) or compute(i),
                                                        progress=False)
    assert calls == []
    assert (FeatureCache(tmp_path, "demo", CONFIG).path / "a.npy").stat().st_mtime_ns == mtime
    FeatureCache(tmp_path, "demo", CONFIG).get_or_build(range(4), lambda i: calls.append(i) or compute(i),
                                                        progress=False, rebuild=True)
    assert calls == [0, 1, 2, 3]


def test_crash_mid_build_leaves_no_cache(tmp_path):
    def crashing(i):
        if i == 3:
            raise RuntimeError("killed")
        return compute(i)

    store = FeatureCache(tmp_path, "demo", CONFIG)
    with pytest.raises(RuntimeError, match="killed"):
        store.get_or_build(range(5), crashing, progress=False)
    assert not store.path.exists() and not store.is_complete()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(CacheError, match="no complete cache"):
        store.load()
    contents = store.get_or_build(range(5), compute, progress=False)
    assert contents.items["n_rows"].tolist() == [1, 2, 0, 4, 5]


def test_leftovers_of_dead_builders_are_removed_and_markerless_folders_not_trusted(tmp_path):
    store = FeatureCache(tmp_path, "demo", CONFIG)
    dead = tmp_path / f".{store.name}.building-999999999-deadbeef"
    dead.mkdir(parents=True)
    (dead / "item00000000.a.npy").write_bytes(b"partial")
    store.path.mkdir()
    (store.path / "a.npy").write_bytes(b"half written")  # a folder without COMPLETE
    assert not store.is_complete()
    with pytest.raises(CacheError):
        store.load()
    store.get_or_build(range(2), compute, progress=False)
    assert not dead.exists()
    assert store.load().arrays["a"].shape == (3, 3)


def test_other_configuration_in_folder_is_refused(tmp_path):
    store = FeatureCache(tmp_path, "demo", CONFIG)
    store.get_or_build(range(2), compute, progress=False)
    (store.path / "config.json").write_text(json.dumps({**CONFIG, "fs": 1.0}))
    with pytest.raises(CacheError, match="another configuration"):
        store.load()


def test_inconsistent_items_raise(tmp_path):
    def bad(i):
        return ItemResult({"a": np.zeros((2, 3)), "b": np.zeros(3)})

    with pytest.raises(CacheError, match="different row counts"):
        FeatureCache(tmp_path, "demo", CONFIG).get_or_build(range(1), bad, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_progress_line_and_silence(monkeypatch):
    monkeypatch.setenv("KERASSEIZURE_PROGRESS", "1")
    stream = io.StringIO()
    bar = cache_lib.Progress(4, "building", every=2, stream=stream)
    for _ in range(4):
        bar.update()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("building: 2/4 (50%)") and "ETA" in lines[0] and lines[-1].startswith("building: 4/4")
    monkeypatch.setenv("KERASSEIZURE_PROGRESS", "0")
    quiet = io.StringIO()
    bar = cache_lib.Progress(4, "building", every=1, stream=quiet)
    bar.update()
    assert quiet.getvalue() == ""


def test_list_caches(tmp_path):
    FeatureCache(tmp_path, "demo", CONFIG).get_or_build(range(2), compute, progress=False)
    table = cache_lib.list_caches(tmp_path)
    assert table["kind"].tolist() == ["demo"] and table["complete"].tolist() == [True]
    assert table["config"].iloc[0]["fs"] == 250.0
    assert os.path.isdir(table["path"].iloc[0])


def test_read_ahead_loads_in_order_on_another_thread_at_most_depth_ahead_and_raises_at_the_item():
    import threading

    loaded = []

    def load(item):
        loaded.append((item, threading.get_ident()))
        if item == 4:
            raise CacheError(f"item {item} unreadable")
        return item * 10

    with cache_lib.ReadAhead(load, range(7), depth=3) as ahead:
        for item in range(4):
            assert ahead.result(item) == item * 10
            assert max(i for i, _ in loaded) <= item + 2  # never more than `depth` items held
        with pytest.raises(CacheError, match="item 4 unreadable"):
            ahead.result(4)
        with pytest.raises(RuntimeError, match="out of order"):
            ahead.result(6)
    assert [i for i, _ in loaded][:5] == [0, 1, 2, 3, 4]
    assert threading.get_ident() not in {thread for _, thread in loaded}
    with pytest.raises(ValueError, match="depth"):
        cache_lib.ReadAhead(load, [], depth=0)
