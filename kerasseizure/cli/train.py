"""`train`, `evaluate` and `config show`: one table row at a time, from the same presets as the tables.

`kerasseizure train --preset quick --row "SeizureNet ensemble"` trains (or reuses) every fold of
one row of table 1, 2 or 3 exactly as `python -m reproduce.table1` / `table2` / `table3` would, in
the same run folders (`results/<table>/runs/...`), so the table later reuses the row and the row's
numbers are the table's (table 3 then adds the row's exports). A preset is a name (`test`, `quick`, `paper`) or a YAML file of the same layout
(`kerasseizure config show quick > mine.yaml`). Run folders made with other settings are refused
(exit 2, naming what differs) unless `--overwrite`. `kerasseizure evaluate RUN_DIR` pools a row
folder's saved out-of-fold predictions into metrics.json.
"""

import json
import sys
from pathlib import Path

from kerasseizure.cli.common import CommandError

METRICS = "metrics.json"
TABLES = ("table1", "table2", "table3")


def _log(message):
    print(f"kerasseizure train: {message}", file=sys.stderr, flush=True)


# ============================================================================ train


def _table_rows(preset):
    """{table: its rows under `preset`} (table 3's rows follow the preset's student sizes)."""
    from kerasseizure.experiments import distillation, harmful_activity, seizure_types

    return {"table1": seizure_types.ROWS, "table2": harmful_activity.ROWS,
            "table3": distillation.rows_for(preset.table3["students"]["sizes"])}


def _experiment_for(args, preset, log):
    """The table's experiment (not yet prepared) holding the row `args.row`."""
    from kerasseizure.experiments import distillation, harmful_activity, seizure_types
    from kerasseizure.experiments.protocol import find_row

    rows = _table_rows(preset)
    found = []
    for table in [args.table] if args.table else TABLES:
        try:
            found.append((table, find_row(rows[table], args.row, table)))
        except ValueError as error:
            message = str(error)
    if not found:
        lists = "; ".join(f"{table}: " + ", ".join(repr(r.label) for r in rows[table]) for table in TABLES)
        raise CommandError(message if args.table else f"no row {args.row!r} in {', '.join(TABLES)} ({lists})")
    table, row = found[0]
    results_dir = Path(args.results_dir) if args.results_dir else Path("results") / table
    quiet = None if args.quiet else log
    if table == "table3":
        root, _ = distillation.tusz_v152_root(preset.table3, data_dir=args.data_dir,
                                              synthetic_dir=args.synthetic_dir, log=log)
        experiment = distillation.DistillationExperiment(preset.table3, root, args.seed, results_dir,
                                                         cache_dir=args.cache_dir,
                                                         skip_bad=args.skip_bad, overwrite=args.overwrite,
                                                         log=quiet)
    elif table == "table1":
        roots, _ = seizure_types.tusz_roots(preset.table1, args.seed, data_dir=args.data_dir,
                                            synthetic_dir=args.synthetic_dir, log=log)
        experiment = seizure_types.SeizureTypeExperiment(preset.table1, roots, args.seed, results_dir,
                                                         cache_dir=args.cache_dir,
                                                         skip_bad=args.skip_bad, overwrite=args.overwrite,
                                                         log=quiet)
    else:
        root, _ = harmful_activity.hms_root(preset.table2, args.seed, data_dir=args.data_dir,
                                            synthetic_dir=args.synthetic_dir, log=log)
        experiment = harmful_activity.HarmfulActivityExperiment(preset.table2, root, args.seed, results_dir,
                                                                cache_dir=args.cache_dir,
                                                                skip_bad=args.skip_bad, overwrite=args.overwrite,
                                                                log=quiet)
        if not experiment.runnable(row):
            raise CommandError(f"preset {preset.name!r} does not train the row {row.label!r} "
                               f"(its variants: {', '.join(sorted(experiment.configs))})")
    return experiment, row


