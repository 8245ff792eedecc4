"""Table 2: temporal vs spatial vs both on HMS (Kaggle KL divergence), plus the paper's proposals.

    python -m reproduce.table2                          # synthetic corpus, quick preset (2 folds, small models)
    python -m reproduce.table2 --preset test            # seconds: the test suite's smoke run
    python -m reproduce.table2 --data-dir hms/ --preset paper   # the real Kaggle data, published settings

Rows (each a cross-validated variant of `kerasseizure.training.hms_experiment`, GroupKFold(5) by
patient on one row per eeg_id):

- temporal (WaveNet): Deotte's WaveNet on the 0.1-20 Hz band-passed 8 differences (2000, 8);
- spatial (spectrogram image): SpectrogramNet (an EfficientNet) on the Kaggle | EEG spectrogram image;
  the quick preset's CompactSpectrogramNet on the EEG half;
- both (average): mean of the two out-of-fold probabilities, rows renormalised (the paper's model);
- proposals: fused end to end; left/right swap augmentation (each branch trained with the swap,
  then averaged: "both + swap"); two-stage "train twice" (each branch trained on the 1-7-vote
  eeg_ids, then continued on the >= 10-vote ones, then averaged); the 3D CNN (paper preset only);
- references: uniform 1/6 and the training fold's mean vote distribution.

Columns: Kaggle KL of the pooled out-of-fold predictions and mean +- std over folds, on every
eeg_id and on the >= 10-vote eeg_ids; the published figure with its source.

Artefacts in results/table2/: table.md (data banner first), table.csv, record.json, figures/,
runs/ (resumable: a re-run loads finished folds and resumes an interrupted one).
"""

import hashlib
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from reproduce.common import (  # noqa: E402
    Progress, audit_line, data_banner, run_record, run_table, synthetic_hms, synthetic_hms_custom, table_parser,
    write_results,
)
from reproduce.published import published_figures  # noqa: E402

NAME = "table2"
CLASSES = ("Seizure", "LPD", "GPD", "LRDA", "GRDA", "Other")

# Rows: (label, kind, variants, published key). kind "trained": one variant; "average": the
# mean of the variants' OOF probabilities; "reference": no model; "not run": listed only.
ROWS = (
    ("temporal (WaveNet)", "trained", ("temporal",), "temporal (WaveNet)"),
    ("spatial (spectrogram image)", "trained", ("spatial",), "spatial (EfficientNet)"),
    ("both (average)", "average", ("temporal", "spatial"), "both (average)"),
    ("fused end to end", "trained", ("fused",), None),
    ("temporal + L/R swap", "trained", ("temporal_swap",), None),
    ("spatial + L/R swap", "trained", ("spatial_swap",), None),
    ("both + L/R swap", "average", ("temporal_swap", "spatial_swap"), None),
    ("temporal, two-stage", "trained", ("temporal_two_stage",), None),
    ("spatial, two-stage", "trained", ("spatial_two_stage",), "two-stage training"),
    ("both, two-stage", "average", ("temporal_two_stage", "spatial_two_stage"), None),
    ("3D CNN (time x chain x mel)", "trained", ("conv3d",), None),
    ("reference: uniform 1/6", "reference", ("uniform",), None),
    ("reference: training-fold prior", "reference", ("train prior",), None),
)

_PAPER_MODEL = dict(low_hz=0.1, high_hz=20.0, wavenet_blocks="starter", backbone="EfficientNetV2B2",
                    image_size=None, batch_size=32)

