"""Every `.keras` file a training run writes loads everywhere: Keras safe mode, `export`, `predict`.

One run folder per neural row of table 1 (member, ensemble, student, distilled: tiny models, one
fold, one epoch) is built once for the module. Each `fit/best.keras` and `fit/final.keras` must
load with `keras.saving.load_model(path, safe_mode=True)` (training configuration included) in a
fresh interpreter that imports only Keras, `kerasseizure.export.saving` (the layers) and
`kerasseizure.training` (the losses), so registration through import is what is tested, and must go through `kerasseizure export` and
`kerasseizure predict` on an EDF of the corpus.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("KERASSEIZURE_PROGRESS", "0")

KINDS = ("member", "ensemble", "student", "distilled")
FILES = [f"{kind}/fit/{name}.keras" for kind in KINDS for name in ("best", "final")]
TINY = {"stem_filters": 4, "growth_rate": 3, "layers_per_block": [1], "bottleneck_factor": 1, "embedding_dim": 8}
# Few windows and no validation pass: the test needs the files, not a trained model.
NEURAL = {"epochs": 1, "batch_size": 32, "train_window_stride": 8, "eval_window_stride": 8, "bn_momentum": 0.5,
          "track_validation": False, "plot": False}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from kerasseizure.evaluation.folds import seizure_wise_folds
    from kerasseizure.experiments.tusz import TUSZExperimentConfig, run_tusz_fold
    from kerasseizure.io.synthetic import make_tusz_corpus
    from kerasseizure.io.tusz import TUSZCorpus
    from kerasseizure.pipelines import build_tusz_features

    base = tmp_path_factory.mktemp("run_artefacts")
    corpus = make_tusz_corpus(base / "corpus", version="1.5.2", size="tests", n_patients=14, files_per_session=1,
                              minutes_per_file=0.1, max_seizure_seconds=6.0, seed=0)
    features = build_tusz_features(TUSZCorpus(corpus), "ses", base / "cache", progress=False)
    train, valid = seizure_wise_folds(features.seizures)[0]
    ensemble = TUSZExperimentConfig(kind="ensemble", model=TINY, **NEURAL)
    rows = base / "runs"
    for config in (TUSZExperimentConfig(kind="member", model=TINY, **NEURAL), ensemble,
                   TUSZExperimentConfig(kind="student", model={"size": "tiny"}, **NEURAL),
                   TUSZExperimentConfig(kind="distilled", model={"size": "tiny"}, teacher=ensemble,
                                        feature_distillation=True, **NEURAL)):
        run_tusz_fold(features, train, valid, config, rows / config.kind, teacher_dir=rows / "ensemble")
    return {"rows": rows, "edf": sorted(corpus.rglob("*.edf"))[0]}


def test_the_walk_finds_best_and_final_of_every_row(run):
    found = sorted(p.relative_to(run["rows"]).as_posix() for p in run["rows"].rglob("*.keras"))
    assert found == sorted(FILES)


_LOAD_ALL = textwrap.dedent("""
    import importlib, json, pkgutil, sys

    import keras

    import kerasseizure.export.saving  # registers the layers (all a loader without compile needs)
    layers_only = sorted(k for k in keras.saving.get_custom_objects() if k.startswith("kerasseizure>"))
    import kerasseizure.training  # registers the losses of the saved training configuration

    def registered():
        return sorted(k for k in keras.saving.get_custom_objects() if k.startswith("kerasseizure>"))

    loaded = {}
    for path in sys.argv[1:]:
        model = keras.saving.load_model(path, safe_mode=True)
        loaded[path] = {"class": type(model).__name__, "inputs": [t.name for t in model.inputs],
                        "loss": type(model.loss).__name__ if model.compiled else None}
    by_saving = registered()
    # Any class registered elsewhere in the package must be registered by the loader's imports too.
    import kerasseizure
    for module in pkgutil.walk_packages(kerasseizure.__path__, "kerasseizure."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    print(json.dumps({"models": loaded, "by_saving": by_saving, "in_package": registered(),
                      "layers_only": layers_only}))
""")


def test_every_model_file_loads_in_safe_mode_after_importing_the_loader(run):
    paths = [str(run["rows"] / name) for name in FILES]
    done = subprocess.run([sys.executable, "-c", _LOAD_ALL, *paths], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    # the two imports register every class of the package; the loader's alone every layer
    assert report["by_saving"] == report["in_package"]
    assert set(report["in_package"]) - set(report["layers_only"]) == {
        "kerasseizure>CrossEntropyFromLogits", "kerasseizure>KLDivergenceFromLogits"}
    for name in FILES:
        model = report["models"][str(run["rows"] / name)]
        if name.startswith("distilled"):
            # the student alone is saved, never the Distiller that trained it
            assert model["class"] == "Functional" and model["inputs"] == ["ses_0"], name
        else:
            assert model["loss"] == "CrossEntropyFromLogits", name  # the training configuration came back


_CLI = textwrap.dedent("""
    import json, sys

    from kerasseizure.cli import main

    edf, out, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
    codes = {}
    for i, path in enumerate(paths):
        codes[path] = [
            main(["export", path, "--quantization", "none", "--out", f"{out}/{i}.tflite", "--min-agreement", "0"]),
            main(["predict", path, edf, "--out", f"{out}/{i}.csv"]),
        ]
    print(json.dumps(codes))
""")


def test_export_and_predict_load_every_model_file(run, tmp_path):
    # A fresh interpreter: only what the command line imports registers the classes.
    paths = [str(run["rows"] / name) for name in FILES]
    done = subprocess.run([sys.executable, "-c", _CLI, str(run["edf"]), str(tmp_path), *paths],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    codes = json.loads(done.stdout.strip().splitlines()[-1])
    errors = [line for line in done.stderr.splitlines() if line.startswith("kerasseizure ")]
    assert codes == {path: [0, 0] for path in paths}, "\n".join(errors)
    for i in range(len(paths)):
        assert json.loads((tmp_path / f"{i}.tflite.json").read_text())["passed"]
        frame = pd.read_csv(tmp_path / f"{i}.csv")
        classes = frame.columns[5:-1]
        assert list(frame["level"]).count("recording") == 1 and len(frame) > 1
        np.testing.assert_allclose(frame[classes].sum(axis=1), 1.0, atol=1e-6)
