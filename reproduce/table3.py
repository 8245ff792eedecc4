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
quick and test use fold 0, paper all 5 (mean +- standard deviation over folds). Training goes
through `kerasseizure.experiments.tusz.run_tusz_fold` (the same path as table 1);
exports through `kerasseizure.export.tflite.export` (atomic, verified against Keras).

Resume: every training is a `fit` run folder, every export a verified `.tflite` with its report
and a `<file>.source.json` naming the weights it came from (reused when they match), every
latency measurement a `<file>.latency.json` keyed by the file's SHA-256, every finished fold a
`result.json`. Everything but the latency columns is deterministic on CPU for a seed.

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

from kerasseizure.experiments.data import audit_line, synthetic_tusz  # noqa: E402
from reproduce.common import (  # noqa: E402
    Progress, cpu_model, data_banner, run_record, run_table, table_parser,
    write_results,
)
from reproduce.table3_export import (  # noqa: E402
    export_verified, measure_latency, weights_fingerprint,
)
from reproduce.table3_report import (  # noqa: E402
    QUANTIZATION_LABELS, QUANTIZATIONS, TIMING_COLUMNS_PREFIXES, assemble_table, make_figures, markdown,
    model_label, notes_for, timing_columns,
)

NAME = "table3"
TRAININGS = ("alone", "distilled")
SEIZURE_WISE_FOLDS = 5

# ---------------------------------------------------------------------------------- small helpers


def model_keys(sizes):
    """Row keys in table order: the teacher, then `<size>-alone`, `<size>-distilled` per size."""
    return ["teacher"] + [f"{size}-{training}" for size in sizes for training in TRAININGS]


def experiment_configs(preset, seed):
    """The `TUSZExperimentConfig` dicts of every row (teacher first), from a preset."""
    common = {"batch_size": preset["batch_size"], "train_window_stride": preset["train_window_stride"],
              "eval_window_stride": preset["eval_window_stride"], "seed": seed, "precision": "float32",
              "bn_momentum": preset["bn_momentum"], "recompute_batchnorm": preset["recompute_batchnorm"],
              "track_validation": False, "tensorboard": False}
    teacher = {"kind": "ensemble", "name": "teacher", "model": dict(preset["teacher"]["model"]),
               "epochs": preset["teacher"]["epochs"], "lr": preset["teacher"]["lr"], **common}
    configs = {"teacher": teacher}
    students = preset["students"]
    for size in students["sizes"]:
        base = {"model": {"size": size}, "epochs": students["epochs"], "lr": students["lr"], **common}
        configs[f"{size}-alone"] = {"kind": "student", "name": f"{size}-alone", **base}
        configs[f"{size}-distilled"] = {"kind": "distilled", "name": f"{size}-distilled", "teacher": teacher,
                                        **preset["distillation"], **base}
    return configs


# ---------------------------------------------------------------------------------- data


def load_features(args, preset, log):
    """(features, data description, synthetic?, seconds) for the real or the synthetic corpus."""
    from kerasseizure.io.tusz import TUSZCorpus
    from kerasseizure.pipelines import build_tusz_features

    timings = {}
    start = time.perf_counter()
    if args.data_dir is None:
        root = synthetic_tusz(args.synthetic_dir, "1.5.2", preset["corpus_size"], 0, log=log)
        synthetic = True
    else:
        root = Path(args.data_dir)
        if not root.is_dir():
            raise SystemExit(f"--data-dir {root}: no such folder (expected the TUSZ v1.5.2 release, see docs/table3.md)")
        synthetic = False
    corpus = TUSZCorpus(root, skip_bad=args.skip_bad)
    log(audit_line(corpus))
    timings["corpus_seconds"] = round(time.perf_counter() - start, 3)
    versions = sorted(set(corpus.seizures["version"].astype(str))) if "version" in corpus.seizures else []
    if not synthetic and versions and versions != ["1.5.2"]:
        log(f"warning: the table's protocol is TUSZ v1.5.2; this corpus is {versions}")
    start = time.perf_counter()
    features = build_tusz_features(corpus, "ses", cache_dir=args.cache_dir, progress=not args.quiet,
                                   skip_bad=args.skip_bad)
    timings["features_seconds"] = round(time.perf_counter() - start, 3)
    kind = f"synthetic TUSZ v1.5.2 layout, size {preset['corpus_size']!r}, seed 0" if synthetic else \
        f"TUSZ {'/'.join(versions) or '?'} at {root}"
    data = {"root": str(root), "synthetic": synthetic, "versions": versions,
            "seizures": int((features.seizures["n_windows"] > 0).sum()), "windows": int(len(features.windows)),
            "patients": int(features.seizures["patient_id"].nunique()), "cache": str(features.path),
            "classes": list(features.classes)}
    description = (f"{kind}; {data['seizures']} benchmark seizures of {data['patients']} patients, "
                   f"{data['windows']} SES windows (1 s, step 0.25 s, fmax 24/48/96 Hz)")
    return features, description, data, timings


