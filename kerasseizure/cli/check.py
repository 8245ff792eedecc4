"""`check`: audit a TUSZ or HMS copy before a long run (library: `kerasseizure.io.audit`).

Exit codes: 0 when the copy is usable, 1 when the audit found problems, 2 when it cannot be read
at all (no recognised layout, an unreadable spreadsheet or train.csv). No TensorFlow.
"""

import sys
from pathlib import Path

from kerasseizure.cli.common import CommandError

# Lists in the printed summary longer than this are cut (the --json file has them all).
_MAX_LISTED = 12


def _check(args):
    from kerasseizure.files import atomic_write_json
    from kerasseizure.io.audit import audit

    root = Path(args.path)
    if not root.is_dir():
        raise CommandError(f"{root}: no such corpus folder")
    progress = _progress_printer() if args.signals and not args.quiet else None
    result = audit(root, signals=args.signals, progress=progress)
    print(format_audit(result, args.max_rows))
    if args.json is not None:
        atomic_write_json(args.json, result.to_dict())
        print(f"full audit: {args.json}")
    return 0 if result.usable else 1


def _progress_printer():
    """A progress callable for the signal scan: about twenty lines on stderr, whatever the corpus size."""
    def progress(done, total):
        if done == total or done % max(total // 20, 1) == 0:
            print(f"kerasseizure check: signals read from {done:,} of {total:,} files", file=sys.stderr, flush=True)
    return progress


def format_audit(result, max_rows=20):
    """The printed report of a `CorpusAudit`: what was found, published counts, findings, verdict."""
    import pandas as pd

    name = f"TUSZ v{result.release}" if result.corpus == "TUSZ" else f"HMS ({result.release})"
    lines = [f"{name} at {result.root}", f"layout: {result.layout}; seizure list: {result.seizure_list}"]
    if not result.signals_read:
        what = "flat electrodes, reads every EDF" if result.corpus == "TUSZ" else "NaN runs, reads every EEG parquet"
        lines.append(f"signals: not read (--signals looks for {what})")
    lines.append("")
    width = max(len(key) for key in result.summary)
    lines += [f"{key.replace('_', ' '):<{width}}  {_format_value(value)}" for key, value in result.summary.items()
              if key != "headline"]
    lines += ["", f"published counts: {result.published_status()}"]
    if len(result.comparison):
        lines.append(f"(information only; source: {result.published_source})")
        width = max(len(item) for item in result.comparison["item"])
        lines.append(f"  {'item':<{width}}  {'found':>9}  {'published':>9}")
        lines += [f"  {row.item:<{width}}  {_format_count(row.found):>9}  {_format_count(row.published):>9}"
                  f"{'' if row.matches else '  differs'}" for row in result.comparison.itertuples()]
    findings = result.findings
    lines += ["", f"findings: {len(result.problems)} problem(s), {len(result.warnings)} warning(s)"]
    if len(findings):
        per_kind = findings.groupby(["severity", "kind"], sort=False).size()
        lines += [f"  {n:>7,}  {severity:<8} {kind}" for (severity, kind), n in per_kind.items()]
        shown = pd.concat([result.problems, result.warnings]).head(max_rows)
        lines += [""] + [f"{row.kind}: {row.path}\n    {row.detail}" for row in shown.itertuples()]
        if len(findings) > len(shown):
            lines.append(f"... and {len(findings) - len(shown)} more (--json FILE lists them all)")
    verdict = "usable (exit 0)" if result.usable else \
        f"NOT usable as it is: {len(result.problems)} problem(s) (exit 1)"
    lines += ["", result.summary_line(), f"result: {verdict}"]
    return "\n".join(lines)


def _format_count(value):
    return "-" if value is None else f"{value:,}"


def _format_value(value):
    if isinstance(value, dict):
        items = [f"{key}: {_format_value(count)}" for key, count in value.items()]
        extra = len(items) - _MAX_LISTED
        return ", ".join(items[:_MAX_LISTED]) + (f", ... ({extra} more)" if extra > 0 else "") if items else "-"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _add_check(commands):
    check = commands.add_parser(
        "check", help="audit a TUSZ or HMS copy before a long run",
        description="Audit a TUSZ release (any version) or the HMS competition folder: release and layout, "
                    "counts beside the published ones, recordings listed but missing, damaged or "
                    "inconsistent files. Exit 0: usable; 1: problems found; 2: unreadable.")
    check.add_argument("path", help="TUSZ release folder (holding edf/) or HMS folder (holding train.csv)")
    check.add_argument("--signals", action="store_true",
                       help="also read every signal: flat electrodes (TUSZ, every EDF) and NaN runs "
                            "(HMS, every EEG parquet)")
    check.add_argument("--json", metavar="FILE", help="write the full audit (every finding) as JSON")
    check.add_argument("--max-rows", type=int, default=20, metavar="N", help="findings printed (default 20)")
    check.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    check.set_defaults(run=_check)
