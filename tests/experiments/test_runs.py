"""Run folders: fingerprints, reuse only of the same run, refusal or overwrite otherwise."""

import json

import numpy as np
import pytest

from kerasseizure.experiments import runs

IDENTITY = runs.run_identity({"seed": 0, "epochs": 3}, {"features": "abc"})


def _fold(calls, fail_on=None):
    def train_one_fold(spec, fold_dir):
        calls.append(spec)
        if spec == fail_on and calls.count(spec) == 1:
            raise RuntimeError("interrupted")
        return runs.FoldResult({"kl": 0.1 * spec}, {"y_prob": np.full((2, 3), spec / 3.0)})

    return train_one_fold


def test_completed_folds_are_not_redone(tmp_path):
    calls = []
    with pytest.raises(RuntimeError):
        runs.run_folds([1, 2, 3], _fold(calls, fail_on=2), tmp_path, identity=IDENTITY)
    result = runs.run_folds([1, 2, 3], _fold(calls, fail_on=2), tmp_path, identity=IDENTITY)
    assert calls == [1, 2, 2, 3] and result.reused == ["0"]
    assert np.isclose(result.summary["kl"]["mean"], 0.2)
    np.testing.assert_allclose(result.folds[0].predictions["y_prob"], 1 / 3)
    again = runs.run_folds([1, 2, 3], _fold(calls), tmp_path, identity=IDENTITY)
    assert again.reused == ["0", "1", "2"] and len(calls) == 4 and again.fingerprint == result.fingerprint


def test_other_settings_are_refused_naming_the_difference(tmp_path):
    runs.run_folds([1], _fold([]), tmp_path, identity=IDENTITY)
    other = runs.run_identity({"seed": 1, "epochs": 3}, {"features": "abc"})
    with pytest.raises(runs.RunIdentityError, match=r"config\.seed: 0 -> 1.*--overwrite"):
        runs.run_folds([1], _fold([]), tmp_path, identity=other)
    # nothing of the first run was touched
    assert json.loads((tmp_path / runs.RUN_FILE).read_text())["identity"] == IDENTITY


def test_overwrite_starts_afresh(tmp_path):
    calls = []
    runs.run_folds([1], _fold(calls), tmp_path, identity=IDENTITY)
    other = runs.run_identity({"seed": 0, "epochs": 3}, {"features": "other cache"})
    result = runs.run_folds([1], _fold(calls), tmp_path, identity=other, overwrite=True)
    assert result.reused == [] and calls == [1, 1]
    assert json.loads((tmp_path / runs.RUN_FILE).read_text())["identity"] == other


@pytest.mark.parametrize("damage", ["garbage", "edited", "absent"])
def test_damaged_or_unknown_folders_are_refused(tmp_path, damage):
    runs.run_folds([1], _fold([]), tmp_path, identity=IDENTITY)
    marker = tmp_path / runs.RUN_FILE
    if damage == "garbage":
        marker.write_text("{not json")
    elif damage == "edited":  # settings edited by hand: the fingerprint no longer matches them
        stored = json.loads(marker.read_text())
        stored["identity"]["config"]["seed"] = 5
        marker.write_text(json.dumps(stored))
    else:  # a folder of an older version, made before run.json existed
        marker.unlink()
    with pytest.raises(runs.RunIdentityError, match="--overwrite"):
        runs.run_folds([1], _fold([]), tmp_path, identity=IDENTITY)


def test_a_fold_is_reused_only_for_its_own_membership(tmp_path):
    calls = []
    first = {"0": (np.array([0, 1]), np.array([2]))}
    runs.run_folds(first, lambda spec, d: calls.append(1) or {"f1": 1.0}, tmp_path, identity=IDENTITY)
    moved = {"0": (np.array([0, 2]), np.array([1]))}
    with pytest.raises(runs.RunIdentityError, match="other settings or another fold"):
        runs.run_folds(moved, lambda spec, d: calls.append(1) or {"f1": 1.0}, tmp_path, identity=IDENTITY)
    assert calls == [1]


def test_stale_partial_files_are_removed_when_a_run_starts(tmp_path):
    runs.run_folds([1], _fold([]), tmp_path, identity=IDENTITY)
    stale = tmp_path / "fold-0" / "fit" / ".best.keras.0123456789ab.partial.keras"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"half a model")
    keep = tmp_path / "fold-0" / "notes.partial.txt"  # not a name atomic_path gives
    keep.write_text("mine")
    runs.run_folds([1], _fold([]), tmp_path, identity=IDENTITY)
    assert not stale.exists() and keep.exists()


def test_fold_digest_depends_on_membership_not_container():
    a = runs.fold_digest((1, (np.array([0, 1]), np.array([2]))))
    assert a == runs.fold_digest([1, [[0, 1], [2]]])
    assert a != runs.fold_digest((1, (np.array([0, 2]), np.array([1]))))
