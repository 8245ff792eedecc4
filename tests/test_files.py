import os
import stat

import pytest

from kerasseizure.files import atomic_path, atomic_write_json


def test_atomic_path_leaves_no_file_when_the_writer_fails(tmp_path):
    target = tmp_path / "result.json"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash while writing")
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_keeps_the_previous_file_until_the_new_one_is_complete(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("new")
            raise RuntimeError
    assert target.read_text() == "old"
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new" and [p.name for p in tmp_path.iterdir()] == ["table.csv"]


def test_atomic_files_follow_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        atomic_write_json(tmp_path / "report.json", {"a": 1})
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "report.json").stat().st_mode) == 0o644
