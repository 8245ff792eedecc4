"""On-disk feature caches: computed once, keyed by every preprocessing parameter, crash safe.

A cache is one folder `<root>/<kind>-<key>/` where `key` is the first 16 hex digits of the
SHA-256 of the canonical JSON of its configuration (representation, rates, window grid, bands,
filter settings, corpus root and fingerprint, code version...). Layout of a complete cache:

    <kind>-<key>/
      config.json      the full configuration the key was computed from (human readable)
      items.parquet    one row per item (seizure / eeg_id): its metadata, row_start, n_rows
      <array>.npy      one contiguous array per output, rows of all items back to back
      report.json      counts: items, rows, skipped items and why, NaN fills, build time
      COMPLETE         written last: {"key", "n_items", "n_rows"}

Building happens in a sibling temporary folder `.<kind>-<key>.building-<pid>-<random>`: items
are computed one at a time into per-item .npy files, concatenated into the contiguous arrays,
the table, report and config are written, `COMPLETE` last, and only then is the folder renamed
into place (atomic on POSIX). A crash at any point leaves no folder under the final name, so a
half-written cache is never trusted; temporary folders of dead builders are removed by the next
build. Arrays are plain .npy files read with `np.load(allow_pickle=False)` (memory-mapped by
default): nothing is ever pickled. See docs/pipelines.md.
"""

import collections
import hashlib
import inspect
import json
import math
import os
import shutil
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import kerasseizure
from kerasseizure.errors import CacheError
from kerasseizure.files import atomic_write_json

CACHE_FORMAT = 1
COMPLETE_MARKER = "COMPLETE"
CONFIG_FILE = "config.json"
REPORT_FILE = "report.json"
ITEMS_FILE = "items.parquet"
ENV_CACHE_DIR = "KERASSEIZURE_CACHE"
ENV_PROGRESS = "KERASSEIZURE_PROGRESS"


# --------------------------------------------------------------------------------- keys


def _canonical(value):
    """JSON-able canonical form: tuples -> lists, numpy scalars -> Python, paths -> str."""
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return [_canonical(v) for v in value.tolist()]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cache configuration values must be JSON-like, got {type(value).__name__}: {value!r}")


def canonical_config(config):
    """The configuration as it is hashed and written to config.json (sorted keys, lists)."""
    return json.loads(json.dumps(_canonical(config), sort_keys=True))


