"""`train` and `evaluate`: config-file-driven cross-validation runs of the experiment layers.

`kerasseizure train --config RUN.yaml` reads a run config (YAML or JSON)::

    task: tusz | hms
    data_dir: corpus folder (relative paths: from the config file's folder; --data-dir overrides)
    run_dir: run folder (default runs/<config file stem>; --run-dir overrides)
    cache_dir: feature cache folder (default: the package's)
    protocol: seizure-wise | patient-wise (tusz), group-kfold (hms)
    n_folds: folds of the protocol (default: 5 seizure-wise, 3 patient-wise, 5 group-kfold)
    folds: all | [0, 2]            (--fold K overrides)
    features: {...}                tusz: build_tusz_features options; hms: build_features extras
    experiment: {...}              TUSZExperimentConfig / HMSExperimentConfig as a dict

and trains through `kerasseizure.training.tusz_experiment.run_tusz_fold` (under
`training.runs.run_folds`) or `kerasseizure.training.hms_experiment.run_cv`. The resolved config
goes to `<run_dir>/run_config.json`; completed folds are loaded, an interrupted one resumes.
`kerasseizure evaluate RUN_DIR` pools the saved out-of-fold predictions into metrics.json.
"""

import json
import sys
from pathlib import Path

from kerasseizure.cli.common import CommandError

TASKS = ("tusz", "hms")
PROTOCOLS = {"tusz": ("seizure-wise", "patient-wise"), "hms": ("group-kfold",)}
DEFAULT_FOLDS = {"seizure-wise": 5, "patient-wise": 3, "group-kfold": 5}
KEYS = ("task", "data_dir", "run_dir", "cache_dir", "protocol", "n_folds", "folds", "features", "experiment")
RUN_CONFIG = "run_config.json"
METRICS = "metrics.json"
# Keys that must agree between a run folder and a command resuming it.
IDENTITY_KEYS = ("task", "protocol", "n_folds", "features", "experiment")
OVERRIDES = ("epochs", "seed", "precision", "strategy")


# ============================================================================ config files


def read_config_file(path):
    """The dict of a YAML (.yaml / .yml) or JSON config file; CommandError naming the file otherwise."""
    path = Path(path)
    if not path.is_file():
        raise CommandError(f"{path}: no such config file")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".json":
            values = json.loads(text)
        else:
            import yaml

            values = yaml.safe_load(text)
    except Exception as error:  # yaml.YAMLError, json.JSONDecodeError
        raise CommandError(f"{path}: cannot parse the config file ({type(error).__name__}: {error})") from error
    if not isinstance(values, dict):
        raise CommandError(f"{path}: the config file must hold a mapping of {', '.join(KEYS)}")
    return values


def _experiment_class(task):
    if task == "tusz":
        from kerasseizure.training.tusz_experiment import TUSZExperimentConfig

        return TUSZExperimentConfig
    from kerasseizure.training.hms_experiment import HMSExperimentConfig

    return HMSExperimentConfig


def _path(value, base):
    if value is None:
        return None
    path = Path(value).expanduser()
    return str(path if path.is_absolute() or base is None else (base / path).resolve())


