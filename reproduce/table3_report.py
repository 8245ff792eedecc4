"""Table 3 report: the results table, its markdown and the figures (used by `reproduce.table3`).

`assemble_table` turns the folds' results into one row per model (sizes, LiteRT latency, F1 with
mean and std over folds), `markdown` renders it with the latency table and notes, `make_figures`
draws the size / latency / F1 figures. The quantization names and row labels shared with
`reproduce.table3` live here; `reproduce.table3` re-exports everything.
"""

import math

import numpy as np
import pandas as pd

from kerasseizure.evaluation.reports import gap_closed
from kerasseizure.experiments.distillation import rows_for
from kerasseizure.experiments.protocol import find_row
from reproduce.common import percent, recomputed_batchnorm_text
from reproduce.table1_report import REFERENCE_ROWS

QUANTIZATIONS = ("none", "dynamic", "int8")
QUANTIZATION_LABELS = {"none": "float32", "dynamic": "dynamic-range", "int8": "int8"}


def model_label(key):
    """The row label of a row key ("tiny-distilled" -> "student tiny (distilled)")."""
    return find_row(rows_for([key.split("-")[0]]), key, "table3").label


# ---------------------------------------------------------------------------------- table


def _stat(values):
    values = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not values:
        return float("nan"), float("nan")
    return float(np.mean(values)), (float(np.std(values)) if len(values) > 1 else float("nan"))


def assemble_table(fold_results, keys, latencies):
    """One row per model: sizes, latency and F1 (mean, and std over folds when several)."""
    rows = []
    first = fold_results[0]
    teacher_params = first.extra["teacher"]["parameters"]
    for key in keys:
        info = first.extra[key]
        size, training = ("-", "ensemble") if key == "teacher" else key.split("-")
        row = {"model": model_label(key), "key": key, "size": size, "training": training,
               "parameters": info["parameters"],
               "teacher_to_model_parameters": round(teacher_params / info["parameters"], 1),
               "keras_kb": round(info["keras_bytes"] / 1024, 1)}
        for quantization in QUANTIZATIONS:
            export = info["exports"].get(quantization)
            if export is None:
                continue
            row[f"tflite_kb_{quantization}"] = round(export["size_bytes"] / 1024, 1)
            row[f"verified_{quantization}"] = all(r.extra[key]["exports"][quantization]["passed"] for r in fold_results)
            row[f"agreement_{quantization}"] = round(float(np.mean(
                [r.extra[key]["exports"][quantization]["argmax_agreement"] for r in fold_results])), 4)
        for level in ("window", "seizure"):
            for source in ("keras",) + QUANTIZATIONS:
                name = f"{key}/{source}/{level}_f1"
                if name not in first.metrics:
                    continue
                mean, std = _stat([r.metrics[name] for r in fold_results])
                column = f"{level}_f1" if source == "keras" else f"{level}_f1_{source}"
                row[column], row[f"{column}_std"] = round(mean, 4), round(std, 4)
            drops = [r.metrics[f"teacher/keras/{level}_f1"] - r.metrics[f"{key}/keras/{level}_f1"]
                     for r in fold_results]
            mean, std = _stat(drops)
            row[f"{level}_f1_drop"], row[f"{level}_f1_drop_std"] = round(mean, 4), round(std, 4)
        for quantization in QUANTIZATIONS:
            latency = latencies.get((key, quantization))
            if latency:
                row[f"p50_ms_{quantization}"] = round(latency["p50_ms"], 4)
                row[f"p99_ms_{quantization}"] = round(latency["p99_ms"], 4)
        rows.append(row)
    return pd.DataFrame(rows)


REFERENCE_LABELS = {key: label for label, key, _ in REFERENCE_ROWS}  # table 1's reference lines


def add_gaps(table, references):
    """The table with gap columns, `<level>_f1_gap` and `<level>_f1_int8_gap`: (model F1 - majority-type
    F1) / (truth F1 - majority-type F1), from `references` = {kind: {"folds_run", "summary"}} of
    `SeizureTypeExperiment.reference_scores()` ("prior", "truth"); unchanged without them (a real
    corpus)."""
    if not references:
        return table
    table = table.copy()
    for level in ("window", "seizure"):
        prior, truth = (references[kind]["summary"][f"{level}_f1"]["mean"] for kind in ("prior", "truth"))
        for column in (f"{level}_f1", f"{level}_f1_int8"):
            if column in table:
                table[f"{column}_gap"] = [round(gap_closed(v, prior, truth), 4) for v in table[column]]
    return table


TIMING_COLUMNS_PREFIXES = ("p50_ms_", "p99_ms_")


def timing_columns(table):
    """The latency columns (the only ones that differ between runs with the same seed)."""
    return [c for c in table.columns if c.startswith(TIMING_COLUMNS_PREFIXES)]


def _pm(table, row, column, digits=3):
    value = row.get(column)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    std = row.get(f"{column}_std")
    text = f"{value:.{digits}f}"
    if std is not None and isinstance(std, float) and not math.isnan(std):
        text += f" ± {std:.{digits}f}"
    return text


