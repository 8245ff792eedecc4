"""The "full" presets: the releases' census, checked on the plans (no signal is simulated), and
the streaming writers that keep a corpus of any size in flat memory."""

from collections import Counter, defaultdict

import numpy as np
import pandas as pd
import pytest

from kerasseizure.io.labels import PATIENT_WISE_TYPE_ORDER, SEIZURE_TYPES, TUSZ_COUNTS
from kerasseizure.io.simulation import SEIZURE_MORPHOLOGY
from kerasseizure.io.synthetic import make_hms_corpus, make_tusz_corpus
from kerasseizure.io.synthetic.common import csv_sink, exact_counts
from kerasseizure.io.synthetic.hms import HMS_CENSUS, _census_plan, _census_totals
from kerasseizure.io.synthetic.tusz import _plan, _settings
from kerasseizure.io.synthetic.tusz_census import RELEASE_CENSUS


def _full_plan(version):
    params, rates, montages = _settings(version, "full", *[None] * 8)
    return _plan(version, 0, "full", params, 2, 6, rates, montages, True)


@pytest.mark.parametrize("version, n_patients", [("1.5.2", 237), ("1.4.0", 167)])
def test_full_tusz_plan_is_the_published_census(version, n_patients):
    patients = _full_plan(version)
    seizures, holders = Counter(), defaultdict(set)
    for p in patients:
        for f in p.files:
            for s in f.seizures:
                seizures[s.kind] += 1
                holders[s.kind].add(p.pid)
    assert {t: (seizures[t], len(holders[t])) for t in SEIZURE_TYPES} == TUSZ_COUNTS[version]
    assert seizures["mysz"] == RELEASE_CENSUS[version]["mysz"]
    benchmark = {p.pid for p in patients if set(p.types) - {"mysz"}}
    assert len(benchmark) == n_patients
    census = RELEASE_CENSUS[version]
    dev = "dev_test" if version == "1.4.0" else "dev"
    files = Counter(p.split for p in patients for _ in p.files)
    assert files == {"train": census["recordings"]["train"], dev: census["recordings"]["dev"]}
    assert Counter(p.split for p in patients) == {"train": census["patients"]["train"], dev: census["patients"]["dev"]}
    # The patient-wise protocol (rarest type first) finds every patient under its primary type.
    for p in patients:
        if p.types:
            assert p.primary == min(set(p.types) - {"mysz"}, key=PATIENT_WISE_TYPE_ORDER.index)


def test_full_tusz_recordings_hold_their_seizures_at_type_durations():
    patients = _full_plan("1.5.2")
    assert len({p.pid for p in patients}) == len(patients)
    assert len({f.number for p in patients for f in p.files}) == sum(len(p.files) for p in patients)
    for f in (f for p in patients for f in p.files):
        t = 0.0
        for s in f.seizures:
            lo, hi = SEIZURE_MORPHOLOGY[s.kind]["duration"][2:]
            assert lo <= s.duration <= hi and s.onset >= t + 8.0 - 1e-9
            t = s.onset + s.duration
        assert t + 8.0 <= f.duration + 1e-9


def test_full_presets_refuse_what_the_census_fixes(tmp_path):
    with pytest.raises(ValueError):
        make_tusz_corpus(tmp_path / "v2", version="2.0.3", size="full")
    with pytest.raises(ValueError):
        make_tusz_corpus(tmp_path / "n", version="1.5.2", size="full", n_patients=40)
    with pytest.raises(ValueError):
        make_hms_corpus(tmp_path / "h", size="full", sub_rows=(1, 3))
    assert not any(tmp_path.iterdir())


def test_full_hms_plan_is_the_competition_census():
    totals = _census_totals(HMS_CENSUS["eeg_ids"])
    assert totals == HMS_CENSUS
    patients, recordings, rows_per_eeg = _census_plan(np.random.default_rng(0), totals)
    assert len(patients) == 1950 and len(recordings) == 11138
    assert sum(r["k"] for r in recordings) == 17089 and min(r["k"] for r in recordings) >= 1
    rows = list(rows_per_eeg)
    assert len(rows) == 17089 and sum(rows) == 106800 and min(rows) >= 1


def test_small_full_shaped_hms_corpus_keeps_the_ratios(tmp_path):
    root = make_hms_corpus(tmp_path / "hms", n_eegs=6, size="full")
    totals = _census_totals(6)
    train = pd.read_csv(root / "train.csv")
    assert len(train) == totals["rows"] and train.eeg_id.nunique() == 6
    assert train.spectrogram_id.nunique() == totals["spectrograms"]
    assert train.patient_id.nunique() == totals["patients"]
    assert len(pd.read_csv(root / "_truth" / "eegs.csv")) == 6


def test_csv_sink_in_chunks_equals_one_to_csv(tmp_path):
    rows = [dict(a=i, b=i / 3, c=f"x{i}", d=i % 2 == 0) for i in range(10)]
    with csv_sink(tmp_path / "chunked.csv", chunk=3) as sink:
        for row in rows:
            sink.add(row)
    pd.DataFrame(rows).to_csv(tmp_path / "whole.csv", index=False, lineterminator="\n")
    assert (tmp_path / "chunked.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    assert sink.count == 10
    with csv_sink(tmp_path / "empty.csv", columns=("a", "b")):
        pass
    assert (tmp_path / "empty.csv").read_text() == "a,b\n"


def test_exact_counts():
    counts = exact_counts(np.random.default_rng(1), 106, 17, sigma=1.0, weights=[3.0] + [1.0] * 16)
    assert sum(counts) == 106 and len(counts) == 17 and min(counts) >= 1
    with pytest.raises(ValueError):
        exact_counts(np.random.default_rng(1), 3, 4, sigma=1.0)


def test_make_demo_data_full_writes_the_v1_census_only(tmp_path, capsys):
    from kerasseizure.cli import build_parser, main

    args = build_parser().parse_args(["make-demo-data", str(tmp_path), "--size", "full"])
    assert args.size == "full"
    assert main(["make-demo-data", str(tmp_path), "--size", "full", "--tusz-versions", "2.0.3", "--no-hms"]) != 0
    assert "1.5.2" in capsys.readouterr().err and not any(tmp_path.iterdir())
