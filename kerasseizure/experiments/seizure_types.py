"""The TUSZ seizure-type experiment (table 1 of SeizureNet, arXiv 1903.03232).

Rows: four IBM feature baselines (log-FFT windows, scikit-learn), the SeizureNet single member and
ensemble, the student alone and the student distilled from the fold's ensemble. Protocols (IBM's,
`evaluation.folds`): seizure-wise 5-fold CV on TUSZ v1.4.0 and v1.5.2, patient-wise 3-fold CV on
v1.5.2. Each row is trained by `experiments.tusz.run_tusz_fold` and scored by weighted F1 per window
and per seizure (mean of its windows' probabilities).

>>> [row.label for row in ROWS][4:6]
['SeizureNet single member', 'SeizureNet ensemble']
"""

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from kerasseizure.errors import CorpusError
from kerasseizure.experiments.protocol import Row, find_row

VERSIONS = ("1.4.0", "1.5.2")
PROTOCOLS = (
    {"key": "seizure-wise-v1.4.0", "protocol": "seizure-wise", "version": "1.4.0", "folds": 5},
    {"key": "seizure-wise-v1.5.2", "protocol": "seizure-wise", "version": "1.5.2", "folds": 5},
    {"key": "patient-wise-v1.5.2", "protocol": "patient-wise", "version": "1.5.2", "folds": 3},
)
ROWS = (
    Row("AdaBoost", "adaboost", "baseline"),
    Row("SGD", "sgd", "baseline"),
    Row("gradient boosting", "gradient_boosting", "baseline"),
    Row("k-NN", "knn", "baseline"),
    Row("SeizureNet single member", "member", "member"),
    Row("SeizureNet ensemble", "ensemble", "ensemble"),
    Row("student alone", "student", "student"),
    Row("student distilled from SeizureNet", "distilled", "distilled"),
)
# IBM's grid: 1-s windows every 0.25 s; fmax 24 Hz (fft) and 24/48/96 Hz (SES).
FEATURES = {"wl": 1.0, "ws": 0.25}


def row_configs(settings, seed):
    """{row key: TUSZExperimentConfig} of every row under a preset's `table1` section."""
    from kerasseizure.experiments.tusz_config import TUSZExperimentConfig

    base = settings["baselines"]
    neural = dict(settings["neural"], seed=seed)
    ensemble = TUSZExperimentConfig(kind="ensemble", name="ensemble", model=dict(settings["seizurenet"]), **neural)
    configs = {}
    for row in ROWS:
        if row.kind == "baseline":
            configs[row.key] = TUSZExperimentConfig(
                kind="baseline", name=row.key, baseline=row.key, seed=seed,
                baseline_params=dict(base["params"].get(row.key, {})),
                train_window_stride=base["train_window_stride"], eval_window_stride=base["eval_window_stride"])
        elif row.kind == "ensemble":
            configs[row.key] = ensemble
        elif row.kind == "member":
            configs[row.key] = TUSZExperimentConfig(kind="member", name=row.key, model=dict(settings["seizurenet"]),
                                                    input_name="ses_0", **neural)
        elif row.kind == "student":
            configs[row.key] = TUSZExperimentConfig(kind="student", name=row.key, model=dict(settings["student"]),
                                                    input_name="ses_0", **neural)
        else:
            configs[row.key] = TUSZExperimentConfig(kind="distilled", name=row.key, model=dict(settings["student"]),
                                                    input_name="ses_0", teacher=ensemble,
                                                    **settings["distillation"], **neural)
    return configs


def tusz_roots(settings, seed, *, data_dir=None, v140=None, v152=None, synthetic_dir="demo-data", log=print):
    """({version: root}, synthetic) of the corpora a run uses.

    Real corpora come from `data_dir` (holding v1.4.0/ and/or v1.5.2/) or the explicit roots;
    without them the preset's synthetic corpora (the versions its `corpus` names) are generated
    (once per size, seed and settings) under `synthetic_dir`.
    """
    from kerasseizure.experiments.data import synthetic_tusz

    given = {}
    if data_dir is not None:
        for version in VERSIONS:
            for name in (f"v{version}", version):
                if (Path(data_dir) / name).is_dir():
                    given[version] = Path(data_dir) / name
                    break
        if not given:
            raise CorpusError(f"{data_dir}: expected the release folders v1.4.0/ and/or v1.5.2/ inside")
    for version, root in (("1.4.0", v140), ("1.5.2", v152)):
        if root is not None:
            given[version] = Path(root)
    if given:
        for version, root in given.items():
            if not Path(root).is_dir():
                raise CorpusError(f"{root}: not a folder (TUSZ v{version})")
        return given, False
    roots = {}
    for version in settings["corpus"]:
        options = dict(settings["corpus"][version])
        size = options.pop("size")
        roots[version] = synthetic_tusz(synthetic_dir, version, size, seed, log=log, **options)
    return roots, True


