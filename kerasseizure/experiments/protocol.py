"""The experiment protocol every table and `kerasseizure train` drive: data -> folds -> fit a fold
-> evaluate -> report.

An experiment is built from a preset section (`experiments.presets`), a seed and its data; then

    experiment.prepare()                  # index the corpora, build or load the feature caches
    experiment.folds()                    # {protocol: [(fold name, fold specification), ...]}
    experiment.run_row(label)             # fit (or reuse) every fold of one row, evaluate it:
                                          # {protocol: experiments.runs.CVResult}
    experiment.row_summary(label, cv)     # the row's scores, one line per protocol (the report)

or, to know the cost first (`--plan`): `experiment.prepare(plan_only=True).plan(labels)`, the
`experiments.plan` dict (nothing trained, no cache written).

`run_row` runs each fold through `experiments.runs.run_folds` in a run folder per (protocol, row)
under `results_dir/runs`, so a row trained by `kerasseizure train --row` is the row the table
reuses, and a folder made with other settings is refused (or replaced with `overwrite=True`).
Implementations: `seizure_types.SeizureTypeExperiment` (TUSZ, table 1),
`harmful_activity.HarmfulActivityExperiment` (HMS, table 2) and
`distillation.DistillationExperiment` (TUSZ teacher and students, table 3).
"""

import typing


class Row(typing.NamedTuple):
    """One row of an experiment's table.

    Args:
        label: the row's name in the table and on the command line ("SeizureNet ensemble").
        key: its run folder's name ("ensemble").
        kind: what it is (experiment-specific: "baseline", "member", ...; "average", "reference").
    """

    label: str
    key: str
    kind: str


class Experiment(typing.Protocol):
    """What `reproduce.table*` and `kerasseizure train` rely on."""

    name: str
    rows: typing.Tuple[Row, ...]

    def prepare(self, plan_only=False):
        """Index the data and build (or load) the features (plan_only: plan those not cached)."""

    def folds(self):
        """{protocol key: [(fold name, fold specification), ...]} of the folds this preset runs."""

    def run_row(self, label, on_fold=None):
        """Fit (or reuse) and evaluate every fold of the row `label`: {protocol key: CVResult}."""

    def row_summary(self, label, results):
        """One line per protocol with the row's scores (what `kerasseizure train` prints)."""

    def plan(self, labels=None, *, preset=None, steps=3, warmup=1):
        """The `experiments.plan` dict of the rows `labels` (default all), after `prepare(plan_only=True)`."""


def find_row(rows, label, table):
    """The `Row` of `rows` named `label` (its label or its key, any case); ValueError listing them."""
    wanted = str(label).strip().lower()
    for row in rows:
        if wanted in (row.label.lower(), row.key.lower()):
            return row
    raise ValueError(f"{table} has no row {label!r}; its rows: {', '.join(repr(r.label) for r in rows)}")