def resolve_config(values, source, args):
    """The validated run config: `values` (from `source`) with the command-line overrides of `args`."""
    import dataclasses

    def bad(key, message):
        return CommandError(f"{source}: key '{key}': {message}")

    unknown = sorted(set(values) - set(KEYS))
    if unknown:
        raise bad(unknown[0], f"unknown key (known: {', '.join(KEYS)})")
    task = values.get("task")
    if task not in TASKS:
        raise bad("task", f"must be one of {', '.join(TASKS)}, got {task!r}")
    base = Path(source).resolve().parent
    data_dir = _path(args.data_dir, Path.cwd()) or _path(values.get("data_dir"), base)
    if data_dir is None:
        raise bad("data_dir", "missing (give it in the config or pass --data-dir)")
    if not Path(data_dir).is_dir():
        raise CommandError(f"{data_dir}: no such corpus folder (key 'data_dir' of {source} or --data-dir)")
    run_dir = _path(args.run_dir, Path.cwd()) or _path(values.get("run_dir"), base) or \
        str((Path.cwd() / "runs" / Path(source).stem).resolve())
    protocol = values.get("protocol", PROTOCOLS[task][0])
    if protocol not in PROTOCOLS[task]:
        raise bad("protocol", f"a {task} run takes one of {', '.join(PROTOCOLS[task])}, got {protocol!r}")
    n_folds = values.get("n_folds", DEFAULT_FOLDS[protocol])
    if not isinstance(n_folds, int) or isinstance(n_folds, bool) or n_folds < 2:
        raise bad("n_folds", f"must be an integer >= 2, got {n_folds!r}")
    folds = args.fold if args.fold else values.get("folds", "all")
    if folds != "all":
        if isinstance(folds, int) and not isinstance(folds, bool):
            folds = [folds]
        if not isinstance(folds, list) or not folds or \
                any(not isinstance(k, int) or isinstance(k, bool) or not 0 <= k < n_folds for k in folds):
            raise bad("folds", f"must be 'all' or a list of fold indices in [0, {n_folds}), got {folds!r}")
        folds = sorted(set(folds))
    features = values.get("features") or {}
    if not isinstance(features, dict):
        raise bad("features", f"must be a mapping of feature options, got {features!r}")
    experiment = values.get("experiment")
    if not isinstance(experiment, dict):
        raise bad("experiment", f"must be a mapping of {task} experiment settings, got {experiment!r}")
    cls = _experiment_class(task)
    known = {f.name for f in dataclasses.fields(cls)}
    experiment = dict(experiment)
    for key in OVERRIDES:
        value = getattr(args, key, None)
        if value is not None:
            if key not in known:
                raise CommandError(f"--{key}: the {task} experiment has no '{key}' setting")
            experiment[key] = value
    try:
        config = cls.from_dict(experiment)
    except (TypeError, ValueError) as error:
        raise bad("experiment", str(error)) from error
    return {"task": task, "data_dir": data_dir, "run_dir": run_dir,
            "cache_dir": _path(values.get("cache_dir"), base), "protocol": protocol, "n_folds": n_folds,
            "folds": folds, "features": features, "experiment": config.to_dict()}


def _check_resume(run_dir, resolved):
    """Refuse to continue a run folder made for another experiment (CommandError naming the keys)."""
    path = Path(run_dir) / RUN_CONFIG
    if not path.is_file():
        return
    found = json.loads(path.read_text(encoding="utf-8"))
    differ = [k for k in IDENTITY_KEYS if found.get(k) != resolved.get(k)]
    if differ:
        raise CommandError(f"{run_dir} holds a run of another config (keys {', '.join(differ)} differ); "
                           "use another --run-dir or remove the folder")


def _log(message):
    print(f"kerasseizure train: {message}", file=sys.stderr, flush=True)


# ============================================================================ train


def _train(args):
    from kerasseizure.files import atomic_write_json

    resolved = resolve_config(read_config_file(args.config), args.config, args)
    run_dir = Path(resolved["run_dir"])
    _check_resume(run_dir, resolved)
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(run_dir / RUN_CONFIG, resolved)
    print(f"run: {run_dir} ({resolved['task']}, {resolved['protocol']}, folds {resolved['folds']})")
    try:
        (_train_tusz if resolved["task"] == "tusz" else _train_hms)(resolved, args)
    except TypeError as error:  # a `features` option the feature builder does not take
        raise CommandError(f"{args.config}: key 'features': {error}") from error
    _report(_evaluate_run(run_dir, resolved, None))


def _fold_indices(resolved, n_folds):
    return list(range(n_folds)) if resolved["folds"] == "all" else resolved["folds"]