def _train(args):
    from kerasseizure.experiments.presets import load_preset

    preset = load_preset(args.preset).with_max_steps(args.max_steps)
    log = (lambda message: None) if args.quiet else _log
    experiment, row = _experiment_for(args, preset, log)
    log(f"{experiment.name} row {row.label!r}, preset {preset.name!r}, seed {args.seed}: {experiment.results_dir}")
    experiment.prepare(plan_only=args.plan)
    if args.plan:
        from kerasseizure.experiments import plan as plan_lib

        plan_lib.show(experiment.plan([row.label], preset=preset.name), experiment.results_dir)
        return
    results = experiment.run_row(row.label)
    print(f"{experiment.name}, {row.label} (preset {preset.name}, seed {args.seed})")
    for line in experiment.row_summary(row.label, results):
        print(line)


def _add_train(commands):
    from kerasseizure.experiments import presets
    from kerasseizure.experiments.plan import PLAN_HELP

    train = commands.add_parser(
        "train", help="train one row of table 1, 2 or 3 under a preset (the table's own run folders)",
        description="Train (or reuse) every fold of one table row exactly as the table command does, in the "
                    "same run folders, so `python -m reproduce.tableN` reuses it. Each fold keeps the fit's "
                    "checkpoints, history, learning curves and best/final .keras models; re-running resumes. "
                    "A run folder made with other settings is refused unless --overwrite. See docs/cli.md.")
    train.add_argument("--row", required=True, help="the row's label or run key, e.g. \"SeizureNet ensemble\", "
                                                    "\"temporal (WaveNet)\", knn, tiny-distilled")
    train.add_argument("--preset", default="quick", metavar="NAME|FILE",
                       help="test, quick (default), paper, or a preset YAML file (`kerasseizure config show`)")
    train.add_argument("--table", choices=TABLES, help="the table holding the row (default: the one that has it)")
    train.add_argument("--data-dir", help="real corpus (table1: holds v1.4.0/ and/or v1.5.2/; table2: the "
                                          "competition folder; table3: the v1.5.2 release); default: the "
                                          "preset's synthetic corpus")
    train.add_argument("--results-dir", help="the table's results folder (default results/<table>)")
    train.add_argument("--synthetic-dir", default="demo-data",
                       help="where synthetic corpora are generated when absent (default: demo-data)")
    train.add_argument("--cache-dir", help="feature caches (default: <results-dir>/cache, as the table's)")
    train.add_argument("--seed", type=int, default=0, help="one seed for data order, initialisation, augmentation")
    train.add_argument("--overwrite", action="store_true",
                       help="replace the row's run folders if they were made with other settings")
    train.add_argument("--max-steps", type=int, metavar="N", help=presets.MAX_STEPS_HELP)
    train.add_argument("--plan", action="store_true", help=PLAN_HELP)
    train.add_argument("--skip-bad", action="store_true", help="go on without the bad files of a real corpus")
    train.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    train.set_defaults(run=_train)


# ============================================================================ evaluate


def _completed_folds(run_dir):
    from kerasseizure.experiments.runs import load_fold_result

    done = {}
    for fold_dir in sorted(Path(run_dir).glob("fold-*"), key=lambda p: p.name):
        result = load_fold_result(fold_dir)
        name = fold_dir.name.split("-", 1)[1]
        if result is not None and result.predictions:
            done[int(name) if name.isdigit() else name] = result
    return done


def _tusz_pooled(folds):
    """Weighted F1 of the pooled out-of-fold windows and seizures (seizure ids are corpus positions)."""
    import numpy as np

    from kerasseizure.evaluation.metrics import window_and_seizure_f1

    parts = [folds[k].predictions for k in sorted(folds, key=str)]
    probs = np.concatenate([p["probs"] for p in parts]).astype(np.float64)
    seizures = np.concatenate([p["seizure"] for p in parts])
    labels = np.concatenate([p["label"] for p in parts])
    return {k: float(v) for k, v in window_and_seizure_f1(probs, seizures, labels).items() if np.ndim(v) == 0}