# Per preset: the synthetic corpus, the folds run, the shared model settings, per-model settings
# (`model_overrides`, optional) and per-model schedules. `lr` lists set the epochs (one rate per epoch).
PRESETS = {
    "test": dict(
        corpus=dict(name="hms-table2-test", size="tests", n_eegs=24, n_test=1, eegs_per_spectrogram=[1, 2],
                    spectrograms_per_patient=[1, 1], extra_seconds=[0, 10], sub_rows=[1, 2],
                    high_vote_fraction=0.4),
        fold_indices=[0],
        model=dict(low_hz=0.1, wavenet_blocks=[[4, 3, 2], [8, 3, 1]], backbone="EfficientNetV2B0",
                   image_size=[32, 32], batch_size=8, eval_batch_size=32, conv3d_filters=[4], run_eagerly=True,
                   recompute_batchnorm=2),
        lr={"wavenet": [1e-3], "spectrogram": [1e-3], "fused": [1e-3], "conv3d": [1e-3]},
        variants=("temporal", "spatial", "fused", "temporal_swap", "temporal_two_stage"),
    ),
    "quick": dict(
        corpus=None,   # synthetic: the shared "demo" corpus (300 eeg_ids); 100 were too few to learn from
        fold_indices=[0, 1],
        # The image model is CompactSpectrogramNet on the EEG half at 256 x 64: an EfficientNet from
        # random weights overfits 240 images (KL 1.6-1.9 against uniform 1.38), and the synthetic
        # Kaggle panels hold little of the class (docs/table2.md). Its BatchNorm statistics are
        # recomputed after training (the WaveNet has no BatchNorm).
        model=dict(low_hz=0.1, wavenet_blocks=[[8, 3, 4], [16, 3, 2], [16, 3, 1]], backbone="compact",
                   image_size=[256, 64], include_kaggle=False, kaggle_spectrogram=False, time_shift_views=4,
                   batch_size=16, eval_batch_size=64),
        # the image model also draws each eeg_id's image among its sub-row views (time shift)
        model_overrides={"spectrogram": dict(time_shift=True, dropout=0.3, recompute_batchnorm=50)},
        # WaveNet ~180 steps per fold; the rates decay so the last epochs settle
        lr={"wavenet": [3e-3] * 5 + [2e-3, 2e-3, 1e-3, 1e-3, 5e-4, 3e-4, 1e-4],
            "spectrogram": [1e-3] * 4 + [5e-4, 2e-4, 1e-4, 3e-5]},
        # temporal_swap (2 more WaveNet folds, ~7 min) would take the preset past 15 minutes
        variants=("temporal", "spatial", "spatial_swap"),
    ),
    "paper": dict(
        corpus=None,   # synthetic: the shared "demo" corpus (300 eeg_ids)
        fold_indices=None,
        model=dict(_PAPER_MODEL, eval_batch_size=64),
        lr=None,       # WAVENET_LR (5 epochs) for the WaveNet, EFFICIENTNET_LR (4 epochs) otherwise
        variants=("temporal", "spatial", "fused", "temporal_swap", "spatial_swap", "temporal_two_stage",
                  "spatial_two_stage", "conv3d"),
    ),
}


def preset_configs(preset, seed):
    """{variant: HMSExperimentConfig} of a preset."""
    from kerasseizure.training.hms_experiment import VARIANTS, variant_config

    spec = PRESETS[preset]
    configs = {}
    for variant in spec["variants"]:
        model = VARIANTS[variant]["model"]
        overrides = dict(spec["model"], **spec.get("model_overrides", {}).get(model, {}), seed=seed)
        if spec["lr"] is not None:
            overrides["lr"] = spec["lr"][model]
            overrides["stage2_lr"] = spec["lr"][model]
        if model == "conv3d":
            overrides.pop("image_size", None)
        configs[variant] = variant_config(variant, **overrides)
    return configs


def _hash(value):
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:10]


def _fmt(value, digits=3):
    return "" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def _published_text(key):
    figures = published_figures(NAME, key) if key else []
    return ("; ".join(f"{f['value']} ({f['protocol']})" for f in figures),
            "; ".join(f"{f['source']}" for f in figures))


# ------------------------------------------------------------------------------------- data


