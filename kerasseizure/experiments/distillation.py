"""The distillation experiment (table 3): the SeizureNet teacher, and small students trained alone
on the labels or distilled from the fold's teacher.

Protocol: IBM's seizure-wise 5-fold split of TUSZ v1.5.2 (`evaluation.folds.seizure_wise_folds`),
the folds a preset names (`table3.folds`). Rows: the teacher (an ensemble of SeizureNet members on
the multi-spectral SES), then per student size (`table3.students.sizes`) `<size>-alone` and
`<size>-distilled`. Each row trains through `experiments.tusz.run_tusz_fold`, the path of table 1,
in float32 (the deployed files are compared with the Keras model). The deployment steps (TFLite
export, LiteRT F1 and latency) are the table driver's (`reproduce.table3`): they use this
experiment's run folders, `results_dir/runs/<row key>/fold-<i>/fit/final.keras`.

>>> [row.key for row in rows_for(["tiny", "small"])]
['teacher', 'tiny-alone', 'tiny-distilled', 'small-alone', 'small-distilled']
"""

from pathlib import Path

from kerasseizure.errors import CorpusError
from kerasseizure.experiments.protocol import Row, find_row

TRAININGS = ("alone", "distilled")
SEIZURE_WISE_FOLDS = 5
PROTOCOL = {"key": "seizure-wise-v1.5.2", "protocol": "seizure-wise", "version": "1.5.2",
            "folds": SEIZURE_WISE_FOLDS}
TEACHER = Row("SeizureNet teacher (ensemble)", "teacher", "ensemble")


def rows_for(sizes):
    """The table's rows for these student sizes: the teacher, then `<size>-alone`, `<size>-distilled`."""
    kinds = {"alone": "student", "distilled": "distilled"}
    return (TEACHER,) + tuple(Row(f"student {size} ({training})", f"{size}-{training}", kinds[training])
                              for size in sizes for training in TRAININGS)


def row_configs(settings, seed):
    """{row key: TUSZExperimentConfig dict} of every row (teacher first) under a preset's `table3` section."""
    common = {"batch_size": settings["batch_size"], "train_window_stride": settings["train_window_stride"],
              "eval_window_stride": settings["eval_window_stride"], "seed": seed, "precision": "float32",
              "bn_momentum": settings["bn_momentum"], "recompute_batchnorm": settings["recompute_batchnorm"],
              "track_validation": False, "tensorboard": False}
    teacher = {"kind": "ensemble", "name": "teacher", "model": dict(settings["teacher"]["model"]),
               "epochs": settings["teacher"]["epochs"], "lr": settings["teacher"]["lr"], **common}
    configs = {"teacher": teacher}
    students = settings["students"]
    for size in students["sizes"]:
        base = {"model": {"size": size}, "epochs": students["epochs"], "lr": students["lr"], **common}
        configs[f"{size}-alone"] = {"kind": "student", "name": f"{size}-alone", **base}
        configs[f"{size}-distilled"] = {"kind": "distilled", "name": f"{size}-distilled", "teacher": teacher,
                                        **settings["distillation"], **base}
    return configs


def tusz_v152_root(settings, *, data_dir=None, synthetic_dir="demo-data", log=print):
    """(root, synthetic) of the corpus: `data_dir` (the v1.5.2 release), or the preset's synthetic
    v1.5.2 corpus (size `corpus_size`, seed 0), generated once under `synthetic_dir`."""
    from kerasseizure.experiments.data import synthetic_tusz

    if data_dir is None:
        return synthetic_tusz(synthetic_dir, "1.5.2", settings["corpus_size"], 0, log=log), True
    root = Path(data_dir)
    if not root.is_dir():
        raise CorpusError(f"{root}: no such folder (expected the TUSZ v1.5.2 release, see docs/table3.md)")
    return root, False


