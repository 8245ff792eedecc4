"""Session-scoped synthetic corpora, each written once per test session (a pytest plugin).

Registered from tests/conftest.py (`pytest_plugins`). Every fixture returns the pathlib.Path of
a corpus root built by `kerasseizure.io.synthetic`. The corpora are shared by many modules:
a test must not change one in place; one that damages files uses `copy_corpus` first.

Shared corpora (the common settings; use these unless a test needs something else):

- `tusz_v2_root`, `tusz_v152_root`, `tusz_v140_root`: the "tests" preset of each TUSZ layout
  version (16 patients, ~30 files), seed 0.
- `hms_root`: the "tests" preset of HMS (12 eeg_ids, 2 test EEGs), seed 0.
- `hms_small_root`: 6 eeg_ids, 1 test EEG, for the audit and `kerasseizure check` tests, which
  copy the corpus once per damaged file or read every signal: half the files of `hms_root`.
- `tusz_partial_root`: a v1.5.2 partial copy (one recording listed in the spreadsheet but
  absent), with the smaller settings the generator tests use.

Corpora with their own settings, each for one module, and why:

- `tusz_experiment_root` (tests/experiments/test_tusz.py): 14 patients with one 6-second file
  each and seizures of at most 6 s: the neural rows train on every window of every seizure, so
  the windows are kept few.
- `hms_experiment_root` (tests/experiments/test_hms.py): 20 eeg_ids of distinct patients with
  many high-vote rows, so that a 5-fold patient-wise split has every fold populated.
- `hms_kaggle_competition` (tests/test_kaggle.py): 8 eeg_ids and 3 test EEGs (a submission of
  several rows), short files; the notebooks run on it end to end in a subprocess.
- `tusz_v140_partial_root` (tests/io/test_synthetic.py): a v1.4.0 copy lacking 3 recordings.

Built on them, also once per session:

- `tusz_experiment_features`: the FFT and SES feature caches of `tusz_experiment_root`.
- `tusz_trained_rows`: the four neural rows of table 1 (member, student, ensemble, distilled from
  that ensemble) trained on fold 0 of those features with `TUSZ_TINY` / `TUSZ_NEURAL` (tiny
  networks, one epoch). tests/experiments/test_tusz.py checks their results and resumption,
  tests/export/test_run_artefacts.py loads, exports and predicts with their .keras files.
  A test must not train into these run folders with other settings.
- `tusz_test_dirs`: {"synthetic": a folder in which the `test` preset's synthetic TUSZ corpora
  are generated on first use and then reused, "cache": one feature cache for them}: the
  `--synthetic-dir` and `--cache-dir` of the table-1 runs on the test preset's corpora
  (tests/cli/test_train.py, tests/reproduce/test_table1.py). Both are keyed by their settings
  (corpus: size, seed and settings; features: corpus and code), so sharing them is what a user's
  demo-data/ and ~/.cache/kerasseizure do.
"""

import os
import shutil

import pytest

# Settings of a smaller TUSZ corpus than the "tests" preset (the generator tests build several).
SMALL_TUSZ = dict(n_patients=14, files_per_session=1, minutes_per_file=0.2, seizures_scale=0.05,
                  max_seizure_seconds=10, min_seizures_per_type=1)


def _tusz(tmp_path_factory, name, **settings):
    from kerasseizure.io.synthetic import make_tusz_corpus

    return make_tusz_corpus(tmp_path_factory.mktemp(name) / "corpus", **settings)


def _hms(tmp_path_factory, name, folder="corpus", **settings):
    from kerasseizure.io.synthetic import make_hms_corpus

    return make_hms_corpus(tmp_path_factory.mktemp(name) / folder, **settings)


@pytest.fixture(scope="session")
def tusz_v2_root(tmp_path_factory):
    return _tusz(tmp_path_factory, "tusz_v2", version="2.0.3", size="tests", seed=0)


@pytest.fixture(scope="session")
def tusz_v152_root(tmp_path_factory):
    return _tusz(tmp_path_factory, "tusz_v152", version="1.5.2", size="tests", seed=0)


@pytest.fixture(scope="session")
def tusz_v140_root(tmp_path_factory):
    return _tusz(tmp_path_factory, "tusz_v140", version="1.4.0", size="tests", seed=0)


@pytest.fixture(scope="session")
def tusz_partial_root(tmp_path_factory):
    """v1.5.2 lacking one recording (with seizures) that its spreadsheet lists."""
    return _tusz(tmp_path_factory, "tusz_partial", version="1.5.2", seed=3, missing_recordings=1, **SMALL_TUSZ)


@pytest.fixture(scope="session")
def tusz_v140_partial_root(tmp_path_factory):
    """v1.4.0 lacking 3 of the recordings its spreadsheet lists."""
    return _tusz(tmp_path_factory, "tusz_v140_partial", version="1.4.0", seed=0, missing_recordings=3,
                 **SMALL_TUSZ)


