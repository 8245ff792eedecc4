"""Table 4: seizure detection on whole recordings -- the SeizureNet teacher and its distilled int8 student.

    python -m reproduce.table4                       # quick preset on the synthetic v2.0.3 corpus
    python -m reproduce.table4 --data-dir /data/tusz/v2.0.3 --preset paper

Rows: the teacher (a SeizureNet ensemble on the multi-spectral SES) and a student distilled from
it, both with a background class, as Keras models on the cached windows of each whole recording,
and the student exported to a verified int8 `.tflite` and run by `StreamingDetector` on the raw
EDF files (LiteRT, one thread), the way a device would run it. Columns: each model's
threshold (chosen on dev), then sensitivity, precision, F1 and false alarms per 24 h on the eval
recordings under SzCORE (event scoring, pooled, and its mean over subjects) and under NEDC's
OVLP and TAES; the full set of scorers (EPOCH, SzCORE sample scoring) is in table.csv. The int8
student's real-time factor (recording seconds per second of processing, one thread) is measured
in this run, on the whole recording and on chunks of `streaming.chunk_seconds`.

Protocol: the experiment `kerasseizure.experiments.detection.DetectionExperiment` (training on
the release's train split with background windows drawn afresh each epoch, validation on dev,
threshold on dev, scores on eval); see docs/detection.md.

Artefacts beside the table: `events/<model>/<recording>_events.tsv`, the detections of every
eval recording, which `kerasseizure score <corpus>/edf/eval <results>/events/<model>` scores
again; `export/student_int8.tflite` with its report.

Resume: the trainings are fingerprinted run folders (`experiments.runs`); the export is reused
while the weights and settings match (`<file>.source.json`); detection and scoring are recomputed
(seconds).
"""

import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from kerasseizure.experiments import plan as plan_lib  # noqa: E402
from kerasseizure.experiments.detection import (  # noqa: E402
    CLASSES, PROTOCOL, DetectionExperiment, choose_threshold, detect_from_probabilities, detector_settings,
    score_detections, simulated_detections, split_by_recording, tusz_v2_root,
)
from reproduce.common import (  # noqa: E402
    Progress, cpu_model, data_banner, evenly, run_record, run_table, table_parser, write_results,
)
from reproduce.published import TABLE4  # noqa: E402
from reproduce.table3_export import export_verified  # noqa: E402

NAME = "table4"
MODELS = {"teacher": "teacher (Keras)", "student": "student (Keras)", "student_int8": "student int8 (streamed)"}
# On a synthetic corpus, below the models: the simulated seizure activity scored as a detector's output.
TRUTH = ("truth", "truth: the simulated seizure activity (synthetic corpus)")
LABELS = {**MODELS, TRUTH[0]: TRUTH[1]}
SHOWN_SCORERS = ("szcore", "ovlp", "taes")
RATES = (("sensitivity", "sens"), ("precision", "prec"), ("f1", "F1"), ("false_alarms_per_24h", "FA/24h"))


def _describe(experiment, synthetic):
    """(description line, data record) of the corpus: hours and seizures per split."""
    recordings, seizures = experiment.corpus.recordings, experiment.corpus.seizures
    hours = recordings.groupby("split")["duration"].sum() / 3600.0
    counts = seizures.groupby("split").size()
    parts = [f"{split} {hours.get(split, 0.0):.1f} h / {int(counts.get(split, 0))} seizures / "
             f"{recordings.loc[recordings['split'] == split, 'patient_id'].nunique()} patients"
             for split in ("train", "dev", "eval")]
    window = experiment.settings["window"]
    kind = "synthetic TUSZ v2.0.3 layout, seed 0" if synthetic else f"TUSZ v{experiment.corpus.version} at {experiment.root}"
    description = f"{kind}; {'; '.join(parts)}; 1 s windows every {window['ws']:g} s"
    data = {"root": str(experiment.root), "synthetic": synthetic, "hours": {k: float(v) for k, v in hours.items()},
            "seizures": {k: int(v) for k, v in counts.items()}, "cache": str(experiment.ses.path),
            "classes": list(CLASSES)}
    return description, data


