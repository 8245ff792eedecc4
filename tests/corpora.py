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
