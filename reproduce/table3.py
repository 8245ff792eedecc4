"""Table 3: distillation and deployment -- the SeizureNet teacher vs its students.

    python -m reproduce.table3                       # quick preset on the synthetic v1.5.2 corpus
    python -m reproduce.table3 --data-dir /data/tusz/v1.5.2 --preset paper

Rows: the SeizureNet teacher (ensemble of 3 members on multi-spectral SES), then for each student
size (tiny / small / base) the same architecture trained alone on the labels and distilled from
this fold's teacher. Columns: parameters, teacher/student parameter ratio, `.keras` size,
`.tflite` size (float32, dynamic-range, int8), LiteRT latency per window (batch 1, one thread,
warm-up excluded, p50 / p99, int8 file in the main table and every file in the latency table),
weighted F1 of the Keras model per window and per seizure, its drop from the teacher, and the F1
of the deployed int8 file (LiteRT on the validation windows).

Protocol: IBM's seizure-wise 5-fold split of TUSZ v1.5.2 (`evaluation.folds.seizure_wise_folds`);
quick and test use fold 0, paper all 5 (mean +- standard deviation over folds). Training is the
experiment `kerasseizure.experiments.distillation.DistillationExperiment` (each row in its run
folder `runs/<row key>/fold-<i>`, the path of table 1; `kerasseizure train --table table3 --row
...` trains the same folders); this driver adds the deployment: exports through
`kerasseizure.export.tflite.export` (atomic, verified against Keras) into each fold's `export/`,
LiteRT F1 and latency.

Resume: every training is a fingerprinted run folder (`experiments.runs`), every export a verified
`.tflite` with its report and a `<file>.source.json` naming the weights it came from (reused when
they match), each fold's deployment an `export/result.json` keyed by the weights, export settings
and validation windows, every latency measurement a `<file>.latency.json` keyed by the file's
SHA-256. Everything but the latency columns is deterministic on CPU for a seed.

The results table, its markdown and the figures are assembled in `reproduce.table3_report`
(re-exported here).
"""

import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from kerasseizure.experiments import plan as plan_lib  # noqa: E402
from kerasseizure.experiments.distillation import (  # noqa: E402
    PROTOCOL, SEIZURE_WISE_FOLDS, DistillationExperiment, tusz_v152_root,
)
from reproduce.common import (  # noqa: E402
    Progress, cpu_model, data_banner, evenly, run_record, run_table, table_parser,
    write_results,
)
from reproduce.table3_export import (  # noqa: E402
    export_verified, measure_latency, weights_fingerprint,
)
from reproduce.table3_report import (  # noqa: E402
    QUANTIZATION_LABELS, QUANTIZATIONS, TIMING_COLUMNS_PREFIXES, add_gaps, assemble_table, make_figures, markdown,
    model_label, notes_for, timing_columns,
)

NAME = "table3"

# ---------------------------------------------------------------------------------- small helpers


def _describe(experiment, synthetic, log):
    """(description line, data record) of the experiment's corpus and features."""
    features, preset = experiment.ses, experiment.settings
    seizures = experiment.corpus.seizures
    versions = sorted(set(seizures["version"].astype(str))) if "version" in seizures else []
    if not synthetic and versions and versions != ["1.5.2"]:
        log(f"warning: the table's protocol is TUSZ v1.5.2; this corpus is {versions}")
    kind = f"synthetic TUSZ v1.5.2 layout, size {preset['corpus_size']!r}, seed 0" if synthetic else \
        f"TUSZ {'/'.join(versions) or '?'} at {experiment.root}"
    data = {"root": str(experiment.root), "synthetic": synthetic, "versions": versions,
            "seizures": int((features.seizures["n_windows"] > 0).sum()), "windows": int(len(features.windows)),
            "patients": int(features.seizures["patient_id"].nunique()), "cache": str(features.path),
            "classes": list(features.classes)}
    description = (f"{kind}; {data['seizures']} benchmark seizures of {data['patients']} patients, "
                   f"{data['windows']} SES windows (1 s, step 0.25 s, fmax 24/48/96 Hz)")
    return description, data


def _inputs(features, names, rows, as_dict):
    x = {name: np.asarray(features.arrays[name][rows], dtype=np.float32) for name in names}
    return x if as_dict else x[names[0]]