def export_student(experiment, model, log):
    """(path, report) of the distilled student `model` as a verified int8 `.tflite` carrying its
    preprocessing and class names."""
    settings, features = experiment.settings, experiment.ses
    config = experiment.configs["student"]
    train, dev = dict(experiment.folds()[PROTOCOL["key"]])[0]
    name = config.input_name
    train_rows = evenly(features.window_positions(train), settings["export"]["calibration_windows"])
    dev_rows = evenly(features.window_positions(dev), settings["export"]["verify_windows"])
    take = lambda rows: np.asarray(features.arrays[name][rows], dtype=np.float32)  # noqa: E731
    labels = features.windows["label_index"].to_numpy()
    preprocessing = {**detector_settings(settings, 0.5)["preprocessing"], "fs": 250, "montage": "tcp20"}
    report, _ = export_verified(model, experiment.results_dir / "export" / "student_int8.tflite", "int8",
                                take(train_rows), (take(dev_rows), labels[dev_rows]),
                                settings["export"]["min_agreement"], log,
                                options={"preprocessing": preprocessing, "class_names": list(CLASSES)})
    return Path(report["path"]), report


def litert_probabilities(path, experiment):
    """{edf_path: probabilities} of a .tflite student on the cached windows of the dev and eval recordings."""
    from kerasseizure.export.litert_runtime import LiteRTClassifier

    features = experiment.recordings
    name = experiment.configs["student"].input_name
    classifier = LiteRTClassifier(path, num_threads=1, batch_size=256)
    probs = np.concatenate([classifier.predict(np.asarray(features.arrays[name][start:start + 4096], np.float32))
                            for start in range(0, len(features.windows), 4096)])
    return split_by_recording(features, probs.astype(np.float64))


def stream_recordings(path, experiment, reference, threshold, progress):
    """Run the .tflite student on the raw EDF of each reference recording, as a device would.

    Returns ({edf_path: [Event]} of whole-recording runs, {"whole" | "<s> s chunks": real-time
    factor}): recording seconds per second of processing (reading the EDF excluded), one thread;
    the chunked runs cover the first `streaming.recordings` recordings and must give the same events.
    """
    from kerasseizure.errors import KerasSeizureError
    from kerasseizure.experiments.detection import as_event
    from kerasseizure.export.litert_runtime import read_edf_recording
    from kerasseizure.export.streaming import StreamingDetector

    settings = experiment.settings
    options = {k: v for k, v in detector_settings(settings, threshold).items() if k != "preprocessing"}
    limit = settings["streaming"]["recordings"]
    events, seconds, processed = {}, {}, {}
    for number, edf_path in enumerate(reference):
        signals, names, fs, duration = read_edf_recording(edf_path)
        detector = StreamingDetector(path, fs=fs, channel_names=names, num_threads=1, **options)
        start = time.perf_counter()
        output = detector.run(signals)
        _add(seconds, processed, "whole recording", time.perf_counter() - start, duration)
        events[edf_path] = [as_event(e) for e in output.events_closed]
        for chunk_s in settings["streaming"]["chunk_seconds"] if limit is None or number < limit else ():
            step = max(1, int(round(chunk_s * fs)))
            start = time.perf_counter()
            closed = []
            for offset in range(0, signals.shape[1], step):
                closed += detector.feed(signals[:, offset:offset + step]).events_closed
            closed += detector.flush().events_closed
            _add(seconds, processed, f"{chunk_s:g} s chunks", time.perf_counter() - start, duration)
            if [(round(e.onset, 6), round(e.duration, 6)) for e in closed] != \
                    [(round(e.onset, 6), round(e.duration, 6)) for e in output.events_closed]:
                raise KerasSeizureError(f"{edf_path}: {chunk_s:g} s chunks gave other events than the whole recording")
        progress.advance(f"streamed {Path(edf_path).name}: {len(events[edf_path])} events")
    return events, {key: processed[key] / seconds[key] for key in seconds}


