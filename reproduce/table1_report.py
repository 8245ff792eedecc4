"""Table 1's report: corpus statistics, the results table, its Markdown and notes, and figures.

Used by `reproduce.table1`; the rows are those of `kerasseizure.experiments.seizure_types.ROWS`,
then, on a synthetic corpus, the majority-type reference and the truth
(`SeizureTypeExperiment.reference_scores`) with the share of the gap between them each row closes.
"""

import json
from pathlib import Path

import numpy as np

from kerasseizure.evaluation.reports import gap_closed
from kerasseizure.experiments.seizure_types import ROWS
from reproduce.common import percent

NAME = "table1"
# (label, key, kind) of the reference lines `SeizureTypeExperiment.reference_scores` gives.
REFERENCE_ROWS = (
    ("reference: the training fold's majority type", "prior", "reference"),
    ("truth: each window's simulated type (synthetic corpus)", "truth", "truth"),
)
SES_MAPS = ("log spectrum", "spectral-residual saliency", "center-surround saliency")


# ------------------------------------------------------------------------------ statistics and tables


def corpus_statistics(features_by_version):
    """Seizures and patients per type of each corpus beside the published counts (DataFrame)."""
    import pandas as pd

    from kerasseizure.io.labels import SEIZURE_TYPES, TUSZ_COUNTS

    rows = []
    for version, features in features_by_version.items():
        table = features.seizures
        published = TUSZ_COUNTS.get(version, {})
        for label in list(SEIZURE_TYPES) + ["total"]:
            kept = table if label == "total" else table[table["label"] == label.lower()]
            if label == "total":
                pub = (sum(v[0] for v in published.values()), None) if published else (None, None)
                pub_patients = {"1.5.2": 237, "1.4.0": 167}.get(version)
                pub = (pub[0], pub_patients)
            else:
                pub = published.get(label.lower(), (None, None))
            rows.append({"version": version, "type": label.upper(), "seizures": int(len(kept)),
                         "patients": int(kept["patient_id"].nunique()), "windows": int(kept["n_windows"].sum()),
                         "published_seizures": pub[0], "published_patients": pub[1]})
    return pd.DataFrame(rows)


def _fmt(mean, std):
    return "n/a" if mean is None or not np.isfinite(mean) else f"{mean:.3f} ± {std:.3f}"


def _published(row, protocol):
    from reproduce.published import published_figures

    return [p for p in published_figures(NAME, row) if p["protocol"] == protocol]


def results_table(scores, protocols):
    """Long-form results: one line per (row, protocol), with the published figures of that protocol."""
    import pandas as pd

    lines = []
    for row, key, kind in (*ROWS, *REFERENCE_ROWS):
        for proto in protocols:
            s = scores.get((proto["key"], key))
            if s is None:
                continue
            published = _published(row, proto["protocol"])
            lines.append({
                "model": row, "kind": kind, "protocol": proto["protocol"], "version": proto["version"],
                "folds": proto["folds"], "folds_run": s["folds_run"],
                "window_f1_mean": round(s["window_f1_mean"], 6), "window_f1_std": round(s["window_f1_std"], 6),
                "seizure_f1_mean": round(s["seizure_f1_mean"], 6), "seizure_f1_std": round(s["seizure_f1_std"], 6),
                "published_f1": "; ".join(f"{p['value']:g}" for p in published),
                "published_source": "; ".join(p["source"] for p in published),
            })
    table = pd.DataFrame(lines)
    for metric in ("window_f1", "seizure_f1"):
        table[f"{metric}_gap"] = [_gap(table, line, metric) for line in table.itertuples()] if len(table) else []
    return table


def _gap(table, line, metric):
    """(row - majority reference) / (truth - majority reference) of one line's protocol; NaN without a truth."""
    same = table[(table["protocol"] == line.protocol) & (table["version"] == line.version)].set_index("kind")
    if "truth" not in same.index or "reference" not in same.index:
        return float("nan")
    prior, truth = same.loc["reference", f"{metric}_mean"], same.loc["truth", f"{metric}_mean"]
    return round(gap_closed(getattr(line, f"{metric}_mean"), prior, truth), 4)


def _column(table, protocol):
    """Column title: the protocol, and how many of its folds ran when not all did."""
    title = f"{protocol['protocol']} {protocol['folds']}-fold v{protocol['version']}"
    lines = table[(table["protocol"] == protocol["protocol"]) & (table["version"] == protocol["version"])]
    ran = int(lines["folds_run"].max()) if len(lines) else protocol["folds"]
    return title if ran == protocol["folds"] else f"{title} ({ran} of {protocol['folds']} folds run)"


