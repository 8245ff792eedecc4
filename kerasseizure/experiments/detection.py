"""The detection experiment (table 4): seizure events on whole TUSZ v2.0.x recordings.

Protocol (docs/detection.md):
- data: the release's patient-disjoint split. Training windows tile the train recordings
  (`io.tusz_detection.detection_segments`): background, and each seizure of a benchmark type as
  its type; validation windows tile the dev recordings the same way. Classes: "bckg" then the
  seven benchmark types, so one model detects (1 - p(bckg)) and types (the largest type).
- training: table 3's teacher (a SeizureNet ensemble on the multi-spectral SES) and one student
  distilled from it, through `experiments.tusz.run_tusz_fold`, with the background windows drawn
  afresh each epoch (`background_ratio` per seizure window, `pipelines.subsample_background`).
- detection: each model's window probabilities over a whole recording (its own window grid)
  become events through `export.streaming.StreamingDetector`'s smoothing, threshold and minimum
  duration. The threshold is chosen on the dev recordings (best pooled SzCORE event F1 among the
  preset's candidates; ties go to the higher threshold) and then applied to eval.
- scoring: every scorer of `evaluation.events` on the eval recordings, pooled over recordings,
  with SzCORE's mean over subjects beside it.

The deployment steps (int8 export of the student, the student streamed from the raw EDF files
and its real-time factor) are the table driver's (`reproduce.table4`).

>>> [row.key for row in ROWS]
['teacher', 'student']
"""

import math
from pathlib import Path

import numpy as np

from kerasseizure.errors import CorpusError
from kerasseizure.experiments.protocol import Row
from kerasseizure.experiments.seizure_types import SingleProtocolExperiment
from kerasseizure.io.labels import SEIZURE_TYPES

PROTOCOL = {"key": "release-split-v2.0.3", "protocol": "release split", "version": "2.0.3", "folds": 1}
CLASSES = ("bckg",) + tuple(SEIZURE_TYPES)
BACKGROUND_INDEX = 0
ROWS = (Row("SeizureNet teacher (ensemble)", "teacher", "ensemble"),
        Row("student (distilled)", "student", "distilled"))
SCORING_SPLITS = ("dev", "eval")


def row_configs(settings, seed):
    """{row key: TUSZExperimentConfig dict} of the teacher and the distilled student under a preset's `table4`."""
    common = {"batch_size": settings["batch_size"], "train_window_stride": settings["train_window_stride"],
              "eval_window_stride": settings["eval_window_stride"], "seed": seed, "precision": "float32",
              "bn_momentum": settings["bn_momentum"], "recompute_batchnorm": settings["recompute_batchnorm"],
              "background_ratio": settings["background_ratio"], "track_validation": True, "plot": False,
              "tensorboard": False, "max_steps_per_epoch": settings.get("max_steps_per_epoch")}
    teacher = {"kind": "ensemble", "name": "teacher", "model": dict(settings["teacher"]["model"]),
               "epochs": settings["teacher"]["epochs"], "lr": settings["teacher"]["lr"], **common}
    student = settings["student"]
    return {"teacher": teacher,
            "student": {"kind": "distilled", "name": "student", "teacher": teacher, "model": {"size": student["size"]},
                        "epochs": student["epochs"], "lr": student["lr"], **settings["distillation"], **common}}


def tusz_v2_root(settings, *, data_dir=None, synthetic_dir="demo-data", log=print):
    """(root, synthetic) of the corpus: `data_dir` (a TUSZ v2.0.x release), or the preset's synthetic
    v2.0.3 corpus (seed 0), generated once under `synthetic_dir`."""
    from kerasseizure.experiments.data import synthetic_tusz

    if data_dir is None:
        options = dict(settings["corpus"])
        size = options.pop("size")
        return synthetic_tusz(synthetic_dir, "2.0.3", size, 0, log=log, **options), True
    root = Path(data_dir)
    if not root.is_dir():
        raise CorpusError(f"{root}: no such folder (expected the TUSZ v2.0.x release, see docs/detection.md)")
    return root, False


