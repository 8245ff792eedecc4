"""What every table command shares: arguments, presets, corpora, progress and the results folder.

Results layout (`results/<table>/` by default):

    table.md, table.csv     the table, labelled SYNTHETIC when computed on the synthetic corpus
    figures/*.png           confusion matrices, per-class F1, learning curves, example inputs
    record.json             config, seed, versions, git commit, hardware, timings; written last,
                            so its presence marks a complete set of artefacts
    runs/                   the resumable work (one folder per run, `experiments.runs.run_folds`)

Every file is written atomically; an interrupted command re-run with the same arguments loads
the folds it finished and continues. Each run folder holds the fingerprint of its settings and
data (`run.json`); a command with other settings refuses it (exit 2) unless `--overwrite`.
"""

import argparse
import sys
import time
from pathlib import Path

from kerasseizure.files import atomic_path, atomic_write_json, atomic_write_text, remove_stale_partials
from kerasseizure.experiments.plan import PLAN_HELP
from kerasseizure.experiments.presets import MAX_STEPS_HELP

RECORD_FILE = "record.json"


def table_parser(name, description):
    """The argument parser every table shares; a table adds its own options to it."""
    parser = argparse.ArgumentParser(prog=f"python -m reproduce.{name}", description=description)
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="real corpus folder (see docs/%s.md); default: the synthetic corpus" % name)
    parser.add_argument("--preset", default="quick", metavar="NAME|FILE",
                        help="test: seconds, for the test suite; quick (default): minutes on a laptop; "
                             "paper: the published settings; or a YAML file of your own with the same layout "
                             "(`kerasseizure config show quick` prints one)")
    parser.add_argument("--seed", type=int, default=0, help="one seed for data order, initialisation, augmentation")
    parser.add_argument("--results-dir", type=Path, default=Path("results") / name,
                        help="where the artefacts go (default: results/%s)" % name)
    parser.add_argument("--synthetic-dir", type=Path, default=Path("demo-data"),
                        help="where the synthetic corpora are generated when absent (default: demo-data)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the runs of the results folder that were made with other settings "
                             "(without it such a folder is refused, never mixed with)")
    parser.add_argument("--skip-bad", action="store_true",
                        help="go on without the bad or missing files of a real corpus (the audit line and "
                             "the feature report count them) instead of stopping at the first")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="feature caches (default: <results-dir>/cache)")
    parser.add_argument("--max-steps", type=int, metavar="N", help=MAX_STEPS_HELP)
    parser.add_argument("--plan", action="store_true", help=PLAN_HELP)
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser


def run_table(main, name):
    """Run a table's `main`; a bad corpus ends with its message and exit code 2, not a traceback."""
    from kerasseizure.errors import KerasSeizureError

    try:
        main()
    except KerasSeizureError as error:
        print(f"python -m reproduce.{name}: error: {error}", file=sys.stderr)
        return 2
    return 0


def data_banner(synthetic, description):
    """The line that opens every table: what data it was computed on."""
    if synthetic:
        return (f"**Data: SYNTHETIC corpus** ({description}). These numbers show the pipeline at work; "
                "they are not comparable with the published figures, which come from the real corpus.")
    return f"**Data:** {description}."


def _duration(seconds):
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{seconds:02d}s" if hours else f"{minutes}m{seconds:02d}s"


class Progress:
    """Progress lines with elapsed time and an estimate of the time left.

    Args:
        total: units of work expected (e.g. folds x models).
        label: prefix of every line (the table's name).
        stream: where lines go (stderr by default, so tables on stdout stay clean).
        quiet: print nothing.
    """

    def __init__(self, total, label, stream=None, quiet=False):
        self.total = max(int(total), 1)
        self.label = label
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.done = 0
        self.start = time.monotonic()

    def log(self, message):
        """One line of progress: `[label 3/20 15% 1m02s, ETA 5m30s] message`."""
        if self.quiet:
            return
        elapsed = time.monotonic() - self.start
        eta = "?" if self.done == 0 else _duration(elapsed / self.done * (self.total - self.done))
        print(f"[{self.label} {self.done}/{self.total} {100 * self.done // self.total}% "
              f"{_duration(elapsed)}, ETA {eta}] {message}", file=self.stream, flush=True)

    def advance(self, message, units=1):
        """Count `units` of work as done and log `message`."""
        self.done = min(self.done + units, self.total)
        self.log(message)


def run_record(name, args, config, timings, data):
    """The JSON record of a table run: arguments, config, data, environment and timings."""
    from kerasseizure.training.run_info import environment

    return {
        "table": name,
        "arguments": {key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()},
        "config": config,
        "data": data,
        "environment": environment(),
        "timings_seconds": timings,
    }


def write_results(results_dir, table, markdown, record, figures=None):
    """Write a table's artefacts atomically; `record.json` goes last as the completion marker.

    Args:
        results_dir: the table's results folder.
        table: pandas DataFrame written as table.csv.
        markdown: the table and its notes as Markdown (table.md).
        record: JSON-serialisable run record (see `run_record`).
        figures: {name: matplotlib Figure} written as figures/<name>.png and closed.
    """
    import matplotlib.pyplot as plt

    results_dir = Path(results_dir)
    (results_dir / RECORD_FILE).unlink(missing_ok=True)
    remove_stale_partials(results_dir)  # left by a run killed while writing its artefacts
    for name, figure in (figures or {}).items():
        with atomic_path(results_dir / "figures" / f"{name}.png") as tmp:
            figure.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
        plt.close(figure)
    with atomic_path(results_dir / "table.csv") as tmp:
        table.to_csv(tmp, index=False)
    atomic_write_text(results_dir / "table.md", markdown)
    atomic_write_json(results_dir / RECORD_FILE, record)


def evenly(rows, n):
    """At most `n` rows spread evenly over `rows` (deterministic)."""
    import numpy as np

    rows = np.asarray(rows)
    if len(rows) <= n:
        return rows
    return rows[np.linspace(0, len(rows) - 1, int(n)).round().astype(np.int64)]


def percent(value, missing="—"):
    """A share as a whole percentage ("34 %"); `missing` for None or a non-finite value."""
    import math

    return missing if value is None or not math.isfinite(float(value)) else f"{100 * float(value):.0f} %"


def cpu_model():
    """The CPU's model name for run records (/proc/cpuinfo on Linux, platform.processor() elsewhere)."""
    import platform

    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def recomputed_batchnorm_text(batches):
    """The notes' words for `recompute_batchnorm` ("" when the statistics were not recomputed)."""
    if batches is None:
        return ""
    return f", statistics recomputed from {batches} training batches after training (precise BN)"
