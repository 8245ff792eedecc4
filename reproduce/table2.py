"""Table 2: temporal vs spatial vs both on HMS (Kaggle KL divergence), plus the paper's proposals.

    python -m reproduce.table2                          # synthetic corpus, quick preset (2 folds, small models)
    python -m reproduce.table2 --preset test            # seconds: the test suite's smoke run
    python -m reproduce.table2 --data-dir hms/ --preset paper   # the real Kaggle data, published settings

Rows (each a cross-validated variant of `kerasseizure.experiments.hms`, GroupKFold(5) by
patient on one row per eeg_id):

- temporal (WaveNet): Deotte's WaveNet on the 0.1-20 Hz band-passed 8 differences (2000, 8);
- spatial (spectrogram image): SpectrogramNet (an EfficientNet) on the Kaggle | EEG spectrogram image;
  the quick preset's CompactSpectrogramNet on the EEG half;
- both (average): mean of the two out-of-fold probabilities, rows renormalised (the paper's model);
- proposals: fused end to end; left/right swap augmentation (each branch trained with the swap,
  then averaged: "both + swap"); two-stage "train twice" (each branch trained on the 1-7-vote
  eeg_ids, then continued on the >= 10-vote ones, then averaged); the 3D CNN (paper preset only);
- feature baseline: a logistic regression on hand-made pattern features of the WaveNet view
  (band powers, low-frequency peak, periodicity, lateralisation), fitted to the vote
  distributions, C chosen inside each training fold (`experiments.hms_baseline`);
- references: uniform 1/6 and the training fold's mean vote distribution;
- truth (synthetic corpus only): the vote distributions the corpus drew its votes from, the
  lowest KL a model can expect; every row then gives the fraction of the uniform-to-truth gap
  it closes.

Columns: Kaggle KL of the pooled out-of-fold predictions and mean +- std over folds, on every
eeg_id and on the >= 10-vote eeg_ids; the published figure with its source.

Artefacts in results/table2/: table.md (data banner first), table.csv, record.json, figures/,
runs/ (resumable: a re-run loads finished folds and resumes an interrupted one).
"""

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from kerasseizure.experiments.harmful_activity import PROTOCOL, ROWS, row_variants  # noqa: E402
from reproduce.common import (  # noqa: E402
    Progress, data_banner, percent, run_record, run_table, table_parser, write_results,
)
from reproduce.published import published_figures  # noqa: E402

NAME = "table2"
CLASSES = ("Seizure", "LPD", "GPD", "LRDA", "GRDA", "Other")

# The published figure of a row, by its label (`reproduce.published`).
PUBLISHED = {"temporal (WaveNet)": "temporal (WaveNet)", "spatial (spectrogram image)": "spatial (EfficientNet)",
             "both (average)": "both (average)", "spatial, two-stage": "two-stage training"}


def _fmt(value, digits=3):
    return "" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def _published_text(key):
    figures = published_figures(NAME, key) if key else []
    return ("; ".join(f"{f['value']} ({f['protocol']})" for f in figures),
            "; ".join(f"{f['source']}" for f in figures))


# ------------------------------------------------------------------------------------- data


def describe_data(dataset, root, synthetic):
    """One line on the HMS data a table was computed on."""
    labels = dataset.labels
    counts = labels["population"].value_counts().to_dict()
    return (f"HMS {'synthetic corpus' if synthetic else 'train.csv'} at {root}: {len(labels)} eeg_ids, "
            f"{labels['patient_id'].nunique()} patients, {counts.get('high', 0)} with >= 10 votes, "
            f"{counts.get('low', 0)} with 1-7, {counts.get('mixed', 0)} mixed")


# ------------------------------------------------------------------------------------- rows


def _row_scores(row, scored, n_folds):
    published, source = _published_text(PUBLISHED.get(row.label))
    variants = row_variants(row) or (row.key,)
    out = {"row": row.label, "kind": row.kind if scored is not None else "not run", "variants": "+".join(variants)}
    for population in ("all", "high"):
        if scored is None:
            out.update({f"kl_{population}_oof": np.nan, f"kl_{population}_mean": np.nan,
                        f"kl_{population}_std": np.nan})
            continue
        summary = scored["summary"].get(f"kl_{population}", {})
        out[f"kl_{population}_oof"] = scored["pooled"][f"kl_{population}"]
        out[f"kl_{population}_mean"] = summary.get("mean", np.nan)
        out[f"kl_{population}_std"] = summary.get("std", np.nan)
    out["n_all"] = scored["pooled"]["n_all"] if scored else 0
    out["n_high"] = scored["pooled"]["n_high"] if scored else 0
    out["folds"] = n_folds if scored else 0
    out["published"] = published
    out["published_source"] = source
    return out


