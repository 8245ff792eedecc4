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
from kerasseizure.experiments.protocol import Row
from kerasseizure.experiments.seizure_types import SingleProtocolExperiment

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
              "track_validation": False, "tensorboard": False,
              "max_steps_per_epoch": settings.get("max_steps_per_epoch")}
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


class DistillationExperiment(SingleProtocolExperiment):
    """Table 3's training as an `experiments.protocol.Experiment` (table 1's machinery, its own rows,
    one protocol, each row in `results_dir/runs/<row key>`).

    Args:
        settings: the `table3` section of a preset (`experiments.presets.load_preset(...).table3`).
        root: the TUSZ v1.5.2 corpus root (`tusz_v152_root`).
        seed: one seed for data order, initialisation and distillation.
        results_dir: the table's results folder; rows run in `results_dir/runs/<row key>`.
        cache_dir: feature caches (default `results_dir/cache`, as in tables 1 and 2).
        skip_bad: go on without the bad files of a real corpus (counted) instead of stopping.
        overwrite: replace run folders made with other settings instead of refusing them.
        log: callable(str) for progress lines (None: quiet).

    Example (`python -m reproduce.table3` does this for every row, then exports each):

    >>> experiment = DistillationExperiment(load_preset("test").table3, root, 0, "results/table3")  # doctest: +SKIP
    >>> results = experiment.prepare().run_row("student tiny (distilled)")                        # doctest: +SKIP
    """

    name = "table3"
    protocol = PROTOCOL
    teacher_key = TEACHER.key
    config_dicts = staticmethod(row_configs)

    def __init__(self, settings, root, seed, results_dir, **options):
        super().__init__(settings, root, seed, results_dir, **options)
        self.rows = rows_for(settings["students"]["sizes"])

    def prepare(self, plan_only=False):
        """Index the corpus (with its audit line), build or load its SES features (planned from the
        index with `plan_only`, see `SeizureTypeExperiment.prepare`), split the folds."""
        from kerasseizure.evaluation.folds import seizure_wise_folds
        from kerasseizure.experiments.data import audit_line
        from kerasseizure.io.tusz import TUSZCorpus
        version = PROTOCOL["version"]
        self.corpora[version] = TUSZCorpus(self.root, skip_bad=self.skip_bad)
        self.log(audit_line(self.corpus))
        self.features[version] = {"ses": self._build_features(self.corpus, plan_only)("ses")}
        folds = seizure_wise_folds(self.ses.seizures, n_folds=SEIZURE_WISE_FOLDS)
        self._folds = {PROTOCOL["key"]: [(index, folds[index]) for index in self.settings["folds"]]}
        return self
