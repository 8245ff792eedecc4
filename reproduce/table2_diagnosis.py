"""What limits table 2 on a synthetic HMS corpus: the evidence behind docs/table2.md's diagnosis.

    python -m reproduce.table2_diagnosis [--data-dir ROOT] [--fold 0] [--results-dir DIR]

Prints, and writes to `<results-dir>/diagnosis.json`:

- visibility: per class, how far the simulated pattern stands out of the ICU background in the
  WaveNet's 8 differences (`io.simulation.pattern_visibility`, dB, median and 10-90 % over 40
  simulated patients by default). A class far below 0 dB is hidden from any model;
- references on the corpus (every eeg_id, no folds): uniform, the truth (the generating vote
  distributions) and the class-only oracle, which knows each eeg_id's main pattern but not the
  mixture: the mean truth of the eeg_ids sharing its pattern and vote population. The share of
  the gap the oracle closes is what recognising the main pattern alone is worth;
- the feature baseline of table 2 on one GroupKFold fold, trained on 1/8, 1/4, 1/2 and all of
  the training patients: the gap it closes against the training eeg_ids (more data, or better
  features?) and how often its argmax is the generating pattern.

It trains no network (the features are the WaveNet view cache of table 2; about 2 min on the demo
corpus) and needs a synthetic corpus (its `_truth/`).
"""

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

TRAINING_SHARES = (0.125, 0.25, 0.5, 1.0)


def parser():
    p = argparse.ArgumentParser(prog="python -m reproduce.table2_diagnosis", description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", help="a synthetic HMS corpus; default: table 2's (the quick preset's, generated "
                                      "under --synthetic-dir when absent)")
    p.add_argument("--synthetic-dir", default="demo-data")
    p.add_argument("--fold", type=int, default=0, help="the GroupKFold(5) fold of the learning curve (0-4)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--patients", type=int, default=40, help="simulated patients per class for the visibility")
    p.add_argument("--results-dir", default="results/table2-diagnosis")
    return p


def visibility_summary(n_patients=40, seed=0):
    """{class: {"median_db", "p10_db", "p90_db"}} of `pattern_visibility`."""
    from kerasseizure.io.labels import HMS_CLASSES
    from kerasseizure.io.simulation import pattern_visibility

    out = {}
    for kind in HMS_CLASSES:
        db = pattern_visibility(kind, n_patients=n_patients, seed=seed)
        out[kind] = {"median_db": float(np.median(db)), "p10_db": float(np.percentile(db, 10)),
                     "p90_db": float(np.percentile(db, 90))}
    return out


def class_only_oracle(truth, eegs):
    """Per eeg_id, the mean generating distribution of the eeg_ids with its main pattern and vote
    population (>= 10 votes or not): what a model that recognises the main pattern perfectly, and
    nothing else, would best predict. `truth`: `generating_vote_distributions`; `eegs`: the
    truth's eegs table. Returns a DataFrame like `truth`."""
    from kerasseizure.io.labels import HMS_CLASSES

    merged = truth.merge(eegs[["eeg_id", "pattern", "n_votes"]], on="eeg_id", validate="one_to_one")
    group = merged["pattern"] + np.where(merged["n_votes"] >= 10, "/high", "/low")
    oracle = merged[list(HMS_CLASSES)].groupby(group.to_numpy()).transform("mean")
    return pd.concat([merged[["eeg_id"]], oracle], axis=1)


def reference_gaps(table, truth, oracle):
    """KL (all and >= 10 votes) of uniform, the truth and the class-only oracle on every eeg_id of
    `table` (the features' table), with the share of the uniform-truth gap the oracle closes."""
    from kerasseizure.evaluation.hms_scoring import kl_metrics
    from kerasseizure.evaluation.reports import gap_closed
    from kerasseizure.io.labels import HMS_CLASSES

    positions = np.arange(len(table))
    ids = table["eeg_id"].to_numpy()

    def lookup(frame):
        return frame.set_index("eeg_id").loc[ids, list(HMS_CLASSES)].to_numpy(np.float64)

    scores = {"uniform": kl_metrics(table, positions, np.full((len(ids), len(HMS_CLASSES)), 1 / len(HMS_CLASSES))),
              "truth": kl_metrics(table, positions, lookup(truth)),
              "class-only oracle": kl_metrics(table, positions, lookup(oracle))}
    for pop in ("kl_all", "kl_high"):
        scores["class-only oracle"][f"gap_closed_{pop[3:]}"] = gap_closed(
            scores["class-only oracle"][pop], scores["uniform"][pop], scores["truth"][pop])
    return scores