def build_table(scores, n_folds):
    """The table: one row per experiment row, `scores[label]` (None: not run; a reference without
    scores, the truth on a real corpus, is left out). With the truth row, `gap_<population>` is the
    fraction of the uniform-to-truth KL gap each row closes (`evaluation.reports.gap_closed`)."""
    from kerasseizure.evaluation.reports import gap_closed

    rows = [row for row in ROWS if row.kind != "reference" or row.label in scores]
    table = pd.DataFrame([_row_scores(row, scores.get(row.label), n_folds) for row in rows])
    for column in table.columns:
        if column.startswith("kl_"):
            table[column] = table[column].astype(float).round(6)
    by_variant = table.set_index("variants")
    if "truth" in by_variant.index:
        for population in ("all", "high"):
            column = f"kl_{population}_oof"
            uniform, truth = by_variant.loc["uniform", column], by_variant.loc["truth", column]
            table[f"gap_{population}"] = [round(gap_closed(kl, uniform, truth), 4) for kl in table[column]]
    return table


def markdown(table, banner, configs, preset, fold_text, not_run, notes):
    gaps = "gap_all" in table.columns
    lines = [banner, "", f"# Table 2: HMS, Kaggle KL divergence of out-of-fold predictions (preset `{preset}`)", "",
             "| row | KL all: OOF | KL all: folds mean ± std | KL ≥10 votes: OOF | KL ≥10 votes: folds mean ± std "
             + ("| gap closed (all / ≥10) " if gaps else "") + "| eeg_ids (all / ≥10) | published | source |",
             "|---|---:|---:|---:|---:" + ("|---:" if gaps else "") + "|---:|---|---|"]
    for _, r in table.iterrows():
        if r["kind"] == "not run":
            lines.append(f"| {r['row']} | not run | | | " + ("| " if gaps else "")
                         + f"| | {r['published']} | {r['published_source']} |")
            continue
        gap = f"| {percent(r['gap_all'], '')} / {percent(r['gap_high'], '')} " if gaps else ""
        lines.append(
            f"| {r['row']} | {_fmt(r['kl_all_oof'])} | {_fmt(r['kl_all_mean'])} ± {_fmt(r['kl_all_std'])} "
            f"| {_fmt(r['kl_high_oof'])} | {_fmt(r['kl_high_mean'])} ± {_fmt(r['kl_high_std'])} "
            f"{gap}| {int(r['n_all'])} / {int(r['n_high'])} | {r['published']} | {r['published_source']} |")
    lines += ["", "Notes:", "",
              f"- Folds: {fold_text}. KL is `kaggle_kl_divergence` (Kaggle's scorer: submission clipped to "
              "[1e-15, 1-1e-15], no renormalisation) on softmax probabilities; OOF = the folds' out-of-fold "
              "predictions pooled; ± is the standard deviation over folds. \"≥10 votes\" = eeg_ids whose every "
              "sub-row has ≥ 10 votes (population \"high\"), the CV that tracks the leaderboard.",
              "- both = mean of the temporal and spatial out-of-fold probabilities, rows renormalised. "
              "L/R swap = each branch trained with the left/right electrode swap (LL<->RL, LP<->RP, "
              "matching electrodes; labels unchanged) on half of the training elements, then averaged. "
              "Two-stage = each branch trained on the 1-7-vote eeg_ids, then continued with a fresh optimizer "
              "on the ≥ 10-vote eeg_ids (\"train twice\"), then averaged.",
              *(["- Gap closed = (KL of uniform - KL of the row) / (KL of uniform - KL of the truth), pooled OOF: "
                 "0 % is no better than guessing 1/6, 100 % is the truth row, the vote distributions the "
                 "synthetic corpus drew its votes from (the KL a perfect model would expect: votes are "
                 "samples, so even the truth scores above 0)."] if gaps else []),
              "- Published figures: the paper's 5-fold CV (0.39 / 0.41 / 0.38) and, for orientation, the public "
              "starters' CV and leaderboard (LB); two-stage's 0.39 is the EfficientNet starter's LB after "
              "\"train twice\".", ""]
    lines.append("Settings:")
    lines.append("")
    for variant, config in configs.items():
        lines.append(f"- `{variant}`: {config.describe()}.")
    for variant, reason in not_run.items():
        lines.append(f"- `{variant}`: not run ({reason}).")
    lines += [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------- figures


def make_figures(features, results, averages, folds_run):
    from kerasseizure.io.channels import WAVENET_PAIRS
    from kerasseizure.experiments.hms import per_class_kl
    from reproduce.figures import (confusion_matrix_figure, eeg_examples_figure, grouped_bars_figure,
                                   image_examples_figure, learning_curves_figure)

    table = features.table
    figures = {}
    first = folds_run[0]
    curves = {}
    for name, result in results.items():
        history = result.folds[first].extra.get("history", {})
        merged = {"loss": [], "val_loss": []}
        for stage in history.values():
            merged["loss"] += list(stage.get("loss", []))
            merged["val_loss"] += list(stage.get("val_loss", []))
        if merged["loss"]:
            curves[name] = merged
    if curves:
        figures["learning_curves"] = learning_curves_figure(
            curves, f"KL loss per epoch, fold {first} (two-stage: stage 2 follows stage 1)")

    scored = {name: (r.oof["position"].to_numpy(np.int64), r.oof[list(CLASSES)].to_numpy()) for name, r in
              results.items()}
    for label, average in averages.items():
        scored[label] = (average["oof"]["position"].to_numpy(np.int64), average["oof"][list(CLASSES)].to_numpy())
    figures["per_class_kl"] = grouped_bars_figure(
        {name: per_class_kl(table, p, q) for name, (p, q) in scored.items()}, list(CLASSES),
        "Per-class share of the KL (pooled out-of-fold; sums to the KL)", "KL share")

    consensus = table["expert_consensus"].to_numpy()
    for name in [n for n in ("temporal", "spatial", "both (average)") if n in scored]:
        positions, probabilities = scored[name]
        truth = pd.Categorical(consensus[positions], categories=list(CLASSES)).codes
        predicted = probabilities.argmax(axis=1)
        confusion = np.zeros((len(CLASSES), len(CLASSES)), dtype=int)
        np.add.at(confusion, (truth, predicted), 1)
        slug = name.split(" ")[0]
        figures[f"confusion_{slug}"] = confusion_matrix_figure(
            confusion, list(CLASSES), f"{name}: argmax of the OOF probabilities vs expert consensus")

    eeg_examples, image_examples = {}, {}
    rows = table["row"].to_numpy(np.int64)
    for k, name in enumerate(CLASSES):
        position = int(np.argmax(table[name].to_numpy()))
        title = f"{name} (p={table[name].iloc[position]:.2f}, eeg_id {int(table['eeg_id'].iloc[position])})"
        if "wavenet" in features.arrays:
            eeg_examples[title] = np.asarray(features.arrays["wavenet"][rows[position], 0], dtype=np.float32).T
        if "eeg_panels" in features.arrays:
            image_examples[title] = _image(features, rows[position])
    if eeg_examples:
        figures["examples_eeg"] = eeg_examples_figure(
            eeg_examples, 40, ["-".join(p) for p in WAVENET_PAIRS],
            "WaveNet input per class: the 8 differences, 0.1-20 Hz band-passed, 40 Hz (middle 50 s)")
    if image_examples:
        figures["examples_image"] = image_examples_figure(
            image_examples, "Spectrogram image per class (left: Kaggle LL, RL, LP, RP; right: EEG LL, LP, RL, RP)")
    return figures


def _image(features, row):
    from kerasseizure.signal import hms_image_from_panels

    eeg = np.asarray(features.arrays["eeg_panels"][row, 0], dtype=np.float32)
    kaggle = (np.asarray(features.arrays["kaggle_panels"][row, 0], dtype=np.float32)
              if "kaggle_panels" in features.arrays else None)
    return np.asarray(hms_image_from_panels(eeg, kaggle, channels=1))[::-1]


# ------------------------------------------------------------------------------------- main


def parser():
    p = table_parser(NAME, "Table 2: WaveNet (temporal), EfficientNet (spatial) and their average on HMS, "
                           "Kaggle KL divergence, GroupKFold(5) by patient, plus fused / swap / two-stage.")
    p.add_argument("--folds", type=int, nargs="*", default=None,
                   help="run only these folds (0-4); default: the preset's (all but in `test`)")
    return p


def main(argv=None):
    from kerasseizure.experiments import hms as hx
    from kerasseizure.experiments import plan as plan_lib
    from kerasseizure.experiments.harmful_activity import HarmfulActivityExperiment, hms_root
    from kerasseizure.experiments.presets import load_preset

    args = parser().parse_args(argv)
    started = time.monotonic()
    settings_preset = load_preset(args.preset).with_max_steps(args.max_steps)
    preset = settings_preset.name
    results_dir = Path(args.results_dir)
    progress = Progress(1, NAME, quiet=args.quiet)
    log = progress.log
    if args.quiet:
        os.environ.setdefault("KERASSEIZURE_PROGRESS", "0")

    def report(info):
        logs = info["logs"]
        val = f", val_loss {logs['val_loss']:.4f}" if "val_loss" in logs else ""
        progress.advance(f"fold {info['fold']} {info['experiment']} [{info['stage']}] epoch "
                         f"{info['epoch']}/{info['epochs']}: loss {logs.get('loss', float('nan')):.4f}{val}")

    t = time.monotonic()
    root, synthetic = hms_root(settings_preset.table2, args.seed, data_dir=args.data_dir,
                               synthetic_dir=args.synthetic_dir, log=log)
    experiment = HarmfulActivityExperiment(settings_preset.table2, root, args.seed, results_dir,
                                           cache_dir=args.cache_dir, fold_indices=args.folds,
                                           skip_bad=args.skip_bad, overwrite=args.overwrite, log=log,
                                           report=report)
    corpus_seconds = time.monotonic() - t
    t = time.monotonic()
    experiment.prepare(plan_only=args.plan)
    if args.plan:
        return plan_lib.show(experiment.plan(preset=preset), results_dir)
    features_seconds = time.monotonic() - t
    description = describe_data(experiment.dataset, root, synthetic)
    configs, features, fold_indices = experiment.configs, experiment.features, experiment.fold_indices
    folds = experiment.all_folds()
    fold_text = ("GroupKFold(5) by patient_id, all 5 folds" if len(fold_indices) == len(folds) else
                 f"GroupKFold(5) by patient_id, only fold(s) {fold_indices} of 5 (preset `{preset}`)")
    # Work left = epochs of the folds not finished earlier (finished folds are loaded, not counted,
    # so the ETA reflects this session's speed).
    progress.total = max(sum(config.total_epochs for variant, config in configs.items() for k in fold_indices
                             if not (experiment.run_root / variant / f"fold-{k}" / "result.json").exists()), 1)

    not_run = {}
    if "conv3d" not in configs:
        not_run["conv3d"] = ("paper preset only: too slow for this preset on CPU; it runs on the 4 EEG chain "
                             "mel panels, the pipeline does not yet produce the 16-difference 3D tensor")
    for variant in {v for row in ROWS if row.kind == "trained" for v in row_variants(row)}:
        if variant not in configs and variant not in not_run:
            not_run[variant] = f"not in the `{preset}` preset (CPU time budget); `--preset paper` runs it"
    scores, timings = {}, {"corpus": corpus_seconds, "features": features_seconds}
    for row in ROWS:
        if experiment.runnable(row):
            t = time.monotonic()
            scores[row.label] = experiment.run_row(row.label)[PROTOCOL]
            timings[f"row:{row.key}"] = time.monotonic() - t
    results = experiment.results
    averages = {row.label: scores[row.label] for row in ROWS if row.kind == "average" and row.label in scores}
    references = {row.key: scores[row.label] for row in ROWS if row.kind == "reference" and row.label in scores}

    table = build_table(scores, len(fold_indices))
    notes = []
    if synthetic:
        notes.append("The synthetic corpus's vote populations and patterns are simulated "
                     "(docs/synthetic.md): compare rows with each other and with the references, not with "
                     "the published figures.")
    if preset != "paper":
        notes.append(f"Preset `{preset}` shrinks the models and schedules to fit a 2-core CPU (settings above); "
                     "`--preset paper` uses the published ones: the starter WaveNet and EfficientNetV2-B2 at "
                     "512x512 (6 GMACs/sample).")
    if any(c.backbone == hx.COMPACT_BACKBONE and c.model != "wavenet" for c in configs.values()):
        notes.append("The image model here is CompactSpectrogramNet, a 68k-parameter CNN that learns from random "
                     "weights, not an EfficientNet: from random weights an EfficientNet overfits a few hundred "
                     "images (docs/table2.md).")
    banner = data_banner(synthetic, description)
    text = markdown(table, banner, configs, preset, fold_text, not_run, notes)
    figures = make_figures(features, results, averages, fold_indices)
    timings["total"] = time.monotonic() - started
    record = run_record(
        NAME, args,
        {"preset": preset, "preset_file": str(settings_preset.path), "preset_settings": settings_preset.table2,
         "variants": {v: c.to_dict() for v, c in configs.items()}, "folds": fold_indices,
         "not_run": not_run, "features": str(features.path), "runs": str(experiment.run_root)},
        timings,
        {"synthetic": synthetic, "description": description, "n_eeg_ids": int(len(features.table)),
         "fold_sizes": [[int(len(tr)), int(len(va))] for tr, va in folds],
         "reused_folds": {v: r.reused for v, r in results.items()},
         "pooled": {v: r.pooled for v, r in results.items()},
         "averages": {k: a["pooled"] for k, a in averages.items()},
         "references": {k: a["pooled"] for k, a in references.items()}})
    write_results(results_dir, table, text, record, figures)
    if not args.quiet:
        print(text)
        print(f"[{NAME}] wrote {results_dir} in {timings['total']:.0f} s", file=sys.stderr)
    return table


if __name__ == "__main__":
    sys.exit(run_table(main, NAME))
