import filecmp
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from kerasseizure.cli import main
from tests.blocked_imports import run_without


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory, tusz_v2_root, tusz_v152_root, hms_root):
    """What `make-demo-data DIR --size tests` writes (seed 0), linked from the session corpora
    (tests/corpora.py) rather than written again; the next test checks the command itself."""
    out = tmp_path_factory.mktemp("demo")
    for name, root in (("tusz-2.0.3", tusz_v2_root), ("tusz-1.5.2", tusz_v152_root), ("hms", hms_root)):
        (out / name).symlink_to(root, target_is_directory=True)
    return out


def _files(root):
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def test_make_demo_data_writes_the_synthetic_corpora(tmp_path, tusz_v140_root):
    from kerasseizure.cli import build_parser
    from kerasseizure.cli.corpus import tusz_versions

    # The defaults: both TUSZ layouts (2.0.3, 1.5.2) and HMS, at the "demo" size; full size: the v1.x census.
    defaults = build_parser().parse_args(["make-demo-data", str(tmp_path)])
    assert tusz_versions(defaults) == ["2.0.3", "1.5.2"] and not defaults.no_hms and defaults.size == "demo"
    full = build_parser().parse_args(["make-demo-data", str(tmp_path), "--size", "full"])
    assert tusz_versions(full) == ["1.5.2", "1.4.0"]
    # One layout, written by the command: byte for byte the corpus make_tusz_corpus writes for the
    # same size and seed (the session's v1.4.0 corpus), and no HMS folder with --no-hms.
    out = tmp_path / "demo"
    assert main(["make-demo-data", str(out), "--size", "tests", "--tusz-versions", "1.4.0", "--no-hms"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["tusz-1.4.0"]
    written = out / "tusz-1.4.0"
    assert (written / "_DOCS" / "seizures_v31r.xlsx").is_file()
    assert _files(written) == _files(tusz_v140_root)
    for rel in _files(written):
        assert filecmp.cmp(written / rel, tusz_v140_root / rel, shallow=False), rel


@pytest.mark.parametrize("corpus, header", [("tusz-2.0.3", "TUSZ v2.0"), ("tusz-1.5.2", "TUSZ v1.5.2")])
def test_describe_tusz_prints_per_split_and_type_statistics(demo_dir, capsys, corpus, header):
    assert main(["describe", str(demo_dir / corpus)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(header)
    assert "patients" in out and "seizures" in out
    assert "total (all)" in out and "fnsz" in out


def test_describe_hms_prints_populations_and_classes(demo_dir, capsys):
    assert main(["describe", str(demo_dir / "hms")]) == 0
    out = capsys.readouterr().out
    assert "HMS corpus" in out and "population" in out and "GRDA" in out


def test_describe_reports_a_bad_corpus_with_its_path_and_exit_code_2(tmp_path, capsys):
    (tmp_path / "edf" / "train").mkdir(parents=True)
    assert main(["describe", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kerasseizure describe: error:") and str(tmp_path) in err


# ------------------------------------------------------------------ prepare / export / predict

os.environ.setdefault("KERASSEIZURE_PROGRESS", "0")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cli_cache")


@pytest.fixture(scope="module")
def tusz_edf(demo_dir):
    return sorted((demo_dir / "tusz-2.0.3" / "edf").rglob("*.edf"))[0]


def test_prepare_tusz_prints_the_cache_and_the_counts(demo_dir, cache_dir, capsys):
    assert main(["prepare", str(demo_dir / "tusz-2.0.3"), "--representation", "ses_single",
                 "--cache-dir", str(cache_dir), "--no-progress"]) == 0
    out = capsys.readouterr().out
    folder = next(cache_dir.glob("tusz-sessingle-*"))
    assert f"cache: {folder}" in out and "20, 24, 3) float32" in out
    assert "seizures" in out and "windows" in out and "fnsz" in out and "excluded types: mysz" in out
    report = json.loads((folder / "report.json").read_text())
    assert f"{report['rows']} windows" in out
    # A second run reuses the cache (same folder, nothing rebuilt).
    assert main(["prepare", str(demo_dir / "tusz-2.0.3"), "--representation", "ses_single",
                 "--cache-dir", str(cache_dir), "--no-progress"]) == 0
    assert len(list(cache_dir.glob("tusz-sessingle-*"))) == 1


def test_prepare_hms_eeg_view(demo_dir, cache_dir, capsys):
    assert main(["prepare", str(demo_dir / "hms"), "--representation", "hms", "--views", "eeg",
                 "--cache-dir", str(cache_dir), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "wavenet (12, 1, 2000, 8)" in out and "12 eeg_ids, 0 skipped" in out and "NaN fills" in out


@pytest.mark.parametrize("argv, message", [
    (["--representation", "hms"], "not an HMS corpus"),
    (["--representation", "fft", "--views", "eeg"], "--views apply to HMS features"),
    (["--representation", "fft", "--fmax", "24", "48"], "takes one --fmax"),
])
def test_prepare_rejects_mismatched_options(demo_dir, capsys, argv, message):
    assert main(["prepare", str(demo_dir / "tusz-2.0.3"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kerasseizure prepare: error:") and message in err


@pytest.fixture(scope="module")
def student_keras(tmp_path_factory):
    from kerasseizure.models import student

    path = tmp_path_factory.mktemp("models") / "student.keras"
    student((20, 24, 3), num_classes=7, size="tiny").save(path)
    return path


@pytest.fixture(scope="module")
def student_int8(student_keras, demo_dir, cache_dir):
    out = student_keras.parent / "student_int8.tflite"
    code = main(["export", str(student_keras), "--quantization", "int8", "--out", str(out),
                 "--data-dir", str(demo_dir / "tusz-2.0.3"), "--cache-dir", str(cache_dir), "--no-progress",
                 "--verify-samples", "256", "--min-agreement", "0.8"])
    assert code == 0
    return out


def test_export_int8_from_a_corpus_writes_the_report(student_int8):
    report = json.loads((student_int8.parent / "student_int8.tflite.json").read_text())
    assert report["quantization"] == "int8" and report["passed"]
    assert report["verification"]["source"] == "verify_data" and report["verification"]["n_samples"] == 256
    assert "weighted_f1_tflite" in report["verification"]  # labels came with the windows
    # The pipeline's window settings travel to the device through the report.
    assert report["preprocessing"]["kind"] == "ses" and report["preprocessing"]["fmax"] == 24.0
    assert report["preprocessing"]["ses_options"]["radii"] == [1, 2, 4]


def test_export_float16_without_data_warns_and_prints_the_report(student_keras, capsys):
    out = student_keras.parent / "student_f16.tflite"
    assert main(["export", str(student_keras), "--quantization", "float16", "--out", str(out),
                 "--min-agreement", "0"]) == 0
    captured = capsys.readouterr()
    assert "random" in captured.err and "warning" in captured.err
    assert "size:" in captured.out and "argmax agreement" in captured.out and "CONV_2D" in captured.out
    report = json.loads(out.with_name(out.name + ".json").read_text())
    assert report["quantization"] == "float16" and report["verification"]["source"] == "random_normal"


def test_export_errors_exit_2(student_keras, tmp_path, capsys):
    assert main(["export", str(student_keras), "--quantization", "int8", "--out", str(tmp_path / "s.tflite")]) == 2
    assert "needs --data-dir" in capsys.readouterr().err
    bad = tmp_path / "broken.keras"
    bad.write_bytes(b"not a zip file")
    assert main(["export", str(bad), "--out", str(tmp_path / "b.tflite")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kerasseizure export: error:") and str(bad) in err
    # Verification failure: the ExportError message, non-zero exit, nothing at the target path.
    target = tmp_path / "never.tflite"
    assert main(["export", str(student_keras), "--out", str(target), "--max-abs-diff", "-1"]) == 2
    assert "does not reproduce Keras" in capsys.readouterr().err and not target.exists()


def _check_tusz_predictions(frame, edf):
    classes = ["fnsz", "gnsz", "cpsz", "absz", "tnsz", "tcsz", "spsz"]
    assert list(frame.columns) == ["recording", "level", "window", "start_seconds", "end_seconds", *classes,
                                   "predicted"]
    windows = frame[frame["level"] == "window"]
    np.testing.assert_allclose(frame[classes].sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(windows["start_seconds"], np.arange(len(windows)) * 0.248, atol=1e-6)
    np.testing.assert_allclose(windows["end_seconds"] - windows["start_seconds"], 1.0, atol=1e-6)
    pooled = frame[frame["level"] == "recording"]
    assert len(pooled) == 1 and pooled["recording"].iloc[0] == str(edf)
    np.testing.assert_allclose(pooled[classes].to_numpy()[0], windows[classes].mean().to_numpy(), atol=1e-6)


def test_predict_tflite_on_an_edf(student_int8, tusz_edf, tmp_path):
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(student_int8), str(tusz_edf), "--out", str(out)]) == 0
    _check_tusz_predictions(pd.read_csv(out), tusz_edf)


def test_predict_keras_on_an_edf_matches_the_tflite(student_keras, student_int8, tusz_edf, tmp_path):
    out = tmp_path / "keras.csv"
    assert main(["predict", str(student_keras), str(tusz_edf), "--out", str(out)]) == 0
    keras_frame = pd.read_csv(out)
    _check_tusz_predictions(keras_frame, tusz_edf)
    assert main(["predict", str(student_int8), str(tusz_edf), "--out", str(tmp_path / "lite.csv")]) == 0
    lite_frame = pd.read_csv(tmp_path / "lite.csv")
    np.testing.assert_allclose(keras_frame.iloc[:, 5:12], lite_frame.iloc[:, 5:12], atol=0.02)


def test_predict_hms_parquet_folder_with_a_wavenet(demo_dir, tmp_path, capsys):
    from kerasseizure.io.labels import HMS_VOTE_COLUMNS
    from kerasseizure.models import WaveNet

    model_path = tmp_path / "wavenet.keras"
    WaveNet(blocks=[(4, 3, 1)], hidden_units=8).save(model_path)  # one block: the CLI is tested, not the model
    out = tmp_path / "submission.csv"
    assert main(["predict", str(model_path), str(demo_dir / "hms" / "test_eegs"), "--out", str(out)]) == 0
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["eeg_id", *HMS_VOTE_COLUMNS]
    test_ids = pd.read_csv(demo_dir / "hms" / "test.csv")["eeg_id"]
    assert sorted(frame["eeg_id"]) == sorted(test_ids)
    np.testing.assert_allclose(frame[list(HMS_VOTE_COLUMNS)].sum(axis=1), 1.0, atol=1e-9)
    # One file gives the same row.
    single = demo_dir / "hms" / "test_eegs" / f"{frame['eeg_id'].iloc[0]}.parquet"
    assert main(["predict", str(model_path), str(single), "--out", str(tmp_path / "one.csv")]) == 0
    np.testing.assert_allclose(pd.read_csv(tmp_path / "one.csv").iloc[0, 1:], frame.iloc[0, 1:], atol=1e-6)
    # A parquet that is not an EEG file: exit 2, the message names it.
    spectrogram = next((demo_dir / "hms" / "test_spectrograms").glob("*.parquet"))
    assert main(["predict", str(model_path), str(spectrogram), "--out", str(tmp_path / "bad.csv")]) == 2
    err = capsys.readouterr().err
    assert str(spectrogram) in err and "lacks columns" in err and not (tmp_path / "bad.csv").exists()


def test_predict_bad_inputs_exit_2_naming_the_file(student_int8, tmp_path, capsys):
    missing = tmp_path / "missing.edf"
    assert main(["predict", str(student_int8), str(missing), "--out", str(tmp_path / "p.csv")]) == 2
    assert str(missing) in capsys.readouterr().err
    garbage = tmp_path / "garbage.edf"
    garbage.write_bytes(b"0       this is not an EDF file")
    assert main(["predict", str(student_int8), str(garbage), "--out", str(tmp_path / "p.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kerasseizure predict: error:") and str(garbage) in err
    spectrogram = tmp_path / "123.parquet"
    pd.DataFrame({"time": [1.0, 3.0], "LL_0.59": [0.1, 0.2]}).to_parquet(spectrogram)
    assert main(["predict", str(student_int8), str(spectrogram), "--out", str(tmp_path / "p.csv")]) == 2
    assert "not an HMS view" in capsys.readouterr().err
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert main(["predict", str(student_int8), str(text)]) == 2
    assert str(text) in capsys.readouterr().err
    assert not (tmp_path / "p.csv").exists()


# `kerasseizure predict student.tflite file.edf` in a fresh interpreter where importing TensorFlow
# or Keras raises ImportError: the device path needs NumPy, SciPy and LiteRT only.
_TF_FREE_PREDICT = textwrap.dedent("""
    import json
    import sys

    from kerasseizure.cli import main

    code = main(["predict", sys.argv[1], sys.argv[2]])
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
    print(json.dumps({"code": code, "heavy": heavy}))
""")


def test_predict_tflite_runs_without_tensorflow(student_int8, tusz_edf, tmp_path):
    result = run_without(_TF_FREE_PREDICT, [student_int8, tusz_edf], cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"code": 0, "heavy": []}
    _check_tusz_predictions(pd.read_csv(tmp_path / "predictions.csv"), tusz_edf)


def test_console_script_help_lists_all_commands():
    out = subprocess.run([sys.executable, "-m", "kerasseizure.cli", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for command in ("make-demo-data", "describe", "prepare", "export", "predict", "train", "evaluate"):
        assert command in out
