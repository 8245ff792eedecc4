"""Synthetic corpora of the experiments: one folder per size, seed and settings, reused only when
written by this writer."""

import json

from kerasseizure.experiments.data import synthetic_corpus_name, synthetic_tusz


def test_synthetic_corpus_is_reused_only_when_made_by_this_writer(tmp_path):
    from kerasseizure.io.synthetic.common import writer_fingerprint
    from kerasseizure.experiments.data import _synthetic_corpus

    made = []

    def make(root, overwrite, **settings):
        made.append(settings)
        (root / "_truth").mkdir(parents=True, exist_ok=True)
        (root / "_truth" / "corpus.json").write_text(json.dumps(dict(settings, writer_sha256=writer)))
        return root

    writer, logs = "0" * 16, []  # first a corpus from another version of the writer
    make(tmp_path, True, seed=0)
    writer = writer_fingerprint()
    for _ in range(2):
        _synthetic_corpus(tmp_path, make, {"seed": 0}, logs.append)
    assert made == [{"seed": 0}, {"seed": 0}]
    assert "another version of the writer" in logs[0]
    _synthetic_corpus(tmp_path, make, {"seed": 1}, logs.append)
    assert made == [{"seed": 0}, {"seed": 0}, {"seed": 1}]


def test_each_seed_and_setting_has_its_own_corpus_folder(tmp_path):
    names = {synthetic_corpus_name("tusz-1.5.2", {"size": "demo", "seed": seed, **options})
             for seed in (0, 1) for options in ({}, {"min_patients_per_type": 3})}
    assert len(names) == 4 and "tusz-1.5.2-demo-seed0" in names


def test_another_seed_never_regenerates_a_corpus_in_place(tmp_path):
    options = dict(n_patients=14, files_per_session=1, minutes_per_file=0.1, max_seizure_seconds=6.0)
    first = synthetic_tusz(tmp_path, "1.5.2", "tests", 0, log=lambda m: None, **options)
    stamp = (first / "_truth" / "corpus.json").stat().st_mtime_ns
    second = synthetic_tusz(tmp_path, "1.5.2", "tests", 1, log=lambda m: None, **options)
    assert second != first and (first / "_truth" / "corpus.json").stat().st_mtime_ns == stamp
    assert json.loads((second / "_truth" / "corpus.json").read_text())["seed"] == 1