class DetectionExperiment(SingleProtocolExperiment):
    """Table 4's training and detection as an `experiments.protocol.Experiment` (one "fold": the
    release's train / dev split; rows in `results_dir/runs/<row key>`).

    Args:
        settings: the `table4` section of a preset (`experiments.presets.load_preset(...).table4`).
        root: the TUSZ v2.0.x corpus root (`tusz_v2_root`).
        seed: one seed for background draws, data order, initialisation and distillation.
        results_dir: the table's results folder.
        cache_dir: feature caches (default `results_dir/cache`).
        skip_bad: go on without the bad files of a real corpus (counted) instead of stopping.
        overwrite: replace run folders made with other settings instead of refusing them.
        log: callable(str) for progress lines (None: quiet).

    Example (`python -m reproduce.table4` does this, then exports and streams the student):

    >>> experiment = DetectionExperiment(load_preset("test").table4, root, 0, "results/table4")  # doctest: +SKIP
    >>> experiment.prepare().run_row("teacher")                                                 # doctest: +SKIP
    >>> probabilities = experiment.recording_probabilities("teacher")                          # doctest: +SKIP
    """

    name = "table4"
    protocol = PROTOCOL
    rows = ROWS
    teacher_key = "teacher"
    config_dicts = staticmethod(row_configs)

    def __init__(self, settings, root, seed, results_dir, **options):
        super().__init__(settings, root, seed, results_dir, **options)
        self._recordings = None

    def _features(self, segments, plan_only=False):
        from kerasseizure.pipelines import build_tusz_features

        window = self.settings["window"]
        return build_tusz_features(self.corpus, "ses", self.cache_dir, wl=window["wl"], ws=window["ws"],
                                   types=CLASSES, segments=segments, dtype="float16", progress=not self.quiet,
                                   skip_bad=self.skip_bad, plan_only=plan_only)

    def prepare(self, plan_only=False):
        """Index the corpus (with its audit line), build or load the SES windows of the train and dev
        segments; the one "fold" trains on train and validates on dev."""
        from kerasseizure.experiments.data import audit_line
        from kerasseizure.io.tusz import TUSZCorpus
        from kerasseizure.io.tusz_detection import detection_segments

        self.corpora[PROTOCOL["version"]] = TUSZCorpus(self.root, skip_bad=self.skip_bad)
        self.log(audit_line(self.corpus))
        if not str(self.corpus.version).startswith("2."):
            raise CorpusError(f"{self.root}: table 4 needs a TUSZ v2.0.x release (train / dev / eval of whole "
                              f"recordings), found v{self.corpus.version}")
        segments = detection_segments(self.corpus, ("train", "dev"), SEIZURE_TYPES)
        self.features[PROTOCOL["version"]] = {"ses": self._features(segments, plan_only)}
        split = self.ses.seizures["split"].to_numpy()
        train, dev = np.flatnonzero(split == "train"), np.flatnonzero(split == "dev")
        if not len(train) or not len(dev):
            raise CorpusError(f"{self.root}: table 4 needs recordings in both train and dev")
        self._folds = {PROTOCOL["key"]: [(0, (train, dev))]}
        return self

    @property
    def recordings(self):
        """The SES windows of every whole dev and eval recording, on each recording's own window grid
        (window k starts at k * ws s), built or loaded on first use."""
        from kerasseizure.io.tusz_detection import recording_segments

        if self._recordings is None:
            self._recordings = self._features(recording_segments(self.corpus, SCORING_SPLITS))
        return self._recordings

    def trained_model(self, label):
        """The Keras model a row trained (a distilled row's: the student), loaded from its run folder."""
        from kerasseizure.export.saving import load_keras_model

        return load_keras_model(self.run_dir(label) / "fold-0" / "fit" / "final.keras")

    def recording_probabilities(self, label, model=None):
        """{edf_path: (windows, classes) float64 softmax probabilities} of a row's trained model (or
        `model`) on every dev and eval recording."""
        from kerasseizure.experiments.tusz import _dataset_inputs, _predict

        row = self.row(label)
        config = self.configs[row.key].replace(eval_window_stride=1)
        features = self.recordings
        model = model if model is not None else self.trained_model(label)
        # A distilled row's saved model is the student, which reads one SES input.
        inputs = config.input_name if row.kind == "distilled" else _dataset_inputs(config, features)
        probs = _predict(model, features, None, config, inputs)
        return split_by_recording(features, probs)

    def reference(self, splits=SCORING_SPLITS):
        """{edf_path: RecordingEvents} of the seizures (.csv_bi / .tse_bi) of the recordings of `splits`."""
        from kerasseizure.io.events import read_seizure_events

        recordings = self.corpus.recordings
        chosen = recordings[recordings["split"].isin(splits)]
        return {path: read_seizure_events(annotation)
                for path, annotation in zip(chosen["edf_path"], chosen["binary_annotation_path"])}


