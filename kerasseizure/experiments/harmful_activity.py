"""The HMS harmful-brain-activity experiment (table 2): WaveNet (temporal), spectrogram image
(spatial), their average, and the improvements (fused, left/right swap, two-stage, 3D CNN).

Each trained row is one variant cross-validated by `experiments.hms.run_cv` (GroupKFold(5) by
patient, the starters' protocol) and scored by the competition's KL divergence on the pooled
out-of-fold predictions; an "average" row averages its variants' out-of-fold probabilities; the
The "baseline" row fits a logistic regression to hand-made pattern features of the WaveNet view
(`experiments.hms_baseline`), as table 1 has its IBM-feature baselines. The "reference" rows need
no model (uniform 1/6, the training fold's class prior and, on a synthetic corpus, the truth: the
vote distributions the corpus drew its votes from, the floor of the KL).

>>> [row.label for row in ROWS][:3]
['temporal (WaveNet)', 'spatial (spectrogram image)', 'both (average)']
"""

from pathlib import Path

import numpy as np

from kerasseizure.errors import CorpusError
from kerasseizure.experiments.protocol import Row, find_row

N_FOLDS = 5
PROTOCOL = "group-kfold-5"
# (row, variants averaged or trained); the published figures are looked up by `PUBLISHED[label]`.
ROWS = (
    Row("temporal (WaveNet)", "temporal", "trained"),
    Row("spatial (spectrogram image)", "spatial", "trained"),
    Row("both (average)", "temporal+spatial", "average"),
    Row("fused end to end", "fused", "trained"),
    Row("temporal + L/R swap", "temporal_swap", "trained"),
    Row("spatial + L/R swap", "spatial_swap", "trained"),
    Row("both + L/R swap", "temporal_swap+spatial_swap", "average"),
    Row("temporal, two-stage", "temporal_two_stage", "trained"),
    Row("spatial, two-stage", "spatial_two_stage", "trained"),
    Row("both, two-stage", "temporal_two_stage+spatial_two_stage", "average"),
    Row("3D CNN (time x chain x mel)", "conv3d", "trained"),
    Row("feature baseline (band powers, periodicity, lateralisation; logistic regression)", "features", "baseline"),
    Row("reference: uniform 1/6", "uniform", "reference"),
    Row("reference: training-fold prior", "train prior", "reference"),
    Row("truth: the generating vote distributions (synthetic corpus)", "truth", "reference"),
)


def row_variants(row):
    """The variants a row trains or averages (none for a reference or the feature baseline)."""
    return () if row.kind in ("reference", "baseline") else tuple(row.key.split("+"))


def variant_configs(settings, seed):
    """{variant: HMSExperimentConfig} of the variants a preset's `table2` section runs."""
    from kerasseizure.experiments.hms_config import VARIANTS, variant_config

    configs = {}
    for variant in settings["variants"]:
        model = VARIANTS[variant]["model"]
        overrides = dict(settings["model"], **settings["model_overrides"].get(model, {}), seed=seed)
        if settings["lr"] is not None:
            overrides["lr"] = settings["lr"][model]
            overrides["stage2_lr"] = settings["lr"][model]
        if model == "conv3d":
            overrides.pop("image_size", None)
        configs[variant] = variant_config(variant, **overrides)
    return configs


def hms_root(settings, seed, *, data_dir=None, synthetic_dir="demo-data", log=print):
    """(root, synthetic) of the competition folder: `data_dir`, else the preset's synthetic corpus."""
    from kerasseizure.experiments.data import synthetic_hms

    if data_dir is not None:
        root = Path(data_dir)
        if not (root / "train.csv").is_file():
            raise CorpusError(f"{root}: no train.csv there (see docs/hms.md for the expected layout)")
        return root, False
    options = dict(settings["corpus"] or {"size": "demo"})
    return synthetic_hms(synthetic_dir, options.pop("size"), seed, log=log, **options), True


def _vote_truth(root):
    """`io.synthetic.generating_vote_distributions(root)`, or None for a corpus without ground truth."""
    from kerasseizure.io.synthetic import generating_vote_distributions

    try:
        return generating_vote_distributions(root)
    except FileNotFoundError:
        return None