def _input_names(features, key, config):
    """The feature arrays a row's model reads: every SES for the teacher, one for a student."""
    if key == "teacher":
        return sorted(n for n in features.arrays if n.startswith("ses_"))
    return [config.input_name]


# ---------------------------------------------------------------------------------- deployment


def deploy(experiment, key, index, fold_dir, progress, log):
    """Export one trained row of one fold to every quantization, verified, and score each file.

    Works in `<fold_dir>/export/`: `<key>.keras` (the model without optimizer state),
    `<key>_<quantization>.tflite` with its report, and `result.json` (metrics, LiteRT
    probabilities, export information), reused while the weights, the export settings and the
    validation windows are the same (its fingerprint).

    Returns:
        experiments.runs.FoldResult: metrics `<quantization>/window_f1|seizure_f1`, predictions
        `<quantization>` (LiteRT probabilities), extra {parameters, keras_bytes, exports}.
    """
    from kerasseizure.experiments.runs import FoldResult, fold_digest, load_fold_result, save_fold_result
    from kerasseizure.experiments.tusz import evaluate_probabilities
    from kerasseizure.export.litert_runtime import LiteRTClassifier
    from kerasseizure.export.saving import load_keras_model
    from kerasseizure.files import atomic_path
    from kerasseizure.pipelines.cache import config_key

    features, preset = experiment.ses, experiment.settings
    train, valid = dict(experiment.folds()[PROTOCOL["key"]])[index]
    export_dir = Path(fold_dir) / "export"
    model = load_keras_model(Path(fold_dir) / "fit" / "final.keras")
    eval_rows = features.window_positions(valid, preset["eval_window_stride"])
    fingerprint = config_key({"weights": weights_fingerprint(model), "export": preset["export"],
                              "quantizations": preset["quantizations"], "windows": fold_digest(eval_rows),
                              "features": Path(features.path).name})
    done = load_fold_result(export_dir, fingerprint)
    units = len(preset["quantizations"]) * (2 if key == "teacher" else 1)
    if done is not None:
        progress.total = max(progress.total - units, 1)
        progress.log(f"fold {index}: {key}: verified exports reused")
        return done
    deploy_path = export_dir / f"{key}.keras"
    with atomic_path(deploy_path) as tmp:
        model.save(tmp)
    names = _input_names(features, key, experiment.configs[key])
    as_dict = key == "teacher"
    labels = features.windows["label_index"].to_numpy()
    train_rows = features.window_positions(train, preset["train_window_stride"])
    verify_rows = evenly(eval_rows, preset["export"]["verify_windows"])
    representative = _inputs(features, names, evenly(train_rows, preset["export"]["calibration_windows"]), as_dict)
    verify = (_inputs(features, names, verify_rows, as_dict), labels[verify_rows])
    x_eval = _inputs(features, names, eval_rows, as_dict)
    metrics, predictions = {}, {}
    info = {"parameters": int(model.count_params()), "keras_bytes": int(deploy_path.stat().st_size), "exports": {}}
    for quantization in preset["quantizations"]:
        report, _ = export_verified(model, export_dir / f"{key}_{quantization}.tflite", quantization,
                                    representative, verify, preset["export"]["min_agreement"], log)
        path = Path(report["path"])
        probs = LiteRTClassifier(path, num_threads=1, batch_size=256).predict(x_eval).astype(np.float64)
        scores = evaluate_probabilities(features, eval_rows, probs)
        metrics[f"{quantization}/window_f1"] = scores["window_f1"]
        metrics[f"{quantization}/seizure_f1"] = scores["seizure_f1"]
        predictions[quantization] = probs.astype(np.float32)
        verification = report.get("verification", {})
        info["exports"][quantization] = {
            "path": os.path.relpath(path, fold_dir), "size_bytes": int(report["size_bytes"]),
            "passed": bool(report["passed"]), "argmax_agreement": verification.get("argmax_agreement"),
            "max_abs_diff": verification.get("max_abs_diff"), "ops": report.get("ops")}
        progress.advance(f"fold {index}: exported {key} {quantization} "
                         f"({report['size_bytes'] / 1024:.1f} KB, verified: {report['passed']})",
                         2 if key == "teacher" else 1)
    result = FoldResult(metrics, predictions, info)
    save_fold_result(export_dir, result, fingerprint)
    return result