class Representations(Mapping):
    """{"fft", "ses"}: the features of one corpus, each built (or loaded from its cache) on first
    use, so that a run of the baseline rows alone never builds the SES windows.

    Args:
        build: callable(representation) -> `TUSZFeatures`.
    """

    names = ("fft", "ses")

    def __init__(self, build):
        self._build = build
        self._built = {}

    def __getitem__(self, representation):
        if representation not in self.names:
            raise KeyError(representation)
        if representation not in self._built:
            self._built[representation] = self._build(representation)
        return self._built[representation]

    def __iter__(self):
        return iter(self.names)

    def __len__(self):
        return len(self.names)


class SeizureTypeExperiment:
    """Table 1 as an `experiments.protocol.Experiment`.

    Args:
        settings: the `table1` section of a preset (`experiments.presets.load_preset(...).table1`).
        roots: {version: corpus root} (`tusz_roots`).
        seed: one seed for data order, initialisation and classifier randomness.
        results_dir: the table's results folder; rows run in `results_dir/runs/<protocol>/<row>`.
        cache_dir: feature caches (default `results_dir/cache`).
        skip_bad: go on without the bad files of a real corpus (counted) instead of stopping.
        overwrite: replace run folders made with other settings instead of refusing them.
        log: callable(str) for progress lines (None: quiet).

    Example (`python -m reproduce.table1` does this for every row):

    >>> experiment = SeizureTypeExperiment(load_preset("test").table1, roots, 0, "results/table1")  # doctest: +SKIP
    >>> experiment.prepare()                                                                   # doctest: +SKIP
    >>> results = experiment.run_row("SeizureNet ensemble")                                   # doctest: +SKIP
    """

    name = "table1"
    rows = ROWS
    teacher_key = "ensemble"  # a distilled row's teacher trains in this row's folders

    def __init__(self, settings, roots, seed, results_dir, *, cache_dir=None, skip_bad=False, overwrite=False,
                 log=None):
        self.settings = settings
        self.roots = dict(roots)
        self.seed = int(seed)
        self.results_dir = Path(results_dir)
        self.run_root = self.results_dir / "runs"
        self.cache_dir = Path(cache_dir) if cache_dir is not None else self.results_dir / "cache"
        self.skip_bad = skip_bad
        self.overwrite = overwrite
        self.quiet = log is None
        self.log = log or (lambda message: None)
        self.configs = self.row_configs(settings, self.seed)
        self.protocols = [p for p in PROTOCOLS if p["version"] in self.roots]
        self.corpora, self.features = {}, {}

    @staticmethod
    def row_configs(settings, seed):
        """{row key: TUSZExperimentConfig} of the rows under the preset section `settings`."""
        return row_configs(settings, seed)

    def row_dir(self, proto, key):
        """The run folder of row `key` under protocol `proto`: `runs/<protocol>/<row key>`."""
        return self.run_root / proto["key"] / key

    def fold_config(self, config, proto, index):
        """The row's configuration on one fold: learning curves on the first fold of the first
        protocol only (the validation fold is the test fold, so the curves are for reading, never
        for selecting weights)."""
        return config.replace(track_validation=(proto is self.protocols[0] and index == 0))

    def prepare(self, plan_only=False):
        """Index each corpus (with its audit line) and build or load its FFT features (the folds
        split their seizure table); the SES features are built or loaded when a row first needs them.

        Args:
            plan_only: build nothing: features not cached yet are planned from the index
                (`build_tusz_features(..., plan_only=True)`), for `plan`.
        """
        from kerasseizure.experiments.data import audit_line
        from kerasseizure.io.tusz import TUSZCorpus

        for version, root in self.roots.items():
            self.log(f"indexing TUSZ v{version} at {root}")
            self.corpora[version] = TUSZCorpus(root, skip_bad=self.skip_bad)
            self.log(audit_line(self.corpora[version]))
            self.features[version] = Representations(self._build_features(self.corpora[version], plan_only))
        self._folds = self._split()
        return self

    def _build_features(self, corpus, plan_only=False):
        from kerasseizure.pipelines import build_tusz_features

        return lambda rep: build_tusz_features(corpus, rep, self.cache_dir, progress=not self.quiet,
                                               skip_bad=self.skip_bad, plan_only=plan_only, **FEATURES)

    def _split(self):
        from kerasseizure.evaluation.folds import patient_wise_folds, seizure_wise_folds

        max_folds = self.settings["max_folds"]
        out = {}
        for proto in self.protocols:
            table = self.features[proto["version"]]["fft"].seizures
            folds = seizure_wise_folds(table) if proto["protocol"] == "seizure-wise" else patient_wise_folds(table)
            out[proto["key"]] = list(enumerate(folds))[:max_folds] if max_folds else list(enumerate(folds))
        return out

    def folds(self):
        """{protocol key: [(fold index, (train, valid) seizure positions)]}, the preset's first folds."""
        return self._folds

    def reference_scores(self):
        """{(protocol key, "prior" or "truth"): {"folds_run", "summary"}} on a synthetic corpus.

        "prior": every window predicted as the training fold's majority type, the reference a model
        must beat; "truth": `experiments.tusz.truth_probabilities`, the best a model can do (each
        window's type wherever the simulated seizure shows in it). Both are scored like the rows,
        fold by fold, on the windows the neural rows are scored on (their evaluation stride).
        A protocol on a real corpus (no ground truth) has neither.
        """
        from kerasseizure.evaluation.reports import summarise
        from kerasseizure.experiments.tusz import evaluate_probabilities, truth_probabilities
        from kerasseizure.io.synthetic import simulated_seizure_activity

        stride = self.configs[self.teacher_key].eval_window_stride
        out = {}
        for proto in self.protocols:
            try:
                activity = simulated_seizure_activity(self.roots[proto["version"]])
            except FileNotFoundError:
                continue
            # Any representation will do: they share one window table.
            features = next(iter(self.features[proto["version"]].values()))
            classes = np.eye(len(features.classes))
            scored = {"prior": [], "truth": []}
            for _, (train, valid) in self.folds()[proto["key"]]:
                rows = features.window_positions(valid, stride)
                trained_on = features.windows["label_index"].to_numpy()[features.window_positions(train)]
                majority = int(np.bincount(trained_on, minlength=len(classes)).argmax())
                scored["prior"].append(evaluate_probabilities(features, rows, classes[np.full(len(rows), majority)]))
                scored["truth"].append(evaluate_probabilities(
                    features, rows, truth_probabilities(features, rows, activity, majority)))
            for key, metrics in scored.items():
                out[(proto["key"], key)] = {"folds_run": len(metrics), "summary": summarise(metrics)}
        return out

    def row(self, label):
        """The `Row` named `label` (label or key)."""
        return find_row(self.rows, label, self.name)

    def run_row(self, label, on_fold=None):
        """Fit (or reuse) and evaluate every fold of one row under every protocol: {protocol key: CVResult}.

        Args:
            label: the row's label or key.
            on_fold: callable(protocol, fold index, FoldResult or None, reused) told before (result
                None) and after each fold.
        """
        from kerasseizure.experiments.runs import claim_run_dir, run_folds
        from kerasseizure.experiments.tusz import run_tusz_fold

        row = self.row(label)
        config = self.configs[row.key]
        on_fold = on_fold or (lambda *args: None)
        fold_lists = self.folds()
        results = {}
        for proto in self.protocols:
            features = self.features[proto["version"]][config.representation]

            def one_fold(spec, fold_dir, proto=proto, features=features):
                index, (train, valid) = spec
                on_fold(proto, index, None, False)
                what = f"{proto['key']} fold {index + 1}/{proto['folds']} {row.label}"
                result = run_tusz_fold(features, train, valid, self.fold_config(config, proto, index), fold_dir,
                                       teacher_dir=self.row_dir(proto, self.teacher_key) / f"fold-{index}",
                                       log=lambda message: self.log(f"{what}: {message}"))
                on_fold(proto, index, result, False)
                return result

            if row.kind == "distilled":
                # The teacher trains in the teacher row's folders: claim them for that row, so that
                # it reuses that training and never finds a folder it did not make.
                claim_run_dir(self.row_dir(proto, self.teacher_key), self._identity(self.row(self.teacher_key), proto),
                              overwrite=self.overwrite)
            folds = {str(index): (index, pair) for index, pair in fold_lists[proto["key"]]}
            cv = run_folds(folds, one_fold, self.row_dir(proto, row.key), identity=self._identity(row, proto),
                           overwrite=self.overwrite)
            for name in cv.reused:
                on_fold(proto, int(name), cv.folds[list(folds).index(name)], True)
            results[proto["key"]] = cv
        return results

    def plan(self, labels=None, *, preset=None, steps=3, warmup=1):
        """The run plan (`experiments.plan`) of the rows `labels` (default every row) and of the
        teacher a distilled row needs, after `prepare(plan_only=True)`: windows from the (planned)
        features, step times measured on each row's compiled model, nothing trained.

        Args:
            labels: row labels or keys (default: every row).
            preset: the preset's name, recorded in the plan.
            steps, warmup: timed and untimed steps per model (`experiments.plan.time_model`).
        """
        from kerasseizure.experiments import plan as plan_lib

        rows = [self.row(label) for label in labels] if labels else list(self.rows)
        if any(r.kind == "distilled" for r in rows) and self.teacher_key not in [r.key for r in rows]:
            rows.insert(0, self.row(self.teacher_key))
        timings = {}  # one model per row and corpus version (protocols of a version share its shapes)
        entries = [self._plan_row(row, proto, timings, steps, warmup) for row in rows for proto in self.protocols]
        used = {(e["version"], self.configs[e["key"]].representation) for e in entries}
        features = [self._plan_features(version, rep) for version, rep in sorted(used)]
        tables = {version: next(iter(self.features[version].values())).seizures for version in self.roots}
        data = {version: {"root": str(root), "seizures": int(len(tables[version])),
                          "patients": int(tables[version]["patient_id"].nunique())}
                for version, root in self.roots.items()}
        return plan_lib.assemble(self.name, preset, self.seed, data, features, entries)

    def _plan_row(self, row, proto, timings, steps, warmup):
        from kerasseizure.experiments import plan as plan_lib
        from kerasseizure.experiments.tusz import time_baseline, time_network, training_rows

        config = self.configs[row.key]
        features = self.features[proto["version"]][config.representation]
        folds = self.folds()[proto["key"]]
        n_train = [int(training_rows(config, features, t).size) for _, (t, _) in folds]
        n_eval = [int(features.window_positions(v, config.eval_window_stride).size) for _, (_, v) in folds]
        done = plan_lib.completed_folds(self.row_dir(proto, row.key), [str(index) for index, _ in folds])
        todo = [k for k, (index, _) in enumerate(folds) if str(index) not in done]
        entry = {"row": row.label, "key": row.key, "kind": row.kind, "protocol": proto["key"],
                 "version": proto["version"], "folds": len(folds), "completed_folds": done,
                 "train_windows_per_epoch": float(np.mean(n_train)), "eval_windows": float(np.mean(n_eval))}
        if not todo:  # every fold is reused: nothing to measure
            return dict(entry, epochs=config.epochs if row.kind != "baseline" else 1, measured=None,
                        projected_seconds=0.0)
        key = (row.key, proto["version"])
        if row.kind == "baseline":
            if key not in timings:
                timings[key] = time_baseline(config, features, max(n_train), max(n_eval))
            seconds = [plan_lib.baseline_fold_seconds(timings[key], n_train[k], n_eval[k]) for k in todo]
            return dict(entry, epochs=1, measured=timings[key], projected_seconds=sum(seconds))
        if key not in timings:
            timings[key] = time_network(config, features, steps=steps, warmup=warmup)
        size, timing = timings[key]
        seconds = [plan_lib.neural_fold_seconds(
            timing, [(config.epochs, n_train[k])], batch_size=config.batch_size, eval_windows=n_eval[k],
            eval_batch_size=config.eval_batch_size, max_steps_per_epoch=config.max_steps_per_epoch,
            track_validation=self.fold_config(config, proto, folds[k][0]).track_validation,
            extra_batches=config.recompute_batchnorm or 0) for k in todo]
        return dict(entry, epochs=config.epochs, batch_size=config.batch_size, eval_batch_size=config.eval_batch_size,
                    model=size, measured=timing, projected_seconds=sum(seconds) + timing["first_step_seconds"])

    def _plan_features(self, version, representation):
        from kerasseizure.pipelines.tusz import build_seconds_per_window

        features = self.features[version][representation]
        planned = bool(features.report.get("planned"))
        return {"name": f"TUSZ v{version} {representation}", "path": str(features.path), "complete": not planned,
                "items": int((features.seizures["n_windows"] > 0).sum()), "item": "seizures",
                "windows": int(len(features.windows)),
                "bytes": int(sum(a.nbytes for a in features.arrays.values())),  # planned arrays: their size on disk
                "projected_build_seconds": (build_seconds_per_window(self.corpora[version], features)
                                            * len(features.windows)) if planned else 0.0}

    def _identity(self, row, proto):
        from kerasseizure.experiments.runs import run_identity

        config = self.configs[row.key]
        features = self.features[proto["version"]][config.representation]
        return run_identity({"task": "tusz", "table": self.name, "row": row.label, "protocol": proto,
                             "experiment": config.to_dict()}, {"features": Path(features.path).name})

    def row_summary(self, label, results):
        """Lines `protocol: window F1 mean ± std, seizure F1 mean ± std (k folds)` of a row."""
        lines = []
        for key, cv in results.items():
            s = cv.summary
            lines.append(f"{key}: window F1 {s['window_f1']['mean']:.3f} ± {s['window_f1']['std']:.3f}, "
                         f"seizure F1 {s['seizure_f1']['mean']:.3f} ± {s['seizure_f1']['std']:.3f} "
                         f"({len(cv.folds)} folds; run folder {cv.run_dir})")
        return lines