@pytest.fixture(scope="session")
def tusz_experiment_root(tmp_path_factory):
    return _tusz(tmp_path_factory, "tusz_exp", version="1.5.2", size="tests", n_patients=14, files_per_session=1,
                 minutes_per_file=0.1, max_seizure_seconds=6.0, seed=0)


@pytest.fixture(scope="session")
def hms_root(tmp_path_factory):
    return _hms(tmp_path_factory, "hms", size="tests", seed=0)


@pytest.fixture(scope="session")
def hms_small_root(tmp_path_factory):
    return _hms(tmp_path_factory, "hms_small", size="tests", n_eegs=6, n_test=1, seed=0)


@pytest.fixture(scope="session")
def hms_experiment_root(tmp_path_factory):
    return _hms(tmp_path_factory, "hms_exp", size="tests", n_eegs=20, n_test=1, seed=3,
                spectrograms_per_patient=(1, 1), eegs_per_spectrogram=(1, 2), sub_rows=(1, 2),
                high_vote_fraction=0.4)


@pytest.fixture(scope="session")
def hms_kaggle_competition(tmp_path_factory):
    """The competition folder of a fake /kaggle/input tree (its parent is the tree's root)."""
    from kerasseizure.kaggle import COMPETITION

    return _hms(tmp_path_factory, "kaggle", folder=os.path.join("input", COMPETITION), n_eegs=8, n_test=3,
                seed=3, eegs_per_spectrogram=(1, 2), sub_rows=(1, 2), extra_seconds=(0, 10))


@pytest.fixture
def copy_corpus(tmp_path):
    """Copy a session corpus into this test's folder so the test may damage it."""
    def copy(root):
        target = os.fspath(tmp_path / "corpus")
        shutil.copytree(root, target)
        return target
    return copy


# ------------------------------------------------------------------ trained table-1 rows

# The tiny SeizureNet of the session's trained rows, and their training settings (one epoch).
TUSZ_TINY = {"stem_filters": 4, "growth_rate": 3, "layers_per_block": [1], "bottleneck_factor": 1, "embedding_dim": 8}
TUSZ_NEURAL = {"epochs": 1, "batch_size": 32, "train_window_stride": 4, "eval_window_stride": 2, "bn_momentum": 0.5,
               "plot": False}


@pytest.fixture(scope="session")
def tusz_experiment_features(tusz_experiment_root, tmp_path_factory):
    """{"fft": TUSZFeatures, "ses": TUSZFeatures} of `tusz_experiment_root`."""
    from kerasseizure.io.tusz import TUSZCorpus
    from kerasseizure.pipelines import build_tusz_features

    corpus = TUSZCorpus(tusz_experiment_root)
    cache = tmp_path_factory.mktemp("tusz_exp_cache")
    return {rep: build_tusz_features(corpus, rep, cache, progress=False) for rep in ("fft", "ses")}


@pytest.fixture(scope="session")
def tusz_trained_rows(tusz_experiment_features, tmp_path_factory):
    """The neural rows of table 1 trained once on fold 0 of `tusz_experiment_features`.

    Returns a dict: "root" (the folder holding one run folder per kind: member, student,
    ensemble, distilled), "configs" and "results" (the TUSZExperimentConfig and the FoldResult
    of the first training, per kind), "logs" (per kind, the lines `run_tusz_fold` logged),
    "fold" ((train, valid) seizure positions) and "pool" (the ModelPool that trained them,
    in this order). The distilled row learns from the ensemble row's run folder
    (feature distillation).
    """
    from kerasseizure.evaluation.folds import seizure_wise_folds
    from kerasseizure.experiments.tusz import ModelPool, TUSZExperimentConfig, run_tusz_fold

    ses = tusz_experiment_features["ses"]
    train, valid = seizure_wise_folds(tusz_experiment_features["fft"].seizures)[0]
    root = tmp_path_factory.mktemp("tusz_rows")
    ensemble = TUSZExperimentConfig(kind="ensemble", model=TUSZ_TINY, **TUSZ_NEURAL)
    configs = {
        "member": TUSZExperimentConfig(kind="member", model=TUSZ_TINY, **TUSZ_NEURAL),
        "student": TUSZExperimentConfig(kind="student", model={"size": "tiny"}, **TUSZ_NEURAL),
        "ensemble": ensemble,
        "distilled": TUSZExperimentConfig(kind="distilled", model={"size": "tiny"}, teacher=ensemble,
                                          feature_distillation=True, **TUSZ_NEURAL),
    }
    pool = ModelPool()
    results, logs = {}, {}
    for kind, config in configs.items():
        logs[kind] = []
        results[kind] = run_tusz_fold(ses, train, valid, config, root / kind, teacher_dir=root / "ensemble",
                                      pool=pool, log=logs[kind].append)
    return {"root": root, "configs": configs, "results": results, "logs": logs, "fold": (train, valid),
            "pool": pool}


@pytest.fixture(scope="session")
def tusz_test_dirs(tmp_path_factory):
    """{"synthetic", "cache"}: the synthetic corpora and feature cache shared by table-1 runs of the test preset."""
    root = tmp_path_factory.mktemp("table1_test")
    return {"synthetic": root / "data", "cache": root / "cache"}
