"""Atomic file writing: a result, cache entry or table is either complete on disk or absent.

Readers never see a half-written file because everything is written to a temporary file in the
destination folder and renamed into place (an atomic operation on POSIX and Windows).
"""

import contextlib
import json
import os
import secrets
import re
from pathlib import Path

PARTIAL_TAG = ".partial"
# The temporary names `atomic_path` gives: .<name>.<12 hex digits>.partial<suffix>
PARTIAL_NAME = re.compile(r"\..+\.[0-9a-f]{12}\.partial(\.[^.]*)?")


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path next to `path`; rename it onto `path` only if the block succeeds.

    Use it for writers that want a file name (np.save, df.to_parquet, model.save):

    >>> with atomic_path("table.csv") as tmp:   # doctest: +SKIP
    ...     frame.to_csv(tmp)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created exclusively with mode 0o666 so the user's umask applies (mkstemp would force 0600).
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}{PARTIAL_TAG}{path.suffix}"
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def remove_stale_partials(folder):
    """Delete the temporary files that interrupted `atomic_path` writes left under `folder`.

    Call it when a run starts in `folder` (not while another process writes there). Returns the
    number of files removed.
    """
    removed = 0
    for path in Path(folder).rglob(".*.partial*"):
        if path.is_file() and PARTIAL_NAME.fullmatch(path.name):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def atomic_write_text(path, text):
    """Write `text` to `path` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_write_json(path, obj):
    """Write `obj` as indented JSON to `path` atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")
