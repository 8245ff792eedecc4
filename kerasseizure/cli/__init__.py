"""The `kerasseizure` command line.

Sub-commands import what they need when they run, so `kerasseizure --help` is instant, the
corpus commands never load TensorFlow, and `predict` with a .tflite model runs on NumPy, SciPy
and LiteRT alone (no TensorFlow, no Keras).

One module per group of sub-commands, each sub-command one `_add_<name>` function (its
arguments) and one `_<name>` function (what it does, command-line glue over the library):

    check.py     check (exit 1 when the audit finds problems)
    corpus.py    make-demo-data, describe, prepare
    export.py    export
    predict.py   predict
    detect.py    detect (seizure events of EDF recordings through a detector with a background class)
    score.py     score (NEDC and SzCORE event scoring of detections)
    train.py     train, evaluate, config show
    common.py    what they share (CommandError, feature options, model inputs)

See docs/cli.md.
"""

import argparse
import sys

from kerasseizure.cli.common import CommandError
from kerasseizure.errors import KerasSeizureError

__all__ = ["CommandError", "build_parser", "main"]


def build_parser():
    """The argparse parser of every sub-command."""
    from kerasseizure.cli import check, corpus, detect, export, predict, score, train

    parser = argparse.ArgumentParser(
        prog="kerasseizure",
        description="SeizureNet (TUSZ) and HMS harmful-brain-activity reproductions in Keras 3.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in (corpus._add_make_demo_data, corpus._add_describe, corpus._add_prepare, train._add_train,
                train._add_evaluate, train._add_config, export._add_export, predict._add_predict,
                detect._add_detect, check._add_check, score._add_score):
        add(commands)
    return parser


def main(argv=None):
    """Run one sub-command; returns the exit code (0, the command's own code, or 2 on a KerasSeizureError)."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args) or 0
    except KerasSeizureError as error:
        print(f"kerasseizure {args.command}: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error of ours.
        sys.stderr.close()
    return 0