def simulated_detections(root, reference):
    """{edf_path: [Event]}: where a synthetic corpus simulated each seizure's activity, for the
    recordings of `reference` ({edf_path: RecordingEvents}), as a detector's output. Scored against
    the annotations, it is the best a detector can do: the annotations may start before and end
    after the activity (`io.synthetic.simulated_seizure_activity`). Raises FileNotFoundError on a
    corpus without ground truth (a real one)."""
    from kerasseizure.io.events import Event
    from kerasseizure.io.synthetic import simulated_seizure_activity

    activity = simulated_seizure_activity(root).sort_values("signal_onset")
    out = {path: [] for path in reference}
    for path, onset, offset in zip(activity["edf_path"], activity["signal_onset"], activity["signal_offset"]):
        if path in out and offset > onset:
            out[path].append(Event(float(onset), float(offset - onset)))
    return out


def split_by_recording(features, probs):
    """Window probabilities of recording features (one segment per recording) -> {edf_path: rows}."""
    table = features.seizures
    out = {}
    for path, start, count in zip(table["edf_path"], table["row_start"], table["n_windows"]):
        out[str(path)] = np.asarray(probs[int(start):int(start) + int(count)])
    return out


def detector_settings(settings, threshold):
    """`StreamingDetector` keyword arguments of the preset's detector at `threshold`."""
    window = settings["window"]
    return {"preprocessing": {"kind": "ses", "wl": window["wl"], "ws": window["ws"], "fmax": 24.0},
            "class_names": CLASSES, "background_index": BACKGROUND_INDEX,
            "smooth_windows": int(settings["detector"]["smooth_windows"]),
            "min_duration_s": float(settings["detector"]["min_duration_s"]), "threshold": float(threshold)}


def as_event(detected):
    """A streaming `DetectedEvent` as the scorers' `io.events.Event` (label `seiz`)."""
    from kerasseizure.io.events import Event

    return Event(detected.onset, detected.duration, "seiz", min(max(detected.confidence, 0.0), 1.0))


def detect_from_probabilities(probabilities, durations, settings, threshold):
    """{edf_path: [Event]} of window probabilities {edf_path: (windows, classes)} through the
    preset's detector at `threshold` (the offline path of `StreamingDetector`)."""
    from kerasseizure.export.streaming import StreamingDetector

    detector = StreamingDetector(_NoModel(), fs=250.0, **detector_settings(settings, threshold))
    return {path: [as_event(e) for e in detector.events_from_probabilities(probs, durations[path]).events_closed]
            for path, probs in probabilities.items()}


class _NoModel:
    """A stand-in model for a detector that is only given probabilities."""

    def __call__(self, windows):
        raise RuntimeError("this detector scores given probabilities only")


def score_detections(reference, hypothesis, scorers=None):
    """Pooled scores and SzCORE's per-subject means of hypotheses against references.

    Args:
        reference: {recording: RecordingEvents} (the recording's events and duration).
        hypothesis: {recording: [Event]} for the same recordings.
        scorers: names of `evaluation.events.SCORERS` (default all).

    Returns:
        {scorer: {"pooled": DetectionScore, "subject_mean": `subject_average`'s dict (SzCORE only)}}.
    """
    from kerasseizure.evaluation.events import SCORERS, SZCORE_SCORERS, pool_scores, score_events, subject_average
    from kerasseizure.io.events import recording_subject

    scorers = tuple(scorers or SCORERS)
    per_recording = {path: score_events(ref.events, hypothesis.get(path, []), ref.duration, scorers)
                     for path, ref in reference.items()}
    subjects = [recording_subject(Path(path).stem) for path in per_recording]
    out = {}
    for scorer in scorers:
        scores = [per_recording[path][scorer] for path in per_recording]
        out[scorer] = {"pooled": pool_scores(scores)}
        if scorer in SZCORE_SCORERS:
            out[scorer]["subject_mean"] = subject_average(scores, subjects)
    return out


def choose_threshold(probabilities, reference, settings):
    """(threshold, {threshold: pooled SzCORE event F1}) on the recordings of `reference` (dev).

    The preset's candidate with the best F1; ties (and an F1 undefined everywhere) go to the
    higher threshold, the one with fewer false alarms.
    """
    durations = {path: ref.duration for path, ref in reference.items()}
    f1 = {}
    for threshold in sorted(settings["detector"]["thresholds"]):
        hypothesis = detect_from_probabilities({p: probabilities[p] for p in reference}, durations, settings,
                                               threshold)
        value = score_detections(reference, hypothesis, ("szcore",))["szcore"]["pooled"].f1
        f1[float(threshold)] = float(value)
    defined = {t: v for t, v in f1.items() if not math.isnan(v)}
    if not defined:
        return max(f1), f1
    best = max(defined.values())
    return max(t for t, v in defined.items() if v == best), f1


__all__ = ["CLASSES", "DetectionExperiment", "PROTOCOL", "ROWS", "as_event", "choose_threshold", "detect_from_probabilities",
           "detector_settings", "row_configs", "score_detections", "split_by_recording", "tusz_v2_root"]
