import os

import pytest

# Before any test imports Keras: the TensorFlow backend, and quiet C++ logs.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Session-scoped synthetic corpora (tusz_v2_root, hms_root, ...) and `copy_corpus`.
pytest_plugins = ["tests.corpora"]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """One pytest-xdist group per module unless the module names a group of its own.

    `--dist loadgroup` (setup.cfg) then runs a module on one worker, so its module fixtures are
    built once, and modules that share an expensive session fixture (`pytestmark =
    pytest.mark.xdist_group(...)`: the trained table-1 rows, the test preset's corpora) run on the
    same worker, which builds it once.
    """
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