def _hms_pooled(folds, data_dir):
    """Kaggle KL of the pooled out-of-fold probabilities (all eeg_ids, >= 10 votes) against train.csv's votes."""
    import numpy as np

    from kerasseizure.evaluation.hms_scoring import finite_or_none, kl_metrics
    from kerasseizure.io.hms import HMSDataset
    from kerasseizure.io.labels import HMS_CLASSES

    labels = HMSDataset(data_dir).labels.reset_index(drop=True)
    position = {int(e): i for i, e in enumerate(labels["eeg_id"].to_numpy())}
    parts = [folds[k].predictions for k in sorted(folds, key=str)]
    eeg_ids = np.concatenate([p["eeg_id"] for p in parts]).astype(np.int64)
    missing = [int(e) for e in eeg_ids if int(e) not in position]
    if missing:
        raise CommandError(f"{data_dir}: train.csv lacks {len(missing)} eeg_ids of the run (first {missing[0]}): "
                           "not the competition folder the run was trained on")
    probabilities = np.concatenate([p["probabilities"] for p in parts])
    scores = kl_metrics(labels[["population", *HMS_CLASSES]], [position[int(e)] for e in eeg_ids], probabilities)
    return {k: finite_or_none(v) if isinstance(v, float) else v for k, v in scores.items()}


def _evaluate(args):
    from kerasseizure.evaluation.reports import summarise
    from kerasseizure.experiments.runs import RUN_FILE
    from kerasseizure.files import atomic_write_json

    run_dir = Path(args.run_dir)
    marker = run_dir / RUN_FILE
    if not marker.is_file():
        raise CommandError(f"{run_dir}: not a row's run folder (no {RUN_FILE}; rows run in "
                           "results/<table>/runs/...)")
    identity = json.loads(marker.read_text(encoding="utf-8"))["identity"]
    task = identity["config"].get("task")
    folds = _completed_folds(run_dir)
    if not folds:
        raise CommandError(f"{run_dir}: no completed fold (run `kerasseizure train` first)")
    if task == "hms":
        if args.data_dir is None:
            raise CommandError(f"{run_dir}: an HMS run is scored against train.csv's votes: give --data-dir")
        pooled = _hms_pooled(folds, args.data_dir)
        line = (f"out-of-fold Kaggle KL: all {pooled['kl_all']:.4f} ({pooled['n_all']} eeg_ids), >=10 votes "
                + ("n/a" if pooled["kl_high"] is None else f"{pooled['kl_high']:.4f}") + f" ({pooled['n_high']})")
    else:
        pooled = _tusz_pooled(folds)
        line = f"out-of-fold weighted F1: window {pooled['window_f1']:.4f}, seizure {pooled['seizure_f1']:.4f}"
    record = {"task": task, "run_dir": str(run_dir), "folds": sorted(folds, key=str), "pooled": pooled,
              "per_fold": summarise([folds[k].metrics for k in sorted(folds, key=str)]), "identity": identity}
    atomic_write_json(run_dir / METRICS, record)
    print(f"{run_dir}: folds {record['folds']}\n{line}\nmetrics: {run_dir / METRICS}")


def _add_evaluate(commands):
    evaluate = commands.add_parser(
        "evaluate", help="out-of-fold metrics of a row's run folder",
        description="Pool the saved out-of-fold predictions of a row's completed folds and score them (TUSZ: "
                    "weighted F1 per window and per seizure; HMS: Kaggle KL on all eeg_ids and on those with "
                    ">= 10 votes); print them and write <RUN_DIR>/metrics.json (atomically).")
    evaluate.add_argument("run_dir", metavar="RUN_DIR",
                          help="a row's run folder, e.g. results/table1/runs/seizure-wise-v1.5.2/ensemble")
    evaluate.add_argument("--data-dir", help="HMS: the competition folder whose train.csv holds the votes")
    evaluate.set_defaults(run=_evaluate)


# ============================================================================ config


def _config_show(args):
    import yaml

    from kerasseizure.experiments.presets import load_preset

    preset = load_preset(args.preset)
    values = preset.to_dict() if args.table is None else {args.table: preset.section(args.table)}
    print(f"# preset {preset.name!r} from {preset.path}")
    print(yaml.safe_dump(values, sort_keys=False, default_flow_style=None, width=110), end="")


def _add_config(commands):
    config = commands.add_parser("config", help="show the presets the tables and `train` use",
                                 description="Presets are YAML files (test, quick, paper inside the package, or "
                                             "your own with the same layout), validated on load.")
    actions = config.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="print a preset, validated (a file of your own starts from this)")
    show.add_argument("preset", metavar="PRESET", help="test, quick, paper, or a preset YAML file")
    show.add_argument("--table", choices=("table1", "table2", "table3"), help="only this table's section")
    show.set_defaults(run=_config_show)
