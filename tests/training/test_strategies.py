"""Distribution: MirroredStrategy on two logical CPUs, MultiWorkerMirroredStrategy on loopback."""

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kerasseizure.training import strategies

HELPER = Path(__file__).with_name("train_helper.py")


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_global_batch_and_chief_rules():
    assert strategies.global_batch_size(8, make_default()) == 8
    env = {"TF_CONFIG": json.dumps({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}})}
    assert strategies.task_identity(env) == ("worker", 1)
    assert not strategies.is_chief(None, env)
    env0 = {"TF_CONFIG": json.dumps({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 0}})}
    assert strategies.is_chief(None, env0)
    with pytest.raises(strategies.StrategyError):
        strategies.make_strategy("nope")


def make_default():
    return strategies.make_strategy("default")


def test_mirrored_two_logical_cpus(helper_runs):
    # Two epochs: multi-epoch, multi-replica fit in a fresh interpreter (two logical CPUs must be set
    # up before TensorFlow starts). Most of the cost is that interpreter's TensorFlow import, so the
    # process starts together with test_resume.py's killed run (helper_runs, conftest.py).
    code, log = helper_runs.wait("mirrored")
    assert code == 0, log
    with np.load(helper_runs.mirrored_out) as out:
        assert int(out["replicas"]) == 2
        assert out["predictions"].shape == (32, 3)
        assert np.isfinite(out["predictions"]).all() and np.isfinite(out["h_loss"]).all()
        assert len(out["h_loss"]) == 2
    assert (helper_runs.mirrored_dir / "final.keras").exists()


def _run_workers(tmp_path, run_dir, tag, extra=(), epochs=4, timeout=240):
    """Run train_helper.py "multiworker" in two worker processes on loopback; returns their outcomes.

    Each worker's stdout/stderr go to files (no pipe can fill up); a worker still running at the
    deadline is killed, so a hung collective fails the test instead of hanging it.
    """
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    procs, logs = [], []
    try:
        for index in range(2):
            task = {"type": "worker", "index": index}
            env = dict(os.environ, TF_CONFIG=json.dumps({"cluster": cluster, "task": task}),
                       TRAIN_HELPER_EPOCHS=str(epochs))
            log = open(tmp_path / f"{tag}-worker{index}.log", "w")
            logs.append(log)
            procs.append(subprocess.Popen(
                [sys.executable, str(HELPER), "multiworker", str(run_dir), str(tmp_path / f"{tag}-out{index}.npz"),
                 *map(str, extra)],
                env=env, stdout=log, stderr=subprocess.STDOUT,
            ))
        for proc in procs:
            proc.wait(timeout=timeout)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for log in logs:
            log.close()
    return [(proc.returncode, (tmp_path / f"{tag}-worker{i}.log").read_text()[-3000:]) for i, proc in enumerate(procs)]


def _check_two_workers(tmp_path, run_dir, tag, epochs=4):
    results = [dict(np.load(tmp_path / f"{tag}-out{i}.npz")) for i in range(2)]
    for out in results:
        assert int(out["replicas"]) == 2
        assert out["predictions"].shape == (32, 3)
        assert np.isfinite(out["predictions"]).all()
        assert len(out["h_loss"]) == epochs
        assert np.isfinite(out["h_loss"]).all() and np.isfinite(out["h_val_loss"]).all()
    # Mirrored variables and all-reduced metrics: both workers end with the same weights and logs.
    assert sorted(results[0]) == sorted(results[1])
    for key in results[0]:
        np.testing.assert_allclose(results[0][key], results[1][key], rtol=1e-6, atol=1e-7, err_msg=key)
    # The chief (worker 0) owns run_dir; worker 1 writes to run_dir/worker-1 only.
    assert (run_dir / "final.npz").exists() and (run_dir / "final.keras").exists()
    assert (run_dir / "worker-1" / "final.npz").exists()
    assert not (run_dir / "worker-0").exists()
    assert (run_dir / "history.csv").read_text() == (run_dir / "worker-1" / "history.csv").read_text()
    return results


@pytest.mark.slow
def test_multiworker_two_processes_on_loopback(tmp_path):
    """fit(strategy="multiworker") with two real worker processes (MultiWorkerMirroredStrategy, ring).

    Two epochs, ~20-30 s (mostly two TensorFlow imports on two cores), so `slow`; the default
    suite keeps test_mirrored_two_logical_cpus (multi-replica fit in a fresh process) and
    test_global_batch_and_chief_rules (the chief / worker rules); the slow test below runs four
    epochs, kills and resumes.
    """
    run_dir = tmp_path / "run"
    for code, log in _run_workers(tmp_path, run_dir, "a", epochs=2):
        assert code == 0, log
    _check_two_workers(tmp_path, run_dir, "a", epochs=2)


@pytest.mark.slow
def test_multiworker_resume_after_kill(tmp_path):
    """Both workers hard-killed mid-epoch 3 resume from their epoch-2 checkpoints and end exactly as an
    uninterrupted run; workers that restored different epochs stop with the same ResumeError."""
    reference = _run_workers(tmp_path, tmp_path / "ref", "ref")
    for code, log in reference:
        assert code == 0, log
    ref = _check_two_workers(tmp_path, tmp_path / "ref", "ref")

    run_dir = tmp_path / "run"
    for code, log in _run_workers(tmp_path, run_dir, "kill", extra=(2, 1)):
        assert code == 17, log
    assert sorted(p.name for p in (run_dir / "checkpoints").glob("epoch-*")) == ["epoch-0001.npz", "epoch-0002.npz"]
    mismatch = tmp_path / "mismatch"
    shutil.copytree(run_dir, mismatch)
    (mismatch / "worker-1" / "checkpoints" / "epoch-0002.npz").unlink()

    for code, log in _run_workers(tmp_path, run_dir, "resumed"):
        assert code == 0, log
    resumed = _check_two_workers(tmp_path, run_dir, "resumed")
    for key in ref[0]:
        np.testing.assert_allclose(resumed[0][key], ref[0][key], rtol=1e-6, atol=1e-7, err_msg=key)

    for code, log in _run_workers(tmp_path, mismatch, "mismatch"):
        assert code != 0 and "restored different epochs [1, 2]" in log, log