def markdown(table, stats, protocols, banner, notes):
    out = [banner, "", "## Table 1: weighted F1 (mean ± standard deviation over folds)", "",
           "Each cell: window-level / seizure-level (a seizure's probabilities = the mean of its windows').", ""]
    header = ["model"] + [_column(table, p) for p in protocols] + ["published"]
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "---|" * len(header))
    for row, _, kind in (*ROWS, *REFERENCE_ROWS):
        if kind in ("reference", "truth") and not (table["model"] == row).any():
            continue  # a real corpus: no reference lines
        cells = [row]
        for proto in protocols:
            line = table[(table["model"] == row) & (table["protocol"] == proto["protocol"])
                         & (table["version"] == proto["version"])]
            if line.empty:
                cells.append("—")
                continue
            r = line.iloc[0]
            cells.append(f"{_fmt(r.window_f1_mean, r.window_f1_std)} / {_fmt(r.seizure_f1_mean, r.seizure_f1_std)}")
        from reproduce.published import published_figures

        pub = published_figures(NAME, row)
        cells.append("; ".join(f"{p['value']:g} ({p['protocol']}; {p['source']})" for p in pub) or "—")
        out.append("| " + " | ".join(cells) + " |")
    if table["window_f1_gap"].notna().any():
        out += ["", "## Gap closed: (row - majority type) / (truth - majority type), window / seizure", "",
                "0 % is no better than predicting the training fold's majority type for every window, 100 % "
                "is the truth line (each window's type wherever the simulated seizure shows in it).", "",
                "| model | " + " | ".join(_column(table, p) for p in protocols) + " |",
                "|---|" + "---|" * len(protocols)]
        for row, _, kind in ROWS:
            cells = []
            for proto in protocols:
                line = table[(table["model"] == row) & (table["protocol"] == proto["protocol"])
                             & (table["version"] == proto["version"])]
                cells.append("—" if line.empty else
                             f"{percent(line.iloc[0].window_f1_gap)} / {percent(line.iloc[0].seizure_f1_gap)}")
            out.append(f"| {row} | " + " | ".join(cells) + " |")
    out += ["", "## Corpus statistics (benchmark seizures: train + dev pooled, MYSZ excluded)", "",
            "| version | type | seizures | patients | windows | published seizures | published patients |",
            "|---|---|---|---|---|---|---|"]
    for r in stats.itertuples():
        pub_s = "—" if r.published_seizures is None or r.published_seizures != r.published_seizures else \
            int(r.published_seizures)
        pub_p = "—" if r.published_patients is None or r.published_patients != r.published_patients else \
            int(r.published_patients)
        out.append(f"| v{r.version} | {r.type} | {r.seizures} | {r.patients} | {r.windows} | {pub_s} | {pub_p} |")
    out += ["", "Published counts: DESIGN section 4 (IBM's seizure-type-classification-tuh README).", "",
            "## Notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(out)


def notes_for(preset, settings, configs, synthetic, max_folds):
    """The notes under the table (`settings`: the preset's dict)."""
    notes = [f"Preset `{preset}`: {settings['description']}."]
    if max_folds:
        notes.append(f"Only the first {max_folds} fold(s) of each protocol were run (preset `{preset}`)"
                     + (": the spread is 0 by construction." if max_folds == 1 else
                        "; the spread is over those folds."))
    ens = configs["ensemble"]
    if preset != "paper":
        notes.append(f"SeizureNet is a NARROW configuration here ({json.dumps(ens.model)}), not the default "
                     "teacher (645 MMACs per sample); students: "
                     f"{json.dumps(configs['student'].model)}. Use `--preset paper` for the default sizes.")
    notes.append(f"Training: {ens.epochs} epochs, batch {ens.batch_size}, Adam lr {ens.lr}, sparse cross-entropy, "
                 f"every {ens.train_window_stride}th window of each training seizure, every "
                 f"{ens.eval_window_stride}th window scored; BatchNormalization momentum "
                 f"{ens.bn_momentum if ens.bn_momentum is not None else 0.99}. Last-epoch weights are evaluated "
                 "(the validation fold is the test fold: it selects nothing).")
    d = configs["distilled"]
    notes.append(f"Distillation: Hinton KD from the fold's ensemble (T = {d.temperature}, alpha = {d.alpha} on the "
                 "ground truth" + (", plus MSE between the teacher embedding and a projection of the student's "
                 "pooled features" if d.feature_distillation else "") + "); the student reads ses_0 (fmax 24 Hz).")
    b = configs["gradient_boosting"]
    params = {k: c.baseline_params for k, c in configs.items() if c.kind == "baseline" and c.baseline_params}
    notes.append("Baselines: scikit-learn pipelines on IBM log-FFT windows (wl 1 s, step 0.25 s, fmax 24 Hz), "
                 f"every {b.train_window_stride}th training window; gradient boosting is HistGradientBoosting "
                 "in place of XGBoost; defaults except " + (json.dumps(params) if params else "none") + ".")
    notes.append("SeizureNet single member: a `seizurenet_member` trained alone on ses_0 (fmax 24 Hz), "
                 "not a member cut out of the ensemble (record.json holds those members' own scores).")
    notes.append("Published figures: weighted F1 with seizure-wise / patient-wise CV, window or seizure "
                 "scoring not stated by the papers; baselines via secondary sources (see published.py).")
    if synthetic:
        notes.append("Synthetic corpora (kerasseizure.io.synthetic): tiny compared with TUSZ; numbers show the "
                     "pipeline at work and are not comparable with the published ones.")
    return notes


# ------------------------------------------------------------------------------ figures


def _seizure_level(predictions):
    from kerasseizure.evaluation.metrics import seizure_level_labels, seizure_level_scores

    _, probs = seizure_level_scores(predictions["probs"], predictions["seizure"])
    _, labels = seizure_level_labels(predictions["label"], predictions["seizure"])
    return labels, probs


def pooled_seizure_predictions(fold_results):
    labels, probs = [], []
    for result in fold_results:
        y, p = _seizure_level(result.predictions)
        labels.append(y)
        probs.append(p)
    return np.concatenate(labels), np.concatenate(probs)


def make_figures(cv_results, protocols, classes, run_root, examples):
    from kerasseizure.evaluation.metrics import classification_report_frame
    from kerasseizure.experiments.tusz import load_history
    from reproduce import figures

    names = [c.upper() for c in classes]
    out = {}
    for proto in protocols:
        key = proto["key"]
        if (key, "ensemble") in cv_results:
            y, p = pooled_seizure_predictions(cv_results[(key, "ensemble")].folds)
            _, confusion = classification_report_frame(y, p, names)
            out[f"confusion_ensemble_{key}"] = figures.confusion_matrix_figure(
                confusion.to_numpy(), names, f"SeizureNet ensemble, {proto['protocol']} v{proto['version']} "
                                             "(seizures, pooled over folds)")
        f1 = {}
        for row, run_key, _ in ROWS:
            if (key, run_key) in cv_results:
                y, p = pooled_seizure_predictions(cv_results[(key, run_key)].folds)
                report, _ = classification_report_frame(y, p, names)
                f1[row] = report.loc[names, "f1"].to_numpy()
        if f1:
            out[f"per_class_f1_{key}"] = figures.per_class_f1_figure(
                f1, names, f"seizure-level F1 per class, {proto['protocol']} v{proto['version']} (pooled over folds)")
    first = protocols[0]["key"]
    histories = {}
    for label, run_key in (("ensemble", "ensemble"), ("student alone", "student"), ("distilled student", "distilled")):
        history = load_history(Path(run_root) / first / run_key / "fold-0" / "fit")
        if history is not None:
            histories[label] = history
    if histories:
        out["learning_curves"] = figures.learning_curves_figure(histories, f"{first}, fold 0")
    eeg, fs, channels, ses = examples
    out["examples_eeg"] = figures.eeg_examples_figure(eeg, fs, channels, "raw EEG (TCP bipolar, first 8 channels)")
    out["examples_ses"] = figures.image_examples_figure(ses, "SES maps of one window (ses_0: 20 channels x 24 Hz)",
                                                        channel_titles=SES_MAPS)
    return out


def example_inputs(corpus, features, seconds=4.0):
    """One seizure per class: its first seconds of EEG (tcp20 at 250 Hz) and its first window's SES."""
    eeg, ses, channels = {}, {}, None
    table = features.seizures
    for label in features.classes:
        kept = table[(table["label"] == label) & (table["n_windows"] > 0)]
        if kept.empty:
            continue
        row = kept.iloc[0]
        stop = min(float(row["stop"]), float(row["start"]) + seconds)
        rec = corpus.read(row, montage="tcp20", fs=250, start=float(row["start"]), stop=stop)
        eeg[label.upper()] = rec.signals
        channels = list(rec.channel_names)
        ses[label.upper()] = np.asarray(features.arrays["ses_0"][int(row["row_start"])], dtype=np.float32)
    return eeg, 250, channels, ses
