"""`kerasseizure detect`: hand-made EDF recordings with a known seizure, through a fixed-weight detector.

The recordings are noise whose amplitude is 8 times larger during the seizure; the model reads
the mean log spectrum of the SES windows (their first map), so its seizure probability is high
exactly there. One recording has a `.csv_bi` beside it (a figure is drawn), one has none.
"""

import contextlib
import io
import json

import numpy as np
import pyedflib
import pytest

from kerasseizure.cli import main
from kerasseizure.io.events import Event, read_events_tsv, read_seizure_events, write_csv_bi
from tests.blocked_imports import run_without
from tests.io.conftest import tusz_labels, write_edf

CLASSES = "bckg,fnsz,gnsz"
# (fs, duration s, seizure start s, seizure stop s) of each recording; only "annotated" has a .csv_bi.
RECORDINGS = {"annotated": (256, 40, 12.0, 27.0), "plain": (250, 30, 5.0, 20.0)}


def write_recording(path, fs, duration, start, stop, seed=0):
    rng = np.random.default_rng(seed)
    labels = list(tusz_labels("REF", "01_tcp_ar"))
    t = np.arange(duration * fs) / fs
    gain = np.where((t >= start) & (t < stop), 8.0, 1.0)
    signals = rng.normal(0.0, 10.0, (len(labels), len(t))) * gain
    channels = [(label, fs, "uV", x) for label, x in zip(labels, signals)] + [("EKG1", fs, "uV", None)]
    return write_edf(path, channels, duration)


def detector_model():
    """bckg, fnsz, gnsz logits from the mean log spectrum F of a window: 0, 10 (F - 2.67), 10 (F - 2.67) - 1
    (background F is about 2.2, seizure F about 3.1)."""
    import keras

    inputs = keras.Input((20, 24, 3))
    logits = keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(inputs))
    model = keras.Model(inputs, logits)
    kernel = np.zeros((3, 3), np.float32)
    kernel[0, 1:] = 10.0
    model.layers[-1].set_weights([kernel, np.array([0.0, -26.7, -27.7], np.float32)])
    return model


@pytest.fixture(scope="module")
def edf_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("edf")
    for seed, (name, (fs, duration, start, stop)) in enumerate(RECORDINGS.items()):
        write_recording(folder / f"{name}.edf", fs, duration, start, stop, seed)
    fs, duration, start, stop = RECORDINGS["annotated"]
    write_csv_bi(folder / "annotated.csv_bi", [Event(start, stop - start)], duration)
    return folder


@pytest.fixture(scope="module")
def keras_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "detector.keras"
    detector_model().save(path)
    return path


