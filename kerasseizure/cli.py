"""The `kerasseizure` command line.

Sub-commands import what they need when they run, so `kerasseizure --help` is instant and the
corpus commands never load TensorFlow.
"""

import argparse
import sys
from pathlib import Path

from kerasseizure.errors import KerasSeizureError


def _make_demo_data(args):
    from kerasseizure.io.synthetic import make_hms_corpus, make_tusz_corpus

    out = Path(args.directory)
    for version in args.tusz_versions:
        root = make_tusz_corpus(out / f"tusz-{version}", version=version, size=args.size, seed=args.seed,
                                overwrite=args.overwrite)
        print(f"TUSZ v{version} (synthetic): {root}")
    if not args.no_hms:
        root = make_hms_corpus(out / "hms", size=args.size, seed=args.seed, overwrite=args.overwrite)
        print(f"HMS (synthetic): {root}")


def _describe(args):
    import pandas as pd

    root = Path(args.path)
    with pd.option_context("display.max_rows", None, "display.width", 120):
        if (root / "train.csv").is_file():
            from kerasseizure.io.hms import HMSDataset

            dataset = HMSDataset(root)
            print(f"HMS corpus at {root}\n")
            print(dataset.describe().to_string())
            if dataset.test_csv.is_file():
                print(f"\ntest eeg_ids: {len(dataset.test_ids)}")
        else:
            from kerasseizure.io.tusz import TUSZCorpus

            corpus = TUSZCorpus(root, skip_bad=args.skip_bad)
            print(f"TUSZ v{corpus.version} at {root}\n")
            print(corpus.describe().to_string(float_format=lambda v: f"{v:,.1f}"))
            if len(corpus.skipped):
                print(f"\nskipped {len(corpus.skipped)} bad file(s):")
                print(corpus.skipped.to_string(index=False))


def build_parser():
    parser = argparse.ArgumentParser(
        prog="kerasseizure",
        description="SeizureNet (TUSZ) and HMS harmful-brain-activity reproductions in Keras 3.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = commands.add_parser("make-demo-data", help="write synthetic TUSZ and HMS corpora in the real formats")
    demo.add_argument("directory", help="folder to create (tusz-<version>/ and hms/ go inside)")
    demo.add_argument("--size", default="demo", choices=("tests", "demo", "realistic"),
                      help="corpus size preset (default: demo)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--tusz-versions", nargs="+", default=["2.0.3", "1.5.2"],
                      choices=("2.0.3", "1.5.2", "1.4.0"), metavar="VERSION",
                      help="TUSZ layouts to write (default: 2.0.3 1.5.2)")
    demo.add_argument("--no-hms", action="store_true", help="skip the HMS corpus")
    demo.add_argument("--overwrite", action="store_true", help="replace existing synthetic corpora")
    demo.set_defaults(run=_make_demo_data)

    describe = commands.add_parser("describe", help="statistics of a TUSZ or HMS corpus")
    describe.add_argument("path", help="TUSZ release folder (holding edf/) or HMS folder (holding train.csv)")
    describe.add_argument("--skip-bad", action="store_true",
                          help="list bad files and go on instead of stopping at the first")
    describe.set_defaults(run=_describe)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except KerasSeizureError as error:
        print(f"kerasseizure {args.command}: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error of ours.
        sys.stderr.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