def _add(seconds, processed, key, elapsed, duration):
    seconds[key] = seconds.get(key, 0.0) + elapsed
    processed[key] = processed.get(key, 0.0) + duration


def write_hypotheses(results_dir, key, hypothesis, reference):
    """`events/<key>/<recording>_events.tsv` for every recording (those without events too)."""
    from kerasseizure.io.events import write_events_tsv

    folder = Path(results_dir) / "events" / key
    for edf_path, ref in reference.items():
        write_events_tsv(folder / f"{Path(edf_path).stem}_events.tsv", hypothesis.get(edf_path, []), ref.duration)
    return folder


def _fmt(value, digits=3):
    return "-" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:.{digits}f}"


def assemble_table(results):
    """One row per model: threshold, parameters, then every scorer's pooled counts and rates and
    SzCORE's subject means."""
    rows = []
    for key, result in results.items():
        row = {"model": LABELS[key], "parameters": result["parameters"], "threshold": result["threshold"],
               "realtime_factor": result.get("realtime_factor")}
        for scorer, score in result["scores"].items():
            pooled = score["pooled"].to_dict()
            for name in ("targets", "hits", "misses", "false_alarms", "sensitivity", "precision", "f1",
                         "false_alarms_per_24h"):
                row[f"{scorer}/{name}"] = pooled[name]
            for name, value in score.get("subject_mean", {}).items():
                row[f"{scorer}/subject_mean/{name}"] = value
        rows.append(row)
    return pd.DataFrame(rows)


def markdown(table, banner, protocol, notes):
    """The table as Markdown: SzCORE, OVLP and TAES side by side, the published figure below."""
    head = ["model", "threshold"] + [f"{s} {short}" for s in SHOWN_SCORERS for _, short in RATES]
    lines = [banner, "", protocol, "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, row in table.iterrows():
        cells = [row["model"], _fmt(row["threshold"], 2)]
        for scorer in SHOWN_SCORERS:
            for name, _ in RATES:
                cells.append(_fmt(row[f"{scorer}/{name}"], 1 if name == "false_alarms_per_24h" else 3))
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "SzCORE, mean over subjects (the leaderboard's aggregation):", "",
              "| model | subjects | sensitivity | precision | F1 | FA/24h |", "|---|---|---|---|---|---|"]
    for _, row in table.iterrows():
        lines.append(f"| {row['model']} | {int(row['szcore/subject_mean/subjects'])} | "
                     + " | ".join(_fmt(row[f"szcore/subject_mean/{name}"], 1 if name == "false_alarms_per_24h"
                                       else 3) for name, _ in RATES) + " |")
    for label, figures in TABLE4.items():
        for figure in figures:
            lines.append(f"| {label} ({figure['source']}) | | {figure['sensitivity']:.3f} | | {figure['f1']:.3f} | "
                         f"{figure['false_alarms_per_24h']:.1f} |")
    return "\n".join(lines + ["", *notes, ""])


