import subprocess
import sys

import pytest

from kerasseizure.cli import main


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert main(["make-demo-data", str(out), "--size", "tests", "--tusz-versions", "2.0.3", "1.5.2"]) == 0
    return out


def test_make_demo_data_writes_both_tusz_layouts_and_hms(demo_dir):
    assert (demo_dir / "tusz-2.0.3" / "edf" / "train").is_dir()
    assert (demo_dir / "tusz-1.5.2" / "_DOCS" / "seizures_v36r.xlsx").is_file()
    assert (demo_dir / "hms" / "train.csv").is_file()


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


def test_console_script_help_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "kerasseizure.cli", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "make-demo-data" in out and "describe" in out
