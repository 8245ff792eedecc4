"""Session-scoped synthetic corpora ("tests" size) and feature caches built from them once.

Tests that need their own cache (reuse, invalidation, crash) use a per-test cache folder and,
where possible, a subset of the corpus so that the suite stays within about a minute.
"""

import os

import pytest

os.environ.setdefault("KERASSEIZURE_PROGRESS", "0")


@pytest.fixture(scope="session")
def tusz_root(tmp_path_factory):
    from kerasseizure.io.synthetic import make_tusz_corpus

    return make_tusz_corpus(tmp_path_factory.mktemp("tusz") / "corpus", version="2.0.3", size="tests", seed=0)


@pytest.fixture(scope="session")
def tusz_corpus(tusz_root):
    from kerasseizure.io.tusz import TUSZCorpus

    return TUSZCorpus(tusz_root)


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("feature_cache")


@pytest.fixture(scope="session")
def fft_features(tusz_corpus, session_cache):
    from kerasseizure.pipelines import build_tusz_features

    return build_tusz_features(tusz_corpus, "fft", session_cache, progress=False)


@pytest.fixture(scope="session")
def ses_features(tusz_corpus, session_cache):
    from kerasseizure.pipelines import build_tusz_features

    return build_tusz_features(tusz_corpus, "ses", session_cache, progress=False)


@pytest.fixture(scope="session")
def hms_root(tmp_path_factory):
    from kerasseizure.io.synthetic import make_hms_corpus

    return make_hms_corpus(tmp_path_factory.mktemp("hms") / "corpus", size="tests", seed=0)


@pytest.fixture(scope="session")
def hms_data(hms_root):
    from kerasseizure.io.hms import HMSDataset

    return HMSDataset(hms_root)


@pytest.fixture(scope="session")
def hms_features(hms_data, session_cache):
    """Both views with two time-shift variants per eeg_id."""
    from kerasseizure.pipelines import build_hms_features

    return build_hms_features(hms_data, session_cache, time_shift_views=2, progress=False)
