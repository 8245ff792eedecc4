"""reproduce.table2_diagnosis: the class-only oracle, the references and the feature baseline's learning curve."""

import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("KERASSEIZURE_PROGRESS", "0")

from reproduce import table2_diagnosis  # noqa: E402

from kerasseizure.io.labels import HMS_CLASSES  # noqa: E402


def test_class_only_oracle_averages_the_truth_of_a_pattern_and_vote_population():
    truth = pd.DataFrame(np.eye(6)[[0, 1, 0, 0]] * 0.5 + 1 / 12, columns=list(HMS_CLASSES))
    truth.insert(0, "eeg_id", [10, 11, 12, 13])
    eegs = pd.DataFrame({"eeg_id": [13, 12, 11, 10], "pattern": ["Seizure", "Seizure", "LPD", "Seizure"],
                         "n_votes": [3, 12, 4, 15]})
    oracle = table2_diagnosis.class_only_oracle(truth, eegs).set_index("eeg_id")
    expected = truth.set_index("eeg_id")
    # 10 and 12: Seizure with >= 10 votes, one group; 13 (3 votes) and 11 (LPD) stand alone
    both = expected.loc[[10, 12]].mean()
    pd.testing.assert_series_equal(oracle.loc[10], both, check_names=False)
    pd.testing.assert_series_equal(oracle.loc[12], both, check_names=False)
    pd.testing.assert_series_equal(oracle.loc[13], expected.loc[13], check_names=False)
    np.testing.assert_allclose(oracle.to_numpy().sum(axis=1), 1.0)


def test_diagnosis_on_a_synthetic_corpus(hms_experiment_root, tmp_path, capsys):
    out = table2_diagnosis.main(["--data-dir", str(hms_experiment_root), "--results-dir", str(tmp_path / "d"),
                                 "--patients", "3"])
    assert json.loads((tmp_path / "d" / "diagnosis.json").read_text()) == json.loads(json.dumps(out))
    assert set(out["visibility_db"]) == set(HMS_CLASSES)
    refs = out["references"]
    # the oracle knows less than the truth and more than nothing
    assert refs["truth"]["kl_all"] <= refs["class-only oracle"]["kl_all"] + 1e-9 < refs["uniform"]["kl_all"]
    assert 0.0 < refs["class-only oracle"]["gap_closed_all"] <= 1.0 + 1e-9
    curve = out["feature_baseline"]
    sizes = [p["train_eeg_ids"] for p in curve]
    assert sizes == sorted(sizes) and len(curve) == len(table2_diagnosis.TRAINING_SHARES)
    assert all(0.0 <= p["pattern_accuracy"] <= 1.0 and np.isfinite(p["kl_all"]) for p in curve)
    assert set(curve[-1]["pattern_recall"]) <= set(HMS_CLASSES)
    assert "class-only oracle" in capsys.readouterr().out


def test_a_corpus_without_ground_truth_is_refused(hms_experiment_root, tmp_path):
    root = tmp_path / "corpus"
    shutil.copytree(hms_experiment_root, root)
    shutil.rmtree(root / "_truth")
    with pytest.raises(SystemExit, match="not a synthetic corpus"):
        table2_diagnosis.main(["--data-dir", str(root), "--results-dir", str(tmp_path / "d")])
