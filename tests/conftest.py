import os

# Before any test imports Keras: the TensorFlow backend, and quiet C++ logs.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Session-scoped synthetic corpora (tusz_v2_root, hms_root, ...) and `copy_corpus`.
pytest_plugins = ["tests.corpora"]
