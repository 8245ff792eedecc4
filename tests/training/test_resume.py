"""A run hard-killed mid-epoch resumes and ends exactly like an uninterrupted run.

Only the killed run needs its own process (it dies by os._exit); the uninterrupted reference and
the resumption run in this interpreter through the same helper, which saves two TensorFlow imports
(~20 s on 2 cores), and the reference trains while the killed run's interpreter starts. The killed
run's process is started together with test_strategies.py's MirroredStrategy run (the helper_runs
fixture in conftest.py), so that the two TensorFlow imports overlap. test_killed_mid_epoch_resumes_in_a_fresh_process (slow) kills a process of its own
and resumes in a new process as well.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HELPER = Path(__file__).with_name("train_helper.py")


def _run(*args, timeout=180):
    return subprocess.run([sys.executable, str(HELPER), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def _run_here(run_dir, out):
    from tests.training import train_helper

    train_helper.main(["train_helper.py", "resume", str(run_dir), str(out)])


def _kill_mid_epoch(run_dir, while_it_runs=lambda: None):
    """A run of train_helper.py hard-killed in epoch 3; `while_it_runs()` is called meanwhile."""
    with open(run_dir.parent / "killed.log", "w") as log:
        killed = subprocess.Popen([sys.executable, str(HELPER), "resume", str(run_dir), str(run_dir.parent / "unused.npz"),
                                   "2", "3"], stdout=log, stderr=subprocess.STDOUT)
    try:
        while_it_runs()
        killed.wait(timeout=180)
    finally:
        if killed.poll() is None:
            killed.kill()
            killed.wait()
    assert killed.returncode == 17, (run_dir.parent / "killed.log").read_text()[-3000:]
    _check_killed(run_dir)


def _assert_same(ref_path, res_path):
    with np.load(ref_path) as ref, np.load(res_path) as res:
        assert sorted(ref.files) == sorted(res.files)
        for key in ref.files:
            np.testing.assert_allclose(res[key], ref[key], rtol=1e-6, atol=1e-7, err_msg=key)
        assert len(ref["h_loss"]) == 4


def _check_killed(run_dir):
    checkpoints = sorted((run_dir / "checkpoints").glob("epoch-*.npz"))
    assert [p.name for p in checkpoints] == ["epoch-0001.npz", "epoch-0002.npz"]
    assert not (run_dir / "final.npz").exists()


def test_killed_mid_epoch_resumes_to_identical_result(tmp_path, helper_runs):
    # The killed run's process starts together with test_strategies.py's MirroredStrategy run
    # (helper_runs, tests/training/conftest.py); the reference trains here meanwhile (two cores).
    helper_runs.start()
    _run_here(tmp_path / "ref", tmp_path / "ref.npz")
    code, log = helper_runs.wait("killed")
    assert code == 17, log
    shutil.copytree(helper_runs.killed_dir, tmp_path / "run")
    _check_killed(tmp_path / "run")
    _run_here(tmp_path / "run", tmp_path / "resumed.npz")
    _assert_same(tmp_path / "ref.npz", tmp_path / "resumed.npz")


@pytest.mark.slow
def test_killed_mid_epoch_resumes_in_a_fresh_process(tmp_path):
    reference = _run("resume", tmp_path / "ref", tmp_path / "ref.npz")
    assert reference.returncode == 0, reference.stderr[-3000:]
    _kill_mid_epoch(tmp_path / "run")
    resumed = _run("resume", tmp_path / "run", tmp_path / "resumed.npz")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    _assert_same(tmp_path / "ref.npz", tmp_path / "resumed.npz")
