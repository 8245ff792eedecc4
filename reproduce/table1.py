"""Table 1: TUSZ seizure-type classification, weighted F1 (SeizureNet, Asif et al., arXiv 1903.03232).

    python -m reproduce.table1                         # synthetic corpora, quick preset (minutes)
    python -m reproduce.table1 --data-dir /data/tusz   # real corpora: /data/tusz/{v1.4.0,v1.5.2}
    python -m reproduce.table1 --preset paper --tusz-v152 /data/tusz/v1.5.2

Rows: AdaBoost, SGD, gradient boosting, k-NN (IBM log-FFT windows), SeizureNet single member,
SeizureNet ensemble, student alone, student distilled from the fold's SeizureNet ensemble.
Columns: seizure-wise 5-fold CV on v1.4.0 and v1.5.2, patient-wise 3-fold CV on v1.5.2 (IBM's
protocols, `evaluation.folds`); weighted F1 mean and spread (standard deviation over folds), scored
per window and per seizure (mean of its windows' probabilities). See docs/table1.md.
"""

import sys
import time
from pathlib import Path

from reproduce import common
from reproduce.table1_report import (
    NAME, corpus_statistics, example_inputs, make_figures, markdown, notes_for, results_table,
)

# Rough relative cost of one fold of each kind (progress ETA weights).
COST = {"baseline": 1, "member": 2, "ensemble": 8, "student": 1, "distilled": 4}


def build_parser():
    parser = common.table_parser(NAME, __doc__.splitlines()[0])
    parser.add_argument("--tusz-v140", type=Path, default=None, help="TUSZ v1.4.0 root (holds edf/ and _DOCS/)")
    parser.add_argument("--tusz-v152", type=Path, default=None, help="TUSZ v1.5.2 root (holds edf/ and _DOCS/)")
    return parser


# ------------------------------------------------------------------------------ main


def run(args):
    """Compute table 1 into args.results_dir; returns the run record."""
    from kerasseizure.experiments import plan as plan_lib
    from kerasseizure.experiments.presets import load_preset
    from kerasseizure.experiments.seizure_types import FEATURES, SeizureTypeExperiment, tusz_roots

    started = time.monotonic()
    timings = {}
    results_dir = Path(args.results_dir)
    preset = load_preset(args.preset).with_max_steps(args.max_steps)
    settings = preset.table1
    max_folds = settings["max_folds"]
    quiet_log = (lambda message: None) if args.quiet else (lambda message: print(f"[{NAME}] {message}",
                                                                                  file=sys.stderr, flush=True))

    t = time.monotonic()
    roots, synthetic = tusz_roots(settings, args.seed, data_dir=args.data_dir, v140=args.tusz_v140,
                                  v152=args.tusz_v152, synthetic_dir=args.synthetic_dir, log=quiet_log)
    timings["corpora"] = time.monotonic() - t
    t = time.monotonic()
    experiment = SeizureTypeExperiment(settings, roots, args.seed, results_dir, cache_dir=args.cache_dir,
                                       skip_bad=args.skip_bad, overwrite=args.overwrite,
                                       log=None if args.quiet else quiet_log).prepare(plan_only=args.plan)
    if args.plan:
        return plan_lib.show(experiment.plan(preset=preset.name), results_dir)
    for representations in experiment.features.values():
        tuple(representations.values())  # every row runs: the SES features too, timed here
    timings["features"] = time.monotonic() - t
    protocols, configs, features, corpora = (experiment.protocols, experiment.configs, experiment.features,
                                              experiment.corpora)
    run_root = experiment.run_root
    fold_lists = experiment.folds()
    total = sum(len(fold_lists[p["key"]]) * COST[row.kind] for p in protocols for row in experiment.rows)
    progress = common.Progress(total, NAME, quiet=args.quiet)

    cv_results, trained, reused = {}, 0, 0
    for row in experiment.rows:
        def on_fold(proto, index, result, was_reused, row=row):
            what = f"{proto['key']} fold {index + 1}/{proto['folds']} {row.label}"
            if result is None:
                progress.log(f"{what}: training")
            elif was_reused:
                progress.advance(f"{what}: completed earlier, loaded", COST[row.kind])
            else:
                progress.advance(f"{what}: window F1 {result.metrics['window_f1']:.3f}, "
                                 f"seizure F1 {result.metrics['seizure_f1']:.3f}", COST[row.kind])

        t = time.monotonic()
        for proto_key, cv in experiment.run_row(row.label, on_fold=on_fold).items():
            trained += len(cv.folds) - len(cv.reused)
            reused += len(cv.reused)
            cv_results[(proto_key, row.key)] = cv
        timings[row.key] = time.monotonic() - t

    # the rows, then (synthetic corpus) the majority-type reference and the truth
    scored = {line: (len(cv.folds), cv.summary) for line, cv in cv_results.items()}
    scored.update({line: (ref["folds_run"], ref["summary"]) for line, ref in experiment.reference_scores().items()})
    scores = {line: {"folds_run": folds_run, **{f"{m}_{stat}": summary[m][stat] for m in ("window_f1", "seizure_f1")
                                                 for stat in ("mean", "std")}}
              for line, (folds_run, summary) in scored.items()}
    table = results_table(scores, protocols)
    stats = corpus_statistics({v: f["fft"] for v, f in features.items()})
    description = (", ".join(f"v{v}: {len(f['fft'].seizures)} seizures" for v, f in features.items())
                   + (f"; generated under {args.synthetic_dir}" if synthetic else
                      "; " + ", ".join(f"v{v} at {r}" for v, r in roots.items())))
    banner = common.data_banner(synthetic, ("synthetic TUSZ " if synthetic else "TUSZ ") + description)
    notes = notes_for(preset.name, settings, configs, synthetic, max_folds)
    text = markdown(table, stats, protocols, banner, notes)

    example_version = "1.5.2" if "1.5.2" in corpora else next(iter(corpora))
    classes = features[example_version]["ses"].classes
    t = time.monotonic()
    figs = make_figures(cv_results, protocols, classes, run_root,
                        example_inputs(corpora[example_version], features[example_version]["ses"]))
    timings["figures"] = time.monotonic() - t
    timings["total"] = time.monotonic() - started

    members = {f"{p}/{k}": {m: v for m, v in cv.summary.items() if m.startswith("member")}
               for (p, k), cv in cv_results.items() if k == "ensemble"}
    record = common.run_record(
        NAME, args,
        config={"preset": preset.name, "preset_file": str(preset.path), "preset_settings": settings,
                "features": FEATURES, "protocols": protocols, "max_folds": max_folds,
                "rows": {row.key: configs[row.key].to_dict() for row in experiment.rows}},
        timings={k: round(v, 2) for k, v in timings.items()},
        data={"synthetic": synthetic, "roots": {v: str(r) for v, r in roots.items()},
              "corpus_statistics": stats.to_dict(orient="records")})
    record.update({"seed": args.seed, "folds_trained": trained, "folds_reused": reused,
                   "ensemble_members": members,
                   "results": table.to_dict(orient="records")})
    common.write_results(results_dir, table, text, record, figs)
    progress.log(f"done in {timings['total']:.0f} s: {results_dir / 'table.md'}")
    if not args.quiet:
        print(text)
    return record


def main(argv=None):
    args = build_parser().parse_args(argv)
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(common.run_table(main, NAME))