def _train_tusz(resolved, args):
    from kerasseizure.pipelines import build_tusz_features
    from kerasseizure.training.folds import patient_wise_folds, seizure_wise_folds
    from kerasseizure.training.runs import run_folds
    from kerasseizure.training.tusz_experiment import TUSZExperimentConfig, run_tusz_fold

    config = TUSZExperimentConfig.from_dict(resolved["experiment"])
    features = build_tusz_features(resolved["data_dir"], config.representation, resolved["cache_dir"],
                                   progress=not args.quiet, **resolved["features"])
    split = seizure_wise_folds if resolved["protocol"] == "seizure-wise" else patient_wise_folds
    folds = split(features.seizures, n_folds=resolved["n_folds"])
    selected = {str(k): (k, folds[k]) for k in _fold_indices(resolved, len(folds))}
    log = (lambda message: None) if args.quiet else _log
    run_dir = Path(resolved["run_dir"])

    def one_fold(spec, fold_dir):
        k, (train, valid) = spec
        log(f"fold {k}: training {config.name} on {len(train)} seizures, validating on {len(valid)}")
        return run_tusz_fold(features, train, valid, config, fold_dir,
                             log=lambda message: log(f"fold {k}: {message}"))

    run_folds(selected, one_fold, run_dir, config=resolved, log=log)


def _train_hms(resolved, args):
    from kerasseizure.io.hms import HMSDataset
    from kerasseizure.training import hms_experiment as hx

    config = hx.HMSExperimentConfig.from_dict(resolved["experiment"])
    features = hx.build_features(HMSDataset(resolved["data_dir"]), resolved["cache_dir"], [config],
                                 progress=not args.quiet, **resolved["features"])
    log = (lambda message: None) if args.quiet else _log

    def report(event):
        logs = ", ".join(f"{k} {v:.4f}" for k, v in sorted(event["logs"].items()))
        log(f"fold {event['fold']} {event['stage']} epoch {event['epoch']}/{event['epochs']}: {logs}")

    hx.run_cv(config, features, run_dir=resolved["run_dir"], n_folds=resolved["n_folds"],
              fold_indices=_fold_indices(resolved, resolved["n_folds"]), report=report, log=log)


def _add_train(commands):
    train = commands.add_parser(
        "train", help="train a cross-validated TUSZ or HMS experiment from a config file",
        description="Train the folds of a run config (YAML or JSON: task, data_dir, protocol, folds, features, "
                    "experiment) into a run folder: run_config.json, environment.json, per fold the fit's "
                    "checkpoints, history and learning curves, result.json and predictions.npz, then the "
                    "out-of-fold metrics.json. Re-running the same command loads completed folds and resumes "
                    "an interrupted one from its last completed epoch. See docs/cli.md.")
    train.add_argument("--config", required=True, metavar="CONFIG", help="run config (.yaml, .yml or .json)")
    train.add_argument("--data-dir", help="corpus folder (overrides the config's data_dir)")
    train.add_argument("--run-dir", help="run folder (overrides the config's run_dir; default runs/<config stem>)")
    train.add_argument("--fold", type=int, action="append", metavar="K",
                       help="train only fold K (repeatable; overrides the config's folds)")
    group = train.add_argument_group("experiment overrides")
    group.add_argument("--epochs", type=int, help="experiment epochs")
    group.add_argument("--seed", type=int, help="experiment seed")
    group.add_argument("--precision", choices=("auto", "float32", "mixed_float16", "mixed_bfloat16"),
                       help="experiment precision")
    group.add_argument("--strategy", help="distribution strategy (only where the experiment has the setting)")
    train.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    train.set_defaults(run=_train)


# ============================================================================ evaluate


def _completed_folds(run_dir):
    from kerasseizure.training.runs import load_fold_result

    done = {}
    for fold_dir in sorted(Path(run_dir).glob("fold-*"), key=lambda p: p.name):
        result = load_fold_result(fold_dir)
        name = fold_dir.name.split("-", 1)[1]
        if result is not None and result.predictions:
            done[int(name) if name.isdigit() else name] = result
    return done


