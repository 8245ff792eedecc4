"""`make-demo-data`, `describe` and `prepare`: synthetic corpora, corpus statistics, feature caches.

No TensorFlow is imported by these commands.
"""

from pathlib import Path

from kerasseizure.cli.common import CommandError, _add_feature_options, _build_features, _feature_kwargs
from kerasseizure.cli.common import REPRESENTATIONS


# ============================================================================ make-demo-data


def tusz_versions(args):
    """The TUSZ layouts `make-demo-data` writes: the given ones, else 2.0.3 and 1.5.2 (full size:
    1.5.2 and 1.4.0, the releases whose benchmark counts are published)."""
    versions = args.tusz_versions or (["1.5.2", "1.4.0"] if args.size == "full" else ["2.0.3", "1.5.2"])
    if args.size == "full" and "2.0.3" in versions:
        raise CommandError("--size full writes the v1.x census: choose --tusz-versions 1.5.2 and/or 1.4.0")
    return versions


def _make_demo_data(args):
    from kerasseizure.io.synthetic import make_hms_corpus, make_tusz_corpus

    out = Path(args.directory)
    for version in tusz_versions(args):
        root = make_tusz_corpus(out / f"tusz-{version}", version=version, size=args.size, seed=args.seed,
                                overwrite=args.overwrite)
        print(f"TUSZ v{version} (synthetic): {root}")
    if not args.no_hms:
        root = make_hms_corpus(out / "hms", size=args.size, seed=args.seed, overwrite=args.overwrite)
        print(f"HMS (synthetic): {root}")


def _add_make_demo_data(commands):
    demo = commands.add_parser("make-demo-data", help="write synthetic TUSZ and HMS corpora in the real formats")
    demo.add_argument("directory", help="folder to create (tusz-<version>/ and hms/ go inside)")
    demo.add_argument("--size", default="demo", choices=("tests", "demo", "realistic", "full"),
                      help="corpus size preset (default: demo); full: the releases' counts (TUSZ v1.x census, "
                           "~6 GB each; HMS 17,089 eeg_ids, ~36 GB, hours to write), docs/synthetic.md")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--tusz-versions", nargs="+", default=None,
                      choices=("2.0.3", "1.5.2", "1.4.0"), metavar="VERSION",
                      help="TUSZ layouts to write (default: 2.0.3 1.5.2; with --size full: 1.5.2 1.4.0)")
    demo.add_argument("--no-hms", action="store_true", help="skip the HMS corpus")
    demo.add_argument("--overwrite", action="store_true", help="replace existing synthetic corpora")
    demo.set_defaults(run=_make_demo_data)


# ============================================================================ describe


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
            if len(corpus.missing):
                print(f"\n{len(corpus.missing)} recording(s) listed in {corpus.spreadsheet} are missing "
                      f"({int(corpus.missing['n_seizures'].sum())} seizures):")
                print(corpus.missing[["sheet", "edf_path", "n_seizures"]].to_string(index=False))
            if len(corpus.mismatches):
                print(f"\n{len(corpus.mismatches)} annotation disagreement(s) (the spreadsheet is used):")
                print(corpus.mismatches.to_string(index=False))


def _add_describe(commands):
    describe = commands.add_parser("describe", help="statistics of a TUSZ or HMS corpus")
    describe.add_argument("path", help="TUSZ release folder (holding edf/) or HMS folder (holding train.csv)")
    describe.add_argument("--skip-bad", action="store_true",
                          help="list bad files and go on instead of stopping at the first")
    describe.set_defaults(run=_describe)


# ============================================================================ prepare


def _prepare(args):
    root = Path(args.data_dir)
    if not root.is_dir():
        raise CommandError(f"{root}: no such corpus folder")
    kwargs = _feature_kwargs(args, args.representation, "prepare")
    features = _build_features(root, args.representation, args.cache_dir, kwargs)
    report = features.report
    print(f"cache: {features.path}")
    print("arrays: " + ", ".join(f"{name} {tuple(array.shape)} {array.dtype}"
                                  for name, array in sorted(features.arrays.items())))
    if args.representation == "hms":
        print(f"HMS {features.split} views {'+'.join(features.views)}: {len(features.table)} eeg_ids, "
              f"{len(features.skipped)} skipped")
        if len(features.skipped):
            print(features.skipped.to_string(index=False))
        print(f"NaN fills: {report.get('nan_filled_eeg_values', 0)} EEG values in "
              f"{report.get('eeg_ids_with_nan', 0)} eeg_ids, {report.get('all_nan_channels', 0)} all-NaN channels, "
              f"{report.get('nan_kaggle_values', 0)} Kaggle values")
        if "population" in features.table.columns:
            counts = features.table["population"].value_counts().to_dict()
            print("populations: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    else:
        kept = features.seizures[features.seizures["skipped"] == ""]
        print(f"TUSZ {features.representation}: {len(features.seizures)} seizures "
              f"({len(kept)} with windows, {len(features.skipped)} skipped), {len(features.windows)} windows")
        per_class = report.get("windows_per_class", {})
        seizures_per_class = kept["label"].value_counts().to_dict()
        print("per class (seizures / windows): " + ", ".join(
            f"{t} {seizures_per_class.get(t, 0)}/{per_class.get(t, 0)}" for t in features.classes))
        excluded = report.get("excluded_types") or {}
        if excluded:
            print("excluded types: " + ", ".join(f"{k} {v}" for k, v in sorted(excluded.items())))
        if len(features.skipped):
            reasons = features.skipped["skipped"].value_counts().to_dict()
            print("skipped: " + ", ".join(f"{k} {v}" for k, v in reasons.items()))
            print(features.skipped[["edf_path", "start", "stop", "label", "skipped"]].to_string(index=False))
    print(f"report: {Path(features.path) / 'report.json'}")


def _add_prepare(commands):
    prepare = commands.add_parser(
        "prepare", help="build the feature cache of a TUSZ or HMS corpus",
        description="Compute (or reuse) the cached features of a TUSZ corpus (fft, ses, ses_single) or an "
                    "HMS corpus (hms) and print where they went and the counts / skips report.")
    prepare.add_argument("data_dir", metavar="DATA_DIR",
                         help="TUSZ release folder (holding edf/) or HMS folder (holding train.csv)")
    prepare.add_argument("--representation", required=True, choices=REPRESENTATIONS,
                         help="fft (IBM), ses (SeizureNet teacher), ses_single (one member / students), "
                              "hms (WaveNet input and spectrogram panels)")
    _add_feature_options(prepare)
    prepare.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    prepare.set_defaults(run=_prepare)