def run(argv):
    """(exit code, stdout, stderr) of `kerasseizure` with these arguments."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def whole(edf_dir, keras_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("whole")
    code, stdout, stderr = run(["detect", str(edf_dir), "--model", str(keras_path), "--classes", CLASSES,
                                "--out", str(out)])
    assert code == 0, stderr
    return out, stdout


def events_of(folder, name):
    return [(e.onset, e.duration, e.label) for e in read_events_tsv(folder / "events" / f"{name}_events.tsv").events]


def test_events_files_hold_the_seizure_and_the_recording_duration(whole, edf_dir):
    out, stdout = whole
    for name, (fs, duration, start, stop) in RECORDINGS.items():
        tsv = read_events_tsv(out / "events" / f"{name}_events.tsv")
        csv_bi = read_seizure_events(out / "csv_bi" / f"{name}.csv_bi")
        assert tsv.duration == csv_bi.duration == duration
        [event] = tsv.events
        assert event.label == "sz_foc" and 0.5 < event.confidence <= 1.0  # fnsz, in HED-SCORE terms
        assert abs(event.onset - start) < 1.0 and abs(event.stop - stop) < 1.0
        assert [(e.onset, e.stop) for e in csv_bi.events] == [pytest.approx((event.onset, event.stop))]
        with pyedflib.EdfReader(str(edf_dir / f"{name}.edf")) as reader:
            assert tsv.date_time == reader.getStartdatetime().replace(microsecond=0)
        assert f"{edf_dir / name}.edf: 1 seizure event(s) in {duration} s (" in stdout
    assert (out / "figures" / "annotated_timeline.png").stat().st_size > 0
    assert not (out / "figures" / "plain_timeline.png").exists()
    assert "no timeline figure for 1 recording(s) without a reference annotation" in stdout


def test_chunked_stream_gives_the_same_events(whole, edf_dir, keras_path, tmp_path):
    code, _, stderr = run(["detect", str(edf_dir / "annotated.edf"), "--model", str(keras_path), "--classes", CLASSES,
                           "--out", str(tmp_path), "--chunk-seconds", "7", "--no-figures"])
    assert code == 0, stderr
    assert events_of(tmp_path, "annotated") == events_of(whole[0], "annotated")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.*")) == [
        "csv_bi/annotated.csv_bi", "events/annotated_events.tsv"]


def test_kerasseizure_score_reads_the_detections(whole, edf_dir, tmp_path):
    out, _ = whole
    references = tmp_path / "refs"
    for name, (fs, duration, start, stop) in RECORDINGS.items():
        write_csv_bi(references / f"{name}.csv_bi", [Event(start, stop - start)], duration)
    for folder in ("events", "csv_bi"):
        code, _, stderr = run(["score", str(references), str(out / folder), "--json", str(tmp_path / f"{folder}.json")])
        assert code == 0, stderr
        scores = json.loads((tmp_path / f"{folder}.json").read_text())
        assert (scores["ovlp"]["targets"], scores["ovlp"]["hits"], scores["ovlp"]["false_alarms"]) == (2, 2, 0)


def test_reference_dir_pairs_annotations_by_name(edf_dir, keras_path, tmp_path):
    references = tmp_path / "refs"
    fs, duration, start, stop = RECORDINGS["plain"]
    write_csv_bi(references / "plain.csv_bi", [Event(start, stop - start)], duration)
    code, stdout, stderr = run(["detect", str(edf_dir / "plain.edf"), "--model", str(keras_path), "--classes",
                                CLASSES, "--out", str(tmp_path / "out"), "--reference-dir", str(references)])
    assert code == 0, stderr
    assert (tmp_path / "out" / "figures" / "plain_timeline.png").is_file() and "no timeline figure" not in stdout


@pytest.fixture(scope="module")
def tflite_export(tmp_path_factory):
    from kerasseizure.export.tflite import export

    path = tmp_path_factory.mktemp("tflite") / "detector.tflite"
    return path, export(detector_model(), path, "none", class_names=CLASSES.split(","))


def test_tflite_export_carries_class_names_and_detect_reads_them(tflite_export, whole, edf_dir, tmp_path):
    from kerasseizure.export.litert_runtime import LiteRTClassifier
    from kerasseizure.export.tflite import export

    with pytest.raises(ValueError, match="2 class names for a model with 3 outputs"):
        export(detector_model(), tmp_path / "bad.tflite", class_names=["bckg", "fnsz"])
    path, report = tflite_export
    assert report.class_names == CLASSES.split(",")
    assert json.loads(path.with_name("detector.tflite.json").read_text())["class_names"] == CLASSES.split(",")
    assert LiteRTClassifier(path).class_names == tuple(CLASSES.split(","))
    code, _, stderr = run(["detect", str(edf_dir / "annotated.edf"), "--model", str(path), "--out",
                           str(tmp_path / "out"), "--no-figures"])
    assert code == 0, stderr
    assert events_of(tmp_path / "out", "annotated") == events_of(whole[0], "annotated")


# `kerasseizure detect` on a .tflite in a fresh interpreter where importing TensorFlow or Keras
# raises ImportError: the device path needs NumPy, SciPy and LiteRT (pandas, matplotlib for files).
_TF_FREE_DETECT = """
    import json
    import sys

    from kerasseizure.cli import main

    code = main(["detect", sys.argv[1], "--model", sys.argv[2], "--out", sys.argv[3]])
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
    print(json.dumps({"code": code, "heavy": heavy}))