def markdown(table, banner, protocol, notes, references=None):
    lines = [banner, "", f"**Table 3 -- distillation and deployment.** {protocol}", ""]
    header = ("| model | params | teacher/model params | .keras KB | .tflite KB float32 / dynamic / int8 "
              "| int8 LiteRT p50 / p99 ms | window F1 | seizure F1 | window F1 drop | seizure F1 drop "
              "| int8 window F1 | int8 seizure F1 |")
    lines += [header, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for _, row in table.iterrows():
        row = row.to_dict()
        sizes = " / ".join(f"{row.get(f'tflite_kb_{q}', float('nan')):.1f}" for q in QUANTIZATIONS)
        latency = f"{row.get('p50_ms_int8', float('nan')):.3f} / {row.get('p99_ms_int8', float('nan')):.3f}"
        drop_w = "-" if row["key"] == "teacher" else _pm(table, row, "window_f1_drop")
        drop_s = "-" if row["key"] == "teacher" else _pm(table, row, "seizure_f1_drop")
        lines.append(f"| {row['model']} | {row['parameters']:,} | {row['teacher_to_model_parameters']:.1f}x "
                     f"| {row['keras_kb']:.1f} | {sizes} | {latency} | {_pm(table, row, 'window_f1')} "
                     f"| {_pm(table, row, 'seizure_f1')} | {drop_w} | {drop_s} | {_pm(table, row, 'window_f1_int8')} "
                     f"| {_pm(table, row, 'seizure_f1_int8')} |")
    lines += ["", "LiteRT latency per window (ms, batch 1, one thread, warm-up excluded) and window F1 of each "
              "exported file on the validation windows:", "",
              "| model | quantization | .tflite KB | p50 ms | p99 ms | window F1 (LiteRT) | agreement with Keras "
              "| verified |", "|---|---|---:|---:|---:|---:|---:|---|"]
    for _, row in table.iterrows():
        row = row.to_dict()
        for q in QUANTIZATIONS:
            if f"tflite_kb_{q}" not in row:
                continue
            lines.append(f"| {row['model']} | {QUANTIZATION_LABELS[q]} | {row[f'tflite_kb_{q}']:.1f} "
                         f"| {row.get(f'p50_ms_{q}', float('nan')):.3f} | {row.get(f'p99_ms_{q}', float('nan')):.3f} "
                         f"| {_pm(table, row, f'window_f1_{q}')} | {row[f'agreement_{q}']:.3f} "
                         f"| {'yes' if row[f'verified_{q}'] else 'NO'} |")
    if references:
        lines += ["", "Gap closed on this synthetic corpus: (model F1 - majority-type F1) / (truth F1 - majority-type "
                  "F1); 0 % is no better than predicting the training fold's majority type for every window, "
                  "100 % is the truth line (each window's type wherever the simulated seizure shows in it).", "",
                  "| model | window F1 | seizure F1 | gap closed (window / seizure) | int8: gap closed (window / "
                  "seizure) |", "|---|---:|---:|---:|---:|"]
        for _, row in table.iterrows():
            row = row.to_dict()
            gaps = [percent(row.get(f"{level}_f1{suffix}_gap"), "-") for suffix in ("", "_int8")
                    for level in ("window", "seizure")]
            lines.append(f"| {row['model']} | {_pm(table, row, 'window_f1')} | {_pm(table, row, 'seizure_f1')} "
                         f"| {gaps[0]} / {gaps[1]} | {gaps[2]} / {gaps[3]} |")
        for kind, label in REFERENCE_LABELS.items():
            summary = references[kind]["summary"]
            several = references[kind]["folds_run"] > 1  # one fold: no spread, as in the model lines
            line = {f"{level}_f1{suffix}": summary[f"{level}_f1"][stat] if several or stat == "mean" else float("nan")
                    for level in ("window", "seizure") for suffix, stat in (("", "mean"), ("_std", "std"))}
            gaps = "0 % / 0 %" if kind == "prior" else "100 % / 100 %"
            lines.append(f"| {label} | {_pm(table, line, 'window_f1')} | {_pm(table, line, 'seizure_f1')} "
                         f"| {gaps} | |")
    lines += [""] + [f"- {note}" for note in notes] + [""]
    return "\n".join(lines)


def notes_for(preset_name, preset, configs, n_folds, cpu):
    """The notes under the table: models, training, windows, sizes and how latency was measured."""
    teacher_model = configs["teacher"]["model"] or "the package default (SeizureNet())"
    return [
        f"Teacher: SeizureNet ensemble of 3 members on SES at fmax 24/48/96 Hz, config {teacher_model}"
        + (" -- a NARROW teacher (ours) so that the quick preset trains in minutes on 2 CPU cores; "
           "`--preset paper` uses the default 1.46 M-parameter SeizureNet" if preset_name != "paper" else "")
        + f"; {preset['teacher']['epochs']} epochs, Adam lr {preset['teacher']['lr']}, batch {preset['batch_size']}.",
        f"Students: `student(size=...)` on the fmax-24 SES (ses_0), no projection layer; 'alone' = trained on the "
        f"labels only, 'distilled' = same architecture and the same initial weights, Hinton KD from this fold's "
        f"teacher (T = {preset['distillation']['temperature']}, alpha = {preset['distillation']['alpha']} on the labels"
        + (", plus feature matching" if preset["distillation"]["feature_distillation"] else "")
        + f"); {preset['students']['epochs']} epochs, Adam lr {preset['students']['lr']}; BatchNormalization "
        f"momentum {preset['bn_momentum'] if preset['bn_momentum'] is not None else 0.99} in every network"
        f"{recomputed_batchnorm_text(preset['recompute_batchnorm'])}.",
        f"Windows: training every {preset['train_window_stride']}th window of each training seizure "
        f"(IBM grid: 1 s windows every 0.25 s), evaluation every {preset['eval_window_stride']}th window of each "
        "validation seizure; seizure F1 = mean of its windows' probabilities. No model selection on the "
        "validation fold (fixed epochs).",
        "F1 drop = teacher F1 - model F1 (Keras, same fold; positive = worse than the teacher). int8 F1 = the "
        "deployed full-integer file run with LiteRT (float32 I/O) on the validation windows.",
        "Sizes: .keras = the model saved without optimizer state; .tflite from `kerasseizure.export.tflite.export` "
        "(builtin ops only, verified against Keras on validation windows"
        + (", sizes and latency from the first fold" if n_folds > 1 else "") + ").",
        f"Latency: LiteRT, batch 1, one thread, {preset['latency']['warmup']} warm-up calls excluded, "
        f"{preset['latency']['runs']} timed calls on one validation window; CPU: {cpu}. "
        "Latency columns are the only ones that vary between runs with the same seed.",
    ]


# ---------------------------------------------------------------------------------- figures


def make_figures(table, fold_results, classes, keys):
    import matplotlib.pyplot as plt

    from reproduce.figures import confusion_matrix_figure

    figures = {}
    markers = {"none": "o", "dynamic": "s", "int8": "^"}
    figure, axis = plt.subplots(figsize=(7, 4.2))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    sizes = list(dict.fromkeys(table["size"]))
    for _, row in table.iterrows():
        colour = colours[sizes.index(row["size"]) % len(colours)]
        hollow = row["training"] == "alone"
        labelled = False
        for q in QUANTIZATIONS:
            if f"tflite_kb_{q}" in row and not pd.isna(row.get(f"window_f1_{q}")):
                axis.scatter(row[f"tflite_kb_{q}"], row[f"window_f1_{q}"], marker=markers[q], s=46,
                             facecolors="none" if hollow else colour, edgecolors=colour, linewidths=1.4,
                             label=None if labelled else row["model"])
                labelled = True
    for q, marker in markers.items():
        axis.scatter([], [], marker=marker, color="grey", label=QUANTIZATION_LABELS[q])
    axis.set_xscale("log")
    axis.set_xlabel(".tflite size (KB, log scale)")
    axis.set_ylabel("window weighted F1 (LiteRT, validation)")
    axis.set_title("Size vs F1 per quantization (hollow: student alone, filled: distilled / teacher)",
                   fontsize=10)
    axis.legend(fontsize=7, loc="best")
    figures["size_vs_f1"] = figure

    figure, axis = plt.subplots(figsize=(max(7, 1.1 * len(table)), 4))
    width = 0.8 / (2 * len(QUANTIZATIONS))
    positions = np.arange(len(table))
    for j, q in enumerate(QUANTIZATIONS):
        for k, stat in enumerate(("p50", "p99")):
            column = f"{stat}_ms_{q}"
            if column not in table:
                continue
            offset = (2 * j + k) * width - 0.4 + width / 2
            axis.bar(positions + offset, table[column], width, label=f"{QUANTIZATION_LABELS[q]} {stat}",
                     color=colours[j], alpha=1.0 if stat == "p50" else 0.45)
    axis.set_xticks(positions, [model_label(k).replace("SeizureNet ", "").replace("student ", "") for k in keys],
                    rotation=30, ha="right", fontsize=8)
    axis.set_yscale("log")
    axis.set_ylabel("ms per window (batch 1, 1 thread)")
    axis.set_title("LiteRT latency per window: p50 (solid) and p99 (light)", fontsize=10)
    axis.legend(fontsize=7, ncol=3)
    figures["latency"] = figure

    students = table[table["key"] != "teacher"]
    if len(students) and "window_f1_int8" in students:
        best = students.sort_values(["window_f1_int8", "parameters"], ascending=[False, True]).iloc[0]
        truth = np.concatenate([np.asarray(r.predictions["label"]) for r in fold_results])
        predicted = np.concatenate([np.asarray(r.predictions[f"{best['key']}/int8"]).argmax(axis=1)
                                    for r in fold_results])
        n = len(classes)
        confusion = np.zeros((n, n), dtype=np.int64)
        np.add.at(confusion, (truth, predicted), 1)
        figures["confusion_best_int8_student"] = confusion_matrix_figure(
            confusion, [c.upper() for c in classes],
            f"Best int8 student: {best['model']} (LiteRT, validation windows)")
    return figures