def load_data(args, preset, log):
    """(HMSDataset, synthetic flag, description, corpus seconds)."""
    from kerasseizure.io.hms import HMSDataset

    started = time.monotonic()
    if args.data_dir is not None:
        root = Path(args.data_dir)
        if not (root / "train.csv").is_file():
            raise SystemExit(f"--data-dir {root}: no train.csv there (see docs/hms.md for the expected layout)")
        dataset = HMSDataset(root)
        synthetic = False
    else:
        corpus = PRESETS[preset]["corpus"]
        if corpus is None:
            root = synthetic_hms(args.synthetic_dir, "demo", args.seed, log=log)
        else:
            settings = {k: v for k, v in corpus.items() if k != "name"}
            root = synthetic_hms_custom(args.synthetic_dir, corpus["name"], dict(settings, seed=args.seed), log=log)
        dataset = HMSDataset(root)
        synthetic = True
    log(audit_line(dataset))
    labels = dataset.labels
    counts = labels["population"].value_counts().to_dict()
    description = (f"HMS {'synthetic corpus' if synthetic else 'train.csv'} at {root}: {len(labels)} eeg_ids, "
                   f"{labels['patient_id'].nunique()} patients, {counts.get('high', 0)} with >= 10 votes, "
                   f"{counts.get('low', 0)} with 1-7, {counts.get('mixed', 0)} mixed")
    return dataset, synthetic, description, time.monotonic() - started


# ------------------------------------------------------------------------------------- rows


def _row_scores(label, kind, variants, key, results, averages, references, not_run, n_folds):
    published, source = _published_text(key)
    row = {"row": label, "kind": kind, "variants": "+".join(variants)}
    if kind == "not run" or any(v in not_run for v in variants):
        row.update(kind="not run")
        scored = None
    elif kind == "trained":
        result = results[variants[0]]
        scored = {"pooled": result.pooled, "summary": result.summary}
    elif kind == "average":
        scored = averages[label]
    else:
        scored = references[variants[0]]
    for population in ("all", "high"):
        if scored is None:
            row.update({f"kl_{population}_oof": np.nan, f"kl_{population}_mean": np.nan,
                        f"kl_{population}_std": np.nan})
            continue
        summary = scored["summary"].get(f"kl_{population}", {})
        row[f"kl_{population}_oof"] = scored["pooled"][f"kl_{population}"]
        row[f"kl_{population}_mean"] = summary.get("mean", np.nan)
        row[f"kl_{population}_std"] = summary.get("std", np.nan)
    row["n_all"] = scored["pooled"]["n_all"] if scored else 0
    row["n_high"] = scored["pooled"]["n_high"] if scored else 0
    row["folds"] = n_folds if scored else 0
    row["published"] = published
    row["published_source"] = source
    return row


def build_table(results, averages, references, not_run, n_folds):
    rows = [_row_scores(label, kind, variants, key, results, averages, references, not_run, n_folds)
            for label, kind, variants, key in ROWS]
    table = pd.DataFrame(rows)
    for column in table.columns:
        if column.startswith("kl_"):
            table[column] = table[column].astype(float).round(6)
    return table


def markdown(table, banner, configs, preset, fold_text, not_run, notes):
    lines = [banner, "", f"# Table 2: HMS, Kaggle KL divergence of out-of-fold predictions (preset `{preset}`)", "",
             "| row | KL all: OOF | KL all: folds mean ± std | KL ≥10 votes: OOF | KL ≥10 votes: folds mean ± std "
             "| eeg_ids (all / ≥10) | published | source |",
             "|---|---:|---:|---:|---:|---:|---|---|"]
    for _, r in table.iterrows():
        if r["kind"] == "not run":
            lines.append(f"| {r['row']} | not run | | | | | {r['published']} | {r['published_source']} |")
            continue
        lines.append(
            f"| {r['row']} | {_fmt(r['kl_all_oof'])} | {_fmt(r['kl_all_mean'])} ± {_fmt(r['kl_all_std'])} "
            f"| {_fmt(r['kl_high_oof'])} | {_fmt(r['kl_high_mean'])} ± {_fmt(r['kl_high_std'])} "
            f"| {int(r['n_all'])} / {int(r['n_high'])} | {r['published']} | {r['published_source']} |")
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
    from kerasseizure.training.hms_experiment import per_class_kl
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
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="feature cache folder (default: <results-dir>/cache)")
    p.add_argument("--folds", type=int, nargs="*", default=None,
                   help="run only these folds (0-4); default: the preset's (all but in `test`)")
    return p


