import io
import json

import numpy as np
import pandas as pd

from reproduce.common import Progress, data_banner, table_parser, write_results
from reproduce.figures import confusion_matrix_figure, learning_curves_figure


def test_progress_lines_count_work_and_estimate_the_rest():
    stream = io.StringIO()
    progress = Progress(4, "table1", stream=stream)
    progress.advance("fold 0 done")
    progress.advance("fold 1 done")
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("[table1 1/4 25% ") and lines[0].endswith("] fold 0 done")
    assert "ETA" in lines[1] and "ETA ?" not in lines[1]


def test_quiet_progress_prints_nothing():
    stream = io.StringIO()
    Progress(2, "t", stream=stream, quiet=True).advance("x")
    assert stream.getvalue() == ""


def test_write_results_writes_every_artefact_and_the_record_last(tmp_path):
    table = pd.DataFrame({"model": ["a"], "f1": [0.5]})
    figures = {"cm": confusion_matrix_figure(np.eye(2) * 3, ["x", "y"], "cm"),
               "curves": learning_curves_figure({"a": {"loss": [1, 0.5], "val_loss": [1.1, 0.7]}}, "c")}
    (tmp_path / "figures").mkdir()
    killed = tmp_path / "figures" / ".cm.png.0123456789ab.partial.png"  # a run killed while saving a figure
    killed.write_bytes(b"\x89PNG half")
    write_results(tmp_path, table, "# t\n", {"seed": 0}, figures)
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["cm.png", "curves.png"]
    assert pd.read_csv(tmp_path / "table.csv").equals(table)
    assert json.loads((tmp_path / "record.json").read_text()) == {"seed": 0}
    assert (tmp_path / "record.json").stat().st_mtime_ns >= (tmp_path / "table.md").stat().st_mtime_ns


def test_synthetic_tables_say_so():
    assert "SYNTHETIC" in data_banner(True, "x") and "SYNTHETIC" not in data_banner(False, "TUSZ v1.5.2")


def test_parser_defaults():
    args = table_parser("table9", "d").parse_args([])
    assert args.preset == "quick" and args.seed == 0 and str(args.results_dir) == "results/table9"


def test_a_bad_corpus_ends_the_table_with_its_message(capsys):
    from kerasseizure.errors import CorpusError
    from reproduce.common import run_table

    def main():
        raise CorpusError("/data/tusz: 3 of the 4599 recordings it lists are not in /data/tusz")

    assert run_table(main, "table1") == 2
    assert capsys.readouterr().err == ("python -m reproduce.table1: error: /data/tusz: 3 of the 4599 recordings "
                                       "it lists are not in /data/tusz\n")