def _evaluate_run(run_dir, resolved, data_dir):
    """Pooled out-of-fold metrics of a run folder; writes <run_dir>/metrics.json atomically."""
    from kerasseizure.files import atomic_write_json
    from kerasseizure.training.runs import summarise

    folds = _completed_folds(run_dir)
    if not folds:
        raise CommandError(f"{run_dir}: no completed fold (run `kerasseizure train` first)")
    if resolved["task"] == "tusz":
        pooled = _tusz_pooled(folds)
    else:
        pooled = _hms_pooled(folds, resolved, data_dir)
    record = {"task": resolved["task"], "protocol": resolved["protocol"], "run_dir": str(run_dir),
              "experiment": resolved["experiment"].get("name"), "folds": sorted(folds, key=str),
              "n_folds": resolved["n_folds"], "pooled": pooled,
              "per_fold": summarise([folds[k] for k in sorted(folds, key=str)])}
    atomic_write_json(Path(run_dir) / METRICS, record)
    return record


def _tusz_pooled(folds):
    """Weighted F1 of the pooled out-of-fold windows and seizures (seizure ids are corpus positions)."""
    import numpy as np

    from kerasseizure.training.metrics import window_and_seizure_f1

    parts = [folds[k].predictions for k in sorted(folds, key=str)]
    probs = np.concatenate([p["probs"] for p in parts]).astype(np.float64)
    seizures = np.concatenate([p["seizure"] for p in parts])
    labels = np.concatenate([p["label"] for p in parts])
    return {k: (float(v) if np.ndim(v) == 0 else v) for k, v in window_and_seizure_f1(probs, seizures, labels).items()}


def _hms_pooled(folds, resolved, data_dir):
    """Kaggle KL of the pooled out-of-fold probabilities (all eeg_ids and >= 10 votes), from the features."""
    from kerasseizure.io.hms import HMSDataset
    from kerasseizure.training import hms_experiment as hx

    config = hx.HMSExperimentConfig.from_dict(resolved["experiment"])
    features = hx.build_features(HMSDataset(data_dir or resolved["data_dir"]), resolved["cache_dir"], [config],
                                 progress=False, **resolved["features"])
    scored = hx.score_oof(features.table, hx.oof_frame(features.table, folds), config.name)
    return {k: hx.finite_or_none(v) if isinstance(v, float) else v for k, v in scored["pooled"].items()}


def _report(record):
    pooled = record["pooled"]
    what = f"{record['task']} {record['protocol']}, folds {record['folds']} of {record['n_folds']}"
    if record["task"] == "tusz":
        line = (f"out-of-fold weighted F1: window {pooled.get('window_f1', float('nan')):.4f}, "
                f"seizure {pooled.get('seizure_f1', float('nan')):.4f}")
    else:
        def text(value):
            return "n/a" if value is None else f"{value:.4f}"
        line = (f"out-of-fold Kaggle KL: all {text(pooled.get('kl_all'))} ({pooled.get('n_all')} eeg_ids), "
                f">=10 votes {text(pooled.get('kl_high'))} ({pooled.get('n_high')} eeg_ids)")
    print(f"{what}\n{line}\nmetrics: {Path(record['run_dir']) / METRICS}")


def _evaluate(args):
    run_dir = Path(args.run_dir)
    path = run_dir / RUN_CONFIG
    if not path.is_file():
        raise CommandError(f"{run_dir}: not a run folder of `kerasseizure train` (no {RUN_CONFIG})")
    resolved = json.loads(path.read_text(encoding="utf-8"))
    data_dir = str(Path(args.data_dir).resolve()) if args.data_dir else None
    if data_dir is not None and not Path(data_dir).is_dir():
        raise CommandError(f"{data_dir}: no such corpus folder")
    _report(_evaluate_run(run_dir, resolved, data_dir))


def _add_evaluate(commands):
    evaluate = commands.add_parser(
        "evaluate", help="out-of-fold metrics of a `train` run folder",
        description="Pool the saved out-of-fold predictions of a run folder's completed folds and score them "
                    "(tusz: weighted F1 per window and per seizure; hms: Kaggle KL on all eeg_ids and on those "
                    "with >= 10 votes); print them and write <RUN_DIR>/metrics.json (atomically).")
    evaluate.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by `kerasseizure train`")
    evaluate.add_argument("--data-dir", help="corpus folder (hms: the targets; default: the run's data_dir)")
    evaluate.set_defaults(run=_evaluate)
