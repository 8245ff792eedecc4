"""The data an experiment runs on: the synthetic corpora (kept per size, seed and settings) and the
one-line audit of a corpus it has opened.
"""

import json
from pathlib import Path


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


def synthetic_corpus_name(kind, settings):
    """The folder of a synthetic corpus: kind, size, seed and a digest of every other setting.

    Each (size, seed, settings) has its own folder, so a run with another seed or preset never
    regenerates, in place, a corpus that another results folder was computed on.

    >>> synthetic_corpus_name("hms", {"size": "demo", "seed": 0})
    'hms-demo-seed0'
    """
    from kerasseizure.pipelines.cache import config_key

    others = {k: v for k, v in settings.items() if k not in ("size", "seed")}
    digest = f"-{config_key(others)[:8]}" if others else ""
    return f"{kind}-{settings['size']}-seed{settings['seed']}{digest}"


def synthetic_tusz(synthetic_dir, version, size, seed, log=print, **options):
    """Root of the synthetic TUSZ corpus of `version`, generated under `synthetic_dir` if needed.

    Args:
        **options: further `make_tusz_corpus` arguments (n_patients, min_patients_per_type, ...);
            they are part of the folder's name (`synthetic_corpus_name`).
    """
    from kerasseizure.io.synthetic import make_tusz_corpus

    settings = {"version": version, "size": size, "seed": seed, **options}
    name = synthetic_corpus_name(f"tusz-{version}", {k: v for k, v in settings.items() if k != "version"})
    return _synthetic_corpus(Path(synthetic_dir) / name, make_tusz_corpus, settings, log)


def synthetic_hms(synthetic_dir, size, seed, log=print, **options):
    """Root of the synthetic HMS corpus, generated under `synthetic_dir` if needed.

    Args:
        **options: further `make_hms_corpus` arguments (n_eegs, ...; pairs as lists, as
            corpus.json stores them); they are part of the folder's name.
    """
    from kerasseizure.io.synthetic import make_hms_corpus

    settings = {"size": size, "seed": seed, **options}
    return _synthetic_corpus(Path(synthetic_dir) / synthetic_corpus_name("hms", settings), make_hms_corpus,
                             settings, log)


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