def make_figures(dev_f1):
    """Pooled SzCORE event F1 on dev against the threshold, per model (the threshold choice)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5, 3.2))
    for key, curve in dev_f1.items():
        axis.plot(list(curve), list(curve.values()), marker="o", label=MODELS[key])
    axis.set(xlabel="threshold on the smoothed seizure probability", ylabel="SzCORE event F1 (dev)",
             ylim=(0, 1.02), title="Threshold choice on dev")
    axis.legend(fontsize=8)
    return {"threshold_choice": figure}


def build_parser():
    return table_parser(NAME, "Table 4: seizure detection on whole recordings, scored by SzCORE and NEDC.")


def main(argv=None):
    from kerasseizure.experiments.presets import load_preset

    args = build_parser().parse_args(argv)
    preset = load_preset(args.preset).with_max_steps(args.max_steps).section(NAME)
    started = time.perf_counter()

    def log(message):
        if not args.quiet:
            print(f"[{NAME}] {message}", file=sys.stderr, flush=True)

    root, synthetic = tusz_v2_root(preset, data_dir=args.data_dir, synthetic_dir=args.synthetic_dir, log=log)
    experiment = DetectionExperiment(preset, root, args.seed, args.results_dir, cache_dir=args.cache_dir,
                                     skip_bad=args.skip_bad, overwrite=args.overwrite,
                                     log=None if args.quiet else log).prepare(plan_only=args.plan)
    if args.plan:
        plan = experiment.plan(preset=args.preset)
        plan["notes"].append("not projected: the dev / eval recording windows, the int8 export and the streamed "
                             "student (about the eval hours / the real-time factor)")
        return plan_lib.show(plan, args.results_dir)
    timings = {"data_seconds": round(time.perf_counter() - started, 3)}
    description, data = _describe(experiment, synthetic)
    dev, evaluation = experiment.reference(("dev",)), experiment.reference(("eval",))
    progress = Progress(9 + len(evaluation), NAME, quiet=args.quiet)
    progress.log(f"{description}; runs in {experiment.run_root}")

    for row in experiment.rows:
        start = time.perf_counter()
        cv = experiment.run_row(row.label)[PROTOCOL["key"]]
        timings[f"{row.key}/train_seconds"] = round(time.perf_counter() - start, 3)
        progress.advance(f"{row.key}: {'trained earlier, loaded' if cv.reused else 'trained'}", 3)

    start = time.perf_counter()
    models = {key: experiment.trained_model(key) for key in ("teacher", "student")}
    probabilities = {key: experiment.recording_probabilities(key, model) for key, model in models.items()}
    parameters = {key: int(model.count_params()) for key, model in models.items()}
    parameters["student_int8"] = parameters["student"]
    path, report = export_student(experiment, models["student"], log)
    probabilities["student_int8"] = litert_probabilities(path, experiment)
    timings["predict_export_seconds"] = round(time.perf_counter() - start, 3)
    progress.advance(f"exported the student: {path.name} ({report['size_bytes'] / 1024:.1f} KB, verified: "
                     f"{report['passed']})", 2)

    durations = {p: r.duration for p, r in evaluation.items()}
    results, dev_f1 = {}, {}
    for key, probs in probabilities.items():
        threshold, dev_f1[key] = choose_threshold(probs, dev, preset)
        if key == "student_int8":
            start = time.perf_counter()
            hypothesis, realtime = stream_recordings(path, experiment, evaluation, threshold, progress)
            timings["stream_seconds"] = round(time.perf_counter() - start, 3)
        else:
            hypothesis, realtime = detect_from_probabilities({p: probs[p] for p in evaluation}, durations, preset,
                                                             threshold), None
        write_hypotheses(args.results_dir, key, hypothesis, evaluation)
        results[key] = {"threshold": threshold, "scores": score_detections(evaluation, hypothesis),
                        "parameters": parameters[key], "realtime_factor": realtime}
    try:
        truth = simulated_detections(root, evaluation)
    except FileNotFoundError:  # a real corpus
        truth = None
    scored = dict(results)
    if truth is not None:
        scored[TRUTH[0]] = {"threshold": None, "scores": score_detections(evaluation, truth), "parameters": None,
                            "realtime_factor": None}
    progress.advance("scored the eval recordings")

    table = assemble_table({k: {**v, "realtime_factor": (v["realtime_factor"] or {}).get("whole recording")}
                            for k, v in scored.items()})
    notes = notes_for(args, preset, results, report, truth is not None)
    protocol = (f"TUSZ release split: trained on train, threshold on dev (best pooled SzCORE event F1 of "
                f"{preset['detector']['thresholds']}), scored on the {len(evaluation)} eval recordings "
                f"({sum(r.duration for r in evaluation.values()) / 3600:.2f} h); preset `{args.preset}`, "
                f"seed {args.seed}.")
    banner = data_banner(synthetic, description)
    timings["total_seconds"] = round(time.perf_counter() - started, 3)
    record = run_record(NAME, args, {"preset": preset, "experiments": {k: c.to_dict() for k, c in
                                                                     experiment.configs.items()},
                                     "run_dir": str(experiment.run_root)}, timings, data)
    record["seed"] = args.seed
    record["hardware"] = {"cpu_model": cpu_model(), "cpu_count": os.cpu_count(), "platform": platform.platform()}
    record["thresholds"] = {key: {"chosen": r["threshold"], "dev_szcore_f1": dev_f1[key]} for key, r in results.items()}
    record["realtime_factor"] = results["student_int8"]["realtime_factor"]
    record["export"] = {"path": str(path), "size_bytes": int(report["size_bytes"]), "passed": bool(report["passed"]),
                        "verification": report.get("verification")}
    write_results(args.results_dir, table, markdown(table, banner, protocol, notes), record, make_figures(dev_f1))
    progress.log(f"done in {timings['total_seconds']:.0f} s: {Path(args.results_dir) / 'table.md'}")
    if not args.quiet:
        print(markdown(table, banner, protocol, notes))
    return table


def notes_for(args, preset, results, report, with_truth=False):
    """The notes under the table: the models, the detector, the real-time factors, the caveats."""
    detector = preset["detector"]
    realtime = results["student_int8"]["realtime_factor"]
    speeds = ", ".join(f"{key} {value:,.0f}x" for key, value in realtime.items())
    verification = report.get("verification", {})
    return [
        f"- Models: the teacher ({preset['teacher']['epochs']} epochs) and a `{preset['student']['size']}` student "
        f"distilled from it ({preset['student']['epochs']} epochs), classes {', '.join(CLASSES)}; background windows "
        f"drawn afresh each epoch, {preset['background_ratio']:g} per seizure window.",
        f"- Detector: seizure probability 1 - p(bckg), moving average over {detector['smooth_windows']} windows, "
        f"threshold chosen on dev, events of at least {detector['min_duration_s']:g} s "
        "(`kerasseizure.export.streaming.StreamingDetector`).",
        f"- int8 student: {report['size_bytes'] / 1024:.1f} KB, argmax agreement with Keras "
        f"{_fmt(verification.get('argmax_agreement'))} (verified: {report['passed']}); streamed from the raw EDF "
        f"files by LiteRT on one thread at {speeds} real time, measured in this run on {cpu_model()} (a busy "
        "machine lowers it; `benchmarks/bench_streaming.py` measures it alone).",
        "- Scorers: SzCORE (timescoring 0.0.7, event scoring, pooled over recordings and mean over subjects) and "
        "NEDC OVLP / TAES (re-implemented from nedc_eeg_eval v6.0.0); table.csv adds EPOCH and SzCORE sample "
        "scoring. The same detections score very differently under each: always name the scorer.",
        f"- Detections: `{Path(args.results_dir) / 'events'}/<model>/` (`kerasseizure score` takes them).",
    ] + ([
        "- Truth line: where the synthetic corpus simulated each seizure's activity, scored as a detector's output "
        "against the annotations (which may start before and end after it): the best a detector can score here. "
        "A detector that never fires scores 0 on every F1, so each model's F1 over the truth's is the share of "
        "the distance it covers."] if with_truth else [])


__all__ = ["NAME", "MODELS", "TRUTH", "assemble_table", "build_parser", "export_student", "litert_probabilities",
           "main", "markdown", "make_figures", "notes_for", "stream_recordings", "write_hypotheses"]


if __name__ == "__main__":
    sys.exit(run_table(main, NAME))