class DistillationExperiment:
    """Table 3's training as an `experiments.protocol.Experiment`.

    Args:
        settings: the `table3` section of a preset (`experiments.presets.load_preset(...).table3`).
        root: the TUSZ v1.5.2 corpus root (`tusz_v152_root`).
        seed: one seed for data order, initialisation and distillation.
        results_dir: the table's results folder; rows run in `results_dir/runs/<row key>`.
        cache_dir: feature caches (default `$KERASSEIZURE_CACHE` or ~/.cache/kerasseizure/features).
        skip_bad: go on without the bad files of a real corpus (counted) instead of stopping.
        overwrite: replace run folders made with other settings instead of refusing them.
        log: callable(str) for progress lines (None: quiet).

    Example (`python -m reproduce.table3` does this for every row, then exports each):

    >>> experiment = DistillationExperiment(load_preset("test").table3, root, 0, "results/table3")  # doctest: +SKIP
    >>> results = experiment.prepare().run_row("student tiny (distilled)")                        # doctest: +SKIP
    """

    name = "table3"

    def __init__(self, settings, root, seed, results_dir, *, cache_dir=None, skip_bad=False, overwrite=False,
                 log=None):
        self.settings = settings
        self.root = Path(root)
        self.seed = int(seed)
        self.results_dir = Path(results_dir)
        self.run_root = self.results_dir / "runs"
        self.cache_dir = cache_dir
        self.skip_bad = skip_bad
        self.overwrite = overwrite
        self.quiet = log is None
        self.log = log or (lambda message: None)
        self.rows = rows_for(settings["students"]["sizes"])
        self.configs = row_configs(settings, self.seed)
        self.corpus = self.features = None

    def prepare(self):
        """Index the corpus (with its audit line), build or load its SES features, split the folds."""
        from kerasseizure.evaluation.folds import seizure_wise_folds
        from kerasseizure.experiments.data import audit_line
        from kerasseizure.io.tusz import TUSZCorpus
        from kerasseizure.pipelines import build_tusz_features

        self.corpus = TUSZCorpus(self.root, skip_bad=self.skip_bad)
        self.log(audit_line(self.corpus))
        self.features = build_tusz_features(self.corpus, "ses", cache_dir=self.cache_dir, progress=not self.quiet,
                                            skip_bad=self.skip_bad)
        folds = seizure_wise_folds(self.features.seizures, n_folds=SEIZURE_WISE_FOLDS)
        self._folds = [(index, folds[index]) for index in self.settings["folds"]]
        return self

    def folds(self):
        """{protocol key: [(fold index, (train, valid) seizure positions)]}: the preset's folds."""
        return {PROTOCOL["key"]: self._folds}

    def row(self, label):
        """The `Row` named `label` (label or key)."""
        return find_row(self.rows, label, self.name)

    def run_dir(self, label):
        """The run folder of a row: `results_dir/runs/<row key>`."""
        return self.run_root / self.row(label).key

    def run_row(self, label, on_fold=None):
        """Fit (or reuse) and evaluate every fold of one row: {protocol key: CVResult}.

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

        def one_fold(spec, fold_dir):
            index, (train, valid) = spec
            on_fold(PROTOCOL, index, None, False)
            what = f"fold {index} {row.label}"
            result = run_tusz_fold(self.features, train, valid, config, fold_dir,
                                   teacher_dir=self.run_dir(TEACHER.key) / f"fold-{index}",
                                   log=lambda message: self.log(f"{what}: {message}"))
            on_fold(PROTOCOL, index, result, False)
            return result

        if row.kind == "distilled":
            # The teacher trains in the teacher row's folders: claim them for the teacher, so that
            # the teacher row reuses that training and never finds a folder it did not make.
            claim_run_dir(self.run_dir(TEACHER.key), self._identity(TEACHER), overwrite=self.overwrite)
        folds = {str(index): (index, pair) for index, pair in self._folds}
        cv = run_folds(folds, one_fold, self.run_dir(row.key), identity=self._identity(row),
                       overwrite=self.overwrite)
        for name in cv.reused:
            on_fold(PROTOCOL, int(name), cv.folds[list(folds).index(name)], True)
        return {PROTOCOL["key"]: cv}

    def _identity(self, row):
        from kerasseizure.experiments.runs import run_identity

        return run_identity({"task": "tusz", "table": self.name, "row": row.label, "protocol": PROTOCOL,
                             "experiment": self.configs[row.key]},
                            {"features": Path(self.features.path).name})

    def row_summary(self, label, results):
        """Lines `protocol: window F1 mean ± std, seizure F1 mean ± std (k folds)` of a row."""
        from kerasseizure.experiments.seizure_types import f1_summary_lines

        return f1_summary_lines(results)