class HarmfulActivityExperiment:
    """Table 2 as an `experiments.protocol.Experiment`.

    Args:
        settings: the `table2` section of a preset (`experiments.presets.load_preset(...).table2`).
        root: the competition folder (`hms_root`).
        seed: one seed for initialisation, data order and augmentation.
        results_dir: the table's results folder; variants run in `results_dir/runs/<variant>`.
        cache_dir: feature caches (default `results_dir/cache`).
        fold_indices: the folds to run (default: the preset's; None there means all 5).
        skip_bad: go on without the bad files of a real corpus (counted) instead of stopping.
        overwrite: replace run folders made with other settings instead of refusing them.
        log: callable(str) for progress lines (None: quiet).
        report: callable(dict) told after every epoch (`experiments.hms.train_fold`).
    """

    name = "table2"
    rows = ROWS

    def __init__(self, settings, root, seed, results_dir, *, cache_dir=None, fold_indices=None, skip_bad=False,
                 overwrite=False, log=None, report=None):
        self.settings = settings
        self.root = Path(root)
        self.seed = int(seed)
        self.results_dir = Path(results_dir)
        self.run_root = self.results_dir / "runs"
        self.cache_dir = Path(cache_dir) if cache_dir is not None else self.results_dir / "cache"
        chosen = fold_indices if fold_indices is not None else settings["fold_indices"]
        self.fold_indices = list(range(N_FOLDS)) if chosen is None else sorted(set(int(k) for k in chosen))
        self.skip_bad = skip_bad
        self.overwrite = overwrite
        self.quiet = log is None
        self.log = log or (lambda message: None)
        self.report = report
        self.configs = variant_configs(settings, self.seed)
        self.dataset = self.features = self.truth = None
        self.results = {}

    def prepare(self, plan_only=False):
        """Open the competition folder (with its audit line) and build or load the views.

        Args:
            plan_only: build nothing: features not cached yet are planned
                (`build_hms_features(..., plan_only=True)`), for `plan`.
        """
        from kerasseizure.evaluation.folds import group_kfold_by_patient
        from kerasseizure.experiments import hms as hx
        from kerasseizure.experiments.data import audit_line
        from kerasseizure.io.hms import HMSDataset

        self.dataset = HMSDataset(self.root)
        self.log(audit_line(self.dataset))
        self.log("features: " + ("planning them (or loading the cache)" if plan_only
                                 else "building or loading the cache"))
        self.features = hx.build_features(self.dataset, self.cache_dir, list(self.configs.values()),
                                          progress=not self.quiet, skip_bad=self.skip_bad, plan_only=plan_only)
        self._all_folds = group_kfold_by_patient(self.features.table, N_FOLDS)
        self.truth = _vote_truth(self.root)
        return self

    def all_folds(self):
        """The 5 (train, valid) position pairs of GroupKFold by patient on the features' table."""
        return self._all_folds

    def folds(self):
        """{PROTOCOL: [(fold index, (train, valid))]} of the folds this run covers."""
        folds = self.all_folds()
        return {PROTOCOL: [(k, folds[k]) for k in self.fold_indices]}

    def row(self, label):
        """The `Row` named `label` (label or key)."""
        return find_row(self.rows, label, self.name)

    def runnable(self, row):
        """Whether this preset trains every variant `row` needs (the truth row: whether the corpus
        is synthetic; known after `prepare`)."""
        if row.key == "truth":
            return self.truth is not None
        if row.kind == "baseline":
            return self.features is not None and "wavenet" in self.features.arrays
        return all(v in self.configs for v in row_variants(row))

    def run_variant(self, variant):
        """Cross-validate one variant (reused when done): `experiments.hms.HMSCVResult`."""
        from kerasseizure.experiments import hms as hx

        if variant not in self.results:
            config = self.configs[variant]
            self.log(f"{variant}: {config.describe()}")
            self.results[variant] = hx.run_cv(config, self.features, run_dir=self.run_root / variant,
                                              folds=self.all_folds(), fold_indices=self.fold_indices,
                                              report=self.report, overwrite=self.overwrite,
                                              log=lambda message: self.log(f"{variant} {message}"))
        return self.results[variant]

    def run_row(self, label, on_fold=None):
        """Train (or reuse) the row's variants and score it: {PROTOCOL: scores}.

        The scores are `evaluation.hms_scoring.score_oof`'s dict (name, members, oof, pooled,
        per_fold, summary) for every kind of row. A row whose variants this preset does not train
        raises ValueError.
        """
        from kerasseizure.experiments import hms as hx

        row = self.row(label)
        table = self.features.table
        if row.kind == "reference":
            if not self.runnable(row):
                raise ValueError(f"row {row.label!r} needs a synthetic corpus (its _truth/ folder); {self.root} "
                                 "has none")
            oof = hx.reference_predictions(table, self.all_folds(), self.fold_indices, self.truth)[row.key]
            return {PROTOCOL: hx.score_oof(table, oof, row.label)}
        if row.kind == "baseline":
            from kerasseizure.experiments.hms_baseline import vote_baseline_predictions

            if not self.runnable(row):
                raise ValueError(f"row {row.label!r} needs the eeg view, which no variant of this preset uses")
            oof, chosen = vote_baseline_predictions(self.features, self.all_folds(), self.fold_indices, self.seed)
            self.log(f"{row.label}: C per fold {({k: v['c'] for k, v in chosen.items()})}")
            return {PROTOCOL: hx.score_oof(table, oof, row.label)}
        if not self.runnable(row):
            missing = [v for v in row_variants(row) if v not in self.configs]
            raise ValueError(f"row {row.label!r} needs {missing}, which this preset does not train "
                             f"(it trains {sorted(self.configs)})")
        results = [self.run_variant(v) for v in row_variants(row)]
        if row.kind == "average":
            return {PROTOCOL: hx.average_results(table, results, row.label)}
        result = results[0]
        return {PROTOCOL: {"name": row.label, "members": [], "oof": result.oof, "pooled": result.pooled,
                           "per_fold": {k: r.metrics for k, r in result.folds.items()},
                           "summary": result.summary}}

    def plan(self, labels=None, *, preset=None, steps=3, warmup=1):
        """The run plan (`experiments.plan`) of the rows `labels` (default every row this preset
        runs) after `prepare(plan_only=True)`: one entry per trained variant (an average or
        reference row trains nothing), step times measured on each variant's compiled model.

        Args:
            labels: row labels or keys (default: every runnable row).
            preset: the preset's name, recorded in the plan.
            steps, warmup: timed and untimed steps per model (`experiments.plan.time_model`).
        """
        from kerasseizure.experiments import hms as hx
        from kerasseizure.experiments import plan as plan_lib

        rows = [self.row(label) for label in labels] if labels else [r for r in self.rows if self.runnable(r)]
        for row in rows:
            if not self.runnable(row):
                raise ValueError(f"row {row.label!r} needs variants this preset does not train "
                                 f"(it trains {sorted(self.configs)})")
        variants = list(dict.fromkeys(v for row in rows for v in row_variants(row)))
        entries = [self._plan_variant(variant, steps, warmup) for variant in variants]
        planned = bool(self.features.report.get("planned"))
        seconds = hx.build_seconds_per_eeg(self.dataset, list(self.configs.values()), skip_bad=self.skip_bad) \
            if planned else 0.0
        features = [{"name": "HMS views (" + ", ".join(self.features.views) + ")", "path": str(self.features.path),
                     "complete": not planned, "items": int(len(self.features.table)), "item": "eeg_ids",
                     "bytes": int(sum(a.nbytes for a in self.features.arrays.values())),
                     "projected_build_seconds": seconds * len(self.features.table)}]
        data = {"root": str(self.root), "eeg_ids": int(len(self.features.table)),
                "patients": int(self.features.table["patient_id"].nunique())}
        notes = [f"{row.label}: averages trained variants, nothing to train" for row in rows if row.kind == "average"]
        notes += [f"{row.label}: a logistic regression on hand-made features, seconds" for row in rows
                  if row.kind == "baseline"]
        return plan_lib.assemble(self.name, preset, self.seed, data, features, entries, notes)

    def _plan_variant(self, variant, steps, warmup):
        from kerasseizure.experiments import hms as hx
        from kerasseizure.experiments import plan as plan_lib

        config, features = self.configs[variant], self.features
        folds = [(k, self.all_folds()[k]) for k in self.fold_indices]
        stages = {k: [(epochs, int(len(features.positions(train, population))))
                      for _, population, epochs, _ in hx._stage_plan(config, features, train)]
                  for k, (train, _) in folds}
        n_eval = {k: int(len(features.positions(valid))) for k, (_, valid) in folds}
        done = plan_lib.completed_folds(self.run_root / variant, [str(k) for k, _ in folds])
        todo = [k for k, _ in folds if str(k) not in done]
        row = next(r for r in self.rows if r.kind == "trained" and r.key == variant)
        entry = {"row": row.label, "key": variant, "kind": row.kind, "protocol": PROTOCOL, "folds": len(folds),
                 "completed_folds": done, "epochs": config.total_epochs,
                 "train_windows_per_epoch": float(np.mean([w for k in stages for _, w in stages[k]])),
                 "eval_windows": float(np.mean(list(n_eval.values())))}
        if not todo:  # every fold is reused: nothing to measure
            return dict(entry, measured=None, projected_seconds=0.0)
        size, timing = hx.time_variant(config, features, steps=steps, warmup=warmup)
        seconds = sum(plan_lib.neural_fold_seconds(
            timing, stages[k], batch_size=config.batch_size, eval_windows=n_eval[k],
            eval_batch_size=config.eval_batch_size, max_steps_per_epoch=config.max_steps_per_epoch,
            track_validation=True, extra_batches=config.recompute_batchnorm or 0) for k in todo)
        return dict(entry, batch_size=config.batch_size, eval_batch_size=config.eval_batch_size, model=size,
                    measured=timing, projected_seconds=seconds + timing["first_step_seconds"])

    def row_summary(self, label, results):
        """Lines `protocol: KL all ..., >= 10 votes ...` of a row's pooled out-of-fold predictions."""
        def text(value):
            return "n/a" if value is None or value != value else f"{value:.4f}"

        return [f"{key}, folds {self.fold_indices}: Kaggle KL all {text(s['pooled']['kl_all'])} "
                f"({s['pooled']['n_all']} eeg_ids), >= 10 votes {text(s['pooled']['kl_high'])} "
                f"({s['pooled']['n_high']} eeg_ids)" for key, s in results.items()]
