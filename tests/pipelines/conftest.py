"""Feature caches built once per session from the shared synthetic corpora (tests/corpora.py).

Tests that need their own cache (reuse, invalidation, crash) use a per-test cache folder and,
where possible, a subset of the corpus so that the suite stays within about a minute.
"""

import os

import pytest

os.environ.setdefault("KERASSEIZURE_PROGRESS", "0")


@pytest.fixture(scope="session")
def tusz_corpus(tusz_v2_root):
    """The shared v2.0.3 "tests" corpus (tests/corpora.py)."""
    from kerasseizure.io.tusz import TUSZCorpus

    return TUSZCorpus(tusz_v2_root)


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
def hms_data(hms_root):
    """The shared HMS "tests" corpus (tests/corpora.py)."""
    from kerasseizure.io.hms import HMSDataset

    return HMSDataset(hms_root)


@pytest.fixture(scope="session")
def hms_features(hms_data, session_cache):
    """Both views with two time-shift variants per eeg_id."""
    from kerasseizure.pipelines import build_hms_features

    return build_hms_features(hms_data, session_cache, time_shift_views=2, progress=False)