"""


def test_detect_with_a_tflite_runs_without_tensorflow(tflite_export, whole, edf_dir, tmp_path):
    result = run_without(_TF_FREE_DETECT, [edf_dir / "annotated.edf", tflite_export[0], tmp_path], timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"code": 0, "heavy": []}
    assert events_of(tmp_path, "annotated") == events_of(whole[0], "annotated")
    assert (tmp_path / "figures" / "annotated_timeline.png").is_file()


def assert_refused(argv, out, *phrases):
    code, _, stderr = run(argv)
    assert code == 2
    assert stderr.startswith("kerasseizure detect: error: ")
    for phrase in phrases:
        assert phrase in stderr
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("classes, phrases", [
    ("seiz,fnsz,gnsz", ("no background class 'bckg' among its classes (seiz, fnsz, gnsz)", "docs/detection.md")),
    ("bckg,fnsz", ("--classes names 2 classes, the model outputs 3",)),
    (None, ("no class names; a detector needs",)),
])
def test_model_class_names_are_checked(edf_dir, keras_path, tmp_path, classes, phrases):
    argv = ["detect", str(edf_dir), "--model", str(keras_path), "--out", str(tmp_path / "out")]
    assert_refused(argv + (["--classes", classes] if classes else []), tmp_path / "out", f"{keras_path}: ", *phrases)


def test_missing_files_and_unreadable_models_are_named(edf_dir, keras_path, tmp_path):
    out = tmp_path / "out"
    missing = tmp_path / "missing.edf"
    assert_refused(["detect", str(missing), "--model", str(keras_path), "--classes", CLASSES, "--out", str(out)], out,
                   f"{missing}: no such file or folder")
    for name in ("broken.keras", "broken.tflite"):
        model = tmp_path / name
        model.write_bytes(b"not a model")
        assert_refused(["detect", str(edf_dir), "--model", str(model), "--classes", CLASSES, "--out", str(out)], out,
                       f"{model}: ")


@pytest.mark.parametrize("bad, channels, phrase", [
    ("noeeg", [("EKG1", 250, "uV", None), ("PHOTIC PH", 250, "uV", None)], "no scalp EEG electrode"),
    ("slow", [(label, 32, "uV", None) for label in tusz_labels("REF", "01_tcp_ar")], "sampling rate below 2 x fmax"),
])
def test_a_bad_recording_stops_after_the_complete_ones(edf_dir, keras_path, tmp_path, bad, channels, phrase):
    folder = tmp_path / "edf"
    folder.mkdir()
    (folder / "a_good.edf").write_bytes((edf_dir / "plain.edf").read_bytes())
    write_edf(folder / f"b_{bad}.edf", channels, 20)
    out = tmp_path / "out"
    code, _, stderr = run(["detect", str(folder), "--model", str(keras_path), "--classes", CLASSES,
                           "--out", str(out)])
    assert code == 2 and f"{folder / f'b_{bad}.edf'}: " in stderr and phrase in stderr
    # The recording before the bad one is complete; nothing of the bad one, no temporary file.
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.*")) == [
        "csv_bi/a_good.csv_bi", "events/a_good_events.tsv"]


def test_an_annotation_beside_the_edf_is_never_overwritten(edf_dir, keras_path, tmp_path):
    folder = tmp_path / "csv_bi"  # where --out tmp_path would put the detections' .csv_bi
    folder.mkdir()
    for suffix in (".edf", ".csv_bi"):
        (folder / f"annotated{suffix}").write_bytes((edf_dir / f"annotated{suffix}").read_bytes())
    before = (folder / "annotated.csv_bi").read_bytes()
    code, _, stderr = run(["detect", str(folder), "--model", str(keras_path), "--classes", CLASSES,
                           "--out", str(tmp_path)])
    assert code == 2 and f"{folder / 'annotated.csv_bi'}: --out {tmp_path} would overwrite" in stderr
    assert (folder / "annotated.csv_bi").read_bytes() == before