def fold_table_result(keys, trained, deployed):
    """One fold's FoldResult in the layout of `assemble_table` / `make_figures`: metrics
    `<key>/<keras|quantization>/<level>_f1`, predictions `label`, `<key>/keras`, `<key>/int8`, extra
    {key: parameters, keras_bytes, exports}, from each row's training and deployment results."""
    from kerasseizure.experiments.runs import FoldResult

    metrics, predictions, extra = {}, {"label": np.asarray(trained[keys[0]].predictions["label"])}, {}
    for key in keys:
        for level in ("window_f1", "seizure_f1"):
            metrics[f"{key}/keras/{level}"] = trained[key].metrics[level]
        metrics.update({f"{key}/{name}": value for name, value in deployed[key].metrics.items()})
        predictions[f"{key}/keras"] = np.asarray(trained[key].predictions["probs"], np.float32)
        if "int8" in deployed[key].predictions:
            predictions[f"{key}/int8"] = np.asarray(deployed[key].predictions["int8"], np.float32)
        extra[key] = deployed[key].extra
    return FoldResult(metrics, predictions, extra)


# ---------------------------------------------------------------------------------- main


def build_parser():
    parser = table_parser(NAME, "Table 3: SeizureNet teacher vs distilled students -- size, latency, F1.")
    parser.add_argument("--folds", type=int, nargs="+", default=None,
                        help="seizure-wise folds to run (0-4; default: the preset's: quick/test 0, paper all)")
    return parser


def resolve_preset(args):
    """The preset's `table3` section (`experiments.presets`), with `--folds` applied."""
    from kerasseizure.experiments.presets import PresetError, load_preset

    preset = load_preset(args.preset).with_max_steps(args.max_steps).table3
    if args.folds is not None:
        bad = [f for f in args.folds if not 0 <= f < SEIZURE_WISE_FOLDS]
        if bad:
            raise PresetError(f"--folds: {bad} not in 0..{SEIZURE_WISE_FOLDS - 1}")
        preset["folds"] = sorted(set(args.folds))
    return preset