def _inputs(features, names, rows, as_dict):
    x = {name: np.asarray(features.arrays[name][rows], dtype=np.float32) for name in names}
    return x if as_dict else x[names[0]]


def _evenly(rows, n):
    """At most `n` rows spread evenly over `rows` (deterministic)."""
    rows = np.asarray(rows)
    if len(rows) <= n:
        return rows
    return rows[np.linspace(0, len(rows) - 1, int(n)).round().astype(np.int64)]


class FoldRunner:
    """Trains, exports and evaluates every row on one fold (each step resumable)."""

    def __init__(self, features, configs, preset, progress, log, timings):
        self.features = features
        self.configs = configs
        self.preset = preset
        self.progress = progress
        self.log = log
        self.timings = timings

    def __call__(self, spec, fold_dir):
        from kerasseizure.experiments.runs import FoldResult, load_fold_result, save_fold_result
        from kerasseizure.experiments.tusz import evaluate_probabilities, run_tusz_fold

        train, valid = spec
        fold_dir = Path(fold_dir)
        features, preset = self.features, self.preset
        eval_rows = features.window_positions(valid, preset["eval_window_stride"])
        train_rows = features.window_positions(train, preset["train_window_stride"])
        calib_rows = _evenly(train_rows, preset["export"]["calibration_windows"])
        verify_rows = _evenly(eval_rows, preset["export"]["verify_windows"])
        ses = sorted(n for n in features.arrays if n.startswith("ses_"))
        labels = features.windows["label_index"].to_numpy()
        metrics, predictions, extra = {}, {"window": eval_rows.astype(np.int64),
                                           "seizure": features.windows["seizure"].to_numpy()[eval_rows],
                                           "label": labels[eval_rows].astype(np.int64)}, {}
        teacher_dir = fold_dir / "teacher"
        for key, config in self.configs.items():
            model_dir = fold_dir / key
            units = 6 if key == "teacher" else 3 if key.endswith("distilled") else 2
            done = load_fold_result(model_dir)
            if done is None:
                start = time.perf_counter()
                done = run_tusz_fold(features, train, valid, config, model_dir,
                                     teacher_dir=teacher_dir if config["kind"] == "distilled" else None,
                                     log=None if self.progress.quiet else self.progress.log)
                save_fold_result(model_dir, done)
                self.timings[f"{fold_dir.name}/{key}/train_seconds"] = round(time.perf_counter() - start, 3)
                self.progress.advance(f"{fold_dir.name}: trained {key} (window F1 {done.metrics['window_f1']:.3f})",
                                      units)
            else:
                self.progress.total = max(self.progress.total - units, 1)
                self.progress.log(f"{fold_dir.name}: {key} trained earlier, loaded")
            if not np.array_equal(np.asarray(done.predictions["window"]), eval_rows):
                raise RuntimeError(f"{model_dir}: evaluated windows differ from this run's; remove the folder")
            metrics[f"{key}/keras/window_f1"] = done.metrics["window_f1"]
            metrics[f"{key}/keras/seizure_f1"] = done.metrics["seizure_f1"]
            predictions[f"{key}/keras"] = np.asarray(done.predictions["probs"], np.float32)

            # the deployable Keras model: fit's final.keras, re-saved without optimizer state
            from kerasseizure.export.saving import load_keras_model

            model = load_keras_model(model_dir / "fit" / "final.keras")
            deploy_path = fold_dir / "models" / f"{key}.keras"
            if not deploy_path.is_file():
                from kerasseizure.files import atomic_path

                with atomic_path(deploy_path) as tmp:
                    model.save(tmp)
            names = ses if key == "teacher" else [config.get("input_name", "ses_0")]
            as_dict = key == "teacher"
            representative = _inputs(features, names, calib_rows, as_dict)
            verify = (_inputs(features, names, verify_rows, as_dict), labels[verify_rows])
            x_eval = _inputs(features, names, eval_rows, as_dict)
            info = {"parameters": int(model.count_params()), "keras_bytes": int(deploy_path.stat().st_size),
                    "exports": {}}
            for quantization in preset["quantizations"]:
                path = fold_dir / "export" / f"{key}_{quantization}.tflite"
                start = time.perf_counter()
                report, reused = export_verified(model, path, quantization, representative, verify,
                                                 preset["export"]["min_agreement"], self.log)
                lite_units = 2 if key == "teacher" else 1
                path = Path(report["path"])
                scores, probs = self._lite_scores(path, x_eval, eval_rows, evaluate_probabilities)
                metrics[f"{key}/{quantization}/window_f1"] = scores["window_f1"]
                metrics[f"{key}/{quantization}/seizure_f1"] = scores["seizure_f1"]
                if quantization == "int8":
                    predictions[f"{key}/int8"] = probs.astype(np.float32)
                verification = report.get("verification", {})
                info["exports"][quantization] = {
                    "path": os.path.relpath(path, fold_dir), "size_bytes": int(report["size_bytes"]),
                    "passed": bool(report["passed"]), "argmax_agreement": verification.get("argmax_agreement"),
                    "max_abs_diff": verification.get("max_abs_diff"), "ops": report.get("ops")}
                if not reused:
                    self.timings[f"{fold_dir.name}/{key}/{quantization}/export_seconds"] = \
                        round(time.perf_counter() - start, 3)
                    self.progress.advance(f"{fold_dir.name}: exported {key} {quantization} "
                                          f"({report['size_bytes'] / 1024:.1f} KB, verified)", lite_units)
                else:
                    self.progress.total = max(self.progress.total - lite_units, 1)
                    self.progress.log(f"{fold_dir.name}: {key} {quantization}: verified export reused")
            extra[key] = info
            del model
        result = FoldResult(metrics, predictions, extra)
        return result

    def _lite_scores(self, path, x_eval, eval_rows, evaluate_probabilities):
        from kerasseizure.export.litert_runtime import LiteRTClassifier

        classifier = LiteRTClassifier(path, num_threads=1, batch_size=256)
        probs = classifier.predict(x_eval).astype(np.float64)
        return evaluate_probabilities(self.features, eval_rows, probs), probs


