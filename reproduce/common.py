"""What every table command shares: arguments, presets, corpora, progress and the results folder.

Results layout (`results/<table>/` by default):

    table.md, table.csv     the table, labelled SYNTHETIC when computed on the synthetic corpus
    figures/*.png           confusion matrices, per-class F1, learning curves, example inputs
    record.json             config, seed, versions, git commit, hardware, timings; written last,
                            so its presence marks a complete set of artefacts
    runs/                   the resumable work (one folder per protocol and fold, `run_folds`)

Every file is written atomically; an interrupted command re-run with the same arguments loads
the folds it finished and continues.
"""

import argparse
import json
import sys
import time
from pathlib import Path

from kerasseizure.files import atomic_path, atomic_write_json, atomic_write_text

PRESETS = ("test", "quick", "paper")
RECORD_FILE = "record.json"


def table_parser(name, description):
    """The argument parser every table shares; a table adds its own options to it."""
    parser = argparse.ArgumentParser(prog=f"python -m reproduce.{name}", description=description)
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="real corpus folder (see docs/%s.md); default: the synthetic corpus" % name)
    parser.add_argument("--preset", choices=PRESETS, default="quick",
                        help="test: seconds, for the test suite; quick (default): minutes on a laptop; "
                             "paper: the published settings")
    parser.add_argument("--seed", type=int, default=0, help="one seed for data order, initialisation, augmentation")
    parser.add_argument("--results-dir", type=Path, default=Path("results") / name,
                        help="where the artefacts go (default: results/%s)" % name)
    parser.add_argument("--synthetic-dir", type=Path, default=Path("demo-data"),
                        help="where the synthetic corpora are generated when absent (default: demo-data)")
    parser.add_argument("--skip-bad", action="store_true",
                        help="go on without the bad or missing files of a real corpus (the audit line and "
                             "the feature report count them) instead of stopping at the first")
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


def _synthetic_corpus(root, make, settings, log):
    """Reuse a complete synthetic corpus made with `settings` by this writer, else (re)generate it."""
    from kerasseizure.io.synthetic.common import writer_fingerprint

    marker = Path(root) / "_truth" / "corpus.json"
    if marker.is_file():
        made = json.loads(marker.read_text(encoding="utf-8"))
        same = all(made.get(key) == value for key, value in settings.items())
        if same and made.get("writer_sha256") == writer_fingerprint():
            return Path(root)
        if same:
            log(f"the synthetic corpus at {root} was written by another version of the writer")
    log(f"generating the synthetic corpus at {root} ({settings})")
    # corpus.json is written last: a corpus without it is incomplete and is replaced.
    return make(root, overwrite=True, **settings)


def synthetic_tusz(synthetic_dir, version, size, seed, log=print, name=None, **options):
    """Root of the synthetic TUSZ corpus of `version`, generated under `synthetic_dir` if needed.

    Args:
        name: folder name under `synthetic_dir` (default `tusz-<version>`); give presets that
            differ in `options` their own folders so they do not replace each other.
        **options: further `make_tusz_corpus` arguments (n_patients, min_patients_per_type, ...);
            a corpus made with other values is regenerated.
    """
    from kerasseizure.io.synthetic import make_tusz_corpus

    return _synthetic_corpus(Path(synthetic_dir) / (name or f"tusz-{version}"), make_tusz_corpus,
                             {"version": version, "size": size, "seed": seed, **options}, log)


def synthetic_hms(synthetic_dir, size, seed, log=print):
    """Root of the synthetic HMS corpus, generated under `synthetic_dir` if needed."""
    from kerasseizure.io.synthetic import make_hms_corpus

    return _synthetic_corpus(Path(synthetic_dir) / "hms", make_hms_corpus, {"size": size, "seed": seed}, log)


def audit_line(corpus):
    """The one-line audit (`kerasseizure.io.audit`) of a corpus the table has just opened.

    Args:
        corpus: a `TUSZCorpus` or `HMSDataset`; its index and tables are reused, so the audit adds
            only the checks indexing does not make (binary annotations, TCP20 electrodes, parquet
            lengths), never a second pass over the signals.
    """
    from kerasseizure.io.audit import audit

    result = audit(corpus)
    hint = "" if result.usable else f" (`kerasseizure check {result.root}` lists them)"
    return result.summary_line() + hint


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
    from kerasseizure.training.runs import environment

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
    for name, figure in (figures or {}).items():
        with atomic_path(results_dir / "figures" / f"{name}.png") as tmp:
            figure.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
        plt.close(figure)
    with atomic_path(results_dir / "table.csv") as tmp:
        table.to_csv(tmp, index=False)
    atomic_write_text(results_dir / "table.md", markdown)
    atomic_write_json(results_dir / RECORD_FILE, record)


def synthetic_hms_custom(synthetic_dir, name, settings, log=print):
    """Root of a synthetic HMS corpus made with explicit `make_hms_corpus` settings.

    Args:
        synthetic_dir: parent folder of the synthetic corpora.
        name: the corpus folder under `synthetic_dir` (so it never replaces the shared `hms/`).
        settings: `make_hms_corpus` keyword arguments (size, seed, n_eegs, ...); pairs as lists,
            as corpus.json stores them, so an existing corpus made with them is reused.
        log: callable(str) told when the corpus is generated.
    """
    from kerasseizure.io.synthetic import make_hms_corpus

    return _synthetic_corpus(Path(synthetic_dir) / name, make_hms_corpus, dict(settings), log)


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
