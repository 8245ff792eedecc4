"""A run hard-killed mid-epoch resumes and ends exactly like an uninterrupted run."""

import subprocess
import sys
from pathlib import Path

import numpy as np

HELPER = Path(__file__).with_name("train_helper.py")


def _run(*args, timeout=180):
    return subprocess.run([sys.executable, str(HELPER), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def test_killed_mid_epoch_resumes_to_identical_result(tmp_path):
    reference = _run("resume", tmp_path / "ref", tmp_path / "ref.npz")
    assert reference.returncode == 0, reference.stderr[-3000:]

    killed = _run("resume", tmp_path / "run", tmp_path / "unused.npz", 2, 3)
    assert killed.returncode == 17, killed.stderr[-3000:]
    checkpoints = sorted((tmp_path / "run" / "checkpoints").glob("epoch-*.npz"))
    assert [p.name for p in checkpoints] == ["epoch-0001.npz", "epoch-0002.npz"]
    assert not (tmp_path / "run" / "final.npz").exists()

    resumed = _run("resume", tmp_path / "run", tmp_path / "resumed.npz")
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    with np.load(tmp_path / "ref.npz") as ref, np.load(tmp_path / "resumed.npz") as res:
        assert sorted(ref.files) == sorted(res.files)
        for key in ref.files:
            np.testing.assert_allclose(res[key], ref[key], rtol=1e-6, atol=1e-7, err_msg=key)
        assert len(ref["h_loss"]) == 4
