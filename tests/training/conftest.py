import subprocess
import sys
from pathlib import Path

import pytest

HELPER = Path(__file__).with_name("train_helper.py")


class HelperRuns:
    """The two train_helper.py processes of the default suite, started together on first use.

    "mirrored": a 2-epoch MirroredStrategy run on two logical CPUs (test_strategies.py::
    test_mirrored_two_logical_cpus). "killed": a default-strategy run hard-killed in epoch 3, batch 4
    (test_resume.py::test_killed_mid_epoch_resumes_to_identical_result, which trains its uninterrupted
    reference in this interpreter meanwhile). Each costs mostly a fresh interpreter's TensorFlow import
    (single-threaded); started at once, the two imports and the reference overlap on two cores instead
    of running one after the other.
    """

    def __init__(self, folder):
        self.folder = folder
        self.mirrored_dir, self.mirrored_out = folder / "mirrored", folder / "mirrored.npz"
        self.killed_dir = folder / "killed"
        self._procs = {}

    def _args(self, name):
        if name == "mirrored":
            return ["mirrored", self.mirrored_dir, self.mirrored_out], {"TRAIN_HELPER_EPOCHS": "2"}
        return ["resume", self.killed_dir, self.folder / "killed-unused.npz", 2, 3], {}

    def start(self):
        import os

        for name in ("mirrored", "killed"):
            if name not in self._procs:
                args, env = self._args(name)
                with open(self.folder / f"{name}.log", "w") as log:
                    self._procs[name] = subprocess.Popen(
                        [sys.executable, str(HELPER), *map(str, args)], env=dict(os.environ, **env),
                        stdout=log, stderr=subprocess.STDOUT)
        return self

    def wait(self, name, timeout=300):
        """(return code, log tail) of the "mirrored" or "killed" process."""
        self.start()
        proc = self._procs[name]
        try:
            proc.wait(timeout=timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        return proc.returncode, (self.folder / f"{name}.log").read_text()[-3000:]

    def stop(self):
        for proc in self._procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="session")
def helper_runs(tmp_path_factory):
    runs = HelperRuns(tmp_path_factory.mktemp("train_helper"))
    yield runs
    runs.stop()