class SingleProtocolExperiment(SeizureTypeExperiment):
    """A table of one protocol on one corpus, each row in `results_dir/runs/<row key>` (tables 3 and 4).

    Subclasses set `name`, `protocol` (a dict like `PROTOCOLS`' entries), `rows` (or set them in
    `__init__`), `teacher_key`, `config_dicts` (settings, seed -> {row key: TUSZExperimentConfig
    dict}) and `prepare` (the corpus, its features and the folds).

    Args:
        settings: the table's section of a preset.
        root: the corpus root.
        seed, results_dir, cache_dir, skip_bad, overwrite, log: as `SeizureTypeExperiment`.
    """

    protocol = None
    config_dicts = None

    def __init__(self, settings, root, seed, results_dir, *, cache_dir=None, skip_bad=False, overwrite=False,
                 log=None):
        super().__init__(settings, {self.protocol["version"]: root}, seed, results_dir, cache_dir=cache_dir,
                         skip_bad=skip_bad, overwrite=overwrite, log=log)
        self.root = Path(root)
        self.protocols = [self.protocol]

    @classmethod
    def row_configs(cls, settings, seed):
        """{row key: TUSZExperimentConfig} of every row (teacher first)."""
        from kerasseizure.experiments.tusz_config import TUSZExperimentConfig

        return {key: TUSZExperimentConfig.from_dict(config) for key, config in cls.config_dicts(settings, seed).items()}

    @property
    def corpus(self):
        """The indexed corpus (after `prepare`)."""
        return self.corpora[self.protocol["version"]]

    @property
    def ses(self):
        """The corpus's multi-spectral SES features (after `prepare`)."""
        return self.features[self.protocol["version"]]["ses"]

    def row_dir(self, proto, key):
        """The run folder of row `key`: `runs/<row key>` (one protocol)."""
        return self.run_root / key

    def run_dir(self, label):
        """The run folder of the row `label` (label or key)."""
        return self.row_dir(self.protocol, self.row(label).key)

    def fold_config(self, config, proto, index):
        """The row's configuration, the same on every fold."""
        return config