def main(argv=None):
    from kerasseizure.training import hms_experiment as hx
    from kerasseizure.training.folds import group_kfold_by_patient

    args = parser().parse_args(argv)
    started = time.monotonic()
    preset = args.preset
    spec = PRESETS[preset]
    results_dir = Path(args.results_dir)
    cache_dir = Path(args.cache_dir) if args.cache_dir is not None else results_dir / "cache"
    progress = Progress(1, NAME, quiet=args.quiet)
    log = progress.log
    if args.quiet:
        os.environ.setdefault("KERASSEIZURE_PROGRESS", "0")

    dataset, synthetic, description, corpus_seconds = load_data(args, preset, log)
    configs = preset_configs(preset, args.seed)
    not_run = {}
    if "conv3d" not in configs:
        not_run["conv3d"] = ("paper preset only: too slow for this preset on CPU; it runs on the 4 EEG chain "
                             "mel panels, the pipeline does not yet produce the 16-difference 3D tensor")

    t = time.monotonic()
    log("features: building or loading the cache")
    features = hx.build_features(dataset, cache_dir, list(configs.values()), progress=not args.quiet,
                                 skip_bad=args.skip_bad)
    features_seconds = time.monotonic() - t

    folds = group_kfold_by_patient(features.table, 5)
    fold_indices = args.folds if args.folds is not None else spec["fold_indices"]
    fold_indices = list(range(len(folds))) if fold_indices is None else sorted(set(fold_indices))
    fold_text = ("GroupKFold(5) by patient_id, all 5 folds" if len(fold_indices) == len(folds) else
                 f"GroupKFold(5) by patient_id, only fold(s) {fold_indices} of 5 (preset `{preset}`)")

    runs_root = results_dir / "runs" / f"{preset}-{_hash([features.path.name, args.seed])}"
    # Work left = epochs of the folds not finished earlier (finished folds are loaded, not counted,
    # so the ETA reflects this session's speed).
    total = sum(config.total_epochs for variant, config in configs.items() for k in fold_indices
                if not (runs_root / variant / f"fold-{k}" / "result.json").exists())
    progress.total = max(total, 1)

    def report(info):
        logs = info["logs"]
        val = f", val_loss {logs['val_loss']:.4f}" if "val_loss" in logs else ""
        progress.advance(f"fold {info['fold']} {info['experiment']} [{info['stage']}] epoch "
                         f"{info['epoch']}/{info['epochs']}: loss {logs.get('loss', float('nan')):.4f}{val}")

    results, timings = {}, {"corpus": corpus_seconds, "features": features_seconds}
    for variant, config in configs.items():
        t = time.monotonic()
        log(f"{variant}: {config.describe()}")
        results[variant] = hx.run_cv(config, features, run_dir=runs_root / variant, folds=folds,
                                     fold_indices=fold_indices, report=report, log=lambda m, v=variant: log(f"{v} {m}"))
        timings[f"train:{variant}"] = time.monotonic() - t

    averages = {}
    for label, kind, variants, _ in ROWS:
        if kind == "average" and all(v in results for v in variants):
            averages[label] = hx.average_results(features.table, [results[v] for v in variants], label)
    references = {label: hx.score_oof(features.table, oof, label)
                  for label, oof in hx.reference_predictions(features.table, folds, fold_indices).items()}
    for variant in {v for _, kind, vs, _ in ROWS if kind == "trained" for v in vs}:
        if variant not in results and variant not in not_run:
            not_run[variant] = f"not in the `{preset}` preset (CPU time budget); `--preset paper` runs it"

    table = build_table(results, averages, references, not_run, len(fold_indices))
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
        {"preset": preset, "variants": {v: c.to_dict() for v, c in configs.items()}, "folds": fold_indices,
         "not_run": not_run, "features": str(features.path), "runs": str(runs_root)},
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
