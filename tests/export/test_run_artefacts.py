"""Every `.keras` file a training run writes loads everywhere: Keras safe mode, `export`, `predict`.

One run folder per neural row of table 1 (member, ensemble, student, distilled: tiny models, one
fold, one epoch), trained once per session (`tusz_trained_rows`, tests/corpora.py; shared with
tests/experiments/test_tusz.py). Each `fit/best.keras` and `fit/final.keras` must
load with `keras.saving.load_model(path, safe_mode=True)` (training configuration included) in a
fresh interpreter that imports only Keras, `kerasseizure.export.saving` (the layers) and
`kerasseizure.training` (the losses), so registration through import is what is tested, and must
go through `kerasseizure export` and `kerasseizure predict` on an EDF of the corpus: in the default
suite one file of each row (best or final, both kinds covered), the other four with `-m slow`.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

# Shares `tusz_trained_rows` (tests/corpora.py): the same pytest-xdist worker builds it once.
pytestmark = pytest.mark.xdist_group("tusz_trained_rows")

os.environ.setdefault("KERASSEIZURE_PROGRESS", "0")

KINDS = ("member", "ensemble", "student", "distilled")
FILES = [f"{kind}/fit/{name}.keras" for kind in KINDS for name in ("best", "final")]
# Export and predict: one file of each row in the default suite (best and final alternate), the rest slow.
ONE_PER_ROW = ["member/fit/best.keras", "ensemble/fit/final.keras", "student/fit/best.keras",
               "distilled/fit/final.keras"]
THE_OTHERS = sorted(set(FILES) - set(ONE_PER_ROW))


@pytest.fixture(scope="module")
def run(tusz_trained_rows, tusz_experiment_root):
    return {"rows": tusz_trained_rows["root"], "edf": sorted(tusz_experiment_root.rglob("*.edf"))[0]}


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


def test_every_model_file_loads_in_safe_mode_after_importing_the_loader(run, fresh_interpreters):
    done = fresh_interpreters["load"]
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


def _run_fresh(jobs, folder, timeout=600):
    """Run {name: [script, *args]} each in a fresh interpreter, all at once; {name: CompletedProcess}.

    Output goes to files (no pipe can fill up); a process still running at the deadline is killed.
    """
    procs, done = {}, {}
    try:
        for name, (script, *args) in jobs.items():
            with open(folder / f"{name}.out", "w") as out, open(folder / f"{name}.err", "w") as err:
                procs[name] = subprocess.Popen([sys.executable, "-c", script, *map(str, args)], stdout=out,
                                               stderr=err, text=True)
        for name, proc in procs.items():
            proc.wait(timeout=timeout)
            done[name] = subprocess.CompletedProcess(proc.args, proc.returncode,
                                                     (folder / f"{name}.out").read_text(),
                                                     (folder / f"{name}.err").read_text())
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return done


@pytest.fixture(scope="module")
def fresh_interpreters(run, tmp_path_factory):
    """The loader check (every file) and export + predict of ONE_PER_ROW, in two fresh interpreters
    started together: each spends much of its time importing TensorFlow, so on two cores together
    they take little longer than the longer one alone."""
    folder = tmp_path_factory.mktemp("fresh_interpreters")
    (folder / "cli").mkdir()
    return {"cli_out": folder / "cli", **_run_fresh({
        "load": [_LOAD_ALL, *[run["rows"] / name for name in FILES]],
        "cli": [_CLI, run["edf"], folder / "cli", *[run["rows"] / name for name in ONE_PER_ROW]]}, folder)}


@pytest.mark.parametrize("files", [
    pytest.param(ONE_PER_ROW, id="one-file-per-row"),
    pytest.param(THE_OTHERS, id="the-other-files", marks=pytest.mark.slow)])
def test_export_and_predict_load_every_model_file(run, tmp_path, files, request):
    # A fresh interpreter: only what the command line imports registers the classes.
    paths = [str(run["rows"] / name) for name in files]
    if files == ONE_PER_ROW:  # run beside the loader check (fresh_interpreters)
        fresh = request.getfixturevalue("fresh_interpreters")
        done, out = fresh["cli"], fresh["cli_out"]
    else:
        done, out = _run_fresh({"cli": [_CLI, run["edf"], tmp_path, *paths]}, tmp_path)["cli"], tmp_path
    assert done.returncode == 0, done.stderr[-3000:]
    codes = json.loads(done.stdout.strip().splitlines()[-1])
    errors = [line for line in done.stderr.splitlines() if line.startswith("kerasseizure ")]
    assert codes == {path: [0, 0] for path in paths}, "\n".join(errors)
    for i in range(len(paths)):
        assert json.loads((out / f"{i}.tflite.json").read_text())["passed"]
        frame = pd.read_csv(out / f"{i}.csv")
        classes = frame.columns[5:-1]
        assert list(frame["level"]).count("recording") == 1 and len(frame) > 1
        np.testing.assert_allclose(frame[classes].sum(axis=1), 1.0, atol=1e-6)