def main(argv=None):
    args = build_parser().parse_args(argv)
    preset = resolve_preset(args)
    started = time.perf_counter()

    def log(message):
        if not args.quiet:
            print(f"[{NAME}] {message}", file=sys.stderr, flush=True)

    timings = {}
    root, synthetic = tusz_v152_root(preset, data_dir=args.data_dir, synthetic_dir=args.synthetic_dir, log=log)
    experiment = DistillationExperiment(preset, root, args.seed, args.results_dir, cache_dir=args.cache_dir,
                                        skip_bad=args.skip_bad, overwrite=args.overwrite,
                                        log=None if args.quiet else log).prepare(plan_only=args.plan)
    if args.plan:
        plan = experiment.plan(preset=args.preset)
        plan["notes"].append("not projected: the TFLite exports (one conversion and verification per row and "
                             "quantization) and the latency measurements")
        return plan_lib.show(plan, args.results_dir)
    timings["data_seconds"] = round(time.perf_counter() - started, 3)
    features, configs = experiment.ses, experiment.configs
    config_dicts = {key: config.to_dict() for key, config in configs.items()}
    description, data = _describe(experiment, synthetic, log)
    keys = [row.key for row in experiment.rows]
    folds = experiment.folds()[PROTOCOL["key"]]
    n_quantizations = len(preset["quantizations"])
    train_units = {row.key: 6 if row.kind == "ensemble" else 3 if row.kind == "distilled" else 2
                   for row in experiment.rows}
    per_fold = sum(train_units.values()) + n_quantizations * (len(keys) + 1)
    progress = Progress(len(folds) * per_fold + len(keys) * n_quantizations, NAME, quiet=args.quiet)
    progress.log(f"{description}; folds {preset['folds']} of the seizure-wise {SEIZURE_WISE_FOLDS}-fold split; "
                 f"runs in {experiment.run_root}")

    trained, deployed, reused = {}, {}, {}
    for row in experiment.rows:
        def on_fold(proto, index, result, was_reused, row=row):
            if result is None:
                progress.log(f"fold {index}: training {row.key}")
            elif was_reused:
                progress.total = max(progress.total - train_units[row.key], 1)
                progress.log(f"fold {index}: {row.key} trained earlier, loaded")
            else:
                progress.advance(f"fold {index}: trained {row.key} (window F1 {result.metrics['window_f1']:.3f})",
                                 train_units[row.key])

        start = time.perf_counter()
        cv = experiment.run_row(row.label, on_fold=on_fold)[PROTOCOL["key"]]
        timings[f"{row.key}/train_seconds"] = round(time.perf_counter() - start, 3)
        reused[row.key] = cv.reused
        start = time.perf_counter()
        for (index, _), result in zip(folds, cv.folds):
            trained[(index, row.key)] = result
            deployed[(index, row.key)] = deploy(experiment, row.key, index, cv.run_dir / f"fold-{index}",
                                                progress, log)
        timings[f"{row.key}/export_seconds"] = round(time.perf_counter() - start, 3)
    fold_results = [fold_table_result(keys, {k: trained[(i, k)] for k in keys}, {k: deployed[(i, k)] for k in keys})
                    for i, _ in folds]

    # latency: the files of the first fold run (same architectures in every fold)
    start = time.perf_counter()
    first = folds[0][0]
    latency_rows = evenly(features.window_positions(folds[0][1][1]), 1)
    latencies = {}
    for key in keys:
        fold_dir = experiment.run_dir(key) / f"fold-{first}"
        window = _inputs(features, _input_names(features, key, configs[key]), latency_rows, key == "teacher")
        for quantization in preset["quantizations"]:
            path = fold_dir / deployed[(first, key)].extra["exports"][quantization]["path"]
            latency, was_reused = measure_latency(path, window, preset["latency"]["runs"], preset["latency"]["warmup"])
            latencies[(key, quantization)] = latency
            if was_reused:
                progress.total = max(progress.total - 1, 1)
            else:
                progress.advance(f"latency {key} {quantization}: p50 {latency['p50_ms']:.3f} ms, "
                                 f"p99 {latency['p99_ms']:.3f} ms")
    timings["latency_seconds"] = round(time.perf_counter() - start, 3)

    references = {kind: ref for (_, kind), ref in experiment.reference_scores().items()}
    table = add_gaps(assemble_table(fold_results, keys, latencies), references)
    n_folds = len(folds)
    protocol = ("Seizure-wise split of TUSZ v1.5.2 (IBM protocol, MYSZ excluded): "
                + (f"fold {first} of {SEIZURE_WISE_FOLDS}" if n_folds == 1 else
                   f"{n_folds} folds, mean ± standard deviation over folds")
                + f"; preset `{args.preset}`, seed {args.seed}.")
    notes = notes_for(args.preset, preset, config_dicts, n_folds, cpu_model())
    banner = data_banner(data["synthetic"], description)
    timings["total_seconds"] = round(time.perf_counter() - started, 3)
    record = run_record(NAME, args, {"preset": preset, "experiments": config_dicts, "run_dir": str(experiment.run_root),
                                     "timing_columns": timing_columns(table)}, timings, data)
    record["seed"] = args.seed
    record["hardware"] = {"cpu_model": cpu_model(), "cpu_count": os.cpu_count(), "platform": platform.platform()}
    record["folds"] = {str(index): {"train_seizures": int(len(train)), "validation_seizures": int(len(valid))}
                       for index, (train, valid) in folds}
    record["reused_folds"] = reused
    record["references"] = references
    record["exports"] = {f"fold-{index}": result.extra for (index, _), result in zip(folds, fold_results)}
    write_results(args.results_dir, table, markdown(table, banner, protocol, notes, references), record,
                  make_figures(table, fold_results, list(features.classes), keys))
    progress.log(f"done in {timings['total_seconds']:.0f} s: {Path(args.results_dir) / 'table.md'}")
    if not args.quiet:
        print(markdown(table, banner, protocol, notes, references))
    return table


__all__ = [
    "NAME", "QUANTIZATIONS", "QUANTIZATION_LABELS", "SEIZURE_WISE_FOLDS", "TIMING_COLUMNS_PREFIXES",
    "weights_fingerprint", "model_label", "export_verified", "measure_latency", "deploy", "fold_table_result",
    "assemble_table", "add_gaps", "timing_columns", "markdown", "notes_for", "make_figures", "build_parser",
    "resolve_preset", "main",
]


if __name__ == "__main__":
    sys.exit(run_table(main, NAME))
