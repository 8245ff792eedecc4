"""`score`: seizure detection scored as NEDC (OVLP, TAES, EPOCH) and SzCORE score it.

Two folders of event files (`.csv_bi`, `.tse_bi`, `*_events.tsv`, searched recursively) are
paired by recording name; a reference without a hypothesis file is scored against an empty
hypothesis and listed. Library: `kerasseizure.io.events` (files, pairing) and
`kerasseizure.evaluation.events` (the scorers). No TensorFlow.
"""

import math
from pathlib import Path

from kerasseizure.cli.common import CommandError

# kerasseizure.evaluation.events.SCORERS, spelled out so that `--help` imports nothing.
SCORER_CHOICES = ("szcore", "szcore_sample", "ovlp", "taes", "epoch")
# Names of recordings without a hypothesis printed in the summary (the --json file has them all).
_MAX_LISTED = 10


def _score(args):
    from kerasseizure.evaluation.events import SCORERS, SZCORE_SCORERS, pool_scores, score_events, subject_average
    from kerasseizure.files import atomic_write_json
    from kerasseizure.io.events import hypothesis_events, pair_event_files, read_seizure_events, recording_subject

    for folder, what in ((args.reference, "reference"), (args.hypothesis, "hypothesis")):
        if not Path(folder).is_dir():
            raise CommandError(f"{folder}: no such {what} folder")
    pairs = pair_event_files(args.reference, args.hypothesis)
    if all(hypothesis is None for _, _, hypothesis in pairs):
        raise CommandError(f"{args.hypothesis}: no event file pairs with a recording of {args.reference} "
                           "(files are paired by name: <recording>.csv_bi, .tse_bi or _events.tsv)")
    scorers = SCORERS if args.scorer == "all" else (args.scorer,)
    per_recording, subjects, unpaired = {name: [] for name in scorers}, [], []
    for key, reference_path, hypothesis_path in pairs:
        reference = read_seizure_events(reference_path)
        if hypothesis_path is None:
            unpaired.append(key)
            events = ()
        else:
            events = hypothesis_events(reference, read_seizure_events(hypothesis_path))
        for name, score in score_events(reference.events, events, reference.duration, scorers).items():
            per_recording[name].append(score)
        subjects.append(recording_subject(key))
    pooled = {name: pool_scores(scores) for name, scores in per_recording.items()}
    means = {name: subject_average(per_recording[name], subjects) for name in scorers if name in SZCORE_SCORERS}
    print(format_scores(pooled, means, len(pairs), unpaired))
    if args.json is not None:
        result = {name: {**score.to_dict(), **({"subject_mean": _json_ready(means[name])} if name in means else {})}
                  for name, score in pooled.items()}
        result["recordings"] = {"reference": str(args.reference), "hypothesis": str(args.hypothesis),
                                "scored": len(pairs), "without_hypothesis": unpaired}
        atomic_write_json(args.json, result)
        print(f"scores: {args.json}")
    return 0


def _json_ready(summary):
    return {key: None if isinstance(value, float) and math.isnan(value) else value for key, value in summary.items()}


def format_scores(pooled, means, n_recordings, unpaired):
    """The printed report: one aligned row per scorer (seizure label), then SzCORE's subject means.

    Args:
        pooled: {scorer: DetectionScore} pooled over the recordings.
        means: {scorer: subject_average(...)} for the SzCORE scorers.
        n_recordings: recordings scored.
        unpaired: names of the recordings scored against an empty hypothesis.
    """
    lines = [f"scored {n_recordings} recording(s)"]
    if unpaired:
        listed = ", ".join(unpaired[:_MAX_LISTED]) + (f", ... ({len(unpaired) - _MAX_LISTED} more)"
                                                      if len(unpaired) > _MAX_LISTED else "")
        lines.append(f"{len(unpaired)} without a hypothesis file, scored as empty: {listed}")
    headers = ("scorer", "targets", "hits", "misses", "false alarms", "sensitivity", "precision", "F1", "FA/24h")
    rows = [(name, _count(s.targets), _count(s.hits), _count(s.misses), _count(s.false_alarms), _rate(s.sensitivity),
             _rate(s.precision), _rate(s.f1), _per_day(s.false_alarms_per_24h)) for name, s in pooled.items()]
    widths = [max(len(str(row[i])) for row in [headers] + rows) for i in range(len(headers))]
    for row in [headers] + rows:
        lines.append("  ".join(f"{cell:<{widths[0]}}" if i == 0 else f"{cell:>{widths[i]}}"
                               for i, cell in enumerate(row)).rstrip())
    fields = (("sensitivity", "sensitivity", _rate), ("precision", "precision", _rate), ("F1", "f1", _rate),
              ("FA/24h", "false_alarms_per_24h", _per_day))
    for name, summary in means.items():
        parts = [f"{label} {show(summary[key])} (std {show(summary[key + '_std'])})" for label, key, show in fields]
        lines.append(f"{name}, mean over {summary['subjects']} subject(s): " + ", ".join(parts))
    return "\n".join(lines)


def _count(value):
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:.2f}"


def _rate(value):
    return "-" if math.isnan(value) else f"{value:.4f}"


def _per_day(value):
    return "-" if math.isnan(value) else f"{value:.2f}"


def _add_score(commands):
    score = commands.add_parser(
        "score", help="score seizure detections against a reference (NEDC OVLP/TAES/EPOCH, SzCORE)",
        description="Score the seizure events of HYP against those of REF, recording by recording, as NEDC's "
                    "nedc_eeg_eval v6.0.0 (OVLP, TAES, EPOCH) and SzCORE (timescoring event and sample scoring) "
                    "score them, and print per scorer the seizure label's targets, hits, misses, false alarms, "
                    "sensitivity, precision, F1 and false alarms per 24 h, pooled over the recordings. Files "
                    "(.csv_bi, .tse_bi, *_events.tsv) are found recursively and paired by recording name; a "
                    "reference without a hypothesis file is scored as an empty hypothesis. See docs/detection.md.")
    score.add_argument("reference", metavar="REF", help="folder of reference event files")
    score.add_argument("hypothesis", metavar="HYP", help="folder of hypothesis event files")
    score.add_argument("--scorer", choices=SCORER_CHOICES + ("all",), default="all",
                       help="scorer to run (default: all)")
    score.add_argument("--json", metavar="FILE", help="also write the numbers as JSON, keyed by scorer")
    score.set_defaults(run=_score)
