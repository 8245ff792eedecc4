"""`kerasseizure predict` I/O without TensorFlow: a stand-in model, hand-made EDF and parquet inputs.

The model is replaced by a constant classifier, so these tests are about what predict reads,
checks and reports, and where its output goes (CSV on stdout, everything else on stderr).
"""

import io

import numpy as np
import pandas as pd
import pytest

from kerasseizure.cli import main
from kerasseizure.cli import predict as predict_module
from kerasseizure.io.channels import HMS_EEG_COLUMNS
from kerasseizure.io.labels import HMS_VOTE_COLUMNS
from tests.io.conftest import tusz_channels, write_edf


class ConstantModel:
    """What predict needs of a model: input specs, class count, export report, predict()."""

    def __init__(self, specs, n_classes):
        self.specs = specs
        self.n_classes = n_classes
        self.report = {}

    def predict(self, arrays):
        return np.full((len(arrays[0]), self.n_classes), 1.0 / self.n_classes, dtype=np.float32)


@pytest.fixture
def use_model(monkeypatch):
    def use(specs, n_classes):
        monkeypatch.setattr(predict_module, "_load_predict_model", lambda args: ConstantModel(specs, n_classes))
    return use


def edf_at(path, fs, duration=12):
    return write_edf(path, tusz_channels({"montage_dir": "01_tcp_ar", "fs": fs, "duration": duration}), duration)


def test_out_dash_writes_only_the_csv_to_stdout(use_model, tmp_path, capsys):
    use_model([("ses", (20, 24, 3))], 7)
    edf = edf_at(tmp_path / "rec.edf", 250)
    assert main(["predict", "student.tflite", str(edf), "--out", "-"]) == 0
    captured = capsys.readouterr()
    frame = pd.read_csv(io.StringIO(captured.out))
    assert list(frame["level"].unique()) == ["window", "recording"] and (frame["recording"] == str(edf)).all()
    assert f"{edf}: {len(frame) - 1} windows" in captured.err
    assert not list(tmp_path.glob("*.csv"))


def test_edf_sampled_below_twice_fmax_is_refused_naming_the_file(use_model, tmp_path, capsys):
    slow = edf_at(tmp_path / "slow.edf", 32)
    use_model([("ses", (20, 24, 3))], 7)  # fmax 24 Hz: a 32 Hz file holds nothing above 16 Hz
    assert main(["predict", "student.tflite", str(slow), "--out", str(tmp_path / "p.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"kerasseizure predict: error: {slow}: sampling rate below 2 x fmax (32 Hz")
    assert not (tmp_path / "p.csv").exists()
    use_model([("fft", (20, 12, 1))], 7)  # fmax 12 Hz lies below the file's 16 Hz Nyquist frequency
    assert main(["predict", "student.tflite", str(slow), "--out", str(tmp_path / "p.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "p.csv")) > 1


def write_eeg(path, seed, nan_run=None, all_nan=None):
    eeg = np.random.default_rng(seed).normal(0, 50, (10_000, len(HMS_EEG_COLUMNS))).astype(np.float32)
    frame = pd.DataFrame(eeg, columns=HMS_EEG_COLUMNS)
    if nan_run:
        column, start, length = nan_run
        frame.loc[start:start + length - 1, column] = np.nan
    if all_nan:
        frame[all_nan] = np.nan
    frame.to_parquet(path)
    return path


def test_hms_nan_fills_are_reported_on_stderr(use_model, tmp_path, capsys):
    use_model([("eeg", (2000, 8))], 6)
    folder = tmp_path / "eegs"
    folder.mkdir()
    write_eeg(folder / "1.parquet", 0)
    gappy = write_eeg(folder / "2.parquet", 1, nan_run=("Fp1", 4000, 500), all_nan="C3")
    assert main(["predict", "wavenet.tflite", str(folder), "--out", "-"]) == 0
    captured = capsys.readouterr()
    frame = pd.read_csv(io.StringIO(captured.out))
    assert list(frame.columns) == ["eeg_id", *HMS_VOTE_COLUMNS] and frame["eeg_id"].tolist() == [1, 2]
    warnings = [line for line in captured.err.splitlines() if "warning" in line]
    assert warnings == [f"kerasseizure predict: warning: {gappy}: NaN filled in the 50 s window: 10500 EEG values, "
                        "all-NaN channels C3, longest NaN run 500 samples (2.5 s) in Fp1"]
    assert "2 eeg_id(s) predicted (eeg)" in captured.err
    assert "NaN fills: 10500 EEG values in 1 eeg_ids, 1 all-NaN channels, 0 Kaggle values" in captured.err