def config_key(config):
    """SHA-256 hex digest of the canonical JSON of `config`."""
    text = json.dumps(canonical_config(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def table_fingerprint(frame, columns=None):
    """SHA-256 of a table's values (row order, column names and dtypes included)."""
    frame = frame if columns is None else frame[list(columns)]
    digest = hashlib.sha256()
    digest.update(json.dumps([str(c) for c in frame.columns]).encode())
    digest.update(json.dumps([str(t) for t in frame.dtypes]).encode())
    digest.update(pd.util.hash_pandas_object(frame.reset_index(drop=True), index=False).to_numpy().tobytes())
    return digest.hexdigest()


def code_version(*functions_or_modules):
    """Version of the transform code: package version + SHA-256 of the given modules' sources.

    Editing any of these modules therefore invalidates the caches built with them.
    """
    digest = hashlib.sha256()
    names = []
    for obj in functions_or_modules:
        module = inspect.getmodule(obj) or obj
        names.append(module.__name__)
        try:
            digest.update(inspect.getsource(module).encode("utf-8"))
        except (OSError, TypeError):
            digest.update(module.__name__.encode())
    return {"package": kerasseizure.__version__, "cache_format": CACHE_FORMAT,
            "modules": sorted(set(names)), "source_sha256": digest.hexdigest()[:16]}


def default_cache_dir():
    """`$KERASSEIZURE_CACHE`, else `~/.cache/kerasseizure/features`."""
    env = os.environ.get(ENV_CACHE_DIR)
    return Path(env) if env else Path.home() / ".cache" / "kerasseizure" / "features"


# --------------------------------------------------------------------------------- progress


class Progress:
    """A plain progress line on stderr every `every` items or `seconds`, with rate and ETA.

    Silenced by `enabled=False` or the environment variable KERASSEIZURE_PROGRESS=0.
    """

    def __init__(self, total, description, enabled=True, every=None, seconds=10.0, stream=None):
        self.total = int(total)
        self.description = description
        env = os.environ.get(ENV_PROGRESS, "1").strip().lower()
        self.enabled = bool(enabled) and env not in ("0", "false", "no", "off")
        self.every = every if every is not None else max(1, self.total // 10)
        self.seconds = seconds
        self.stream = stream
        self.start = time.monotonic()
        self.last_time = self.start
        self.done = 0

    def _write(self, text):
        stream = self.stream if self.stream is not None else sys.stderr
        stream.write(text + "\n")
        stream.flush()

    def update(self, n=1):
        self.done += n
        if not self.enabled:
            return
        now = time.monotonic()
        if self.done == self.total or self.done % self.every == 0 or now - self.last_time >= self.seconds:
            self.last_time = now
            elapsed = now - self.start
            rate = self.done / elapsed if elapsed > 0 else float("inf")
            eta = (self.total - self.done) / rate if rate > 0 and math.isfinite(rate) else 0.0
            pct = 100.0 * self.done / self.total if self.total else 100.0
            self._write(f"{self.description}: {self.done}/{self.total} ({pct:.0f}%) "
                        f"elapsed {_fmt_seconds(elapsed)}, ETA {_fmt_seconds(eta)}")


def _fmt_seconds(s):
    s = int(round(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


# ------------------------------------------------------------------------------ reading ahead


class ReadAhead:
    """`load(item)` run ahead on a background thread for a consumer that takes `items` in order.

    `FeatureCache.build` computes its items one at a time, in order; a builder whose items start
    with a file read (that releases the GIL, as pyarrow's does) reads the next items while it
    computes the current one. Use as a context manager; leaving it cancels the reads not started.

    Args:
        load: callable(item) -> the item's inputs (run on the background thread).
        items: the items, in the order `result` will be asked for them.
        depth: items loaded ahead at most (their inputs are held in memory).

    Example:
        with ReadAhead(read_window, range(n)) as ahead:
            store.build(range(n), lambda i: transform(ahead.result(i)))
    """

    def __init__(self, load, items, depth=8):
        if int(depth) < 1:
            raise ValueError(f"depth must be >= 1, got {depth!r}")
        self.load = load
        self.depth = int(depth)
        self._items = iter(items)
        self._pending = collections.deque()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="kerasseizure-read")

    def result(self, item):
        """`load(item)`, or the exception it raised; `item` must be the next one in order."""
        while len(self._pending) < self.depth:
            following = next(self._items, self._items)
            if following is self._items:
                break
            self._pending.append((following, self._pool.submit(self.load, following)))
        if not self._pending or self._pending[0][0] != item:
            raise RuntimeError(f"ReadAhead: item {item!r} asked out of order")
        return self._pending.popleft()[1].result()

    def close(self):
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --------------------------------------------------------------------------------- contents


@dataclass
class CacheContents:
    """A loaded complete cache.

    Attributes:
        path: the cache folder.
        config: its configuration (as in config.json).
        items: one row per item, with `row_start` and `n_rows` into the arrays.
        arrays: {name: array of shape (total rows, ...)} (memory-mapped unless loaded in memory).
        report: the build report (counts, skipped items, timings).
    """

    path: Path
    config: dict
    items: pd.DataFrame
    arrays: dict
    report: dict = field(default_factory=dict)


@dataclass
class ItemResult:
    """What the per-item computation returns.

    Attributes:
        arrays: {name: array with a leading axis of n rows} (the same n for every name); None or
            n = 0 for an item that yields no rows.
        meta: extra columns for this item's row of items.parquet (JSON-like scalars).
        skipped: reason the item yields no rows (counted in the report), or None.
    """

    arrays: dict = None
    meta: dict = field(default_factory=dict)
    skipped: str = None


class FeatureCache:
    """One cache folder keyed by `config`.

    Args:
        root: folder that holds caches (created on demand).
        kind: short name of what is cached (for example 'tusz-fft'); part of the folder name.
        config: every parameter the cached values depend on (JSON-like dict).
    """

    def __init__(self, root, kind, config):
        self.root = Path(root)
        self.kind = str(kind)
        self.config = canonical_config(config)
        self.key = config_key(self.config)
        self.name = f"{self.kind}-{self.key[:16]}"
        self.path = self.root / self.name

    def __repr__(self):
        return f"FeatureCache({os.fspath(self.path)!r}, complete={self.is_complete()})"

    def is_complete(self):
        """True when the folder exists with its COMPLETE marker (written last)."""
        return (self.path / COMPLETE_MARKER).is_file()

    # ---- loading ----------------------------------------------------------------------

    def load(self, in_memory=False):
        """Load the complete cache.

        Args:
            in_memory: read the arrays into memory instead of memory-mapping them.

        Raises:
            CacheError: no complete cache, another configuration, or missing/short arrays.
        """
        if not self.is_complete():
            raise CacheError(f"{self.path}: no complete cache (missing {COMPLETE_MARKER} marker)")
        try:
            stored = json.loads((self.path / CONFIG_FILE).read_text(encoding="utf-8"))
            marker = json.loads((self.path / COMPLETE_MARKER).read_text(encoding="utf-8"))
            report = json.loads((self.path / REPORT_FILE).read_text(encoding="utf-8"))
            items = pd.read_parquet(self.path / ITEMS_FILE)
        except (OSError, ValueError) as error:
            raise CacheError(f"{self.path}: cannot read the cache: {error}") from error
        if stored != self.config or marker.get("key") != self.key:
            raise CacheError(f"{self.path}: built with another configuration (config.json differs from the one asked)")
        n_rows = int(marker["n_rows"])
        arrays = {}
        for name in marker["arrays"]:
            try:
                arrays[name] = np.load(self.path / f"{name}.npy", mmap_mode=None if in_memory else "r",
                                       allow_pickle=False)
            except (OSError, ValueError) as error:
                raise CacheError(f"{self.path / (name + '.npy')}: unreadable cache array: {error}") from error
            if arrays[name].shape[0] != n_rows:
                raise CacheError(f"{self.path / (name + '.npy')}: {arrays[name].shape[0]} rows, "
                                 f"the cache index says {n_rows}")
        if len(items) != int(marker["n_items"]):
            raise CacheError(f"{self.path / ITEMS_FILE}: {len(items)} items, the marker says {marker['n_items']}")
        return CacheContents(self.path, stored, items, arrays, report)

    # ---- building ---------------------------------------------------------------------

    def _remove_dead_builds(self):
        prefix = f".{self.name}.building-"
        if not self.root.is_dir():
            return
        for entry in self.root.iterdir():
            if not entry.name.startswith(prefix):
                continue
            try:
                pid = int(entry.name[len(prefix):].split("-")[0])
            except ValueError:
                continue
            if pid != os.getpid() and _pid_alive(pid):
                continue  # another live process is building it
            shutil.rmtree(entry, ignore_errors=True)

    def build(self, items, compute, total=None, progress=True, description=None, report_extra=None,
              item_columns=None):
        """Compute every item into a temporary folder, then publish the cache atomically.

        Args:
            items: iterable of work items handed to `compute` one by one.
            compute: callable(item) -> ItemResult.
            total: number of items (for the progress line); len(items) when None.
            progress: print a progress line to stderr while building.
            description: progress label (default: the folder name).
            report_extra: callable(results table) -> dict merged into report.json, or a dict.
            item_columns: callable(item) -> dict of columns for items.parquet (besides meta).

        The published cache may be one another process completed first (then ours is dropped).
        """
        self.root.mkdir(parents=True, exist_ok=True)
        self._remove_dead_builds()
        total = len(items) if total is None else int(total)
        tmp = self.root / f".{self.name}.building-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        started = time.time()
        try:
            bar = Progress(total, description or f"building {self.name}", enabled=progress)
            rows, shapes, skipped = [], {}, {}
            n_rows_total = 0
            for i, item in enumerate(items):
                result = compute(item)
                row = dict(item_columns(item)) if item_columns is not None else {}
                row.update(result.meta or {})
                n = 0
                if result.arrays:
                    lengths = {name: int(np.shape(a)[0]) for name, a in result.arrays.items()}
                    if len(set(lengths.values())) != 1:
                        raise CacheError(f"item {i}: arrays with different row counts {lengths}")
                    n = next(iter(lengths.values()))
                    for name, array in result.arrays.items():
                        array = np.ascontiguousarray(array)
                        spec = (tuple(array.shape[1:]), array.dtype.str)
                        if shapes.setdefault(name, spec) != spec and n > 0:
                            raise CacheError(f"item {i}: array {name!r} has shape/dtype {spec}, "
                                             f"earlier items {shapes[name]}")
                        if n > 0:
                            np.save(tmp / f"item{i:08d}.{name}.npy", array, allow_pickle=False)
                if result.skipped:
                    skipped[result.skipped] = skipped.get(result.skipped, 0) + 1
                row.update(row_start=n_rows_total, n_rows=n, skipped=result.skipped or "")
                n_rows_total += n
                rows.append(row)
                bar.update()
            table = pd.DataFrame(rows)
            self._concatenate(tmp, len(rows), n_rows_total, shapes, table)
            table.to_parquet(tmp / ITEMS_FILE, index=False)
            report = {"items": len(rows), "rows": n_rows_total,
                      "items_without_rows": int((table["n_rows"] == 0).sum()) if len(table) else 0,
                      "skipped": skipped, "arrays": {k: {"shape": [n_rows_total, *v[0]], "dtype": v[1]}
                                                     for k, v in shapes.items()},
                      "build_seconds": round(time.time() - started, 3), "built_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
            if report_extra is not None:
                report.update(report_extra(table) if callable(report_extra) else report_extra)
            atomic_write_json(tmp / REPORT_FILE, report)
            atomic_write_json(tmp / CONFIG_FILE, self.config)
            atomic_write_json(tmp / COMPLETE_MARKER, {"key": self.key, "n_items": len(rows),
                                                      "n_rows": n_rows_total, "arrays": sorted(shapes)})
            self._publish(tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    @staticmethod
    def _concatenate(tmp, n_items, n_rows, shapes, table):
        # Appended in row order to a plain file: the dirty pages of a memory map being filled
        # count as the builder's resident memory, the whole array at full corpus size.
        starts = table["row_start"].to_numpy()
        for name, (trailing, dtype) in shapes.items():
            dtype = np.dtype(dtype)
            path = tmp / f"{name}.npy"
            with open(path, "wb") as out:
                np.lib.format.write_array_header_1_0(out, {"descr": np.lib.format.dtype_to_descr(dtype),
                                                           "fortran_order": False, "shape": (n_rows, *trailing)})
                written = 0
                for i in range(n_items):
                    part_path = tmp / f"item{i:08d}.{name}.npy"
                    if not part_path.exists():
                        continue
                    part = np.load(part_path, allow_pickle=False)
                    if int(starts[i]) != written:
                        raise CacheError(f"{part_path}: item {i} starts at row {int(starts[i])}, expected {written}")
                    out.write(np.ascontiguousarray(part, dtype=dtype).tobytes())
                    written += part.shape[0]
                    part_path.unlink()
            if written != n_rows:
                raise CacheError(f"{path}: {written} rows written, {n_rows} expected")

    def _publish(self, tmp):
        if self.path.exists():
            if self.is_complete():
                # Another builder published first; ours is redundant.
                shutil.rmtree(tmp, ignore_errors=True)
                return
            # A folder under the final name without a marker (manual copy, foreign tool): replace it.
            trash = self.root / f".{self.name}.stale-{uuid.uuid4().hex[:8]}"
            os.replace(self.path, trash)
            shutil.rmtree(trash, ignore_errors=True)
        try:
            os.replace(tmp, self.path)
        except OSError:
            if self.is_complete():
                shutil.rmtree(tmp, ignore_errors=True)
                return
            raise

    def get_or_build(self, items, compute, rebuild=False, in_memory=False, **build_kwargs):
        """Load the cache when complete (and not `rebuild`), else build it. Returns CacheContents."""
        if self.is_complete() and not rebuild:
            return self.load(in_memory=in_memory)
        if rebuild and self.path.exists():
            trash = self.root / f".{self.name}.stale-{uuid.uuid4().hex[:8]}"
            os.replace(self.path, trash)
            shutil.rmtree(trash, ignore_errors=True)
        self.build(items, compute, **build_kwargs)
        return self.load(in_memory=in_memory)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def list_caches(root=None):
    """One row per cache folder under `root`: name, kind, key, complete, path, config."""
    root = default_cache_dir() if root is None else Path(root)
    rows = []
    if root.is_dir():
        for entry in sorted(root.iterdir()):
            if not entry.is_dir() or entry.name.startswith("."):
                continue
            kind, _, key = entry.name.rpartition("-")
            config = None
            if (entry / CONFIG_FILE).is_file():
                config = json.loads((entry / CONFIG_FILE).read_text(encoding="utf-8"))
            rows.append(dict(name=entry.name, kind=kind, key=key, complete=(entry / COMPLETE_MARKER).is_file(),
                             path=os.fspath(entry), config=config))
    return pd.DataFrame(rows, columns=["name", "kind", "key", "complete", "path", "config"])
