"""`kerasseizure check`: exit codes 0 (usable), 1 (problems), 2 (unreadable), the report and --json."""

import json
import os

import pytest

from kerasseizure.cli import main
from kerasseizure.io.synthetic import load_truth
from tests.blocked_imports import run_without


@pytest.fixture(scope="module")
def partial_tusz(tusz_partial_root):
    """A v1.5.2 copy missing one recording its spreadsheet lists (a partial download; tests/corpora.py)."""
    return os.fspath(tusz_partial_root)


@pytest.fixture(scope="module")
def hms_root(hms_small_root):
    return os.fspath(hms_small_root)


def test_usable_copy_exits_0(hms_root, tmp_path, capsys):
    report = tmp_path / "audit.json"
    assert main(["check", hms_root, "--json", str(report)]) == 0
    out = capsys.readouterr().out
    assert "result: usable (exit 0)" in out
    assert "audit: HMS (Kaggle 2024)" in out and "differs from the published counts" in out
    saved = json.loads(report.read_text())
    assert saved["usable"] is True and saved["corpus"] == "HMS" and saved["findings"] == []
    assert {item["item"] for item in saved["published"]["items"]} >= {"eeg_ids", "train.csv rows"}


def test_nan_runs_need_signals(hms_root, tmp_path, capsys):
    report = tmp_path / "audit.json"
    assert main(["check", hms_root, "--signals", "--quiet", "--json", str(report)]) == 0
    saved = json.loads(report.read_text())
    assert saved["signals_read"] is True
    assert {finding["kind"] for finding in saved["findings"]} <= {"nan_run"}
    assert saved["summary"]["eegs_with_nan"] == len(saved["findings"])


def test_partial_copy_exits_1(partial_tusz, tmp_path, capsys):
    truth = load_truth(partial_tusz)["recordings"]
    missing = os.path.join(partial_tusz, *truth.loc[truth["missing"], "edf_path"].iloc[0].split("/"))
    report = tmp_path / "audit.json"
    assert main(["check", partial_tusz, "--json", str(report)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"TUSZ v1.5.2 at {partial_tusz}")
    assert f"missing_recording: {missing}" in out
    assert "result: NOT usable as it is: 1 problem(s) (exit 1)" in out
    saved = json.loads(report.read_text())
    assert saved["usable"] is False
    assert [(f["path"], f["kind"], f["severity"]) for f in saved["findings"] if f["severity"] == "problem"] == \
        [(missing, "missing_recording", "problem")]
    assert saved["findings_per_kind"]["problem missing_recording"] == 1


@pytest.mark.parametrize("make", [lambda root: root, lambda root: root / "absent"])
def test_unreadable_folder_exits_2(tmp_path, capsys, make):
    assert main(["check", str(make(tmp_path))]) == 2
    assert capsys.readouterr().err.startswith("kerasseizure check: error: ")


def test_check_runs_without_tensorflow(partial_tusz):
    done = run_without("""
        import sys
        from kerasseizure.cli import main
        sys.exit(main(["check", sys.argv[1], "--quiet"]))
    """, args=[partial_tusz])
    assert done.returncode == 1, done.stderr
    assert "missing_recording" in done.stdout