def baseline_learning_curve(experiment, eegs, fold=0, shares=TRAINING_SHARES, seed=0):
    """The feature baseline on fold `fold`, trained on growing shares of its training patients.

    Returns [{"share", "train_eeg_ids", "c", "kl_all", "kl_high", "gap_closed_all",
    "gap_closed_high", "pattern_accuracy", "pattern_recall"}]: the gap against uniform and the
    truth on the same validation eeg_ids; pattern_accuracy = how often the argmax is the
    generating pattern, pattern_recall = the same per generating pattern.
    """
    from kerasseizure.evaluation.hms_scoring import kl_metrics, reference_predictions, targets_of
    from kerasseizure.evaluation.reports import gap_closed
    from kerasseizure.experiments.hms_baseline import choose_c, fit_vote_regression, predict_votes
    from kerasseizure.io.labels import HMS_CLASSES
    from kerasseizure.signal.hms_features import pattern_features

    table = experiment.features.table
    x = pattern_features(np.asarray(experiment.features.arrays["wavenet"][table["row"].to_numpy(np.int64), 0],
                                    dtype=np.float32))
    train, valid = (np.asarray(p, dtype=np.int64) for p in experiment.all_folds()[fold])
    refs = reference_predictions(table, experiment.all_folds(), [fold], experiment.truth)
    uniform, truth = (kl_metrics(table, refs[k]["position"].to_numpy(), refs[k][list(HMS_CLASSES)].to_numpy())
                      for k in ("uniform", "truth"))
    pattern = eegs.set_index("eeg_id").loc[table["eeg_id"].to_numpy()[valid], "pattern"].to_numpy()
    patients = table["patient_id"].to_numpy()[train]
    order = np.random.default_rng(seed).permutation(np.unique(patients))
    curve = []
    for share in shares:
        keep = train[np.isin(patients, order[:max(3, int(round(share * len(order))))])]
        c, _ = choose_c(x, table, keep, seed)
        probs = predict_votes(fit_vote_regression(x[keep], targets_of(table, keep), c, seed), x[valid])
        scores = kl_metrics(table, valid, probs)
        predicted = np.array(HMS_CLASSES)[probs.argmax(1)]
        curve.append({"share": share, "train_eeg_ids": int(len(keep)), "c": c, "kl_all": scores["kl_all"],
                      "kl_high": scores["kl_high"],
                      "gap_closed_all": gap_closed(scores["kl_all"], uniform["kl_all"], truth["kl_all"]),
                      "gap_closed_high": gap_closed(scores["kl_high"], uniform["kl_high"], truth["kl_high"]),
                      "pattern_accuracy": float((predicted == pattern).mean()),
                      "pattern_recall": {k: float((predicted[pattern == k] == k).mean()) for k in HMS_CLASSES
                                         if (pattern == k).any()}})
    return curve


def main(argv=None):
    from kerasseizure.experiments.harmful_activity import HarmfulActivityExperiment, hms_root
    from kerasseizure.experiments.presets import load_preset
    from kerasseizure.io.synthetic import generating_vote_distributions, load_truth

    args = parser().parse_args(argv)
    settings = dict(load_preset("quick").table2)
    root, _ = hms_root(settings, args.seed, data_dir=args.data_dir, synthetic_dir=args.synthetic_dir)
    try:
        eegs = load_truth(root)["eegs"]
    except FileNotFoundError as err:
        raise SystemExit(f"{root}: not a synthetic corpus, no ground truth to diagnose against ({err})") from None
    settings["variants"] = ["temporal"]  # its view is the feature baseline's input; nothing is trained
    results_dir = Path(args.results_dir)
    experiment = HarmfulActivityExperiment(settings, root, args.seed, results_dir, fold_indices=[args.fold]).prepare()
    truth = generating_vote_distributions(root)
    out = {"corpus": str(root), "fold": args.fold, "visibility_db": visibility_summary(args.patients, args.seed),
           "references": reference_gaps(experiment.features.table, truth, class_only_oracle(truth, eegs)),
           "feature_baseline": baseline_learning_curve(experiment, eegs, args.fold, seed=args.seed)}
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "diagnosis.json").write_text(json.dumps(out, indent=2), encoding="utf-8")
    print(f"corpus {root}, feature baseline on fold {args.fold}")
    print("visibility in the WaveNet's 8 differences (dB, median [10-90 %]): " + ", ".join(
        f"{k} {v['median_db']:+.1f} [{v['p10_db']:+.1f}, {v['p90_db']:+.1f}]" for k, v in out["visibility_db"].items()))
    for name, s in out["references"].items():
        extra = (f"; closes {100 * s['gap_closed_all']:.0f} % / {100 * s['gap_closed_high']:.0f} % of the gap"
                 if "gap_closed_all" in s else "")
        print(f"{name}: KL all {s['kl_all']:.3f}, >= 10 votes {s['kl_high']:.3f}{extra}")
    for p in out["feature_baseline"]:
        print(f"feature baseline on {p['train_eeg_ids']} training eeg_ids (C {p['c']}): KL {p['kl_all']:.3f} / "
              f"{p['kl_high']:.3f}, gap closed {100 * p['gap_closed_all']:.0f} % / {100 * p['gap_closed_high']:.0f} %, "
              f"argmax = generating pattern {100 * p['pattern_accuracy']:.0f} %")
    print("per generating pattern, with every training eeg_id: " + ", ".join(
        f"{k} {100 * v:.0f} %" for k, v in out["feature_baseline"][-1]["pattern_recall"].items()))
    print(f"written: {results_dir / 'diagnosis.json'}")
    return out


if __name__ == "__main__":
    main()
