"""`kerasseizure score`: folders of both formats, the printed table, --json, and exit code 2 on bad input."""

import json

import pytest

from kerasseizure.cli import build_parser, main
from kerasseizure.cli.score import SCORER_CHOICES
from kerasseizure.evaluation.events import SCORERS, pool_scores, score_events
from kerasseizure.io.events import Event, write_csv_bi, write_events_tsv

from tests.blocked_imports import run_without
from tests.io.conftest import write_annotation

# Two TUSZ-style recordings of patient aaaaaaac and one of aaaaaaad (seconds).
REFERENCE = {"aaaaaaac_s001_t000": ([(100, 160), (400, 430)], 1800.0),
             "aaaaaaac_s001_t001": ([], 600.0),
             "aaaaaaad_s001_t000": ([(50, 90)], 600.0)}
HYPOTHESIS = {"aaaaaaac_s001_t000": [(110, 130), (140, 150), (1000, 1020)],
              "aaaaaaad_s001_t000": [(80, 110)]}


def _events(spans):
    return [Event(start, stop - start) for start, stop in spans]


@pytest.fixture
def folders(tmp_path):
    """REF as .csv_bi, HYP as *_events.tsv; aaaaaaac_s001_t001 has no hypothesis file."""
    ref, hyp = tmp_path / "ref", tmp_path / "hyp"
    for key, (spans, duration) in REFERENCE.items():
        write_csv_bi(ref / f"{key}.csv_bi", _events(spans), duration)
    for key, spans in HYPOTHESIS.items():
        write_events_tsv(hyp / f"{key}_events.tsv", _events(spans), REFERENCE[key][1])
    return ref, hyp


def _expected():
    per_recording = [score_events(_events(spans), _events(HYPOTHESIS.get(key, [])), duration)
                     for key, (spans, duration) in REFERENCE.items()]
    return {name: pool_scores(scores[name] for scores in per_recording) for name in SCORERS}


def test_scores_both_formats_and_writes_json(folders, tmp_path, capsys):
    ref, hyp = folders
    out = tmp_path / "scores.json"
    assert main(["score", str(ref), str(hyp), "--json", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "scored 3 recording(s)"
    assert printed[1] == "1 without a hypothesis file, scored as empty: aaaaaaac_s001_t001"
    assert printed[2].split() == ["scorer", "targets", "hits", "misses", "false", "alarms", "sensitivity",
                                  "precision", "F1", "FA/24h"]
    rows = {line.split()[0]: line.split()[1:] for line in printed[3:8]}
    # OVLP: refs 100-160 and 50-90 hit, 400-430 missed; hyp 1000-1020 is the one false alarm
    # over 3000 s: 1 / 3000 * 86400 = 28.80 per 24 h.
    assert rows["ovlp"] == ["3", "2", "1", "1", "0.6667", "0.6667", "0.6667", "28.80"]
    assert rows["taes"][:4] == ["3", "0.75", "2.25", "1.50"]
    assert set(rows) == set(SCORERS)
    assert printed[8].startswith("szcore, mean over 2 subject(s): sensitivity 0.7500 (std 0.2500)")
    assert printed[-1] == f"scores: {out}"
    saved = json.loads(out.read_text())
    assert set(saved) == set(SCORERS) | {"recordings"}
    assert saved["recordings"]["scored"] == 3 and saved["recordings"]["without_hypothesis"] == ["aaaaaaac_s001_t001"]
    for name, score in _expected().items():
        assert {key: saved[name][key] for key in score.to_dict()} == pytest.approx(score.to_dict())
    assert saved["szcore"]["subject_mean"]["subjects"] == 2
    assert saved["szcore"]["subject_mean"]["sensitivity"] == pytest.approx(0.75)
    assert "subject_mean" not in saved["ovlp"]


def test_tse_bi_reference_against_csv_bi_hypothesis_one_scorer(tmp_path, capsys):
    ref, hyp = tmp_path / "ref", tmp_path / "hyp"
    ref.mkdir()
    write_annotation(ref / "00000258_s001_t000.tse_bi", "version = tse_v1.0.0\n\n0.0000 10.0000 bckg 1.0000\n"
                     "10.0000 20.0000 seiz 1.0000\n20.0000 100.0000 bckg 1.0000\n")
    write_csv_bi(hyp / "00000258_s001_t000.csv_bi", _events([(15, 25)]), 100)
    assert main(["score", str(ref), str(hyp), "--scorer", "taes", "--json", str(tmp_path / "t.json")]) == 0
    lines = capsys.readouterr().out.splitlines()
    # TAES: hit (20-15)/10, miss 0.5, FA (25-20)/10; 0.5 / 100 * 86400 = 432 per 24 h.
    assert lines[2].split() == ["taes", "1", "0.50", "0.50", "0.50", "0.5000", "0.5000", "0.5000", "432.00"]
    assert len(lines[1]) == len(lines[2])  # columns aligned under the header
    assert lines[3:] == [f"scores: {tmp_path / 't.json'}"]
    assert set(json.loads((tmp_path / "t.json").read_text())) == {"taes", "recordings"}


def test_scorer_choices_are_the_library_scorers():
    assert SCORER_CHOICES == SCORERS
    assert build_parser().parse_args(["score", "r", "h"]).scorer == "all"


def _fails(argv, capsys, fragment):
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kerasseizure score: error:") and fragment in lines[0], lines
    return lines[0]


def test_bad_input_exits_2_with_one_line_and_writes_no_json(folders, tmp_path, capsys):
    ref, hyp = folders
    out = tmp_path / "scores.json"
    _fails(["score", str(tmp_path / "nowhere"), str(hyp), "--json", str(out)], capsys, "no such reference folder")
    _fails(["score", str(ref), str(tmp_path / "nowhere"), "--json", str(out)], capsys, "no such hypothesis folder")
    (tmp_path / "other").mkdir()
    _fails(["score", str(ref), str(tmp_path / "other"), "--json", str(out)], capsys, "no event file pairs")
    bad = hyp / "aaaaaaad_s001_t000_events.tsv"
    bad.write_text(bad.read_text().replace("\tsz\t", "\tseizure\t"))
    line = _fails(["score", str(ref), str(hyp), "--json", str(out)], capsys, "unknown eventType 'seizure'")
    assert f"error: {bad}: line 2:" in line
    write_events_tsv(bad, [Event(80, 30)], 900)
    _fails(["score", str(ref), str(hyp), "--json", str(out)], capsys, "lasts 900 s here but 600 s")
    bad.unlink()
    orphan = hyp / "zzzzzzzz_s001_t000_events.tsv"
    write_events_tsv(orphan, [], 60)
    _fails(["score", str(ref), str(hyp), "--json", str(out)], capsys, f"{orphan}: no reference file")
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".scores.json")]


def test_score_runs_without_tensorflow(folders):
    code = """
        import sys
        from kerasseizure.cli import main
        code = main(["score", sys.argv[1], sys.argv[2], "--scorer", "szcore"])
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
        print("exit", code, heavy)
    """
    result = run_without(code, folders, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "exit 0 []"