# ---------------------------------------------------------------------------------- main


def build_parser():
    parser = table_parser(NAME, "Table 3: SeizureNet teacher vs distilled students -- size, latency, F1.")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="feature cache folder (default $KERASSEIZURE_CACHE or ~/.cache/kerasseizure/features)")
    parser.add_argument("--folds", type=int, nargs="+", default=None,
                        help="seizure-wise folds to run (0-4; default: the preset's: quick/test 0, paper all)")
    return parser


def resolve_preset(args):
    """The preset's `table3` section (`experiments.presets`), with `--folds` applied."""
    from kerasseizure.experiments.presets import PresetError, load_preset

    preset = load_preset(args.preset).table3
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

    from kerasseizure.evaluation.folds import seizure_wise_folds
    from kerasseizure.experiments.runs import run_folds, run_identity

    features, description, data, timings = load_features(args, preset, log)
    configs = experiment_configs(preset, args.seed)
    keys = list(configs)
    folds = seizure_wise_folds(features.seizures, n_folds=SEIZURE_WISE_FOLDS)
    chosen = {str(i): folds[i] for i in preset["folds"]}
    run_config = {"preset": args.preset, "settings": preset, "seed": args.seed, "experiments": configs}
    run_dir = Path(args.results_dir) / "runs"
    per_fold = 6 + sum(3 if k.endswith("distilled") else 2 for k in keys[1:]) + \
        len(preset["quantizations"]) * (2 + len(keys) - 1)
    progress = Progress(len(chosen) * per_fold + len(keys) * len(preset["quantizations"]), NAME, quiet=args.quiet)
    progress.log(f"{description}; folds {preset['folds']} of the seizure-wise {SEIZURE_WISE_FOLDS}-fold split; "
                 f"runs in {run_dir}")
    cv = run_folds(chosen, FoldRunner(features, configs, preset, progress, log, timings), run_dir,
                   identity=run_identity(run_config, {"features": Path(features.path).name}),
                   overwrite=args.overwrite, log=progress.log)
    for name in cv.reused:
        progress.total = max(progress.total - per_fold, 1)

    # latency: the files of the first fold run (same architectures in every fold)
    start = time.perf_counter()
    first_name = str(preset["folds"][0])
    first_dir = run_dir / f"fold-{first_name}"
    latency_rows = _evenly(features.window_positions(folds[preset["folds"][0]][1]), 1)
    latencies = {}
    first = cv.folds[0]
    for key in keys:
        for quantization in preset["quantizations"]:
            path = first_dir / first.extra[key]["exports"][quantization]["path"]
            names = sorted(n for n in features.arrays if n.startswith("ses_")) if key == "teacher" else ["ses_0"]
            window = _inputs(features, names, latency_rows, key == "teacher")
            latency, reused = measure_latency(path, window, preset["latency"]["runs"], preset["latency"]["warmup"])
            latencies[(key, quantization)] = latency
            if reused:
                progress.total = max(progress.total - 1, 1)
            else:
                progress.advance(f"latency {key} {quantization}: p50 {latency['p50_ms']:.3f} ms, "
                                 f"p99 {latency['p99_ms']:.3f} ms")
    timings["latency_seconds"] = round(time.perf_counter() - start, 3)

    table = assemble_table(cv.folds, keys, latencies)
    n_folds = len(chosen)
    protocol = ("Seizure-wise split of TUSZ v1.5.2 (IBM protocol, MYSZ excluded): "
                + (f"fold {first_name} of {SEIZURE_WISE_FOLDS}" if n_folds == 1 else
                   f"{n_folds} folds, mean ± standard deviation over folds")
                + f"; preset `{args.preset}`, seed {args.seed}.")
    notes = notes_for(args.preset, preset, configs, n_folds, cpu_model())
    banner = data_banner(data["synthetic"], description)
    timings["total_seconds"] = round(time.perf_counter() - started, 3)
    record = run_record(NAME, args, {"preset": preset, "experiments": configs, "run_dir": str(run_dir),
                                     "timing_columns": timing_columns(table)}, timings, data)
    record["seed"] = args.seed
    record["hardware"] = {"cpu_model": cpu_model(), "cpu_count": os.cpu_count(), "platform": platform.platform()}
    record["folds"] = {name: {"train_seizures": int(len(spec[0])), "validation_seizures": int(len(spec[1]))}
                       for name, spec in chosen.items()}
    record["reused_folds"] = cv.reused
    record["exports"] = {f"fold-{name}": result.extra for name, result in zip(chosen, cv.folds)}
    write_results(args.results_dir, table, markdown(table, banner, protocol, notes), record,
                  make_figures(table, cv.folds, list(features.classes), keys))
    progress.log(f"done in {timings['total_seconds']:.0f} s: {Path(args.results_dir) / 'table.md'}")
    if not args.quiet:
        print(markdown(table, banner, protocol, notes))
    return table


__all__ = [
    "NAME", "QUANTIZATIONS", "QUANTIZATION_LABELS", "TRAININGS", "SEIZURE_WISE_FOLDS", "TIMING_COLUMNS_PREFIXES", "weights_fingerprint", "model_keys",
    "model_label", "experiment_configs", "load_features", "export_verified", "measure_latency", "FoldRunner",
    "assemble_table", "timing_columns", "markdown", "notes_for", "make_figures", "build_parser", "resolve_preset", "main",
]


if __name__ == "__main__":
    sys.exit(run_table(main, NAME))
